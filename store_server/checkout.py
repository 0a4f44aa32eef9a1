"""Committing a sale: price, settle the tender, write everything in one transaction.

The till generates the sale id. A replay of the same id (a retry after a
lost answer, before or after a server restart) returns the first sale and
writes nothing; so a till can always retry a commit it is unsure about.

All writes go through one writer thread (db.group_commit), so what it does
per sale bounds how many sales a store commits per second. A sale is
therefore worked out first, on the caller's thread (a "draft": pricing,
tender, receipt and its JSON, the rows), and the writer only checks inside
the transaction that the draft still stands (same basket version, same
promotions, same business day) before it writes; if not, it works the sale
out again there. The pricing itself is the last scan's when it provably
still holds (same basket version and promotions, and no promotion's
schedule turned on or off since: domain.schedule_edges), else the basket is
priced again. Members' sales are worked out inside the transaction, where
their tier, balances and count cards are read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import Connection, select

from store_server.auth import Principal
from store_server.baskets import Baskets
from store_server.clock import Clock
from store_server.config import Config
from store_server.db import fast, shift_repo, stock_repo
from store_server.db.basket_repo import StoredBasket
from store_server.db.database import Database
from store_server.db.group_commit import GroupCommitter
from store_server.db.sales_models import ReturnDoc, Sale, SaleLine, SalePayment
from store_server.db.unit_of_work import Actor, UnitOfWork, receipt_payload
from store_server.domain.allocation import allocate
from store_server.domain.business_day import receipt_number
from store_server.domain.errors import DomainError, FailedPrecondition, NotFound
from store_server.domain.ids import check_uuid
from store_server.domain.pricing import MemberContext, PricedBasket
from store_server.domain.promotions.catalog_index import PromotionSet
from store_server.domain.receipt import (
    Receipt,
    ReceiptAdjustment,
    ReceiptLine,
    ReceiptPayment,
    json_string,
    with_member_json,
)
from store_server.domain.tender import (
    MEMBER_TENDERS,
    TENDER_NAMES,
    Currency,
    PaymentInput,
    TenderKind,
    TenderResult,
    settle,
)
from store_server.members import records, sale_effects
from store_server.members.book import MemberBook
from store_server.shifts import Shifts

# The inserts of every sale, as plain DB-API statements (see db.fast) with
# SQL made from the models, so the column lists cannot drift.
_INSERT_SALE = fast.insert_sql(
    Sale.__table__,
    (
        "sale_id",
        "receipt_no",
        "store_id",
        "business_day",
        "shift_id",
        "device_id",
        "operator_id",
        "basket_id",
        "member_id",
        "subtotal_fen",
        "discount_fen",
        "rounding_fen",
        "total_fen",
        "change_fen",
        "created_at",
        "receipt",
    ),
)
_INSERT_LINE = fast.insert_sql(
    SaleLine.__table__,
    (
        "sale_id",
        "line_no",
        "product_id",
        "quantity_milli",
        "pack_factor",
        "base_amount_fen",
        "net_amount_fen",
        "paid_fen",
        "tax_rate_bp",
        "gift",
    ),
)
_INSERT_PAYMENT = fast.insert_sql(
    SalePayment.__table__,
    (
        "sale_id",
        "seq",
        "kind",
        "tendered_fen",
        "applied_fen",
        "currency",
        "foreign_amount_minor",
        "rate_micro",
        "reference",
    ),
)
_BASKET_DONE = (
    "UPDATE baskets SET status = 'committed', totalled = 1, sale_id = ? WHERE basket_id = ?"
)
# The reads of every commit, as plain DB-API queries (see db.fast).
_RECEIPT_OF = "SELECT receipt FROM sales WHERE sale_id = ?"
_CURRENCIES = "SELECT code, rate_micro FROM currencies"
# Tenders a sale is worked out with only inside its transaction: foreign cash
# needs the rates as they are, a count card its uses left and what it covers.
_DRAFTED_IN = frozenset({TenderKind.FOREIGN_CASH, TenderKind.COUNT_CARD})


@dataclass(frozen=True, slots=True)
class _Draft:
    """A sale worked out, all but what only its transaction can give (the
    receipt number, the open shift, the member's balances), with the rows it
    writes as SQLite stores them, and what it was worked out from."""

    basket: StoredBasket  # the very version priced (identity is the version)
    promotions: PromotionSet
    member: MemberContext | None  # the basket's member as priced
    day: str
    priced: PricedBasket
    tender: TenderResult
    receipt: Receipt  # receipt_no "" and no member section yet
    paid_fen: list[int]  # per line, after the cash rounding's share
    line_rows: list[tuple]
    payment_rows: list[tuple]
    stock: stock_repo.MoveRows
    created_at: object  # the commit's time as stored
    # The receipt's JSON cut around the receipt number (and without a member
    # section: it comes in the transaction).
    receipt_json: tuple[str, str]


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
        # Worked out here, on the caller's thread and before queueing for the
        # one writer: the writer thread then only checks that nothing it rests
        # on changed and writes, so the Python of the next sales runs while it
        # waits for the disk (with 4 tills the writer is the serial part).
        draft = self._draft_ahead(who, sale_id, basket_id, payments, now)
        return self._committer.run(
            actor, now, lambda uow: self._commit_in(uow, who, sale_id, basket_id, payments, draft)
        )

    def _draft_ahead(
        self,
        who: Principal,
        sale_id: str,
        basket_id: str,
        payments: list[PaymentInput],
        now: datetime,
    ) -> _Draft | None:
        """The sale worked out from the in-memory basket, or None when it must be
        worked out inside the transaction (foreign cash, a count card, a basket not
        in memory, anything refused: the transaction then answers it in order).
        A member's sale is priced with the member as its last scan saw them; the
        transaction reads the member and works the sale out again if pricing
        sees them otherwise.
        """
        basket = self._baskets.cached(basket_id)
        if (
            basket is None
            or basket.device_id != who.device_id
            or basket.status != "open"
            or not basket.lines
            or any(p.kind in _DRAFTED_IN for p in payments)
            or (not basket.member_id and any(p.kind in MEMBER_TENDERS for p in payments))
        ):
            return None
        member = None
        if basket.member_id:
            last = self._baskets.last_pricing(basket)
            if last is None:
                return None
            member = last.member
        promotions = self._baskets.promotion_set()
        try:
            return self._draft(
                who,
                sale_id,
                basket,
                promotions,
                member,
                self._priced(basket, promotions, member, now),
                payments,
                now=now,
                day=self._shifts.today(),
                currencies={},
            )
        except DomainError:
            return None

    def _priced(
        self,
        basket: StoredBasket,
        promotions: PromotionSet,
        member: MemberContext | None,
        now: datetime,
    ) -> PricedBasket:
        """The basket priced at `now`: the last scan's pricing when it provably holds.

        It holds when it priced this very basket version with the promotions in
        force now and the same member context, and no promotion's schedule
        turned on or off since.
        """
        last = self._baskets.last_pricing(basket)
        if (
            last is not None
            and last.promotions is promotions
            and last.member == member
            and promotions.edges.unchanged(last.at, now)
        ):
            return last.priced
        return self._baskets.price(basket, member=member, at=now, promotions=promotions)

    def _draft(
        self,
        who: Principal,
        sale_id: str,
        basket: StoredBasket,
        promotions: PromotionSet,
        member: MemberContext | None,
        priced: PricedBasket,
        payments: list[PaymentInput],
        *,
        now: datetime,
        day: str,
        currencies: dict[str, Currency],
    ) -> _Draft:
        """Tender, lines and receipt (all but its number) of a priced basket."""
        tender = settle(
            priced.total_fen, payments, rounding=self._cfg.cash_rounding, currencies=currencies
        )
        shares = allocate(tender.rounding_fen, [p.net_amount_fen for p in priced.lines])
        lines, line_rows, paid_fen = [], [], []
        for no, (line, p, share) in enumerate(
            zip(basket.lines, priced.lines, shares, strict=True), start=1
        ):
            paid_fen.append(p.net_amount_fen + share)
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
                (
                    sale_id,
                    no,
                    line.product_id,
                    line.quantity_milli,
                    line.pack_factor,
                    p.base_amount_fen,
                    p.net_amount_fen,
                    paid_fen[-1],
                    line.tax_rate_bp,
                    line.gift,
                )
            )
        receipt = Receipt(
            kind="sale",
            store_id=self._cfg.store_id,
            store_name=self._cfg.store_name,
            receipt_no="",
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
        )
        payment_rows = [
            (
                sale_id,
                i,
                p.kind.value,
                p.tendered_fen,
                p.applied_fen,
                p.currency,
                p.foreign_amount_minor,
                p.rate_micro,
                p.reference,
            )
            for i, p in enumerate(tender.payments, start=1)
        ]
        # A case of 24 takes 24 units off the shelf.
        stock = stock_repo.move_rows(
            [(line.product_id, -line.quantity_milli * line.pack_factor) for line in basket.lines],
            kind="sale",
            source_id=sale_id,
            at=now,
        )
        receipt_json = receipt.json_around_number()
        return _Draft(
            basket,
            promotions,
            member,
            day,
            priced,
            tender,
            receipt,
            paid_fen,
            line_rows,
            payment_rows,
            stock,
            fast.db_value(now),
            receipt_json,
        )

    def _commit_in(
        self,
        uow: UnitOfWork,
        who: Principal,
        sale_id: str,
        basket_id: str,
        payments: list[PaymentInput],
        draft: _Draft | None,
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
        # The member as this transaction reads them: what pricing sees of them
        # may have changed since the scan (a tier, a discount card, written by
        # this process or another).
        member_row = records.require(conn, basket.member_id) if basket.member_id else None
        member_context = self._member_context(member_row, basket)
        # The draft stands if it was made from this very basket version (the
        # in-memory basket is replaced on every edit, inside the edit's
        # transaction), for this business day, with the promotions in force
        # and the member as read here.
        if (
            draft is None
            or draft.basket is not basket
            or draft.day != day
            or draft.promotions is not self._baskets.promotion_set()
            or draft.member != member_context
        ):
            draft = self._draft_in(
                uow, who, sale_id, basket, member_context, payments, now=now, day=day
            )
        member = None
        if member_row is not None:
            member = sale_effects.apply_sale(
                uow,
                self._cfg,
                sale_id=sale_id,
                member=member_row,
                coupon_ids=[cid for cid, _ in basket.coupons],
                tender=draft.tender,
                lines=[
                    sale_effects.SaleLineFacts(line.category, paid, line.gift)
                    for line, paid in zip(basket.lines, draft.paid_fen, strict=True)
                ],
                today=now.astimezone(self._cfg.zone).date(),
            )
            if self._members is not None:
                uow.after_commit(lambda: self._members.forget(basket.member_id))
        seq = uow.next_value(f"receipt:{self._cfg.store_id}:{day}")
        receipt_no = receipt_number(self._cfg.store_id, date.fromisoformat(day), seq)
        receipt = replace(draft.receipt, receipt_no=receipt_no, member=member)
        head, tail = draft.receipt_json
        receipt_json = head + json_string(receipt_no) + tail
        if member is not None:
            receipt_json = with_member_json(receipt_json, member)
        change = receipt_payload(receipt_json, shift_id=shift_id)
        priced, tender = draft.priced, draft.tender
        raw = conn.connection.driver_connection
        raw.execute(
            _INSERT_SALE,
            (
                sale_id,
                receipt_no,
                self._cfg.store_id,
                day,
                shift_id,
                who.device_id,
                who.operator_id,
                basket_id,
                basket.member_id,
                priced.subtotal_fen,
                priced.discount_fen,
                tender.rounding_fen,
                tender.payable_fen,
                tender.change_fen,
                draft.created_at,
                receipt_json,
            ),
        )
        fast.insert_values(raw, _INSERT_LINE, draft.line_rows)
        fast.insert_values(raw, _INSERT_PAYMENT, draft.payment_rows)
        stock_repo.write_moves(conn, draft.stock)
        raw.execute(_BASKET_DONE, (sale_id, basket_id))
        self._baskets.forget(basket_id)  # reloaded from the database if this rolls back
        uow.audit(
            "sale.commit",
            receipt_no,
            detail={
                "sale_id": sale_id,
                "total_fen": tender.payable_fen,
                "lines": len(basket.lines),
                "change_fen": tender.change_fen,
            },
        )
        uow.change_encoded("sale", sale_id, change)
        return receipt, True

    def _member_context(
        self, member: records.MemberRow | None, basket: StoredBasket
    ) -> MemberContext | None:
        if member is None or self._members is None:
            return None  # no member book: the basket is priced without one, as on a scan
        return self._members.context_of(member, basket.coupons)

    def _draft_in(
        self,
        uow: UnitOfWork,
        who: Principal,
        sale_id: str,
        basket: StoredBasket,
        member: MemberContext | None,
        payments: list[PaymentInput],
        *,
        now: datetime,
        day: str,
    ) -> _Draft:
        """The draft worked out inside the transaction, from what it reads."""
        conn = uow.conn
        promotions = self._baskets.promotion_set()
        priced = self._priced(basket, promotions, member, now)
        if basket.member_id or any(p.kind in MEMBER_TENDERS for p in payments):
            today = now.astimezone(self._cfg.zone).date()  # the calendar date, for members
            payments = sale_effects.price_count_cards(
                conn, basket.member_id, basket.lines, priced, payments, today
            )
        currencies = {code: Currency(code, rate) for code, rate in fast.execute(conn, _CURRENCIES)}
        return self._draft(
            who,
            sale_id,
            basket,
            promotions,
            member,
            priced,
            payments,
            now=now,
            day=day,
            currencies=currencies,
        )

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
