"""One card across stores (一卡通) at HQ: every store's members and ledger
entries, numbered by a revision in commit order for the stores to pull."""
