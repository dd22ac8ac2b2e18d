-- Checkout's catalogue: the only source of prices (TTC, euros).
CREATE TABLE catalogue (
    sku       text PRIMARY KEY CHECK (sku ~ '^[A-Z0-9][A-Z0-9-]{0,63}$'),
    name      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    price     numeric(10, 2) NOT NULL CHECK (price > 0),
    vat_rate  numeric(5, 2) NOT NULL CHECK (vat_rate >= 0 AND vat_rate <= 100),
    on_sale   boolean NOT NULL DEFAULT false,
    active    boolean NOT NULL DEFAULT true
);

-- Human order numbers: JG-<year>-<value>, never reused.
CREATE SEQUENCE order_number_seq START 1;

CREATE TABLE orders (
    id                        uuid PRIMARY KEY,
    number                    text NOT NULL UNIQUE,
    status                    text NOT NULL,
    revision                  integer NOT NULL DEFAULT 0,
    amount_revision           integer NOT NULL DEFAULT 0,
    authorized_revision       integer,
    customer_id               uuid,
    email                     text NOT NULL,
    first_name                text NOT NULL,
    last_name                 text NOT NULL,
    lines                     jsonb NOT NULL,
    subtotal                  numeric(12, 2) NOT NULL,
    shipping_total            numeric(12, 2) NOT NULL,
    total                     numeric(12, 2) NOT NULL,
    vat                       numeric(12, 2) NOT NULL,
    shipping_method           jsonb NOT NULL,
    shipping_address          jsonb NOT NULL,
    billing_address           jsonb NOT NULL,
    payment_method_type       text NOT NULL,
    stripe_payment_method_id  text NOT NULL,
    placed_at                 timestamptz NOT NULL,
    correlation_id            text NOT NULL,
    confirmed_at              timestamptz,
    release_at                timestamptz,
    released_at               timestamptz,
    delivery_earliest         date,
    delivery_latest           date,
    next_action               jsonb,
    refusal                   jsonb,
    cancellation              jsonb,
    tracking                  jsonb,
    erased_at                 timestamptz,
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CHECK (total = subtotal + shipping_total)
);
-- The release scheduler's work list: confirmed orders by due time.
CREATE INDEX orders_release_due ON orders (release_at) WHERE status = 'confirmed';
CREATE INDEX orders_customer ON orders (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX orders_email ON orders (lower(email));

-- What happened to an order and when (shown on GET /orders/{id}).
CREATE TABLE order_timeline (
    id        bigserial PRIMARY KEY,
    order_id  uuid NOT NULL REFERENCES orders (id),
    at        timestamptz NOT NULL,
    kind      text NOT NULL,
    label     text NOT NULL,
    detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX order_timeline_order ON order_timeline (order_id, at, id);

-- Idempotency-Key of POST /orders: the same key and body give the same order.
CREATE TABLE idempotency_keys (
    scope         text NOT NULL,
    key           text NOT NULL,
    request_hash  text NOT NULL,
    -- Deferred: the key is claimed first (a concurrent twin waits on it), the order follows.
    order_id      uuid NOT NULL REFERENCES orders (id) DEFERRABLE INITIALLY DEFERRED,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
