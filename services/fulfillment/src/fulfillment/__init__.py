"""JapanGoodz fulfillment: stock, hand-off to logistics, backorders, shipments, returns, claims."""
