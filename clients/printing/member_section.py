"""The member block of a receipt: who (masked phone only), tier, points and balances.

Point figures are printed as what they did to the balance, with their sign: a sale shows
本次积分 +120 and 积分抵现 -500 (points spent as payment); a return shows 扣回积分 -120
(points taken back) and 退回积分 +500 (redeemed points given back). The phone is printed
masked; a phone that arrives unmasked is masked here too, so a full number never reaches
paper even if the server sends one by mistake.
"""

from __future__ import annotations

import re

from clients.printing.amounts import format_fen
from clients.printing.columns import clean
from tillpoint.v1 import sales_pb2

_MASK_CHARS = frozenset("*＊•")
# Digits kept on each side of a masked phone, as 138****5678.
_KEEP_HEAD, _KEEP_TAIL = 3, 4
_DIGIT_RUN = re.compile(r"\d{7,}")


def masked(number: str) -> str:
    """``number`` with the middle digits of any 7+ digit run hidden; kept if already masked.

    '13812345678' -> '138****5678'; '138****5678' stays; 'M000123' -> 'M000123' is not
    touched (a run of 6 digits is a member number, not a phone).
    """
    number = clean(number)
    if any(char in _MASK_CHARS for char in number):
        return number

    def hide(match: re.Match[str]) -> str:
        digits = match.group()
        hidden = len(digits) - _KEEP_HEAD - _KEEP_TAIL
        return digits[:_KEEP_HEAD] + "*" * hidden + digits[-_KEEP_TAIL:]

    return _DIGIT_RUN.sub(hide, number)


def _signed(points: int) -> str:
    return f"{points:+d}" if points else "0"


def member_rows(member: sales_pb2.ReceiptMember, *, is_return: bool) -> list[tuple[str, str]]:
    """(label, value) rows of the member block, in print order; points are integers."""
    who = member.masked_phone or member.member_id
    rows: list[tuple[str, str]] = [("会员 Member", masked(who))]
    if member.tier_name:
        rows.append(("等级 Tier", clean(member.tier_name)))
    if is_return or member.points_earned < 0:
        rows.append(("扣回积分 Points back", _signed(member.points_earned)))
    else:
        rows.append(("本次积分 Points earned", _signed(member.points_earned)))
    if member.points_redeemed > 0:
        rows.append(("积分抵现 Points used", _signed(-member.points_redeemed)))
    elif member.points_redeemed < 0:
        rows.append(("退回积分 Points returned", _signed(-member.points_redeemed)))
    rows.append(("积分余额 Points balance", str(member.points_balance)))
    rows.append(("储值余额 Stored value", format_fen(member.stored_value_balance.fen)))
    if member.upgraded_to:
        rows.append((f"升级为 {clean(member.upgraded_to)}", "Tier up"))
    return rows
