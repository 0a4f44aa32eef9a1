"""Committing a sale: price, settle the tender, write everything in one transaction.

The till generates the sale id. A replay of the same id (a retry after a
lost answer, before or after a server restart) returns the first sale and
writes nothing; so a till can always retry a commit it is unsure about.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, select

from store_server.auth import Principal
from store_server.baskets import Baskets
from store_server.clock import Clock
from store_server.config import Config
from store_server.db import fast, shift_repo, stock_repo
from store_server.db.database import Database
from store_server.db.group_commit import GroupCommitter
from store_server.db.sales_models import ReturnDoc, Sale, SaleLine, SalePayment
from store_server.db.unit_of_work import Actor, UnitOfWork
from store_server.domain.allocation import allocate
from store_server.domain.business_day import receipt_number
from store_server.domain.errors import FailedPrecondition, NotFound
from store_server.domain.ids import check_uuid
from store_server.domain.receipt import Receipt, ReceiptAdjustment, ReceiptLine, ReceiptPayment
from store_server.domain.tender import (
    MEMBER_TENDERS,
    TENDER_NAMES,
    Currency,
    PaymentInput,
    settle,
)
from store_server.members import sale_effects
from store_server.members.book import MemberBook
from store_server.shifts import Shifts

# Core tables for the inserts of every sale (see basket_repo on why).
_SALES = Sale.__table__
_LINES = SaleLine.__table__
_PAYMENTS = SalePayment.__table__
_BASKET_DONE = (
    "UPDATE baskets SET status = 'committed', totalled = 1, sale_id = ? WHERE basket_id = ?"
)
# The reads of every commit, as plain DB-API queries (see db.fast).
_RECEIPT_OF = "SELECT receipt FROM sales WHERE sale_id = ?"
_CURRENCIES = "SELECT code, rate_micro FROM currencies"


class Checkout:
    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        baskets: Baskets,
        shifts: Shifts,
        committer: GroupCommitter,
        members: MemberBook | None = None,
    ) -> None:
        self._members = members
        self._committer = committer
        self._db = db
        self._cfg = config
        self._clock = clock
        self._baskets = baskets
        self._shifts = shifts

    def commit(
        self, who: Principal, sale_id: str, basket_id: str, payments: list[PaymentInput]
    ) -> tuple[Receipt, bool]:
        """Returns the receipt and whether this call wrote it (False for a replay)."""
        sale_id = check_uuid(sale_id, "sale_id")
        basket_id = check_uuid(basket_id, "basket_id")
        now = self._clock.now()
        actor = Actor(who.operator_id, who.device_id)
        return self._committer.run(
            actor, now, lambda uow: self._commit_in(uow, who, sale_id, basket_id, payments)
        )

    def _commit_in(
        self,
        uow: UnitOfWork,
        who: Principal,
        sale_id: str,
        basket_id: str,
        payments: list[PaymentInput],
    ) -> tuple[Receipt, bool]:
        """The commit itself, inside one unit of work of a group commit."""
        now = uow.now
        conn = uow.conn
        found = self._existing(conn, sale_id)  # a replay: the first answer again
        if found is not None:
            return found, False
        basket = self._baskets.own(conn, who, basket_id)
        if basket.status != "open":
            raise FailedPrecondition(f"the basket is {basket.status}", reason="BASKET_NOT_OPEN")
        if not basket.lines:
            raise FailedPrecondition("the basket is empty", reason="EMPTY_BASKET")
        shift_id = shift_repo.open_shift_id(conn, who.device_id)
        day = self._shifts.today()
        if shift_repo.day_closed_fast(conn, day):
            raise FailedPrecondition(
                f"business day {day} is closed: a supervisor must reopen it",
                reason="DAY_CLOSED",
            )
        # A member's tier may have changed since the last scan: price with it as it is now.
        priced = self._baskets.view(basket, conn=conn if basket.member_id else None).priced
        currencies = {code: Currency(code, rate) for code, rate in fast.execute(conn, _CURRENCIES)}
        today = now.astimezone(self._cfg.zone).date()  # the calendar date, for members
        if basket.member_id or any(p.kind in MEMBER_TENDERS for p in payments):
            payments = sale_effects.price_count_cards(
                conn, basket.member_id, basket.lines, priced, payments, today
            )
        tender = settle(
            priced.total_fen, payments, rounding=self._cfg.cash_rounding, currencies=currencies
        )

        seq = uow.next_value(f"receipt:{self._cfg.store_id}:{day}")
        receipt_no = receipt_number(self._cfg.store_id, date.fromisoformat(day), seq)
        shares = allocate(tender.rounding_fen, [p.net_amount_fen for p in priced.lines])
        lines, line_rows = [], []
        for no, (line, p, share) in enumerate(
            zip(basket.lines, priced.lines, shares, strict=True), start=1
        ):
            lines.append(
                ReceiptLine(
                    line_no=no,
                    name=line.name,
                    sku=line.sku,
                    quantity_milli=line.quantity_milli,
                    unit=line.unit,
                    unit_price_fen=line.unit_price_fen,
                    base_amount_fen=p.base_amount_fen,
                    adjustments=tuple(
                        ReceiptAdjustment(a.code, a.name, a.amount_fen) for a in p.adjustments
                    ),
                    net_amount_fen=p.net_amount_fen,
                    pack_factor=line.pack_factor,
                )
            )
            line_rows.append(
                {
                    "sale_id": sale_id,
                    "line_no": no,
                    "product_id": line.product_id,
                    "quantity_milli": line.quantity_milli,
                    "pack_factor": line.pack_factor,
                    "base_amount_fen": p.base_amount_fen,
                    "net_amount_fen": p.net_amount_fen,
                    "paid_fen": p.net_amount_fen + share,
                    "tax_rate_bp": line.tax_rate_bp,
                    "gift": line.gift,
                }
            )
        member = None
        if basket.member_id:
            member = sale_effects.apply_sale(
                uow,
                self._cfg,
                sale_id=sale_id,
                member_id=basket.member_id,
                coupon_ids=[cid for cid, _ in basket.coupons],
                tender=tender,
                lines=[
                    sale_effects.SaleLineFacts(line.category, row["paid_fen"], line.gift)
                    for line, row in zip(basket.lines, line_rows, strict=True)
                ],
                today=today,
            )
            if self._members is not None:
                uow.after_commit(lambda: self._members.forget(basket.member_id))
        receipt = Receipt(
            kind="sale",
            store_id=self._cfg.store_id,
            store_name=self._cfg.store_name,
            receipt_no=receipt_no,
            business_day=day,
            at=now.isoformat(),
            operator_id=who.operator_id,
            device_id=who.device_id,
            lines=tuple(lines),
            subtotal_fen=priced.subtotal_fen,
            discount_fen=priced.discount_fen,
            rounding_fen=tender.rounding_fen,
            total_fen=tender.payable_fen,
            payments=tuple(
                ReceiptPayment(
                    kind=p.kind.value,
                    name=TENDER_NAMES[p.kind],
                    tendered_fen=p.tendered_fen,
                    applied_fen=p.applied_fen,
                    currency=p.currency,
                    foreign_amount_minor=p.foreign_amount_minor,
                    reference=p.reference,
                )
                for p in tender.payments
            ),
            change_fen=tender.change_fen,
            forfeited_fen=tender.forfeited_fen,
            member=member,
        )
        receipt_json = receipt.to_json()
        fast.insert_rows(
            conn,
            _SALES,
            [
                dict(
                    sale_id=sale_id,
                    receipt_no=receipt_no,
                    store_id=self._cfg.store_id,
                    business_day=day,
                    shift_id=shift_id,
                    device_id=who.device_id,
                    operator_id=who.operator_id,
                    basket_id=basket_id,
                    member_id=basket.member_id,
                    subtotal_fen=priced.subtotal_fen,
                    discount_fen=priced.discount_fen,
                    rounding_fen=tender.rounding_fen,
                    total_fen=tender.payable_fen,
                    change_fen=tender.change_fen,
                    created_at=now,
                    receipt=receipt_json,
                )
            ],
        )
        fast.insert_rows(conn, _LINES, line_rows)
        fast.insert_rows(
            conn,
            _PAYMENTS,
            [
                {
                    "sale_id": sale_id,
                    "seq": i,
                    "kind": p.kind.value,
                    "tendered_fen": p.tendered_fen,
                    "applied_fen": p.applied_fen,
                    "currency": p.currency,
                    "foreign_amount_minor": p.foreign_amount_minor,
                    "rate_micro": p.rate_micro,
                    "reference": p.reference,
                }
                for i, p in enumerate(tender.payments, start=1)
            ],
        )
        # A case of 24 takes 24 units off the shelf.
        stock_repo.record(
            conn,
            [(line.product_id, -line.quantity_milli * line.pack_factor) for line in basket.lines],
            kind="sale",
            source_id=sale_id,
            at=now,
        )
        fast.execute(conn, _BASKET_DONE, (sale_id, basket_id))
        self._baskets.forget(basket_id)  # reloaded from the database if this rolls back
        uow.audit(
            "sale.commit",
            receipt_no,
            detail={
                "sale_id": sale_id,
                "total_fen": tender.payable_fen,
                "lines": len(lines),
                "change_fen": tender.change_fen,
            },
        )
        uow.change("sale", sale_id, {"receipt": receipt_json, "shift_id": shift_id})
        return receipt, True

    @staticmethod
    def _existing(conn: Connection, sale_id: str) -> Receipt | None:
        rows = fast.execute(conn, _RECEIPT_OF, (sale_id,))
        return Receipt.from_json(rows[0][0]) if rows else None

    def receipt(self, receipt_no: str) -> Receipt:
        with self._db.read() as conn:
            text = conn.execute(select(Sale.receipt).where(Sale.receipt_no == receipt_no)).scalar()
            if text is None:
                text = conn.execute(
                    select(ReturnDoc.receipt).where(ReturnDoc.receipt_no == receipt_no)
                ).scalar()
        if text is None:
            raise NotFound(f"no receipt {receipt_no}", reason="UNKNOWN_RECEIPT")
        return Receipt.from_json(text)
