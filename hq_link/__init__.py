"""The HQ link: each store's change log up to HQ (`hq_link.agent`) and the HQ
server that applies it (`hq_link.hq`).

Later slices (seams left for them): mTLS between agent and HQ
(`hq_link.hq.identity`), master data down, one-card member balances across
stores, reconciliation of HQ's totals against the stores' Z reports.
"""
