"""Master data from HQ, applied to the store database (run by the hq_link agent)."""
