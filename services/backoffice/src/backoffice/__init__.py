"""JapanGoodz customer-service console (issue 17): French pages over the services' HTTP APIs."""
