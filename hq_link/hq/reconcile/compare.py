"""Compare HQ's figures of one store's business day with the store's own, check by check.

Pure: no I/O. Every figure is an integer (fen or a count); a figure one side
has and the other lacks is a mismatch too (the store sent no such figure, or
HQ has no such document), never silently taken as zero on both sides.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from store_server.domain.money import format_yuan


class Status(enum.StrEnum):
    OK = "ok"
    MISMATCH = "MISMATCH"
    MISSING = "MISSING"  # the store's figures (day close, a Z report) are not at HQ
    LAG = "LAG"  # HQ's copy of the store's change log does not cover the day yet


STATUS_TITLES = {
    Status.OK: "一致 ok",
    Status.MISMATCH: "不符 MISMATCH",
    Status.MISSING: "缺失 MISSING",
    Status.LAG: "滞后 LAG",
}


@dataclass(frozen=True, slots=True)
class DayFigures:
    """What a store sold and took on one business day (fen, counts).

    `tenders` maps a tender kind to (applied less refunds, payments + refunds),
    as the store's Z report counts it; `stored_value` a ledger kind to (paid,
    bonus, entries); `points` a kind to (points, entries).
    """

    sales_count: int = 0
    sales_total_fen: int = 0
    discounts_fen: int = 0
    rounding_fen: int = 0
    change_fen: int = 0
    returns_count: int = 0
    returns_total_fen: int = 0
    tenders: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    stored_value: Mapping[str, tuple[int, int, int]] | None = None  # None: not compared
    points: Mapping[str, tuple[int, int]] | None = None


@dataclass(frozen=True, slots=True)
class Check:
    store_id: str
    day: str
    source: str  # 日结 (the day close) or Z (the day's Z reports summed)
    name: str  # sales.total_fen, tender.cash, stored_value.topup.paid_fen, ...
    hq: int | None
    store: int | None
    money: bool
    status: Status

    def value_text(self, value: int | None) -> str:
        if value is None:
            return "—"
        return format_yuan(value) if self.money else str(value)


def flatten(f: DayFigures) -> dict[str, tuple[int, bool]]:
    """Every figure under its check name, with whether it is money."""
    out: dict[str, tuple[int, bool]] = {
        "sales.count": (f.sales_count, False),
        "sales.total_fen": (f.sales_total_fen, True),
        "sales.discount_fen": (f.discounts_fen, True),
        "sales.rounding_fen": (f.rounding_fen, True),
        "sales.change_fen": (f.change_fen, True),
        "returns.count": (f.returns_count, False),
        "returns.total_fen": (f.returns_total_fen, True),
    }
    for kind, (amount, count) in f.tenders.items():
        out[f"tender.{kind}"] = (amount, True)
        out[f"tender.{kind}.count"] = (count, False)
    for kind, (paid, bonus, n) in (f.stored_value or {}).items():
        out[f"stored_value.{kind}.paid_fen"] = (paid, True)
        out[f"stored_value.{kind}.bonus_fen"] = (bonus, True)
        out[f"stored_value.{kind}.count"] = (n, False)
    for kind, (points, n) in (f.points or {}).items():
        out[f"points.{kind}"] = (points, False)
        out[f"points.{kind}.count"] = (n, False)
    return out


def compare(
    store_id: str,
    day: str,
    source: str,
    hq: DayFigures,
    store: Mapping[str, tuple[int, bool]],
) -> list[Check]:
    """HQ's figures against the store's flattened ones (`flatten`, or as sent).

    A check the store sent no figure for is a mismatch unless HQ's figure is
    zero for a tender or ledger kind neither side used.
    """
    mine = flatten(hq)
    checks = []
    for name in sorted(set(mine) | set(store), key=_order):
        h = mine.get(name)
        s = store.get(name)
        money = (h or s or (0, False))[1]
        hv = h[0] if h else None
        sv = s[0] if s else None
        optional = name.startswith(("tender.", "stored_value.", "points."))
        if hv == sv or (optional and (hv or 0) == 0 and (sv or 0) == 0):
            status = Status.OK
        else:
            status = Status.MISMATCH
        checks.append(Check(store_id, day, source, name, hv, sv, money, status))
    return checks


_GROUPS = ("sales.", "returns.", "tender.", "stored_value.", "points.")


def _order(name: str) -> tuple[int, str]:
    return next((i for i, g in enumerate(_GROUPS) if name.startswith(g)), 9), name


def _pairs(value: object, width: int) -> dict[str, tuple[int, ...]]:
    """{kind: [int, ...]} as sent, keeping only well-formed entries."""
    if not isinstance(value, Mapping):
        return {}
    return {
        str(k): tuple(v)
        for k, v in value.items()
        if isinstance(v, list | tuple)
        and len(v) == width
        and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
    }


def store_figures(
    payload: Mapping[str, object] | None, ledger: bool
) -> dict[str, tuple[int, bool]]:
    """The store's figures as it sent them (day close or Z), flattened like `flatten`.

    Only figures the store actually sent (as integers) are kept, so a figure
    it dropped shows as missing on the store's side.
    """
    if not isinstance(payload, Mapping):
        return {}
    figures = payload.get("figures", payload)
    if not isinstance(figures, Mapping):
        return {}
    names = {
        "sales_count": ("sales.count", False),
        "sales_total_fen": ("sales.total_fen", True),
        "discounts_fen": ("sales.discount_fen", True),
        "rounding_fen": ("sales.rounding_fen", True),
        "change_fen": ("sales.change_fen", True),
        "returns_count": ("returns.count", False),
        "returns_total_fen": ("returns.total_fen", True),
    }
    out: dict[str, tuple[int, bool]] = {}
    for key, (name, money) in names.items():
        value = figures.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            out[name] = (value, money)
    for kind, (amount, count) in _pairs(figures.get("tenders"), 2).items():
        out[f"tender.{kind}"] = (amount, True)
        out[f"tender.{kind}.count"] = (count, False)
    moved = payload.get("ledger") if ledger else None
    if isinstance(moved, Mapping):
        for kind, (paid, bonus, n) in _pairs(moved.get("stored_value"), 3).items():
            out[f"stored_value.{kind}.paid_fen"] = (paid, True)
            out[f"stored_value.{kind}.bonus_fen"] = (bonus, True)
            out[f"stored_value.{kind}.count"] = (n, False)
        for kind, (points, n) in _pairs(moved.get("points"), 2).items():
            out[f"points.{kind}"] = (points, False)
            out[f"points.{kind}.count"] = (n, False)
    return out


def sum_z(zs: list[object]) -> dict[str, tuple[int, bool]]:
    """Several Z reports of one day as one set of figures (sales, returns, tenders)."""
    total: dict[str, tuple[int, bool]] = {}
    for z in zs:
        for name, (value, money) in store_figures(z, ledger=False).items():  # type: ignore[arg-type]
            total[name] = (total.get(name, (0, money))[0] + value, money)
    return total
