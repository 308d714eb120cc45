"""Routes, one module per area; each exposes `router`."""
