-- Orders as payment knows them: the latest snapshot of each order (from checkout's events).
CREATE TABLE payment_orders (
    order_id                  uuid PRIMARY KEY,
    order_number              text        NOT NULL,
    customer_id               uuid,
    customer                  jsonb       NOT NULL,  -- CustomerContact (pseudonymised on erasure)
    revision                  integer     NOT NULL,
    snapshot                  jsonb       NOT NULL,  -- lines, totals, addresses, shipping method
    total_cents               bigint      NOT NULL,
    payment_method_type       text        NOT NULL,
    stripe_payment_method_id  text        NOT NULL,
    state                     text        NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'released', 'cancelled')),
    placed_at                 timestamptz NOT NULL,
    released_at               timestamptz,
    cancelled_at              timestamptz,
    erased_at                 timestamptz,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_orders_customer ON payment_orders (customer_id);

-- One Stripe PaymentIntent per order revision that needed an authorisation.
CREATE TABLE payment_attempts (
    id                        uuid PRIMARY KEY,
    order_id                  uuid        NOT NULL REFERENCES payment_orders (order_id),
    revision                  integer     NOT NULL,
    amount_cents              bigint      NOT NULL CHECK (amount_cents > 0),
    payment_method_type       text        NOT NULL,
    stripe_payment_method_id  text        NOT NULL,
    card_brand                text,
    card_last4                text,
    payment_intent_id         text UNIQUE,
    status                    text        NOT NULL,
    desired                   text        NOT NULL,
    cancel_reason             text,
    capture_cents             bigint,
    captured_cents            bigint,
    refusal_reason            text,
    stripe_error_code         text,
    stripe_decline_code       text,
    stripe_message            text,
    next_action_type          text,
    next_action_url           text,
    authorize_sent_at         timestamptz,
    lease_until               timestamptz,
    last_error                text,
    stuck                     boolean     NOT NULL DEFAULT false,
    correlation_id            text        NOT NULL,
    causation_id              text,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, revision)
);
CREATE INDEX payment_attempts_unfinished ON payment_attempts (updated_at)
    WHERE status NOT IN ('refused', 'captured', 'cancelled');
CREATE INDEX payment_attempts_order ON payment_attempts (order_id, revision);

-- Refunds, one per RefundRequested (its id is the Stripe idempotency key).
CREATE TABLE payment_refunds (
    refund_request_id  uuid PRIMARY KEY,
    order_id           uuid        NOT NULL REFERENCES payment_orders (order_id),
    attempt_id         uuid REFERENCES payment_attempts (id),
    payment_intent_id  text,
    amount_cents       bigint      NOT NULL CHECK (amount_cents > 0),
    cause              text        NOT NULL,
    reference_id       uuid        NOT NULL,
    request            jsonb       NOT NULL,  -- the RefundRequested payload (lines, shipping)
    status             text        NOT NULL,
    stripe_refund_id   text UNIQUE,
    problem            text,
    sent_at            timestamptz,
    lease_until        timestamptz,
    last_error         text,
    correlation_id     text        NOT NULL,
    causation_id       text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Stripe webhook events already handled (each id once). Payloads are not kept (personal data).
CREATE TABLE stripe_webhook_events (
    event_id     text PRIMARY KEY,
    event_type   text        NOT NULL,
    object_id    text,
    outcome      text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);

-- The one continuous series of invoice and credit-note numbers. Its single row is locked by
-- the transaction that stores a document: a rolled back transaction leaves no gap, concurrent
-- ones wait their turn, so numbers follow the order of issue.
CREATE TABLE invoice_series (
    series         text PRIMARY KEY,
    last_sequence  bigint      NOT NULL CHECK (last_sequence >= 0),
    last_issued_at timestamptz
);
INSERT INTO invoice_series (series, last_sequence) VALUES ('main', 0);

CREATE TABLE invoices (
    number                   text PRIMARY KEY,
    sequence                 bigint      NOT NULL UNIQUE,
    kind                     text        NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    order_id                 uuid        NOT NULL,
    order_number             text        NOT NULL,
    customer_id              uuid,
    corrects_invoice_number  text REFERENCES invoices (number),
    refund_request_id        uuid UNIQUE,
    issue_date               date        NOT NULL,
    issued_at                timestamptz NOT NULL,
    total_excl_vat_cents     bigint      NOT NULL,
    total_vat_cents          bigint      NOT NULL,
    total_incl_vat_cents     bigint      NOT NULL,
    document                 jsonb       NOT NULL,
    pdf                      bytea       NOT NULL,
    pdf_sha256               text        NOT NULL,
    CHECK (total_incl_vat_cents = total_excl_vat_cents + total_vat_cents),
    CHECK ((kind = 'credit_note') = (corrects_invoice_number IS NOT NULL))
);
-- One invoice per order (credit notes: one per refund).
CREATE UNIQUE INDEX invoices_one_per_order ON invoices (order_id) WHERE kind = 'invoice';
CREATE INDEX invoices_customer ON invoices (customer_id);

-- Issued documents are never changed nor deleted (a credit note corrects an invoice).
CREATE FUNCTION invoices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'invoice % is issued: it can be neither changed nor deleted', OLD.number
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoices_immutable();
CREATE FUNCTION invoices_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issued invoices can be neither changed nor deleted'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER invoices_no_truncate BEFORE TRUNCATE ON invoices
    FOR EACH STATEMENT EXECUTE FUNCTION invoices_no_truncate();
