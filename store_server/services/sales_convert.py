"""proto <-> domain for the SalesService."""

from __future__ import annotations

from datetime import datetime

from store_server.baskets import BasketView
from store_server.db.shift_repo import ShiftRow
from store_server.domain.errors import InvalidArgument
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
    """The basket as the till shows it. Sent after every scan: fields are filled
    in place, which is about twice as fast as building nested messages."""
    b = view.basket
    priced = view.priced
    out = sales_pb2.Basket(
        basket_id=b.basket_id,
        status=_STATUS.get(b.status, 0),
        totalled=b.totalled,
        item_count=len(b.lines),
        sale_id=b.sale_id or "",
    )
    out.subtotal.fen = priced.subtotal_fen
    out.discount.fen = priced.discount_fen
    out.total.fen = priced.total_fen
    out.cash_total.fen = priced.total_fen if view.cash_total_fen is None else view.cash_total_fen
    out.created_at.CopyFrom(ts(b.created_at))
    if view.member is not None:
        m = view.member
        out.member.member_id = m.member_id
        out.member.masked_phone = m.masked_phone
        out.member.name = m.name
        out.member.tier_name = m.tier_name
        out.member.points = m.points
        out.member.stored_value.fen = m.stored_value_fen
        out.coupon_ids.extend(cid for cid, _ in b.coupons)
    if b.held_at is not None:
        out.held_at.CopyFrom(ts(b.held_at))
    for line, p in zip(b.lines, priced.lines, strict=True):
        pb = out.lines.add(
            line_id=line.line_id,
            product_id=line.product_id,
            sku=line.sku,
            name=line.name,
            code=line.code,
            pack_factor=line.pack_factor,
            weighed=line.weighed,
            gift=line.gift,
            unit=line.unit,
        )
        pb.quantity.milli = line.quantity_milli
        pb.unit_price.fen = (
            line.override_unit_price_fen
            if line.override_unit_price_fen is not None
            else line.unit_price_fen
        )
        pb.base_amount.fen = p.base_amount_fen
        pb.net_amount.fen = p.net_amount_fen
        for a in p.adjustments:
            adj = pb.adjustments.add(code=a.code, name=a.name)
            adj.amount.fen = a.amount_fen
    return out


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
