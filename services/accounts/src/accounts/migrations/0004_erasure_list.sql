-- The erasure list: every erasure request accounts applied, so an erasure can be applied again
-- after a database is restored from a backup taken before it (docs/operations.md, "Erasure:
-- what remains where"). A row keeps what the request's event needs to be published again with
-- its original id (services that applied it find it in their inbox and change nothing; a
-- restored one applies it): never a name. The address is kept only when the customer proved
-- they own it (only then do services erase by address), and only while a backup may still
-- hold the data it erases: accounts' housekeeping forgets it after ERASURE_ADDRESS_KEPT_DAYS.
CREATE TABLE erasure_requests (
    customer_id      uuid        PRIMARY KEY,
    customer_number  text        NOT NULL,
    event_id         uuid        NOT NULL UNIQUE,
    occurred_at      timestamptz NOT NULL,
    correlation_id   text        NOT NULL,
    topic            text        NOT NULL,
    requested_at     timestamptz NOT NULL,
    requested_by     text        NOT NULL,
    email_verified   boolean     NOT NULL,
    email            text,
    email_forgotten_at timestamptz,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (email IS NULL OR email_verified)
);
CREATE INDEX erasure_requests_requested_at ON erasure_requests (requested_at);
CREATE INDEX erasure_requests_email_kept ON erasure_requests (requested_at)
    WHERE email IS NOT NULL;
