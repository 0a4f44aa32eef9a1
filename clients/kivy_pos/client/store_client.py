"""The till's connection to its store server: one place for deadlines, retries and errors.

No Kivy here. Every call carries a deadline. A call is sent again after the
server was unreachable or late only when it is idempotent: a read, or a write
the protocol makes idempotent by an id the till generated (basket_id, line_id,
sale_id, shift_id, return_id, movement_id, count_id) or by setting a state outright
(total, back out, hold, resume, set quantity). Login, voids, clears, member
PINs and shift close are sent once: a second try could count a wrong PIN twice
or act on a changed basket.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from clients.kivy_pos.client.errors import OFFLINE_CODES, ServerError, from_rpc_error
from tillpoint.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    members_pb2,
    members_pb2_grpc,
    sales_pb2,
    sales_pb2_grpc,
    stock_pb2,
    stock_pb2_grpc,
)

# Methods that are safe to send again (see the module docstring).
IDEMPOTENT = frozenset(
    {
        "WhoAmI",
        "Lookup",
        "Search",
        "GetProduct",
        "XReport",
        "OpenShift",
        "CashMovement",
        "NoSale",
        "CreateBasket",
        "GetBasket",
        "AddItem",
        "SetQuantity",
        "TotalBasket",
        "BackOutTotal",
        "HoldBasket",
        "ListHeldBaskets",
        "ResumeBasket",
        "CommitSale",
        "GetReceipt",
        "ReturnItems",
        "ListCoupons",
        "ListSessions",
        "SendCounts",
    }
)


@dataclass(frozen=True)
class CallPolicy:
    """Deadline per attempt (seconds) and retries of idempotent calls."""

    deadline: float = 5.0
    attempts: int = 3
    backoff: float = 0.2  # the first pause between attempts; doubled each time


def money(fen: int) -> common_pb2.Money:
    return common_pb2.Money(fen=fen)


def payment(
    kind: int, fen: int = 0, *, reference: str = "", currency: str = "", foreign_minor: int = 0
) -> sales_pb2.Payment:
    """One tender of a sale; kind is a sales_pb2.TENDER_KIND_* value, amounts in fen."""
    return sales_pb2.Payment(
        kind=kind,
        amount=money(fen),
        reference=reference,
        currency=currency,
        foreign_amount_minor=foreign_minor,
    )


class StoreClient:
    """A till's session with the store server: log in once, then sell."""

    def __init__(
        self,
        address: str,
        device_id: str,
        *,
        policy: CallPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        tls_ca: bytes | None = None,
    ) -> None:
        """`tls_ca`: the PEM of the CA (or self-signed certificate) that the store
        server's TLS certificate is checked against; None speaks plaintext."""
        self.address = address
        self.device_id = device_id
        self.policy = policy or CallPolicy()
        self._sleep = sleep
        # Reconnect within a second or two of the server's return (gRPC's default
        # backoff grows to two minutes), so an offline till recovers promptly.
        options = [
            ("grpc.initial_reconnect_backoff_ms", 300),
            ("grpc.min_reconnect_backoff_ms", 300),
            ("grpc.max_reconnect_backoff_ms", 2_000),
        ]
        if tls_ca is None:
            self._channel = grpc.insecure_channel(address, options=options)
        else:
            credentials = grpc.ssl_channel_credentials(root_certificates=tls_ca)
            self._channel = grpc.secure_channel(address, credentials, options=options)
        self._auth = auth_pb2_grpc.AuthServiceStub(self._channel)
        self._sales = sales_pb2_grpc.SalesServiceStub(self._channel)
        self._catalog = catalog_pb2_grpc.CatalogServiceStub(self._channel)
        self._members = members_pb2_grpc.MemberServiceStub(self._channel)
        self._stocktake = stock_pb2_grpc.StocktakeServiceStub(self._channel)
        self._token = ""
        self.operator: auth_pb2.Operator | None = None

    def close(self) -> None:
        self._channel.close()

    def reachable(self, timeout: float) -> bool:
        """True when the server answers within timeout seconds (waiting for a connection).

        Any answer counts, a refusal too: only silence is offline. (A call, not
        channel_ready_future, whose polling thread outlives a closed channel.)
        """
        try:
            self._auth.WhoAmI(
                auth_pb2.WhoAmIRequest(),
                metadata=self._metadata(),
                timeout=timeout,
                wait_for_ready=True,
            )
        except grpc.RpcError as err:
            return err.code() not in OFFLINE_CODES
        return True

    @property
    def logged_in(self) -> bool:
        return bool(self._token)

    # ---- the one call path -------------------------------------------------

    def _metadata(self) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self._token}"), ("x-device-id", self.device_id)]

    def call(self, stub: Any, method: str, request: Any, *, authenticated: bool = True) -> Any:
        """Send one unary call with a deadline; retry it if idempotent and unanswered.

        Raises ServerError with the server's reason and sentence, or Offline
        when every attempt went unanswered.
        """
        attempts = self.policy.attempts if method in IDEMPOTENT else 1
        pause = self.policy.backoff
        metadata = self._metadata() if authenticated else None
        for attempt in range(1, attempts + 1):
            try:
                return getattr(stub, method)(
                    request, metadata=metadata, timeout=self.policy.deadline
                )
            except grpc.RpcError as err:
                if err.code() not in OFFLINE_CODES or attempt == attempts:
                    raise from_rpc_error(err, method) from None
            self._sleep(pause)
            pause *= 2
        raise AssertionError("unreachable")

    def _sale(self, method: str, request: Any) -> Any:
        return self.call(self._sales, method, request)

    # ---- operators ---------------------------------------------------------

    def login(self, operator_id: str, pin: str) -> auth_pb2.Operator:
        """Log in on this device; later calls carry the token."""
        resp = self.call(
            self._auth,
            "Login",
            auth_pb2.LoginRequest(operator_id=operator_id, pin=pin, device_id=self.device_id),
            authenticated=False,
        )
        self._token = resp.token
        self.operator = resp.operator
        return resp.operator

    def logout(self) -> None:
        if self._token:
            try:
                self.call(self._auth, "Logout", auth_pb2.LogoutRequest())
            finally:
                self._token = ""
                self.operator = None

    # ---- shifts ------------------------------------------------------------

    def x_report(self) -> sales_pb2.ShiftReport:
        return self._sale("XReport", sales_pb2.ShiftReportRequest())

    def current_shift(self) -> sales_pb2.Shift | None:
        """This till's open shift, or None when a shift must be opened first."""
        try:
            return self.x_report().shift
        except ServerError as err:
            if err.reason == "NO_SHIFT":
                return None
            raise

    def open_shift(self, shift_id: str, float_fen: int) -> sales_pb2.Shift:
        return self._sale(
            "OpenShift", sales_pb2.OpenShiftRequest(shift_id=shift_id, float=money(float_fen))
        )

    def cash_movement(
        self, movement_id: str, kind: int, fen: int, reason: str
    ) -> sales_pb2.CashMovementResponse:
        """Cash in or out of the drawer (kind: sales_pb2.CASH_MOVEMENT_KIND_*), in fen."""
        return self._sale(
            "CashMovement",
            sales_pb2.CashMovementRequest(
                movement_id=movement_id, kind=kind, amount=money(fen), reason=reason
            ),
        )

    def no_sale(
        self, movement_id: str, reason: str, supervisor: sales_pb2.Override | None = None
    ) -> sales_pb2.CashMovementResponse:
        """Open the drawer without a sale (no_sale, or a supervisor's override)."""
        return self._sale(
            "NoSale",
            sales_pb2.NoSaleRequest(movement_id=movement_id, reason=reason, supervisor=supervisor),
        )

    def close_shift(self, counted_fen: int) -> sales_pb2.ShiftReport:
        return self._sale(
            "CloseShift", sales_pb2.CloseShiftRequest(counted_cash=money(counted_fen))
        )

    # ---- baskets -----------------------------------------------------------

    def create_basket(self, basket_id: str) -> sales_pb2.Basket:
        return self._sale("CreateBasket", sales_pb2.CreateBasketRequest(basket_id=basket_id))

    def get_basket(self, basket_id: str) -> sales_pb2.Basket:
        return self._sale("GetBasket", sales_pb2.BasketRef(basket_id=basket_id))

    def add_item(
        self,
        basket_id: str,
        line_id: str,
        *,
        code: str = "",
        product_id: int = 0,
        quantity_milli: int = 0,
    ) -> sales_pb2.Basket:
        """Add a scan (code) or a search pick (product_id); 0 thousandths = one unit."""
        return self._sale(
            "AddItem",
            sales_pb2.AddItemRequest(
                basket_id=basket_id,
                line_id=line_id,
                code=code,
                product_id=product_id,
                quantity_milli=quantity_milli,
            ),
        )

    def set_quantity(self, basket_id: str, line_id: str, quantity_milli: int) -> sales_pb2.Basket:
        return self._sale(
            "SetQuantity",
            sales_pb2.SetQuantityRequest(
                basket_id=basket_id, line_id=line_id, quantity_milli=quantity_milli
            ),
        )

    def void_line(self, basket_id: str, line_id: str) -> sales_pb2.Basket:
        return self._sale("VoidLine", sales_pb2.LineRef(basket_id=basket_id, line_id=line_id))

    def clear_basket(self, basket_id: str) -> sales_pb2.Basket:
        return self._sale("ClearBasket", sales_pb2.BasketRef(basket_id=basket_id))

    def total_basket(self, basket_id: str) -> sales_pb2.Basket:
        return self._sale("TotalBasket", sales_pb2.BasketRef(basket_id=basket_id))

    def back_out_total(self, basket_id: str) -> sales_pb2.Basket:
        return self._sale("BackOutTotal", sales_pb2.BasketRef(basket_id=basket_id))

    def hold_basket(self, basket_id: str) -> sales_pb2.Basket:
        return self._sale("HoldBasket", sales_pb2.BasketRef(basket_id=basket_id))

    def resume_basket(self, basket_id: str) -> sales_pb2.Basket:
        return self._sale("ResumeBasket", sales_pb2.BasketRef(basket_id=basket_id))

    def held_baskets(self) -> Sequence[sales_pb2.Basket]:
        return self._sale("ListHeldBaskets", sales_pb2.ListHeldBasketsRequest()).baskets

    def override_price(
        self,
        basket_id: str,
        line_id: str,
        unit_price_fen: int,
        reason: str = "",
        supervisor: sales_pb2.Override | None = None,
    ) -> sales_pb2.Basket:
        """改价: a line's unit price (per scan unit, per kg when weighed), in fen."""
        return self._sale(
            "OverridePrice",
            sales_pb2.OverridePriceRequest(
                basket_id=basket_id,
                line_id=line_id,
                unit_price=money(unit_price_fen),
                reason=reason,
                supervisor=supervisor,
            ),
        )

    def gift_line(
        self, basket_id: str, line_id: str, supervisor: sales_pb2.Override | None = None
    ) -> sales_pb2.Basket:
        """赠送: the line is given away (gift_line, or a supervisor's override)."""
        return self._sale(
            "GiftLine",
            sales_pb2.GiftLineRequest(basket_id=basket_id, line_id=line_id, supervisor=supervisor),
        )

    def attach_member(
        self, basket_id: str, credential: members_pb2.MemberCredential
    ) -> sales_pb2.Basket:
        return self._sale(
            "AttachMember", sales_pb2.AttachMemberRequest(basket_id=basket_id, member=credential)
        )

    def detach_member(self, basket_id: str) -> sales_pb2.Basket:
        return self._sale("DetachMember", sales_pb2.BasketRef(basket_id=basket_id))

    def apply_coupon(self, basket_id: str, coupon_id: str) -> sales_pb2.Basket:
        """Put one of the attached member's coupons on the basket (priced at once)."""
        request = sales_pb2.CouponRequest(basket_id=basket_id, coupon_id=coupon_id)
        return self._sale("ApplyCoupon", request)

    def remove_coupon(self, basket_id: str, coupon_id: str) -> sales_pb2.Basket:
        """Take a coupon off the basket again."""
        request = sales_pb2.CouponRequest(basket_id=basket_id, coupon_id=coupon_id)
        return self._sale("RemoveCoupon", request)

    # ---- sales and returns -------------------------------------------------

    def commit_sale(
        self, sale_id: str, basket_id: str, payments: Iterable[sales_pb2.Payment]
    ) -> sales_pb2.Sale:
        """Commit; sending the same sale_id again returns the first sale, never a second."""
        return self._sale(
            "CommitSale",
            sales_pb2.CommitSaleRequest(
                sale_id=sale_id, basket_id=basket_id, payments=list(payments)
            ),
        )

    def get_receipt(self, receipt_no: str) -> sales_pb2.Receipt:
        return self._sale("GetReceipt", sales_pb2.GetReceiptRequest(receipt_no=receipt_no))

    def return_items(
        self,
        return_id: str,
        receipt_no: str,
        lines: Iterable[sales_pb2.ReturnLineRequest],
        *,
        reason: str = "",
        supervisor: sales_pb2.Override | None = None,
    ) -> sales_pb2.ReturnResponse:
        return self._sale(
            "ReturnItems",
            sales_pb2.ReturnRequest(
                return_id=return_id,
                receipt_no=receipt_no,
                lines=list(lines),
                reason=reason,
                supervisor=supervisor,
            ),
        )

    # ---- catalog and members -----------------------------------------------

    def lookup(self, code: str) -> catalog_pb2.LookupResponse:
        return self.call(self._catalog, "Lookup", catalog_pb2.LookupRequest(code=code))

    def search(self, query: str, limit: int = 20) -> Sequence[catalog_pb2.Product]:
        """Products whose name or pinyin initials match (search as you type)."""
        request = catalog_pb2.SearchRequest(
            query=query, page=common_pb2.PageRequest(page_size=limit)
        )
        return self.call(self._catalog, "Search", request).products

    def list_coupons(self, member_id: str) -> Sequence[members_pb2.MemberCoupon]:
        """A member's coupons (issued and redeemed), for the member badge."""
        request = members_pb2.MemberCredential(member_id=member_id)
        return self.call(self._members, "ListCoupons", request).coupons

    def identify_member(self, credential: members_pb2.MemberCredential) -> members_pb2.Member:
        return self.call(self._members, "IdentifyMember", credential)

    # ---- stocktake (the handheld counter) ----------------------------------

    def list_sessions(self) -> Sequence[stock_pb2.StocktakeSession]:
        """The open stocktakes a counter can pick."""
        return self.call(self._stocktake, "ListSessions", stock_pb2.ListSessionsRequest()).sessions

    def send_counts(
        self, session_id: str, counts: Iterable[stock_pb2.Count]
    ) -> stock_pb2.CountBatchResult:
        """Send counts; a count id the server already has is a duplicate, changing nothing."""
        return self.call(
            self._stocktake,
            "SendCounts",
            stock_pb2.CountBatch(session_id=session_id, counts=list(counts)),
        )
