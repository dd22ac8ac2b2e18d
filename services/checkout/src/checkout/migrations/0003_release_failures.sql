-- A release that fails for one order (not a database outage) is retried on its own, with a
-- capped exponential backoff, while the other due orders are released on time. The failure
-- stays on the order for operators and is cleared when the release succeeds:
--   SELECT number, release_attempts, release_failed_at, release_retry_at, release_error
--   FROM orders WHERE status = 'confirmed' AND release_attempts > 0;
ALTER TABLE orders
    ADD COLUMN release_attempts   integer NOT NULL DEFAULT 0,  -- failed releases in a row
    ADD COLUMN release_failed_at  timestamptz,                 -- the last failure
    ADD COLUMN release_retry_at   timestamptz,                 -- not attempted again before
    ADD COLUMN release_error      text;                        -- the last failure's error
