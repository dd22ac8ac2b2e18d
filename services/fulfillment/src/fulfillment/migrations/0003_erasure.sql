-- Erasure (GDPR): the guest orders placed with a proven address are found by that address,
-- compared case-insensitively.
CREATE INDEX orders_guest_email ON orders (lower(contact->>'email')) WHERE customer_id IS NULL;

-- Customers whose erasure was applied: an order of theirs released afterwards (its event was
-- on its way on another topic) is stored erased. Only the id of an erased account.
CREATE TABLE fulfillment_erased_customers (
    customer_id  uuid        PRIMARY KEY,
    erased_at    timestamptz NOT NULL
);
