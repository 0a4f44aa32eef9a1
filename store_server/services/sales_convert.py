"""proto <-> domain for the SalesService."""

from __future__ import annotations

from datetime import UTC, datetime

from store_server.baskets import BasketView
from store_server.db.basket_repo import StoredLine
from store_server.db.shift_repo import ShiftRow
from store_server.domain.errors import InvalidArgument
from store_server.domain.pricing import Adjustment, PricedLine
from store_server.domain.receipt import Receipt
from store_server.domain.tender import TENDER_NAMES, PaymentInput, TenderKind
from store_server.services.convert import money, ts
from store_server.shifts import ShiftReport
from tillpoint.v1 import sales_pb2

_STATUS = {
    "open": sales_pb2.BASKET_STATUS_OPEN,
    "held": sales_pb2.BASKET_STATUS_HELD,
    "committed": sales_pb2.BASKET_STATUS_COMMITTED,
    "cleared": sales_pb2.BASKET_STATUS_CLEARED,
}
_TENDERS = {
    sales_pb2.TENDER_KIND_CASH: TenderKind.CASH,
    sales_pb2.TENDER_KIND_BANK_CARD: TenderKind.BANK_CARD,
    sales_pb2.TENDER_KIND_MOBILE: TenderKind.MOBILE,
    sales_pb2.TENDER_KIND_FOREIGN_CASH: TenderKind.FOREIGN_CASH,
    sales_pb2.TENDER_KIND_GIFT_VOUCHER: TenderKind.GIFT_VOUCHER,
    sales_pb2.TENDER_KIND_STORED_VALUE: TenderKind.STORED_VALUE,
    sales_pb2.TENDER_KIND_POINTS: TenderKind.POINTS,
    sales_pb2.TENDER_KIND_COUNT_CARD: TenderKind.COUNT_CARD,
}
MAX_PAYMENTS = 20


def payments(items: list[sales_pb2.Payment]) -> list[PaymentInput]:
    if len(items) > MAX_PAYMENTS:
        raise InvalidArgument("payments", f"at most {MAX_PAYMENTS} payments")
    out = []
    for i, p in enumerate(items):
        kind = _TENDERS.get(p.kind)
        if kind is None:
            raise InvalidArgument(f"payments[{i}].kind", "unknown tender kind")
        if not p.currency.isascii() or len(p.currency) > 3:
            raise InvalidArgument(f"payments[{i}].currency", "a three-letter currency code")
        out.append(
            PaymentInput(
                kind=kind,
                amount_fen=p.amount.fen,
                currency=p.currency.upper(),
                foreign_amount_minor=p.foreign_amount_minor,
                reference=p.reference.strip(),
                uses=p.uses,
            )
        )
    return out


def basket(view: BasketView) -> sales_pb2.Basket:
    """The basket as the till shows it (basket_bytes, parsed)."""
    return sales_pb2.Basket.FromString(basket_bytes(view))


def basket_bytes(view: BasketView) -> bytes:
    """The basket's wire form, which the SalesService sends as it is (the
    interceptor passes a servicer's bytes through). Sent after every scan,
    with every line, so it is written here in protobuf's wire format: the
    basket's own fields, then the lines from parts kept between scans
    (_add_line); building them field by field through protobuf's Python API
    was half of a scan's own time. tests/unit/test_scan_encoding.py holds the
    result to what protobuf itself builds. A field's place in the bytes does
    not matter to a parser, so the lines may follow fields numbered after them."""
    b = view.basket
    # The lines first (after a place for the basket's own fields), adding up
    # the totals on the way: PricedBasket's properties would walk them thrice.
    parts = [b""]
    subtotal = total = 0
    for line, p in zip(b.lines, view.priced.lines, strict=True):
        subtotal += p.base_amount_fen
        total += p.net_amount_fen
        _add_line(parts, line, p)
    head = [_text(b"\x0a", b.basket_id)]
    status = _STATUS.get(b.status, 0)
    if status:
        head.append(_STATUS_FIELDS[status])
    if b.totalled:
        head.append(b"\x18\x01")
    head += (
        b"\x2a",
        _fen(subtotal),
        b"\x32",
        _fen(subtotal - total),
        b"\x3a",
        _fen(total),
        b"\x72",
        _fen(total if view.cash_total_fen is None else view.cash_total_fen),
    )
    if b.lines:
        head.append(b"\x40" + _varint(len(b.lines)))
    head.append(_timestamp(b"\x4a", b.created_at))
    if b.held_at is not None:
        head.append(_timestamp(b"\x52", b.held_at))
    if b.sale_id:
        head.append(_text(b"\x5a", b.sale_id))
    if view.member is not None:
        head.append(_member_fields(view))
    parts[0] = b"".join(head)
    return b"".join(parts)


def _member_fields(view: BasketView) -> bytes:
    """The member and the coupons applied (fields 12 and 13), by protobuf: rare."""
    out = sales_pb2.Basket()
    m = view.member
    assert m is not None
    out.member.member_id = m.member_id
    out.member.masked_phone = m.masked_phone
    out.member.name = m.name
    out.member.tier_name = m.tier_name
    out.member.points = m.points
    out.member.stored_value.fen = m.stored_value_fen
    out.coupon_ids.extend(cid for cid, _ in view.basket.coupons)
    return out.SerializeToString()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _timestamp(tag: bytes, when: datetime) -> bytes:
    """A Timestamp field set to `when` (a naive time as convert.ts reads it);
    kept by time, as every scan of a basket sends its creation time again."""
    key = (tag, when)
    found = _TIMESTAMPS.get(key)
    if found is not None:
        return found
    if when.tzinfo is None:
        inner = ts(when).SerializeToString()
    else:
        since = when - _EPOCH
        seconds = since.days * 86_400 + since.seconds
        nanos = since.microseconds * 1000
        inner = (b"\x08" + _varint(seconds) if seconds else b"") + (
            b"\x10" + _varint(nanos) if nanos else b""
        )
    found = tag + _varint(len(inner)) + inner
    _remember(_TIMESTAMPS, key, found)
    return found


_TIMESTAMPS: dict[tuple[bytes, datetime], bytes] = {}


# A line's encoding is its product half (id, names, code, quantity, unit
# price), encoded once by protobuf and kept, then its price half (base,
# adjustments, net), which a basket-wide promotion changes on every line at
# each scan, written here in protobuf's wire format (short for Money and
# LineAdjustment, and mostly from memos). tests/unit/test_scan_encoding.py
# holds the result to what protobuf itself encodes.
_LINES_TAG = b"\x22"  # Basket.lines (4), length-delimited
_BASE_FIELD = b"\x4a"  # BasketLine.base_amount (9)
_ADJUSTMENT_FIELD = b"\x52"  # BasketLine.adjustments (10)
_NET_FIELD = b"\x5a"  # BasketLine.net_amount (11)
_INT64 = 1 << 64

# id(StoredLine) -> (the line, its product half). The entry holds the line,
# so its id cannot be reused while the entry lives, and `is` proves the entry
# is this line's. A basket kept in memory (baskets.Baskets) keeps its line
# objects from scan to scan; a line read again from the database is a new
# object and is simply encoded again.
_PRODUCT_HALVES: dict[int, tuple[StoredLine, bytes]] = {}
_MONEY: dict[int, bytes] = {}  # fen -> a set Money field's value, length first
# id(Adjustment) -> (the adjustment, its entry); held as _PRODUCT_HALVES holds lines.
_ADJUSTMENTS: dict[int, tuple[Adjustment, bytes]] = {}
# Many times what the open baskets of a large store hold; at the limit a memo
# is dropped whole (cheaper than tracking use, and rare).
_MEMO_MAX = 50_000


def _add_line(parts: list[bytes], line: StoredLine, p: PricedLine) -> None:
    """Append the line and its price as one entry of Basket.lines: the bytes
    protobuf writes for a BasketLine with every field set (as
    tests/unit/test_scan_encoding.py builds it). The pieces go straight into
    the basket's parts, the entry's tag and length first: no per-line join."""
    found = _PRODUCT_HALVES.get(id(line))
    if found is not None and found[0] is line:
        product = found[1]
    else:
        holder = sales_pb2.BasketLine()
        _product_half(holder, line)
        product = holder.SerializeToString()
        _remember(_PRODUCT_HALVES, id(line), (line, product))
    money = _MONEY.get  # _fen, inline: twice for every line of every scan
    base = money(p.base_amount_fen) or _money(p.base_amount_fen)
    net = money(p.net_amount_fen) or _money(p.net_amount_fen)
    head = len(parts)
    parts += (b"", product, _BASE_FIELD, base)
    size = len(product) + len(base) + len(net) + 2  # the two one-byte tags
    if p.adjustments:
        kept = _ADJUSTMENTS.get
        for a in p.adjustments:
            found = kept(id(a))
            entry = found[1] if found is not None and found[0] is a else _adjustment(a)
            size += len(entry)
            parts.append(entry)
    parts += (_NET_FIELD, net)
    parts[head] = _ENTRY_HEADS[size] if size < _SHORT_ENTRY else _LINES_TAG + _varint(size)


def _remember(memo: dict, key: object, value: object) -> None:
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    memo[key] = value


def _varint(n: int) -> bytes:
    """Protobuf's base-128 varint; a negative int64 as its 64-bit two's complement.

    Amounts of up to ±20,971.51 yuan (21 bits) take a fast path: a scan
    encodes dozens of them.
    """
    if 0 <= n < 0x80:
        return _SMALL[n]
    if 0 < n < 0x200000:
        if n < 0x4000:
            return bytes(((n & 0x7F) | 0x80, n >> 7))
        return bytes(((n & 0x7F) | 0x80, ((n >> 7) & 0x7F) | 0x80, n >> 14))
    if n < 0:
        n += _INT64  # bits 21 to 63 all set when n >= -2**21: the tail is fixed
        if n >= _INT64 - 0x200000:
            return bytes(
                ((n & 0x7F) | 0x80, ((n >> 7) & 0x7F) | 0x80, ((n >> 14) & 0x7F) | 0x80)
            ) + (_NEGATIVE_TAIL)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL = [bytes((n,)) for n in range(0x80)]
_NEGATIVE_TAIL = b"\xff" * 6 + b"\x01"
# Basket.status (2) as encoded, by value.
_STATUS_FIELDS = {v: b"\x10" + _varint(v) for v in _STATUS.values()}
# A line entry's tag and length, for every length a line of a real basket has.
_SHORT_ENTRY = 0x4000
_ENTRY_HEADS = [_LINES_TAG + _varint(n) for n in range(_SHORT_ENTRY)]


def _fen(fen: int) -> bytes:
    """A set Money field's value, length first (from the memo when it is there)."""
    return _MONEY.get(fen) or _money(fen)


def _money(fen: int) -> bytes:
    """A Money message, length first, as the value of a field that is set."""
    if fen:
        value = _varint(fen)
        encoded = bytes((len(value) + 1, 0x08)) + value  # at most 11 bytes: one length byte
    else:
        encoded = b"\x00"  # present, and empty: fen is 0
    _remember(_MONEY, fen, encoded)
    return encoded


def _adjustment(a: Adjustment) -> bytes:
    """One entry of BasketLine.adjustments, kept by the Adjustment object: pricing
    shares one between equal promotion discounts (domain.pricing)."""
    head = _ADJUSTMENT_HEADS.get((a.code, a.name))
    if head is None:
        head = _text(b"\x0a", a.code) + _text(b"\x12", a.name) + b"\x1a"
        _remember(_ADJUSTMENT_HEADS, (a.code, a.name), head)
    inner = head + _fen(a.amount_fen)
    encoded = _ADJUSTMENT_FIELD + _varint(len(inner)) + inner
    _remember(_ADJUSTMENTS, id(a), (a, encoded))
    return encoded


# (code, name) -> an adjustment's code and name fields and its amount's tag.
_ADJUSTMENT_HEADS: dict[tuple[str, str], bytes] = {}


def _text(tag: bytes, text: str) -> bytes:
    """A string field; proto3 writes nothing for an empty one."""
    if not text:
        return b""
    data = text.encode()
    return tag + _varint(len(data)) + data


def _product_half(pb: sales_pb2.BasketLine, line: StoredLine) -> None:
    """Every field of the line but its price half."""
    pb.line_id = line.line_id
    pb.product_id = line.product_id
    pb.sku = line.sku
    pb.name = line.name
    pb.code = line.code
    pb.pack_factor = line.pack_factor
    pb.weighed = line.weighed
    pb.gift = line.gift
    pb.unit = line.unit
    pb.quantity.milli = line.quantity_milli
    pb.unit_price.fen = (
        line.override_unit_price_fen
        if line.override_unit_price_fen is not None
        else line.unit_price_fen
    )


def receipt(r: Receipt, *, copy: bool = False) -> sales_pb2.Receipt:
    """Every commit answers with its receipt: filled in place, as basket() is."""
    out = sales_pb2.Receipt(
        store_id=r.store_id,
        store_name=r.store_name,
        receipt_no=r.receipt_no,
        business_day=r.business_day,
        operator_id=r.operator_id,
        device_id=r.device_id,
        barcode=r.barcode,
        copy=copy,
        kind=r.kind,
        original_receipt_no=r.original_receipt_no,
    )
    out.at.CopyFrom(ts(datetime.fromisoformat(r.at)))
    for name in ("subtotal", "discount", "rounding", "total", "change", "forfeited"):
        getattr(out, name).fen = getattr(r, f"{name}_fen")
    for line in r.lines:
        pb = out.lines.add(
            line_no=line.line_no,
            name=line.name,
            sku=line.sku,
            unit=line.unit,
            pack_factor=line.pack_factor,
        )
        pb.quantity.milli = line.quantity_milli
        pb.unit_price.fen = line.unit_price_fen
        pb.base_amount.fen = line.base_amount_fen
        pb.net_amount.fen = line.net_amount_fen
        for a in line.adjustments:
            adj = pb.adjustments.add(code=a.code, name=a.name)
            adj.amount.fen = a.amount_fen
    for p in r.payments:
        pay = out.payments.add(
            kind=p.kind,
            name=p.name,
            currency=p.currency,
            foreign_amount_minor=p.foreign_amount_minor,
            reference=p.reference,
        )
        pay.tendered.fen = p.tendered_fen
        pay.applied.fen = p.applied_fen
    if r.member is not None:
        m = r.member
        out.member.member_id = m.member_id
        out.member.masked_phone = m.masked_phone
        out.member.tier_name = m.tier_name
        out.member.points_earned = m.points_earned
        out.member.points_redeemed = m.points_redeemed
        out.member.points_balance = m.points_balance
        out.member.stored_value_balance.fen = m.stored_value_fen
        out.member.upgraded_to = m.upgraded_to
    return out


def shift(s: ShiftRow) -> sales_pb2.Shift:
    return sales_pb2.Shift(
        shift_id=s.shift_id,
        device_id=s.device_id,
        operator_id=s.operator_id,
        business_day=s.business_day,
        float=money(s.float_fen),
        opened_at=ts(s.opened_at),
        closed=s.closed_at is not None,
    )


def shift_report(r: ShiftReport) -> sales_pb2.ShiftReport:
    f = r.figures
    out = sales_pb2.ShiftReport(
        shift=shift(r.shift),
        final=r.final,
        sales_count=f.sales_count,
        sales_total=money(f.sales_total_fen),
        returns_count=f.returns_count,
        returns_total=money(f.returns_total_fen),
        discounts_total=money(f.discounts_fen),
        rounding_total=money(f.rounding_fen),
        cash_in=money(f.cash_in_fen),
        cash_out=money(f.cash_out_fen),
        no_sale_count=f.no_sale_count,
        expected_cash=money(r.expected_cash_fen),
    )
    for kind, (amount, count) in sorted(f.tenders.items()):
        out.tenders.add(
            kind=kind,
            name=TENDER_NAMES.get(TenderKind(kind), kind),
            amount=money(amount),
            count=count,
        )
    if r.counted_cash_fen is not None:
        out.counted_cash.CopyFrom(money(r.counted_cash_fen))
        out.over_short.CopyFrom(money(r.over_short_fen))
    return out
