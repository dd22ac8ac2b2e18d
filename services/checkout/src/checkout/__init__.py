"""JapanGoodz checkout: catalogue prices, the storefront's order API, the modification window."""
