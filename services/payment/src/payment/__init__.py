"""JapanGoodz payment: Stripe authorisation, capture, cancellation, refunds, invoices."""
