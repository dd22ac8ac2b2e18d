-- Traces: the W3C traceparent of the handler's transaction that recorded the email, so the
-- dispatcher's send (outside any transaction, maybe much later) joins the order's trace.
ALTER TABLE notification_emails ADD COLUMN IF NOT EXISTS traceparent text;
