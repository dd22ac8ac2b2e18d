-- Fulfillment's own state: stock, orders handed off by checkout, parcels, returns, claims,
-- refused logistics reports. Quantities are item counts; money is numeric(12,2) euros TTC.

-- Stock per sku. available = on_hand - reserved; never negative (checked here and by the
-- row-locked reservation in repository.py).
CREATE TABLE products (
    sku          text PRIMARY KEY,
    name_fr      text NOT NULL,
    name_ja      text,
    name_romaji  text,
    on_hand      integer NOT NULL CHECK (on_hand >= 0),
    reserved     integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT products_reserved_within_on_hand CHECK (reserved <= on_hand)
);

-- Every change of stock on hand, with why (audit trail for the operators).
CREATE TABLE stock_movements (
    id            bigserial PRIMARY KEY,
    sku           text NOT NULL REFERENCES products (sku),
    on_hand_delta integer NOT NULL,
    reason        text NOT NULL CHECK (reason IN (
                      'seed', 'inventory_count', 'operator_adjustment', 'replenishment',
                      'shipment', 'return_restock')),
    reference     text,
    note          text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_sku ON stock_movements (sku, id);

-- Orders as released by checkout (OrderReleased), with what fulfillment needs afterwards.
CREATE TABLE orders (
    order_id             uuid PRIMARY KEY,
    order_number         text NOT NULL,
    customer_id          uuid,
    contact              jsonb NOT NULL,
    shipping_address     jsonb NOT NULL,
    shipping_method      jsonb NOT NULL,
    totals               jsonb NOT NULL,
    promised_estimate    jsonb NOT NULL,
    delivery_estimate    jsonb NOT NULL,
    status               text NOT NULL CHECK (status IN (
                             'backordered', 'processing', 'shipped', 'delivered')),
    queue_seq            bigserial NOT NULL UNIQUE,
    released_at          timestamptz NOT NULL,
    backordered_at       timestamptz,
    handed_off_at        timestamptz,
    last_delivered_at    timestamptz,
    withdrawal_deadline  date,
    erased_at            timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_backorder_queue ON orders (queue_seq) WHERE status = 'backordered';

-- One row per sku of an order. reserved: items held in stock for it (not yet shipped);
-- handed_off: items sent to logistics in OrderProcessing (the order, then any reship);
-- shipped: items a carrier picked up.
CREATE TABLE order_items (
    order_id    uuid NOT NULL REFERENCES orders (order_id),
    sku         text NOT NULL REFERENCES products (sku),
    name        text NOT NULL,
    quantity    integer NOT NULL CHECK (quantity > 0),
    unit_price  numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
    vat_rate    numeric(5, 2) NOT NULL,
    on_sale     boolean NOT NULL,
    reserved    integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    handed_off  integer NOT NULL DEFAULT 0 CHECK (handed_off >= 0),
    shipped     integer NOT NULL DEFAULT 0 CHECK (shipped >= 0),
    PRIMARY KEY (order_id, sku),
    CHECK (shipped <= handed_off)
);
CREATE INDEX order_items_sku ON order_items (sku);

-- Parcels reported by logistics (ParcelPickedUp, then ParcelDelivered).
CREATE TABLE parcels (
    order_id         uuid NOT NULL REFERENCES orders (order_id),
    tracking_number  text NOT NULL,
    carrier          text NOT NULL,
    tracking_url     text NOT NULL,
    items            jsonb NOT NULL,
    picked_up_at     timestamptz NOT NULL,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, tracking_number)
);

-- Returns (withdrawal or goodwill). items: [{sku, name, quantity, unit_price, vat_rate}].
CREATE TABLE returns (
    return_id         uuid PRIMARY KEY,
    order_id          uuid NOT NULL REFERENCES orders (order_id),
    status            text NOT NULL CHECK (status IN ('accepted', 'rejected', 'received')),
    kind              text CHECK (kind IN ('withdrawal', 'goodwill')),
    items             jsonb NOT NULL,
    rejection_reason  text,
    message           text,
    send_before       date,
    expected_refund   numeric(12, 2),
    shipping_refund   numeric(12, 2),
    requested_at      timestamptz NOT NULL,
    received_at       timestamptz,
    received_items    jsonb,
    refunded_amount   numeric(12, 2)
);
CREATE INDEX returns_order ON returns (order_id);

-- Refund requests sent to payment (idempotency key for payment: refund_request_id).
CREATE TABLE refund_requests (
    refund_request_id  uuid PRIMARY KEY,
    order_id           uuid NOT NULL REFERENCES orders (order_id),
    cause              text NOT NULL CHECK (cause IN ('return', 'claim')),
    reference_id       uuid NOT NULL,
    lines              jsonb NOT NULL,
    shipping_refund    numeric(12, 2) NOT NULL,
    amount             numeric(12, 2) NOT NULL CHECK (amount > 0),
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refund_requests_order ON refund_requests (order_id);

-- After-sales claims and their photos (kept here, in fulfillment's database).
CREATE TABLE claims (
    claim_id            uuid PRIMARY KEY,
    order_id            uuid NOT NULL REFERENCES orders (order_id),
    kind                text NOT NULL CHECK (kind IN ('missing_item', 'damaged_item')),
    status              text NOT NULL CHECK (status IN ('open', 'resolved')),
    items               jsonb NOT NULL,
    message             text,
    tracking_number     text,
    opened_at           timestamptz NOT NULL,
    resolution          text CHECK (resolution IN ('reship', 'refund', 'rejected')),
    resolution_message  text,
    refund_amount       numeric(12, 2),
    resolved_at         timestamptz
);
CREATE INDEX claims_order ON claims (order_id);
CREATE INDEX claims_open ON claims (opened_at) WHERE status = 'open';

CREATE TABLE claim_photos (
    photo_id      uuid PRIMARY KEY,
    claim_id      uuid NOT NULL REFERENCES claims (claim_id),
    position      integer NOT NULL,
    filename      text,
    content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/heic')),
    size_bytes    integer NOT NULL CHECK (size_bytes > 0),
    sha256        text NOT NULL,
    data          bytea,
    erased_at     timestamptz,
    UNIQUE (claim_id, position)
);

-- Logistics reports refused (unknown order, out of sequence...): recorded, never applied.
CREATE TABLE rejected_reports (
    id           bigserial PRIMARY KEY,
    event_id     uuid NOT NULL,
    event_type   text NOT NULL,
    order_id     uuid,
    sku          text,
    reason       text NOT NULL,
    detail       text NOT NULL,
    payload      jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejected_reports_order ON rejected_reports (order_id);
