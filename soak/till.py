"""A simulated till: a cashier serving customers at a human pace, and the
till's own record of every sale and return the server acknowledged.

Per customer: maybe a member card, 1-30 scans 0.3-1.5 s apart (unit barcodes,
cases, scale labels, a PLU typed with its weight, now and then a multiple or
a mistyped code), voids and quantity changes, sometimes a hold while an
express customer goes first, sometimes a back-out of the total or an
abandoned basket; then the tender (cash, card, mobile; a member's stored
value or points) and the commit, once in a while sent twice as a till that
lost the answer does. After some sales, a customer returns part of an
earlier one.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field

import grpc

from soak.calls import CallRecorder, ScenarioError
from soak.store_setup import CASHIER_PIN, SoakStore
from store_server.domain.barcodes import ean_check_digit
from tillpoint.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    common_pb2,
    members_pb2,
    sales_pb2,
    sales_pb2_grpc,
)

log = logging.getLogger(__name__)

NOT_FOUND = frozenset({grpc.StatusCode.NOT_FOUND})
MEMBER_SHARE = 0.30
HOLD_SHARE = 0.04
ABANDON_SHARE = 0.02
BACKOUT_SHARE = 0.04
REPLAY_SHARE = 0.02
RETURN_SHARE = 0.05
VOID_SHARE = 0.03
SET_QUANTITY_SHARE = 0.02
MISTYPE_SHARE = 0.01


def new_id() -> str:
    return str(uuid.uuid4())


def money(fen: int) -> common_pb2.Money:
    return common_pb2.Money(fen=fen)


def pay(kind: int, fen: int, reference: str = "") -> sales_pb2.Payment:
    return sales_pb2.Payment(kind=kind, amount=money(fen), reference=reference)


@dataclass
class AckedSale:
    sale_id: str
    receipt_no: str
    total_fen: int
    at: float  # seconds into the soak when the till got the answer
    # line_no -> [quantity in scan units, returned so far, weighed]
    lines: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class TillRecord:
    """What this till saw acknowledged: the reconciliation's third party."""

    sales: dict[str, AckedSale] = field(default_factory=dict)
    returns: dict[str, int] = field(default_factory=dict)  # return id -> refund fen
    events: Counter[str] = field(default_factory=Counter)


@dataclass
class _Line:
    line_id: str
    plain_unit: bool  # a unit barcode: its quantity may be changed


class SimulatedTill(threading.Thread):
    def __init__(
        self,
        number: int,
        address: str,
        store: SoakStore,
        recorder: CallRecorder,
        stop: threading.Event,
        seed: int,
    ) -> None:
        super().__init__(name=f"till-{number:02d}", daemon=True)
        self.device = f"soak-till-{number:02d}"
        self.operator = store.cashiers[number - 1]
        self.cards = store.member_cards[number - 1]
        self.store = store
        self.recorder = recorder
        self.stop = stop
        self.rng = random.Random(seed)
        self.record = TillRecord()
        self.channel = grpc.insecure_channel(address)
        self.sales = sales_pb2_grpc.SalesServiceStub(self.channel)
        self.md: list[tuple[str, str]] = []

    # -- plumbing ------------------------------------------------------------

    def _call(self, rpc: str, request: object, expect: frozenset = frozenset()) -> object:
        return self.recorder.call(
            self.device, rpc, getattr(self.sales, rpc), request, metadata=self.md, expect=expect
        )

    def _pause(self, low: float, high: float) -> None:
        self.stop.wait(self.rng.uniform(low, high))

    def login(self) -> None:
        auth = auth_pb2_grpc.AuthServiceStub(self.channel)
        answer = self.recorder.call(
            self.device,
            "Login",
            auth.Login,
            auth_pb2.LoginRequest(
                operator_id=self.operator, pin=CASHIER_PIN, device_id=self.device
            ),
        )
        self.md = [("authorization", f"Bearer {answer.token}"), ("x-device-id", self.device)]
        self._call("OpenShift", sales_pb2.OpenShiftRequest(shift_id=new_id(), float=money(50_000)))

    def run(self) -> None:
        self._pause(0, 3)  # tills do not all open at the same instant
        while not self.stop.is_set():
            try:
                self._customer(allow_hold=True)
            except ScenarioError:
                self.record.events["dropped after an error"] += 1
                self._pause(1, 1)
            except Exception as exc:  # a bug of the simulation itself: count it, keep going
                log.exception("%s: simulation error", self.device)
                self.recorder.error(self.device, "client", type(exc).__name__, str(exc))
                self._pause(1, 1)
            self._pause(0.5, 2.0)  # the next customer steps up
        self.channel.close()

    # -- one customer --------------------------------------------------------

    def _customer(self, *, allow_hold: bool, max_lines: int = 30) -> None:
        basket_id = new_id()
        self._call("CreateBasket", sales_pb2.CreateBasketRequest(basket_id=basket_id))
        member = None
        if self.rng.random() < MEMBER_SHARE:
            basket = self._call(
                "AttachMember",
                sales_pb2.AttachMemberRequest(
                    basket_id=basket_id,
                    member=members_pb2.MemberCredential(card_no=self.rng.choice(self.cards)),
                ),
            )
            member = basket.member
        wanted = min(max_lines, 1 + int(self.rng.expovariate(1 / 9)))
        hold = allow_hold and wanted > 3 and self.rng.random() < HOLD_SHARE
        hold_at = wanted // 2 if hold else -1
        lines: list[_Line] = []
        for n in range(wanted):
            if self.stop.is_set():
                break
            self._pause(0.3, 1.5)
            self._scan(basket_id, lines)
            if n == hold_at:
                self._hold_and_serve_another(basket_id)
        if not lines:
            self._call("ClearBasket", sales_pb2.BasketRef(basket_id=basket_id))
            return
        if self.rng.random() < ABANDON_SHARE and not self.stop.is_set():
            self._call("ClearBasket", sales_pb2.BasketRef(basket_id=basket_id))
            self.record.events["abandoned"] += 1
            return
        basket = self._call("TotalBasket", sales_pb2.BasketRef(basket_id=basket_id))
        if self.rng.random() < BACKOUT_SHARE and not self.stop.is_set():
            self._call("BackOutTotal", sales_pb2.BasketRef(basket_id=basket_id))
            self._scan(basket_id, lines)
            basket = self._call("TotalBasket", sales_pb2.BasketRef(basket_id=basket_id))
            self.record.events["back-outs"] += 1
        self._pause(1.0, 3.0)  # the customer finds the money
        self._commit(basket_id, basket.total.fen, member)
        if self.rng.random() < RETURN_SHARE and not self.stop.is_set():
            self._pause(1.0, 2.0)
            self._return_something()

    def _scan(self, basket_id: str, lines: list[_Line]) -> None:
        rng = self.rng
        if rng.random() < MISTYPE_SHARE:
            # A code that is a valid EAN-13 but not in the catalog: NOT_FOUND, intended.
            body = "699" + f"{rng.randrange(10**9):09d}"
            self._call(
                "AddItem",
                sales_pb2.AddItemRequest(
                    basket_id=basket_id, line_id=new_id(), code=body + ean_check_digit(body)
                ),
                expect=NOT_FOUND,
            )
            self.record.events["mistyped codes"] += 1
            return
        line_id = new_id()
        request = sales_pb2.AddItemRequest(basket_id=basket_id, line_id=line_id)
        r = rng.random()
        plain_unit = False
        if r < 0.10:
            request.code = self.store.scale_label(
                rng.choice(self.store.weighed_plus), rng.randint(150, 2500)
            )
        elif r < 0.12:
            request.code = rng.choice(self.store.weighed_plus)  # typed PLU ...
            request.quantity_milli = rng.randint(100, 1500)  # ... with the scale's grams
        elif r < 0.20:
            request.code = rng.choice(self.store.case_codes).code
        else:
            request.code = rng.choice(self.store.unit_codes).code
            plain_unit = True
            if rng.random() < 0.08:
                request.quantity_milli = 1000 * rng.randint(2, 6)
        self._call("AddItem", request)
        lines.append(_Line(line_id, plain_unit))
        self.record.events["scans"] += 1
        if len(lines) > 1 and rng.random() < VOID_SHARE:
            victim = lines.pop(rng.randrange(len(lines)))
            self._call("VoidLine", sales_pb2.LineRef(basket_id=basket_id, line_id=victim.line_id))
            self.record.events["voided lines"] += 1
        elif plain_unit and rng.random() < SET_QUANTITY_SHARE:
            self._call(
                "SetQuantity",
                sales_pb2.SetQuantityRequest(
                    basket_id=basket_id, line_id=line_id, quantity_milli=1000 * rng.randint(2, 5)
                ),
            )
            self.record.events["quantity changes"] += 1

    def _hold_and_serve_another(self, basket_id: str) -> None:
        """挂单: park this basket, sell to the customer behind, resume."""
        self._call("HoldBasket", sales_pb2.BasketRef(basket_id=basket_id))
        self.record.events["holds"] += 1
        self._customer(allow_hold=False, max_lines=5)
        held = self._call("ListHeldBaskets", sales_pb2.ListHeldBasketsRequest())
        if basket_id not in {b.basket_id for b in held.baskets}:
            self.recorder.error(self.device, "ListHeldBaskets", "MISSING", basket_id)
            raise ScenarioError("held basket missing")
        self._call("ResumeBasket", sales_pb2.BasketRef(basket_id=basket_id))

    # -- tender and commit ---------------------------------------------------

    def _payments(self, total: int, member: sales_pb2.BasketMember | None) -> list:
        rng = self.rng
        r = rng.random()
        if member is not None and member.member_id:
            balance = member.stored_value.fen
            if r < 0.35:
                if balance >= total:
                    self.record.events["paid by stored value"] += 1
                    return [pay(sales_pb2.TENDER_KIND_STORED_VALUE, total)]
                if balance > 100 and total > 200:
                    # Part by stored value, the rest in cash: cash rounding (抹零) may take
                    # up to 99 fen off the amount due, so leave at least a yuan to cash.
                    part = min(balance, total - 100)
                    self.record.events["paid by stored value"] += 1
                    return [pay(sales_pb2.TENDER_KIND_STORED_VALUE, part), self._cash(total - part)]
            elif r < 0.50 and member.points >= 100:
                points = min(member.points, total // 2) // 100 * 100  # whole yuan of points
                if points >= 100:
                    self.record.events["paid by points"] += 1
                    return [
                        pay(sales_pb2.TENDER_KIND_POINTS, points),
                        pay(sales_pb2.TENDER_KIND_MOBILE, total - points, f"M{new_id()[:12]}"),
                    ]
        r = rng.random()
        if r < 0.55:
            return [self._cash(total)]
        if r < 0.85:
            return [pay(sales_pb2.TENDER_KIND_MOBILE, total, f"M{new_id()[:12]}")]
        return [pay(sales_pb2.TENDER_KIND_BANK_CARD, total, f"C{rng.randrange(10**6):06d}")]

    def _cash(self, due: int) -> sales_pb2.Payment:
        """Exact money, or the next 10 or 100 yuan note up."""
        note = self.rng.choice((0, 1000, 10_000))
        tendered = due if note == 0 else -(-due // note) * note
        return pay(sales_pb2.TENDER_KIND_CASH, tendered)

    def _commit(
        self, basket_id: str, total: int, member: sales_pb2.BasketMember | None
    ) -> sales_pb2.Sale:
        sale_id = new_id()
        request = sales_pb2.CommitSaleRequest(
            sale_id=sale_id, basket_id=basket_id, payments=self._payments(total, member)
        )
        sale = self._call("CommitSale", request)
        acked = AckedSale(sale_id, sale.receipt_no, sale.total.fen, self.recorder.now())
        for line in sale.receipt.lines:
            acked.lines[line.line_no] = [line.quantity.milli, 0, int(line.unit == "kg")]
        self.record.sales[sale_id] = acked
        self.record.events["sales"] += 1
        if member is not None and member.member_id:
            self.record.events["member sales"] += 1
        if self.rng.random() < REPLAY_SHARE:
            # The answer "got lost": the till sends the same sale id again.
            again = self._call("CommitSale", request)
            self.record.events["replayed commits"] += 1
            if again.receipt_no != sale.receipt_no or again.total.fen != sale.total.fen:
                self.recorder.error(
                    self.device,
                    "CommitSale",
                    "REPLAY_MISMATCH",
                    f"{sale_id}: {sale.receipt_no} then {again.receipt_no}",
                )
        return sale

    def _return_something(self) -> None:
        """退货 with the receipt: one unit of a line of a recent sale (a weighed line whole)."""
        recent = list(self.record.sales.values())[-50:]
        self.rng.shuffle(recent)
        for sale in recent:
            for line_no, (quantity, returned, weighed) in sale.lines.items():
                left = quantity - returned
                step = left if weighed else 1000
                if left <= 0 or left < step:
                    continue
                answer = self._call(
                    "ReturnItems",
                    sales_pb2.ReturnRequest(
                        return_id=(return_id := new_id()),
                        receipt_no=sale.receipt_no,
                        lines=[
                            sales_pb2.ReturnLineRequest(
                                line_no=line_no, quantity=common_pb2.Quantity(milli=step)
                            )
                        ],
                        reason="顾客退货",
                    ),
                )
                sale.lines[line_no][1] += step
                self.record.returns[return_id] = answer.refund.fen
                self.record.events["returns"] += 1
                return
