-- The console's own state: sessions, the audit trail, the copies of the dead letters.

CREATE TABLE console_sessions (
    id               TEXT PRIMARY KEY,          -- 256 random bits, the cookie's value
    member_id        UUID NOT NULL,
    member_email     TEXT NOT NULL,
    member_name      TEXT NOT NULL,
    member_role      TEXT NOT NULL CHECK (member_role IN ('agent', 'manager')),
    staff_token      TEXT NOT NULL,             -- never sent to the browser
    token_expires_at TIMESTAMPTZ NOT NULL,
    csrf_token       TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

CREATE TABLE audit_trail (
    id        BIGSERIAL PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    actor     TEXT NOT NULL,                    -- the member's email
    role      TEXT NOT NULL,
    action    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    order_id  TEXT,
    claim_id  TEXT,
    target    TEXT,
    detail    JSONB NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_trail_at ON audit_trail (at DESC);
CREATE INDEX audit_trail_order ON audit_trail (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE dead_letters (
    id           BIGSERIAL PRIMARY KEY,
    service      TEXT NOT NULL,
    topic        TEXT NOT NULL,
    partition    INT NOT NULL,
    "offset"     BIGINT NOT NULL,
    key          BYTEA,
    value        BYTEA NOT NULL,
    headers      JSONB NOT NULL,                -- [[name, base64 value], ...] in their order
    received_at  TIMESTAMPTZ NOT NULL,
    replayed_at  TIMESTAMPTZ,
    replayed_by  TEXT,
    UNIQUE (topic, partition, "offset")
);
CREATE INDEX dead_letters_received ON dead_letters (received_at DESC);

-- The message shown once on the next page (after an action): "La commande est annulée."
ALTER TABLE console_sessions ADD COLUMN flash TEXT;
ALTER TABLE console_sessions ADD COLUMN flash_ok BOOLEAN NOT NULL DEFAULT TRUE;
