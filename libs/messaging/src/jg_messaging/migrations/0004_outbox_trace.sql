-- Traces: the W3C trace context (traceparent, tracestate) of the transaction that wrote the row.
-- The relay publishes the row in a span child of it and puts that span's context into the Kafka
-- headers, so the consumers' spans join the same trace (jg_messaging.tracing). NULL: no trace.
ALTER TABLE messaging_outbox
    ADD COLUMN IF NOT EXISTS traceparent text,
    ADD COLUMN IF NOT EXISTS tracestate  text;
