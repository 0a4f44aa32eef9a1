"""What the till's screens show, as plain text values built from the server's answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from clients.kivy_pos.till.amounts import quantity_text, yuan
from clients.kivy_pos.till.texts import Texts
from tillpoint.v1 import sales_pb2


class Screen(StrEnum):
    LOGIN = "login"
    SELL = "sell"
    TENDER = "tender"


@dataclass(frozen=True)
class LineRow:
    """One basket line: its discounts explained ('会员价 -0.20'), amounts in yuan text."""

    number: int
    line_id: str
    name: str
    quantity: str
    unit_price: str
    amount: str
    adjustments: tuple[str, ...]
    selected: bool


@dataclass(frozen=True)
class TillView:
    """Everything the Kivy layer shows; it reads this and nothing else."""

    screen: Screen
    operator: str
    prompt: str
    entry: str
    message: str
    banner: str
    lines: tuple[LineRow, ...] = ()
    item_count: str = "0"
    subtotal: str = "0.00"
    discount: str = "0.00"
    total: str = "0.00"
    member: str = ""
    due: str = "0.00"
    paid: str = "0.00"
    remaining: str = "0.00"
    change: str = "0.00"
    tender_kind: str = ""
    payments: tuple[str, ...] = ()
    done: str = ""
    quick: tuple[tuple[str, str], ...] = ()  # (action, amount text) of quick cash buttons
    panel_kind: str = ""  # search, held, menu, report, help, return; "" when closed
    panel_title: str = ""
    panel_rows: tuple[str, ...] = ()
    panel_selected: int = -1
    panel_footer: str = ""
    dialog: str = ""  # the heading of a question (e.g. 主管授权)
    labels: Mapping[str, str] = field(default_factory=dict)  # the screens' fixed words


def line_rows(basket: sales_pb2.Basket | None, selected: int) -> tuple[LineRow, ...]:
    if basket is None:
        return ()
    return tuple(_line_row(line, i + 1, i == selected) for i, line in enumerate(basket.lines))


# A line's row text by the line's bytes: a scan answers with the whole basket, and all
# its lines but the new one are as they were (a 25-line basket: ~2 ms less per scan).
_ROW_TEXT: dict[bytes, tuple[str, str, str, str, tuple[str, ...]]] = {}
_ROW_TEXT_MAX = 2_000


def _line_row(line: sales_pb2.BasketLine, number: int, selected: bool) -> LineRow:
    key = line.SerializeToString(deterministic=True)
    text = _ROW_TEXT.get(key)
    if text is None:
        if len(_ROW_TEXT) >= _ROW_TEXT_MAX:
            _ROW_TEXT.clear()
        text = _ROW_TEXT[key] = (
            # A case barcode sells a pack: say so, or 66.00 for one cola looks wrong.
            f"{line.name}（{line.pack_factor}{line.unit}装）"
            if line.pack_factor > 1
            else line.name,
            quantity_text(line.quantity.milli, weighed=line.weighed, unit=line.unit),
            yuan(line.unit_price.fen),
            yuan(line.net_amount.fen),
            tuple(f"{a.name} {yuan(a.amount.fen)}" for a in line.adjustments),
        )
    name, quantity, unit_price, amount, adjustments = text
    return LineRow(
        number=number,
        line_id=line.line_id,
        name=name,
        quantity=quantity,
        unit_price=unit_price,
        amount=amount,
        adjustments=adjustments,
        selected=selected,
    )


def member_badge(basket: sales_pb2.Basket | None, texts: Texts, coupons: int = -1) -> str:
    """Name, masked phone, tier, points, stored value and usable coupons (when known)."""
    if basket is None or not basket.HasField("member") or not basket.member.member_id:
        return ""
    m = basket.member
    badge = texts(
        "member_badge",
        name=m.name,
        phone=m.masked_phone,
        tier=m.tier_name,
        points=m.points,
        stored=yuan(m.stored_value.fen),
    )
    return badge + (texts("member_coupons", count=coupons) if coupons >= 0 else "")
