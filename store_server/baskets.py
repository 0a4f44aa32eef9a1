"""Baskets held by the server, one open per till, several held (挂单).

Each call names the basket; a basket of another till is NOT_FOUND, as if it
did not exist. Adding a line is idempotent on the till's line id, so a till
that lost the answer to a scan can send it again without selling twice.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection

from store_server.auth import Principal
from store_server.clock import Clock
from store_server.config import Config
from store_server.db import basket_repo, catalog_repo
from store_server.db.basket_repo import StoredBasket, StoredLine
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, UnitOfWork, unit_of_work
from store_server.domain import catalog as catalog_rules
from store_server.domain.barcodes import (
    ValueKind,
    is_gtin,
    normalize_code,
    parse_scale_label,
    validate_gtin,
)
from store_server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from store_server.domain.ids import check_uuid
from store_server.domain.money import MILLI, check_fen
from store_server.domain.pricing import LineInput, MemberContext, PricedBasket, price_basket
from store_server.domain.promotions.catalog_index import PromotionSet
from store_server.domain.tender import rounding_adjustment
from store_server.members import coupons as member_coupons
from store_server.members.book import MemberBook, MemberBrief
from store_server.prices import PriceScheduler
from store_server.promotions import PromotionBook

# A till line of more than 1,000 units (or 1,000 kg) is a typing error.
MAX_QUANTITY_MILLI = 1_000_000
MAX_LINES = 500


@dataclass(frozen=True, slots=True)
class BasketView:
    basket: StoredBasket
    priced: PricedBasket
    member: MemberBrief | None = None
    # The total when paid (partly) in cash: after 抹零, so a till shows the
    # change the server will give.
    cash_total_fen: int | None = None


def line_input(line: StoredLine) -> LineInput:
    """What pricing needs of one stored line."""
    return LineInput(
        line_id=line.line_id,
        product_id=line.product_id,
        quantity_milli=line.quantity_milli,
        unit_price_fen=line.unit_price_fen,
        member_unit_price_fen=line.member_unit_price_fen,
        fixed_amount_fen=line.fixed_amount_fen,
        override_unit_price_fen=line.override_unit_price_fen,
        gift=line.gift,
        tax_rate_bp=line.tax_rate_bp,
        category=line.category,
        weighed=line.weighed,
        pack_factor=line.pack_factor,
    )


# id(StoredLine) -> (the line, its LineInput). A basket kept in memory keeps
# its line objects from scan to scan, so a scan converts only its new line
# (a frozen 12-field dataclass costs ~5 µs to build; 30 of them per scan
# were a tenth of the scan). The entry holds the line, so the id cannot be
# reused while it lives, and `is` proves the entry is this line's.
_INPUT_MEMO_MAX = 50_000


class _InputMemo:
    def __init__(self) -> None:
        self._memo: dict[int, tuple[StoredLine, LineInput]] = {}

    def __call__(self, lines: tuple[StoredLine, ...]) -> list[LineInput]:
        memo = self._memo
        out = []
        for line in lines:
            found = memo.get(id(line))
            if found is None or found[0] is not line:
                if len(memo) >= _INPUT_MEMO_MAX:
                    memo.clear()  # rare: dropping all is cheaper than tracking use
                found = memo[id(line)] = (line, line_input(line))
            out.append(found[1])
        return out


_LAST_PRICED_MAX = 1_000
_NO_PROMOTIONS = PromotionSet(())  # a store server without a promotion book (tests)


@dataclass(frozen=True, slots=True)
class LastPricing:
    """A basket version (the StoredBasket object: every edit makes a new one)
    as priced at `at` with `promotions` and `member` (its pricing context)."""

    basket: StoredBasket
    promotions: PromotionSet
    at: datetime
    priced: PricedBasket
    member: MemberContext | None


def check_quantity(quantity_milli: int, *, weighed: bool, field: str = "quantity_milli") -> int:
    if quantity_milli <= 0:
        raise InvalidArgument(field, "must be more than zero")
    if quantity_milli > MAX_QUANTITY_MILLI:
        raise InvalidArgument(field, "more than 1,000 units on one line")
    if not weighed and quantity_milli % MILLI:
        raise InvalidArgument(field, "this product is sold in whole units (multiples of 1000)")
    return quantity_milli


class Baskets:
    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        prices: PriceScheduler,
        promotions: PromotionBook | None = None,
        members: MemberBook | None = None,
    ) -> None:
        self._promotions = promotions
        self._members = members
        self._db = db
        self._cfg = config
        self._clock = clock
        self._prices = prices
        # Open and held baskets, as committed. The database stays the truth;
        # this process is its only writer, so the copy is set inside each
        # write transaction (while the writer is held) and dropped if that
        # transaction does not commit. It saves a two-query read per scan.
        self._cache: dict[str, StoredBasket] = {}
        self._cache_lock = threading.Lock()
        self._line_inputs = _InputMemo()
        # The last pricing of each basket, for its commit: store_server.checkout
        # reuses it when it provably still holds.
        self._last_priced: dict[str, LastPricing] = {}

    # -- reading -------------------------------------------------------------

    def view(self, stored: StoredBasket) -> BasketView:
        """The basket priced now, with its member as remembered (a commit reads
        the member again in its transaction: store_server.checkout)."""
        member = brief = None
        if stored.member_id and self._members is not None:
            member, brief = self._members.for_basket(stored.member_id, stored.coupons)
        at = self._clock.now()
        promotions = self.promotion_set()
        priced = self.price(stored, member=member, at=at, promotions=promotions)
        self._remember_pricing(LastPricing(stored, promotions, at, priced, member))
        cash_total = priced.total_fen + rounding_adjustment(
            priced.total_fen, self._cfg.cash_rounding
        )
        return BasketView(stored, priced, brief, cash_total)

    def price(
        self,
        stored: StoredBasket,
        *,
        member: MemberContext | None,
        at: datetime,
        promotions: PromotionSet,
    ) -> PricedBasket:
        """The basket's lines priced (each line's LineInput kept between scans)."""
        return price_basket(
            self._line_inputs(stored.lines),
            member=member,
            store_id=self._cfg.store_id,
            at=at,
            promotions=promotions,
        )

    def get(self, who: Principal, basket_id: str) -> BasketView:
        with self._db.read() as conn:
            return self.view(self.own(conn, who, basket_id, writing=False))

    def list_held(self, who: Principal) -> list[BasketView]:
        with self._db.read() as conn:
            ids = basket_repo.held_for_device(conn, who.device_id)
            return [self.view(self.own(conn, who, bid, writing=False)) for bid in ids]

    # -- writing -------------------------------------------------------------

    def create(self, who: Principal, basket_id: str) -> BasketView:
        basket_id = check_uuid(basket_id, "basket_id")
        with self._uow(who) as uow:
            existing = basket_repo.load(uow.conn, basket_id)
            if existing is None:
                basket_repo.create(
                    uow.conn,
                    basket_id=basket_id,
                    device_id=who.device_id,
                    operator_id=who.operator_id,
                    now=uow.now,
                )
            elif existing.device_id != who.device_id:
                raise InvalidArgument("basket_id", "already used by another till")
            return self.view(self._reload(uow, who, basket_id))

    def add_item(
        self,
        who: Principal,
        basket_id: str,
        line_id: str,
        *,
        code: str,
        product_id: int,
        quantity_milli: int,
    ) -> BasketView:
        line_id = check_uuid(line_id, "line_id")
        if quantity_milli < 0:
            raise InvalidArgument("quantity_milli", "must not be negative")
        if bool(code) == bool(product_id):
            raise InvalidArgument("code", "give either a code or a product id")
        if product_id < 0:
            raise InvalidArgument("product_id", "must not be negative")
        self._prices.ensure_current(self._clock.now())
        with self._uow(who) as uow:
            basket = self._own(uow.conn, who, basket_id)
            if any(line.line_id == line_id for line in basket.lines):
                return self.view(basket)  # a replay: the line is there already
            self._check_scanning(basket)
            if len(basket.lines) >= MAX_LINES:
                raise FailedPrecondition(f"a basket holds at most {MAX_LINES} lines")
            values = self._resolve(
                uow, code=code, product_id=product_id, quantity_milli=quantity_milli
            )
            product = values.pop("product")
            seq = max((line.seq for line in basket.lines), default=0) + 1
            try:
                basket_repo.add_line(uow.conn, basket.basket_id, seq, line_id=line_id, **values)
            except sqlite3.IntegrityError:  # a plain DB-API insert (db.fast)
                # The id is taken: a voided line of this basket, or another basket's.
                owner = basket_repo.line_owner(uow.conn, line_id)
                if owner is not None and owner[0] == basket.basket_id:
                    return self.view(basket)
                raise InvalidArgument("line_id", "already used in another basket") from None
            # The new basket is the loaded one plus this line: no second read.
            line = StoredLine(
                line_id=line_id,
                seq=seq,
                product_id=product.id,
                sku=product.sku,
                name=product.name,
                unit=product.unit,
                weighed=product.weighed,
                tax_rate_bp=product.tax_rate_bp,
                code=values["code"],
                pack_factor=values["pack_factor"],
                quantity_milli=values["quantity_milli"],
                unit_price_fen=values["unit_price_fen"],
                member_unit_price_fen=values["member_unit_price_fen"],
                fixed_amount_fen=values["fixed_amount_fen"],
                override_unit_price_fen=None,
                override_by=None,
                gift=False,
                category=product.category,
            )
            return self.view(self._store(uow, replace(basket, lines=(*basket.lines, line))))

    def set_quantity(
        self, who: Principal, basket_id: str, line_id: str, quantity_milli: int
    ) -> BasketView:
        with self._uow(who) as uow:
            basket = self._own(uow.conn, who, basket_id)
            self._check_scanning(basket)
            line = self._line(basket, line_id)
            if line.fixed_amount_fen is not None:
                raise FailedPrecondition("a scale label's weight cannot be changed: scan again")
            check_quantity(quantity_milli, weighed=line.weighed)
            basket_repo.update_line(uow.conn, line.line_id, quantity_milli=quantity_milli)
            return self.view(self._reload(uow, who, basket_id))

    def void_line(self, who: Principal, basket_id: str, line_id: str) -> BasketView:
        with self._uow(who) as uow:
            basket = self._own(uow.conn, who, basket_id)
            self._check_scanning(basket)
            line = self._line(basket, line_id)
            basket_repo.update_line(uow.conn, line.line_id, voided=True)
            uow.audit(
                "basket.void_line",
                f"line:{line.line_id}",
                detail={
                    "basket_id": basket.basket_id,
                    "sku": line.sku,
                    "quantity_milli": line.quantity_milli,
                },
            )
            return self.view(self._reload(uow, who, basket_id))

    def clear(self, who: Principal, basket_id: str) -> BasketView:
        with self._uow(who) as uow:
            basket = self._own(uow.conn, who, basket_id)
            self._check_open(basket)
            basket_repo.void_all_lines(uow.conn, basket.basket_id)
            basket_repo.update_basket(uow.conn, basket.basket_id, status="cleared", totalled=False)
            uow.audit(
                "basket.clear", f"basket:{basket.basket_id}", detail={"lines": len(basket.lines)}
            )
            return self.view(self._reload(uow, who, basket_id))

    def set_totalled(self, who: Principal, basket_id: str, totalled: bool) -> BasketView:
        with self._uow(who) as uow:
            basket = self._own(uow.conn, who, basket_id)
            self._check_open(basket)
            if totalled and not basket.lines:
                raise FailedPrecondition("the basket is empty", reason="EMPTY_BASKET")
            basket_repo.update_basket(uow.conn, basket.basket_id, totalled=totalled)
            return self.view(self._reload(uow, who, basket_id))

    def hold(self, who: Principal, basket_id: str) -> BasketView:
        with self._uow(who) as uow:
            basket = self._own(uow.conn, who, basket_id)
            if basket.status == "held":
                return self.view(basket)
            self._check_open(basket)
            if not basket.lines:
                raise FailedPrecondition("an empty basket cannot be held", reason="EMPTY_BASKET")
            basket_repo.update_basket(
                uow.conn, basket.basket_id, status="held", totalled=False, held_at=uow.now
            )
            return self.view(self._reload(uow, who, basket_id))

    def resume(self, who: Principal, basket_id: str) -> BasketView:
        with self._uow(who) as uow:
            basket = self._own(uow.conn, who, basket_id)
            if basket.status == "open":
                return self.view(basket)
            if basket.status != "held":
                raise FailedPrecondition(f"the basket is {basket.status}, not held")
            basket_repo.update_basket(uow.conn, basket.basket_id, status="open", held_at=None)
            return self.view(self._reload(uow, who, basket_id))

    def gift(
        self, who: Principal, basket_id: str, line_id: str, approver: Principal | None
    ) -> BasketView:
        with self._uow(who) as uow:
            basket = self._own(uow.conn, who, basket_id)
            self._check_scanning(basket)
            line = self._line(basket, line_id)
            basket_repo.update_line(
                uow.conn, line.line_id, gift=True, override_by=(approver or who).operator_id
            )
            return self.view(self._reload(uow, who, basket_id))

    def override_price(
        self,
        who: Principal,
        basket_id: str,
        line_id: str,
        unit_price_fen: int,
        approver: Principal | None,
    ) -> BasketView:
        check_fen(unit_price_fen, field="unit_price")
        with self._uow(who) as uow:
            basket = self._own(uow.conn, who, basket_id)
            self._check_scanning(basket)
            line = self._line(basket, line_id)
            if line.fixed_amount_fen is not None:
                raise FailedPrecondition("a price-embedded scale label cannot be repriced")
            basket_repo.update_line(
                uow.conn,
                line.line_id,
                override_unit_price_fen=unit_price_fen,
                override_by=(approver or who).operator_id,
            )
            return self.view(self._reload(uow, who, basket_id))

    def attach_member(self, who: Principal, basket_id: str, member_id: str) -> BasketView:
        """The member (already authenticated by the caller) on the basket; replaces another."""
        with self._uow(who) as uow:
            basket = self._own(uow.conn, who, basket_id)
            self._check_open(basket)
            if basket.member_id != member_id:
                basket_repo.remove_coupons(uow.conn, basket.basket_id)
                basket_repo.update_basket(uow.conn, basket.basket_id, member_id=member_id)
                uow.audit(
                    "basket.attach_member",
                    f"basket:{basket.basket_id}",
                    detail={"member_id": member_id},
                )
            return self.view(self._reload(uow, who, basket_id))

    def detach_member(self, who: Principal, basket_id: str) -> BasketView:
        with self._uow(who) as uow:
            basket = self._own(uow.conn, who, basket_id)
            self._check_open(basket)
            basket_repo.remove_coupons(uow.conn, basket.basket_id)
            basket_repo.update_basket(uow.conn, basket.basket_id, member_id=None)
            return self.view(self._reload(uow, who, basket_id))

    def apply_coupon(self, who: Principal, basket_id: str, coupon_id: str) -> BasketView:
        today = self._clock.now().astimezone(self._cfg.zone).date()
        with self._uow(who) as uow:
            basket = self._own(uow.conn, who, basket_id)
            self._check_open(basket)
            if basket.member_id is None:
                raise FailedPrecondition("attach the member first", reason="NO_MEMBER")
            member_coupons.usable(uow.conn, coupon_id, basket.member_id, today)
            basket_repo.add_coupon(uow.conn, basket.basket_id, coupon_id)
            return self.view(self._reload(uow, who, basket_id))

    def remove_coupon(self, who: Principal, basket_id: str, coupon_id: str) -> BasketView:
        with self._uow(who) as uow:
            basket = self._own(uow.conn, who, basket_id)
            self._check_open(basket)
            basket_repo.remove_coupons(uow.conn, basket.basket_id, coupon_id)
            return self.view(self._reload(uow, who, basket_id))

    # -- helpers -------------------------------------------------------------

    def _uow(self, who: Principal) -> AbstractContextManager[UnitOfWork]:
        # Basket edits are transient and re-sent by id: no fsync per scan.
        return unit_of_work(
            self._db, Actor(who.operator_id, who.device_id), self._clock.now(), durable=False
        )

    def own(
        self, conn: Connection, who: Principal, basket_id: str, *, writing: bool = True
    ) -> StoredBasket:
        """The caller's basket (from memory when it is there); another till's is NOT_FOUND.

        Only callers inside a write transaction (holding the one writer) may
        fill the memory copy: a reader's snapshot could be older than a write
        that lands while it reads.
        """
        # The memory copy is keyed by canonical ids: a hit proves the id's form.
        basket = self.cached(basket_id)
        if basket is None:
            basket_id = check_uuid(basket_id, "basket_id")
            basket = self.cached(basket_id)
        if basket is None:
            basket = basket_repo.load(conn, basket_id)
            if writing and basket is not None and basket.status in ("open", "held"):
                with self._cache_lock:
                    self._cache[basket_id] = basket
        # Another till's basket is answered exactly like a missing one.
        if basket is None or basket.device_id != who.device_id:
            raise NotFound(f"no basket {basket_id} on this till", reason="UNKNOWN_BASKET")
        return basket

    _own = own

    def _reload(self, uow: UnitOfWork, who: Principal, basket_id: str) -> StoredBasket:
        """Read back what this transaction wrote, and remember it."""
        basket = basket_repo.load(uow.conn, check_uuid(basket_id, "basket_id"))
        assert basket is not None and basket.device_id == who.device_id
        return self._store(uow, basket)

    def _store(self, uow: UnitOfWork, basket: StoredBasket) -> StoredBasket:
        with self._cache_lock:
            if basket.status in ("open", "held"):
                self._cache[basket.basket_id] = basket
            else:
                self._cache.pop(basket.basket_id, None)
        uow.on_rollback(lambda: self.forget(basket.basket_id))
        return basket

    def forget(self, basket_id: str) -> None:
        """Drop the in-memory copy (the basket was committed, or a write rolled back)."""
        with self._cache_lock:
            self._cache.pop(basket_id, None)
            self._last_priced.pop(basket_id, None)

    # -- for the commit (store_server.checkout) --------------------------------

    def promotion_set(self) -> PromotionSet:
        """The promotions pricing uses now."""
        return self._promotions.current() if self._promotions else _NO_PROMOTIONS

    def cached(self, basket_id: str) -> StoredBasket | None:
        """The in-memory copy of a basket, if there is one (no database read)."""
        with self._cache_lock:
            return self._cache.get(basket_id)

    def last_pricing(self, stored: StoredBasket) -> LastPricing | None:
        """The last pricing of exactly this basket version, if kept."""
        with self._cache_lock:
            found = self._last_priced.get(stored.basket_id)
        return found if found is not None and found.basket is stored else None

    def _remember_pricing(self, pricing: LastPricing) -> None:
        with self._cache_lock:
            if len(self._last_priced) >= _LAST_PRICED_MAX:
                self._last_priced.clear()  # abandoned baskets: rare, and only a cache
            self._last_priced[pricing.basket.basket_id] = pricing

    @staticmethod
    def _check_open(basket: StoredBasket) -> None:
        if basket.status != "open":
            raise FailedPrecondition(f"the basket is {basket.status}", reason="BASKET_NOT_OPEN")

    def _check_scanning(self, basket: StoredBasket) -> None:
        self._check_open(basket)
        if basket.totalled:
            raise FailedPrecondition(
                "the basket is totalled: back out of the total first", reason="BASKET_TOTALLED"
            )

    @staticmethod
    def _line(basket: StoredBasket, line_id: str) -> StoredLine:
        for line in basket.lines:
            if line.line_id == line_id:
                return line
        raise NotFound(f"no line {line_id} in this basket", reason="UNKNOWN_LINE")

    def _resolve(
        self, uow: UnitOfWork, *, code: str, product_id: int, quantity_milli: int
    ) -> dict[str, object]:
        """What one AddItem puts on the line: product, pack, price, quantity."""
        store = self._cfg.store_id
        conn = uow.conn
        label = None
        if code:
            code = normalize_code(code)
            label = parse_scale_label(code, self._cfg.scale_layouts)
        if label is not None:
            product = catalog_repo.find_by_plu(conn, store, label.plu)
            if product is None:
                raise NotFound(
                    f"scale label {code}: no product with PLU {label.plu}", reason="UNKNOWN_PLU"
                )
            if quantity_milli:
                raise InvalidArgument("quantity_milli", "a scale label carries its own weight")
            scan = catalog_rules.price_scale_label(product, code, label)
            fixed = scan.amount_fen if label.value_kind is ValueKind.PRICE else None
            return self._values(
                product, code, 1, scan.quantity_milli, product.retail_price_fen, fixed
            )
        if code and code.isdigit() and len(code) <= 5:
            product = catalog_repo.find_by_plu(conn, store, code)
            if product is None:
                raise NotFound(f"no product with PLU {code}", reason="UNKNOWN_PLU")
            return self._plain(product, code, quantity_milli)
        if code:
            if is_gtin(code):
                validate_gtin(code)
            found = catalog_repo.scan_barcode(conn, store, code)
            if found is None:
                raise NotFound(f"unknown barcode {code}", reason="UNKNOWN_BARCODE")
            product, barcode = found
            if barcode.pack_factor == 1:
                return self._plain(product, code, quantity_milli)
            scan = catalog_rules.price_barcode(product, barcode)
            quantity = check_quantity(quantity_milli or MILLI, weighed=False)
            return self._values(product, code, barcode.pack_factor, quantity, scan.amount_fen, None)
        product = catalog_repo.get_product(conn, store, product_id=product_id)
        if product is None:
            raise NotFound(f"no product {product_id}", reason="UNKNOWN_PRODUCT")
        return self._plain(product, product.sku, quantity_milli)

    def _plain(
        self, product: catalog_rules.ProductInfo, code: str, quantity_milli: int
    ) -> dict[str, object]:
        if product.weighed and not quantity_milli:
            raise InvalidArgument(
                "quantity_milli", f"{product.name} is sold by weight: give the weight in grams"
            )
        quantity = check_quantity(quantity_milli or MILLI, weighed=product.weighed)
        return self._values(product, code, 1, quantity, product.retail_price_fen, None)

    @staticmethod
    def _values(
        product: catalog_rules.ProductInfo,
        code: str,
        pack: int,
        quantity: int,
        unit_price: int,
        fixed: int | None,
    ) -> dict[str, object]:
        if not product.active:
            raise FailedPrecondition(f"{product.name} is no longer sold", reason="INACTIVE")
        return {
            "product_id": product.id,
            "code": code,
            "pack_factor": pack,
            "quantity_milli": quantity,
            "unit_price_fen": unit_price,
            "member_unit_price_fen": product.member_price_fen if pack == 1 else None,
            "fixed_amount_fen": fixed,
            "product": product,  # for the caller; not a column
        }
