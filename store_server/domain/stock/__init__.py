"""Pure stock rules: replenishment, stocktake variance, pack split (no I/O, time passed in)."""
