"""The HQ link: each store's change log up to HQ (`hq_link.agent`) and the HQ
server that applies it (`hq_link.hq`).

mTLS between agent and HQ: the chain's CA and certificates in `hq_link.security`
(`hqctl ca|cert`), the store-acts-only-as-itself rule in `hq_link.hq.identity`.
Later slices (seams left for them): master data down, one-card member balances
across stores, reconciliation of HQ's totals against the stores' Z reports.
"""
