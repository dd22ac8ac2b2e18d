-- Accounts whose erasure was requested: nothing more is written about them (their orders, their
-- account), whatever address an event carries, but the acknowledgement and the final
-- confirmation. Keyed by the erased account's id only. Whether the customer proved they own
-- the address decides whether the address itself is suppressed (notification_suppressions):
-- anyone may sign up with a stranger's address, and the stranger must keep getting their mail.
CREATE TABLE notification_erased_customers (
    customer_id     uuid        PRIMARY KEY,
    requested_at    timestamptz NOT NULL,
    email_verified  boolean     NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
