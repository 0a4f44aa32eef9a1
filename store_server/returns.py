"""Returns (退货): with the receipt, priced as sold; without, with permission.

With a receipt, each line is refunded from what the customer actually paid
for it (after discounts and its share of the rounding), cumulatively, so
returning a line in parts refunds exactly what returning it whole would.
The refund goes back to the original tenders in proportion; cash-like
tenders are refunded in yuan cash. Stock comes back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, func, insert, select

from store_server.auth import Principal
from store_server.clock import Clock
from store_server.config import Config
from store_server.db import catalog_repo, shift_repo, stock_repo
from store_server.db.database import Database
from store_server.db.models import Product
from store_server.db.sales_models import (
    ReturnDoc,
    ReturnLine,
    ReturnPayment,
    Sale,
    SaleLine,
    SalePayment,
)
from store_server.db.unit_of_work import Actor, receipt_payload, unit_of_work
from store_server.domain.allocation import allocate, share
from store_server.domain.barcodes import normalize_code
from store_server.domain.business_day import receipt_number
from store_server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from store_server.domain.ids import check_uuid
from store_server.domain.money import MILLI, line_amount
from store_server.domain.receipt import Receipt, ReceiptLine, ReceiptPayment
from store_server.domain.tender import CASH_LIKE, TENDER_NAMES, TenderKind
from store_server.members import sale_effects
from store_server.members.book import MemberBook
from store_server.shifts import Shifts


@dataclass(frozen=True, slots=True)
class ReturnItem:
    line_no: int  # with a receipt
    quantity_milli: int  # scan units
    code: str  # without a receipt


class Returns:
    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        shifts: Shifts,
        members: MemberBook | None = None,
    ) -> None:
        self._members = members
        self._db = db
        self._cfg = config
        self._clock = clock
        self._shifts = shifts

    def return_items(
        self,
        who: Principal,
        return_id: str,
        receipt_no: str,
        items: list[ReturnItem],
        reason: str,
        approver: Principal | None,
    ) -> tuple[Receipt, bool]:
        return_id = check_uuid(return_id, "return_id")
        if not items:
            raise InvalidArgument("lines", "name at least one line to return")
        if len(reason) > 120:
            raise InvalidArgument("reason", "at most 120 characters")
        for i, item in enumerate(items):
            if item.quantity_milli <= 0:
                raise InvalidArgument(f"lines[{i}].quantity", "must be more than zero")
        now = self._clock.now()
        with unit_of_work(self._db, Actor(who.operator_id, who.device_id), now) as uow:
            conn = uow.conn
            text = conn.execute(
                select(ReturnDoc.receipt).where(ReturnDoc.return_id == return_id)
            ).scalar()
            if text is not None:
                return Receipt.from_json(text), False
            shift = self._shifts.current(conn, who)
            day = self._shifts.today()
            if shift_repo.day_is_closed(conn, day):
                raise FailedPrecondition(f"business day {day} is closed", reason="DAY_CLOSED")
            sale: sale_effects.SaleRefund | None = None
            if receipt_no:
                sale, lines, refunds, payments = self._with_receipt(conn, receipt_no, items)
            else:
                lines, refunds, payments = self._without_receipt(conn, items)
            original = receipt_no if sale is not None else None
            total = sum(refunds)
            member = None
            if sale is not None:
                member = sale_effects.apply_return(
                    uow,
                    self._cfg,
                    return_id=return_id,
                    sale=sale,
                    refund_fen=total,
                    payments=payments,
                    today=now.astimezone(self._cfg.zone).date(),
                )
                if member is not None and self._members is not None:
                    book, member_id = self._members, member.member_id
                    uow.after_commit(lambda: book.forget(member_id))
            seq = uow.next_value(f"receipt:{self._cfg.store_id}:{day}")
            number = receipt_number(self._cfg.store_id, date.fromisoformat(day), seq)
            receipt_lines = tuple(
                ReceiptLine(
                    line_no=i,
                    name=name,
                    sku=sku,
                    quantity_milli=qty,
                    unit=unit,
                    unit_price_fen=0,
                    base_amount_fen=-refund,
                    adjustments=(),
                    net_amount_fen=-refund,
                    pack_factor=pack,
                )
                for i, ((_, _, pid, qty, pack, name, sku, unit), refund) in enumerate(
                    zip(lines, refunds, strict=True), start=1
                )
            )
            receipt = Receipt(
                kind="return",
                store_id=self._cfg.store_id,
                store_name=self._cfg.store_name,
                receipt_no=number,
                business_day=day,
                at=now.isoformat(),
                operator_id=who.operator_id,
                device_id=who.device_id,
                lines=receipt_lines,
                subtotal_fen=-total,
                discount_fen=0,
                rounding_fen=0,
                total_fen=-total,
                payments=tuple(
                    ReceiptPayment(
                        kind=k,
                        name=TENDER_NAMES[TenderKind(k)],
                        tendered_fen=-a,
                        applied_fen=-a,
                        reference=ref,
                    )
                    for k, a, ref in payments
                ),
                original_receipt_no=original or "",
                member=member,
            )
            receipt_json = receipt.to_json()
            conn.execute(
                insert(ReturnDoc).values(
                    return_id=return_id,
                    receipt_no=number,
                    original_sale_id=sale.sale_id if sale is not None else None,
                    business_day=day,
                    shift_id=shift.shift_id,
                    device_id=who.device_id,
                    operator_id=who.operator_id,
                    approved_by=approver.operator_id if approver else None,
                    reason=reason.strip(),
                    refund_fen=total,
                    created_at=now,
                    receipt=receipt_json,
                )
            )
            conn.execute(
                insert(ReturnLine),
                [
                    {
                        "return_id": return_id,
                        "line_no": i,
                        "original_line_no": orig,
                        "product_id": pid,
                        "quantity_milli": qty,
                        "pack_factor": pack,
                        "refund_fen": refund,
                    }
                    for i, ((_, orig, pid, qty, pack, _, _, _), refund) in enumerate(
                        zip(lines, refunds, strict=True), start=1
                    )
                ],
            )
            if payments:
                conn.execute(
                    insert(ReturnPayment),
                    [
                        {
                            "return_id": return_id,
                            "seq": i,
                            "kind": k,
                            "amount_fen": a,
                            "reference": ref,
                        }
                        for i, (k, a, ref) in enumerate(payments, start=1)
                    ],
                )
            stock_repo.record(
                conn,
                [(pid, qty * pack) for _, _, pid, qty, pack, *_ in lines],
                kind="return",
                source_id=return_id,
                at=now,
            )
            uow.audit(
                "sale.return",
                number,
                detail={
                    "return_id": return_id,
                    "original": original or "",
                    "refund_fen": total,
                    **({"approved_by": approver.operator_id} if approver else {}),
                },
            )
            uow.change_encoded("return", return_id, receipt_payload(receipt_json))
        return receipt, True

    def _with_receipt(self, conn: Connection, receipt_no: str, items: list[ReturnItem]):
        sale = conn.execute(select(Sale.sale_id).where(Sale.receipt_no == receipt_no)).first()
        if sale is None:
            raise NotFound(f"no sale with receipt {receipt_no}", reason="UNKNOWN_RECEIPT")
        sold = {
            r.line_no: r
            for r in conn.execute(
                select(SaleLine, Product.name, Product.sku, Product.unit, Product.weighed)
                .join(Product, Product.id == SaleLine.product_id)
                .where(SaleLine.sale_id == sale.sale_id)
            )
        }
        returned: dict[int, int] = defaultdict(int)
        for line_no, qty in conn.execute(
            select(ReturnLine.original_line_no, func.sum(ReturnLine.quantity_milli))
            .join(ReturnDoc, ReturnDoc.return_id == ReturnLine.return_id)
            .where(ReturnDoc.original_sale_id == sale.sale_id)
            .group_by(ReturnLine.original_line_no)
        ):
            returned[line_no] = int(qty)
        asked: dict[int, int] = defaultdict(int)
        for i, item in enumerate(items):
            if item.line_no not in sold:
                raise InvalidArgument(
                    f"lines[{i}].line_no", f"receipt {receipt_no} has no line {item.line_no}"
                )
            if not sold[item.line_no].weighed and item.quantity_milli % MILLI:
                raise InvalidArgument(f"lines[{i}].quantity", "whole units (multiples of 1000)")
            asked[item.line_no] += item.quantity_milli
        lines, refunds = [], []
        for line_no, qty in sorted(asked.items()):
            row = sold[line_no]
            before = returned[line_no]
            if before + qty > row.quantity_milli:
                raise FailedPrecondition(
                    f"line {line_no}: {row.quantity_milli - before} of {row.quantity_milli} "
                    f"left to return, asked for {qty}",
                    reason="RETURN_EXCEEDS_SALE",
                )
            refund = share(row.paid_fen, before + qty, row.quantity_milli) - share(
                row.paid_fen, before, row.quantity_milli
            )
            lines.append(
                (
                    line_no,
                    line_no,
                    row.product_id,
                    qty,
                    row.pack_factor,
                    row.name,
                    row.sku,
                    row.unit,
                )
            )
            refunds.append(refund)
        # Tenders: allocate everything refunded on this sale so far, minus what
        # earlier returns already allocated, so the parts always sum right.
        pays = conn.execute(
            select(SalePayment.kind, SalePayment.applied_fen, SalePayment.reference)
            .where(SalePayment.sale_id == sale.sale_id)
            .order_by(SalePayment.seq)
        ).all()
        refunded_before = int(
            conn.execute(
                select(func.coalesce(func.sum(ReturnDoc.refund_fen), 0)).where(
                    ReturnDoc.original_sale_id == sale.sale_id
                )
            ).scalar_one()
        )
        after_total = refunded_before + sum(refunds)
        weights = [p.applied_fen for p in pays]
        now_parts = allocate(after_total, weights)
        before_parts = allocate(refunded_before, weights)
        merged: dict[tuple[str, str], int] = defaultdict(int)
        # Per tender: what it paid and what earlier returns gave back to it.
        tenders: dict[tuple[str, str], tuple[int, int]] = {}
        for p, a, b in zip(pays, now_parts, before_parts, strict=True):
            kind = "cash" if p.kind in CASH_LIKE else p.kind
            key = (kind, "" if kind == "cash" else p.reference)
            merged[key] += a - b
            paid, prior = tenders.get(key, (0, 0))
            tenders[key] = (paid + p.applied_fen, prior + b)
        payments = [(k, amount, ref) for (k, ref), amount in merged.items() if amount]
        refund_of = sale_effects.SaleRefund(
            sale_id=sale.sale_id,
            total_fen=sum(weights),
            refunded_before_fen=refunded_before,
            tenders=tenders,
        )
        return refund_of, lines, refunds, payments

    def _without_receipt(self, conn: Connection, items: list[ReturnItem]):
        lines, refunds = [], []
        for i, item in enumerate(items):
            code = normalize_code(item.code, field=f"lines[{i}].code")
            found = catalog_repo.find_by_barcode(conn, self._cfg.store_id, code)
            product = (
                found[0] if found else catalog_repo.find_by_plu(conn, self._cfg.store_id, code)
            )
            if product is None:
                raise NotFound(f"unknown code {code}", reason="UNKNOWN_BARCODE")
            pack = found[1].pack_factor if found else 1
            unit_price = (
                found[1].price_fen
                if found and found[1].price_fen is not None
                else product.retail_price_fen * pack
            )
            if not product.weighed and item.quantity_milli % MILLI:
                raise InvalidArgument(f"lines[{i}].quantity", "whole units (multiples of 1000)")
            lines.append(
                (
                    i + 1,
                    None,
                    product.id,
                    item.quantity_milli,
                    pack,
                    product.name,
                    product.sku,
                    product.unit,
                )
            )
            refunds.append(line_amount(unit_price, item.quantity_milli))
        return lines, refunds, [("cash", sum(refunds), "")]
