"""Reconciliation (对账) and settlement (结算) at HQ.

- `compare`: pure: HQ's figures of a store's day against the store's own (day
  close, Z reports) -> named checks, each a match or a mismatch;
- `queries`: HQ's figures from its projections, and the stores' as replicated;
- `settlement`: pure: stored value owed between HQ and each store.
"""
