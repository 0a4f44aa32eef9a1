"""Settlement (结算) of stored value between HQ and each store. Pure: no I/O.

The convention (ARCHITECTURE §11, README "Reconciliation and settlement"):
HQ holds the chain's stored-value money. A store that takes money for a
top-up owes it to HQ (the paid part, 本金; the bonus, 赠送, was never paid by
anyone); a store where a member pays with stored value is owed by HQ the
face value spent there (paid and bonus: the store handed over goods for all
of it, and the bonus is the chain's promotion, borne by HQ). Returns that put
stored value back reduce what the store is owed; stored value paid back to a
member in cash (cash_out) reduces what the store owes. Per store:

    net_fen = spent_fen - topped_up_fen   (> 0: HQ pays the store; < 0: the store pays HQ)

Example: a member tops up 500.00 (+50.00 bonus) at S01 and spends 120.00 at
S02: S01 owes HQ 500.00 (net -500.00), HQ owes S02 120.00 (net +120.00);
HQ holds 380.00 (500.00 taken less 120.00 paid out).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

TOTAL = "合计"


@dataclass(frozen=True, slots=True)
class SvMovement:
    """Stored-value entries of one kind made at one store, summed (signed fen)."""

    store_id: str
    kind: str  # topup, spend, refund (a return put it back), cash_out
    paid_fen: int
    bonus_fen: int


@dataclass(frozen=True, slots=True)
class SettlementRow:
    store_id: str
    topup_paid_fen: int  # money taken for top-ups
    topup_bonus_fen: int  # bonus granted with them (not money)
    cash_out_fen: int  # paid value given back in cash (positive)
    topped_up_fen: int  # owed by the store to HQ: topup_paid - cash_out
    spend_fen: int  # face value spent at the store (positive)
    returned_fen: int  # face value put back by returns at the store (positive)
    spent_fen: int  # owed by HQ to the store: spend - returned
    net_fen: int  # spent - topped_up: > 0 HQ pays the store, < 0 the store pays HQ


def settle(movements: Iterable[SvMovement]) -> list[SettlementRow]:
    """One row per store (sorted), then the 合计 row (the chain's net is -(float HQ keeps))."""
    acc: dict[str, list[int]] = {}
    for m in movements:
        a = acc.setdefault(m.store_id, [0, 0, 0, 0, 0])
        if m.kind == "topup":
            a[0] += m.paid_fen
            a[1] += m.bonus_fen
        elif m.kind == "cash_out":
            a[2] -= m.paid_fen  # entries are negative
        elif m.kind == "spend":
            a[3] -= m.paid_fen + m.bonus_fen
        elif m.kind == "refund":
            a[4] += m.paid_fen + m.bonus_fen
    rows = [_row(store, *a) for store, a in sorted(acc.items())]
    if rows:
        sums = [sum(getattr(r, f) for r in rows) for f in _INPUTS]
        rows.append(_row(TOTAL, *sums))
    return rows


_INPUTS = ("topup_paid_fen", "topup_bonus_fen", "cash_out_fen", "spend_fen", "returned_fen")


def _row(store: str, paid: int, bonus: int, cash_out: int, spend: int, back: int) -> SettlementRow:
    topped = paid - cash_out
    spent = spend - back
    return SettlementRow(store, paid, bonus, cash_out, topped, spend, back, spent, spent - topped)
