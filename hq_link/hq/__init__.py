"""The HQ server: applies every store's change log, in order, exactly once."""
