"""The structured receipt: everything a printer or a screen shows, frozen at commit.

Kept as plain data (and JSON in the database) so a reprint is identical to
the first print but for the copy mark, whatever changed in the catalog since.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import msgspec

# JSON as json.dumps(ensure_ascii=False, separators=(",", ":")) writes it, in a
# fraction of the time: a 20-line receipt is encoded on every commit.
_encode = msgspec.json.encode
_decode = msgspec.json.decode


def _json(value: object) -> str:
    return _encode(value).decode()


@dataclass(frozen=True, slots=True)
class ReceiptAdjustment:
    code: str
    name: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    line_no: int
    name: str
    sku: str
    quantity_milli: int
    unit: str
    unit_price_fen: int
    base_amount_fen: int
    adjustments: tuple[ReceiptAdjustment, ...]
    net_amount_fen: int
    pack_factor: int


@dataclass(frozen=True, slots=True)
class ReceiptPayment:
    kind: str
    name: str
    tendered_fen: int
    applied_fen: int
    currency: str = ""
    foreign_amount_minor: int = 0
    reference: str = ""


@dataclass(frozen=True, slots=True)
class ReceiptMember:
    """The member section: masked phone, points and balances after this document."""

    member_id: str
    masked_phone: str
    tier_name: str
    points_earned: int  # negative on a return: points taken back
    points_redeemed: int  # negative on a return: points given back
    points_balance: int
    stored_value_fen: int
    upgraded_to: str = ""  # the new tier's name when this sale crossed a threshold


@dataclass(frozen=True, slots=True)
class Receipt:
    kind: str  # "sale" or "return"
    store_id: str
    store_name: str
    receipt_no: str
    business_day: str
    at: str  # UTC ISO-8601
    operator_id: str
    device_id: str
    lines: tuple[ReceiptLine, ...]
    subtotal_fen: int
    discount_fen: int
    rounding_fen: int
    total_fen: int
    payments: tuple[ReceiptPayment, ...]
    change_fen: int = 0
    forfeited_fen: int = 0
    original_receipt_no: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    member: ReceiptMember | None = None

    @property
    def barcode(self) -> str:
        """What the receipt prints as a barcode: scanned back for a return."""
        return self.receipt_no

    def to_json(self) -> str:
        # By hand rather than dataclasses.asdict, whose deep copies cost more
        # than the rest of a sale's commit put together (measured).
        data = {f: getattr(self, f) for f in _SCALARS}
        data["lines"] = [
            {
                **{f: getattr(line, f) for f in _LINE_FIELDS},
                "adjustments": [
                    {"code": a.code, "name": a.name, "amount_fen": a.amount_fen}
                    for a in line.adjustments
                ],
            }
            for line in self.lines
        ]
        data["payments"] = [{f: getattr(p, f) for f in _PAYMENT_FIELDS} for p in self.payments]
        if self.member is not None:
            data["member"] = _member_dict(self.member)
        return _json(data)

    def json_around_number(self) -> tuple[str, str]:
        """to_json cut around the receipt number's JSON string: for any `no`,
        head + json_string(no) + tail is the to_json of this
        receipt numbered `no`. A commit encodes its receipt before it holds the
        writer, when the number (a counter in the transaction) is not known yet.
        """
        text = self.to_json()
        key, number = '"receipt_no":', json_string(self.receipt_no)
        # The first `"receipt_no":"..."` is the key itself: no string value
        # before it can hold an unescaped quote.
        at = text.index(key + number) + len(key)
        return text[:at], text[at + len(number) :]

    @staticmethod
    def from_json(text: str) -> Receipt:
        data = _decode(text)
        data["lines"] = tuple(
            ReceiptLine(
                **{
                    **line,
                    "adjustments": tuple(ReceiptAdjustment(**a) for a in line["adjustments"]),
                }
            )
            for line in data["lines"]
        )
        data["payments"] = tuple(ReceiptPayment(**p) for p in data["payments"])
        if data.get("member") is not None:
            data["member"] = ReceiptMember(**data["member"])
        return Receipt(**data)


def with_member_json(text: str, member: ReceiptMember) -> str:
    """The to_json `text` of a receipt without a member section, with `member`'s
    added: to_json writes it last. A commit encodes its receipt before the
    transaction gives the member's balances."""
    return f'{text[:-1]},"member":{_json(_member_dict(member))}}}'


def _member_dict(member: ReceiptMember) -> dict[str, object]:
    return {f: getattr(member, f) for f in _MEMBER_FIELDS}


def json_string(text: str) -> str:
    """`text` as a JSON string, escaped exactly as to_json escapes it."""
    return _json(text)


_SCALARS = tuple(f.name for f in fields(Receipt) if f.name not in ("lines", "payments", "member"))
_MEMBER_FIELDS = tuple(f.name for f in fields(ReceiptMember))
_LINE_FIELDS = tuple(f.name for f in fields(ReceiptLine) if f.name != "adjustments")
_PAYMENT_FIELDS = tuple(f.name for f in fields(ReceiptPayment))
