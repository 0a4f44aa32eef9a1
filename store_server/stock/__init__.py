"""Stock and stocktake on the store server: documents, replenishment, sessions, counts."""
