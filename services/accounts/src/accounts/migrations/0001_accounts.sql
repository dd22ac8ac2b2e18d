-- Accounts: customers, credentials, sessions, single-use tokens, throttling, signing keys.

CREATE SEQUENCE customer_number_seq;

CREATE TABLE customers (
    id                     uuid PRIMARY KEY,
    customer_number        text        NOT NULL UNIQUE,
    -- Personal data: all NULL once the customer is erased (erased_at set).
    email                  text,
    first_name             text,
    last_name              text,
    billing_address        jsonb,
    password_hash          text,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    password_changed_at    timestamptz,
    erasure_requested_at   timestamptz,
    erasure_requested_by   text,
    erased_at              timestamptz,
    CHECK (erased_at IS NULL OR (email IS NULL AND first_name IS NULL AND last_name IS NULL
                                 AND billing_address IS NULL AND password_hash IS NULL))
);
CREATE UNIQUE INDEX customers_email ON customers (email) WHERE email IS NOT NULL;

-- A login session: access tokens carry its id; the refresh token (hash only) renews them.
CREATE TABLE sessions (
    id                  uuid PRIMARY KEY,
    customer_id         uuid        NOT NULL REFERENCES customers (id),
    refresh_token_hash  bytea       NOT NULL UNIQUE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    refreshed_at        timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    ended_at            timestamptz,
    end_reason          text
);
CREATE INDEX sessions_customer ON sessions (customer_id) WHERE ended_at IS NULL;

-- Password reset links: only the SHA-256 of the token is kept; single use, expiring.
CREATE TABLE password_reset_tokens (
    token_hash   bytea PRIMARY KEY,
    customer_id  uuid        NOT NULL REFERENCES customers (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX password_reset_tokens_customer ON password_reset_tokens (customer_id);

-- Email changes waiting for confirmation from the new address (hash of the token only).
CREATE TABLE email_changes (
    token_hash   bytea PRIMARY KEY,
    customer_id  uuid        NOT NULL REFERENCES customers (id),
    new_email    text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX email_changes_customer ON email_changes (customer_id);

-- Attempts counted by the login slow-down and the reset rate limits. The subject (an email or
-- a client address) is kept only as an HMAC under a key of this database, never in clear.
CREATE TABLE throttle_events (
    id          bigserial PRIMARY KEY,
    scope       text        NOT NULL,
    subject     bytea       NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX throttle_events_lookup ON throttle_events (scope, subject, at);

-- Keys generated at first start: the development signing key, the throttle HMAC key.
CREATE TABLE service_keys (
    name        text PRIMARY KEY,
    value       text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
