"""Routes of the review desk, one module per resource."""
