-- Emails of one ordering key (an order, a customer) go out in the order their events happened,
-- not in the order they were consumed (the topics of an order are not ordered between them).
ALTER TABLE notification_emails ADD COLUMN event_occurred_at timestamptz;
UPDATE notification_emails SET event_occurred_at = created_at WHERE event_occurred_at IS NULL;
ALTER TABLE notification_emails ALTER COLUMN event_occurred_at SET NOT NULL;
DROP INDEX IF EXISTS notification_emails_pending_key;
CREATE INDEX notification_emails_pending_key
    ON notification_emails (ordering_key, event_occurred_at, id) WHERE status = 'pending';
