-- Transactional outbox: a service writes its state and the events it publishes in one transaction.
CREATE TABLE IF NOT EXISTS messaging_outbox (
    id           bigserial PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    event_type   text        NOT NULL,
    topic        text        NOT NULL,
    message_key  text        NOT NULL,
    headers      jsonb       NOT NULL,
    body         bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text
);
CREATE INDEX IF NOT EXISTS messaging_outbox_pending ON messaging_outbox (id) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS messaging_outbox_pending_key
    ON messaging_outbox (message_key, id) WHERE sent_at IS NULL;

-- Wake the relay when a transaction that wrote outbox rows commits (NOTIFY is delivered on commit).
CREATE OR REPLACE FUNCTION messaging_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('messaging_outbox', '');
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS messaging_outbox_notify ON messaging_outbox;
CREATE TRIGGER messaging_outbox_notify AFTER INSERT ON messaging_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION messaging_outbox_notify();

-- Inbox: ids of the events a consumer has already applied, written with the handler's effects.
CREATE TABLE IF NOT EXISTS messaging_inbox (
    consumer      text        NOT NULL,
    event_id      uuid        NOT NULL,
    event_type    text        NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
