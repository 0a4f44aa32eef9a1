"""The store side of the HQ link: ships the store's change log to HQ."""
