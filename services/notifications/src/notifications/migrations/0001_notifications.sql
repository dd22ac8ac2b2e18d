-- The sent-mail log and the delivery queue are one table: a row is the intent to send one email
-- (one template about one event), written in the handler's transaction, then sent by the
-- dispatcher outside any transaction, then marked. Its Message-ID never changes.
CREATE TABLE notification_emails (
    id                      bigserial   PRIMARY KEY,
    event_id                uuid        NOT NULL,
    event_type              text        NOT NULL,
    template                text        NOT NULL,
    message_id              text        NOT NULL UNIQUE,
    correlation_id          text,
    ordering_key            text        NOT NULL,
    order_id                uuid,
    customer_id             uuid,
    recipient               text,                 -- NULL once forgotten (erasure)
    recipient_name          text,
    recipient_hash          text        NOT NULL, -- HMAC of the normalised address
    subject                 text,
    body_text               text,                 -- kept only while the email is pending
    body_html               text,
    attachment_path         text,
    attachment_filename     text,
    attachment_type         text,
    date_header             timestamptz NOT NULL DEFAULT now(),
    status                  text        NOT NULL
        CHECK (status IN ('pending', 'sent', 'failed', 'suppressed')),
    exempt_from_suppression boolean     NOT NULL DEFAULT false,
    forget_after_send       boolean     NOT NULL DEFAULT false,
    attempts                integer     NOT NULL DEFAULT 0,
    next_attempt_at         timestamptz NOT NULL DEFAULT now(),
    in_flight_since         timestamptz,          -- claimed, outcome not recorded yet
    unknown_outcome_resends integer     NOT NULL DEFAULT 0,
    last_error              text,
    failure_kind            text,                 -- permanent, invalid_address, expired
    smtp_response           text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    sent_at                 timestamptz,
    failed_at               timestamptz,
    UNIQUE (event_id, template)
);
CREATE INDEX notification_emails_due
    ON notification_emails (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX notification_emails_pending_key
    ON notification_emails (ordering_key, id) WHERE status = 'pending';
CREATE INDEX notification_emails_recipient ON notification_emails (recipient_hash);
CREATE INDEX notification_emails_customer ON notification_emails (customer_id);
CREATE INDEX notification_emails_order ON notification_emails (order_id);

-- Addresses whose owner asked for erasure: nothing is sent to them any more (but the
-- acknowledgement and the final confirmation). Only keyed hashes are kept.
CREATE TABLE notification_suppressions (
    recipient_hash  text        PRIMARY KEY,
    customer_id     uuid,
    requested_at    timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- What this service knows of an order's payment, to never confirm a refused order.
CREATE TABLE notification_orders (
    order_id            uuid        PRIMARY KEY,
    refused_revision    integer,
    confirmed_revision  integer,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
