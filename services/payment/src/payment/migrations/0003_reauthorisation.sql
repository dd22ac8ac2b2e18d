-- Re-authorisation with the same PaymentMethod: the Stripe Customer the order's card is
-- attached to (Stripe refuses a PaymentMethod used once without a Customer). Set once the
-- PaymentMethod is attached; no personal data at Stripe (only the order's id and number).
ALTER TABLE payment_orders ADD COLUMN stripe_customer_id text;

-- 3-D Secure: the intent's client secret for Stripe.js (given to checkout in
-- PaymentActionRequired, never logged) and when the authentication was asked, so a
-- re-authorisation left unauthenticated is resolved after PAYMENT_REAUTHORISATION_TIMEOUT.
ALTER TABLE payment_attempts
    ADD COLUMN client_secret       text,
    ADD COLUMN action_required_at  timestamptz;
CREATE INDEX payment_attempts_awaiting_authentication ON payment_attempts (action_required_at)
    WHERE status = 'requires_action';
