-- "Mes commandes et factures": a read model of the customer's orders, built from events.
-- No address, name or email is kept here: only what the order page shows.

CREATE TABLE order_history (
    order_id            uuid PRIMARY KEY,
    customer_id         uuid        NOT NULL,
    order_number        text        NOT NULL,
    status              text        NOT NULL,
    placed_at           timestamptz,
    revision            integer,
    content             jsonb,
    delivery_estimate   jsonb,
    carrier             text,
    tracking_number     text,
    tracking_url        text,
    shipped_at          timestamptz,
    delivered_at        timestamptz,
    withdrawal_deadline date,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_history_customer ON order_history (customer_id, placed_at DESC);

CREATE TABLE order_timeline (
    event_id     uuid PRIMARY KEY,
    order_id     uuid        NOT NULL REFERENCES order_history (order_id) ON DELETE CASCADE,
    step         text        NOT NULL,
    at           timestamptz NOT NULL,
    detail       jsonb
);
CREATE INDEX order_timeline_order ON order_timeline (order_id, at);

CREATE TABLE order_invoices (
    invoice_number           text PRIMARY KEY,
    order_id                 uuid          NOT NULL REFERENCES order_history (order_id)
                                                    ON DELETE CASCADE,
    kind                     text          NOT NULL,
    corrects_invoice_number  text,
    issue_date               date          NOT NULL,
    total_excl_vat           numeric(12,2) NOT NULL,
    total_vat                numeric(12,2) NOT NULL,
    total_incl_vat           numeric(12,2) NOT NULL,
    download_path            text          NOT NULL
);
CREATE INDEX order_invoices_order ON order_invoices (order_id);
