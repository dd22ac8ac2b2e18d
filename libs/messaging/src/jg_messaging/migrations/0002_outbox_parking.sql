-- Outbox rows that keep failing are parked instead of stopping the relay (docs/architecture.md,
-- "Messaging guarantees"). A row is pending, sent or parked; a pending row that failed on its own
-- account waits until next_attempt_at, and rows of its key wait behind it.
ALTER TABLE messaging_outbox
    ADD COLUMN IF NOT EXISTS next_attempt_at timestamptz,
    ADD COLUMN IF NOT EXISTS parked_at       timestamptz,
    ADD COLUMN IF NOT EXISTS status          text GENERATED ALWAYS AS (
        CASE WHEN sent_at IS NOT NULL THEN 'sent'
             WHEN parked_at IS NOT NULL THEN 'parked'
             ELSE 'pending' END) STORED;

-- The rows that can hold back later rows of their key: parked, or waiting for their retry time.
-- Small (failing rows only); the relay's claim probes it once per candidate row.
CREATE INDEX IF NOT EXISTS messaging_outbox_blocking ON messaging_outbox (message_key, id)
    WHERE sent_at IS NULL AND (parked_at IS NOT NULL OR next_attempt_at IS NOT NULL);

-- Parked rows, for the relay's status (/ready) and tools/outbox_replay.py.
CREATE INDEX IF NOT EXISTS messaging_outbox_parked ON messaging_outbox (id)
    WHERE sent_at IS NULL AND parked_at IS NOT NULL;
