-- Email ownership: an account's address is verified by a link sent to it before the account
-- gets any power over what was done with that address (guest orders, erasure by email).

-- When the current address was proven (a verification, reset or email-change link followed);
-- NULL: not (yet) proven. An email change sets it, since the change is confirmed by a link.
ALTER TABLE customers ADD COLUMN email_verified_at timestamptz;

-- Links that verify an account's address: only the SHA-256 of the token is kept; single use,
-- expiring, and valid only while the account still has the address it was sent to.
CREATE TABLE email_verifications (
    token_hash   bytea PRIMARY KEY,
    customer_id  uuid        NOT NULL REFERENCES customers (id),
    email        text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX email_verifications_customer ON email_verifications (customer_id);

-- Guest orders: kept with a keyed hash of their address (never the address), and without an
-- owner until an account proves it owns that address; then they are linked to it.
ALTER TABLE order_history ALTER COLUMN customer_id DROP NOT NULL;
ALTER TABLE order_history ADD COLUMN guest_email_hash bytea;
CREATE INDEX order_history_guest_email ON order_history (guest_email_hash)
    WHERE guest_email_hash IS NOT NULL;

-- The links accounts sent before this version travelled in clear (in Kafka, in the outbox):
-- end the ones still usable (the customer asks again) and forget the outbox copies that hold
-- them. On a new database the outbox does not exist yet (it is created after this file).
UPDATE password_reset_tokens SET used_at = now() WHERE used_at IS NULL;
UPDATE email_changes SET used_at = now() WHERE used_at IS NULL;
DO $$
BEGIN
    IF to_regclass('messaging_outbox') IS NOT NULL THEN
        DELETE FROM messaging_outbox
         WHERE event_type IN ('PasswordResetRequested', 'EmailChangeRequested')
           AND coalesce(headers ->> 'event-version', '1') = '1';
    END IF;
END $$;
