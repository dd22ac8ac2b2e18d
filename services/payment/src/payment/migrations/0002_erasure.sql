-- Erasure (GDPR): the guest orders placed with a proven address are found by that address,
-- compared case-insensitively.
CREATE INDEX payment_orders_email ON payment_orders (lower(customer->>'email'))
    WHERE customer_id IS NULL;

-- Customers whose erasure was applied: an order of theirs whose event arrives afterwards (it
-- was on its way on another topic) is stored erased. Only the id of an erased account.
CREATE TABLE payment_erased_customers (
    customer_id  uuid        PRIMARY KEY,
    erased_at    timestamptz NOT NULL
);
