"""Journal export: voucher building, preflight, claims, sending exactly once, reconciling, views, worker."""
