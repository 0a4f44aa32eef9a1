"""tillpoint.v1.SalesService: decode, call the selling modules, encode."""

from __future__ import annotations

import grpc

from store_server.auth import Authenticator
from store_server.baskets import Baskets
from store_server.checkout import Checkout
from store_server.db.shift_repo import ShiftFigures
from store_server.domain.errors import InvalidArgument
from store_server.domain.permissions import Permission
from store_server.domain.tender import TenderKind
from store_server.interceptor import access_of, principal_of, require
from store_server.members.registry import Members
from store_server.returns import ReturnItem, Returns
from store_server.services import member_convert
from store_server.services import sales_convert as cv
from store_server.services.convert import money
from store_server.shifts import Shifts
from tillpoint.v1 import sales_pb2, sales_pb2_grpc

_MOVEMENT_KINDS = {sales_pb2.CASH_MOVEMENT_KIND_IN: "in", sales_pb2.CASH_MOVEMENT_KIND_OUT: "out"}
MAX_RETURN_LINES = 200


def _day(closed: bool, figures: ShiftFigures, day: str) -> sales_pb2.DayStatus:
    return sales_pb2.DayStatus(
        business_day=day,
        closed=closed,
        sales_count=figures.sales_count,
        sales_total=money(figures.sales_total_fen),
        returns_count=figures.returns_count,
        returns_total=money(figures.returns_total_fen),
    )


class SalesService(sales_pb2_grpc.SalesServiceServicer):
    def __init__(
        self,
        auth: Authenticator,
        baskets: Baskets,
        checkout: Checkout,
        returns: Returns,
        members: Members,
        shifts: Shifts,
    ) -> None:
        self._members = members
        self._auth = auth
        self._baskets = baskets
        self._checkout = checkout
        self._returns = returns
        self._shifts = shifts

    # -- shifts and cash -----------------------------------------------------

    def OpenShift(self, request, context: grpc.ServicerContext):
        return cv.shift(
            self._shifts.open(principal_of(context), request.shift_id, request.float.fen)
        )

    def CashMovement(self, request, context: grpc.ServicerContext):
        kind = _MOVEMENT_KINDS.get(request.kind)
        if kind is None:
            raise InvalidArgument("kind", "IN or OUT")
        movement_id, shift_id = self._shifts.cash_movement(
            principal_of(context), request.movement_id, kind, request.amount.fen, request.reason
        )
        return sales_pb2.CashMovementResponse(
            movement_id=movement_id, shift_id=shift_id, open_drawer=True
        )

    def NoSale(self, request, context: grpc.ServicerContext):
        access = access_of(context)
        movement_id, shift_id = self._shifts.cash_movement(
            access.principal,
            request.movement_id,
            "no_sale",
            0,
            request.reason,
            approver=access.approver,
        )
        return sales_pb2.CashMovementResponse(
            movement_id=movement_id, shift_id=shift_id, open_drawer=True
        )

    def XReport(self, request, context: grpc.ServicerContext):
        return cv.shift_report(self._shifts.report(principal_of(context)))

    def CloseShift(self, request, context: grpc.ServicerContext):
        return cv.shift_report(self._shifts.close(principal_of(context), request.counted_cash.fen))

    # -- baskets -------------------------------------------------------------

    def CreateBasket(self, request, context: grpc.ServicerContext):
        return cv.basket_bytes(self._baskets.create(principal_of(context), request.basket_id))

    def GetBasket(self, request, context: grpc.ServicerContext):
        return cv.basket_bytes(self._baskets.get(principal_of(context), request.basket_id))

    def AddItem(self, request, context: grpc.ServicerContext):
        return cv.basket_bytes(
            self._baskets.add_item(
                principal_of(context),
                request.basket_id,
                request.line_id,
                code=request.code,
                product_id=request.product_id,
                quantity_milli=request.quantity_milli,
            )
        )

    def SetQuantity(self, request, context: grpc.ServicerContext):
        return cv.basket_bytes(
            self._baskets.set_quantity(
                principal_of(context), request.basket_id, request.line_id, request.quantity_milli
            )
        )

    def VoidLine(self, request, context: grpc.ServicerContext):
        return cv.basket_bytes(
            self._baskets.void_line(principal_of(context), request.basket_id, request.line_id)
        )

    def ClearBasket(self, request, context: grpc.ServicerContext):
        return cv.basket_bytes(self._baskets.clear(principal_of(context), request.basket_id))

    def TotalBasket(self, request, context: grpc.ServicerContext):
        return cv.basket_bytes(
            self._baskets.set_totalled(principal_of(context), request.basket_id, True)
        )

    def BackOutTotal(self, request, context: grpc.ServicerContext):
        return cv.basket_bytes(
            self._baskets.set_totalled(principal_of(context), request.basket_id, False)
        )

    def HoldBasket(self, request, context: grpc.ServicerContext):
        return cv.basket_bytes(self._baskets.hold(principal_of(context), request.basket_id))

    def ListHeldBaskets(self, request, context: grpc.ServicerContext):
        return sales_pb2.ListHeldBasketsResponse(
            baskets=[cv.basket(v) for v in self._baskets.list_held(principal_of(context))]
        )

    def ResumeBasket(self, request, context: grpc.ServicerContext):
        return cv.basket_bytes(self._baskets.resume(principal_of(context), request.basket_id))

    def GiftLine(self, request, context: grpc.ServicerContext):
        access = access_of(context)
        return cv.basket_bytes(
            self._baskets.gift(
                access.principal, request.basket_id, request.line_id, access.approver
            )
        )

    def OverridePrice(self, request, context: grpc.ServicerContext):
        access = access_of(context)
        return cv.basket_bytes(
            self._baskets.override_price(
                access.principal,
                request.basket_id,
                request.line_id,
                request.unit_price.fen,
                access.approver,
            )
        )

    # -- the member on the basket -----------------------------------------------

    def AttachMember(self, request, context: grpc.ServicerContext):
        who = principal_of(context)
        member = self._members.for_spending(
            who, member_convert.credential(request.member), field="member"
        )
        return cv.basket_bytes(
            self._baskets.attach_member(who, request.basket_id, member.member_id)
        )

    def DetachMember(self, request, context: grpc.ServicerContext):
        return cv.basket_bytes(
            self._baskets.detach_member(principal_of(context), request.basket_id)
        )

    def ApplyCoupon(self, request, context: grpc.ServicerContext):
        return cv.basket_bytes(
            self._baskets.apply_coupon(principal_of(context), request.basket_id, request.coupon_id)
        )

    def RemoveCoupon(self, request, context: grpc.ServicerContext):
        return cv.basket_bytes(
            self._baskets.remove_coupon(principal_of(context), request.basket_id, request.coupon_id)
        )

    # -- sale, receipt, returns ----------------------------------------------

    def CommitSale(self, request, context: grpc.ServicerContext):
        receipt, _ = self._checkout.commit(
            principal_of(context), request.sale_id, request.basket_id, cv.payments(request.payments)
        )
        return sales_pb2.Sale(
            sale_id=request.sale_id,
            receipt_no=receipt.receipt_no,
            total=money(receipt.total_fen),
            change=money(receipt.change_fen),
            receipt=cv.receipt(receipt),
            open_drawer=any(
                p.kind in (TenderKind.CASH, TenderKind.FOREIGN_CASH) for p in receipt.payments
            ),
        )

    def GetReceipt(self, request, context: grpc.ServicerContext):
        if not request.receipt_no or len(request.receipt_no) > 32:
            raise InvalidArgument("receipt_no", "a receipt number like S01-20261123-0042")
        return cv.receipt(self._checkout.receipt(request.receipt_no), copy=True)

    def ReturnItems(self, request, context: grpc.ServicerContext):
        who = principal_of(context)
        if len(request.lines) > MAX_RETURN_LINES:
            raise InvalidArgument("lines", f"at most {MAX_RETURN_LINES} lines")
        approver = None
        if not request.receipt_no:
            # Without the receipt nothing proves the sale: refund permission needed.
            approver = require(
                self._auth,
                who,
                Permission.REFUND,
                request.supervisor if request.HasField("supervisor") else None,
                field="supervisor",
            )
        items = [
            ReturnItem(line_no=item.line_no, quantity_milli=item.quantity.milli, code=item.code)
            for item in request.lines
        ]
        receipt, _ = self._returns.return_items(
            who, request.return_id, request.receipt_no, items, request.reason, approver
        )
        return sales_pb2.ReturnResponse(
            return_id=request.return_id,
            receipt_no=receipt.receipt_no,
            refund=money(-receipt.total_fen),
            receipt=cv.receipt(receipt),
            open_drawer=any(p.kind == "cash" for p in receipt.payments),
        )

    # -- business day --------------------------------------------------------

    def CloseDay(self, request, context: grpc.ServicerContext):
        closed, figures = self._shifts.close_day(principal_of(context), request.business_day)
        return _day(closed, figures, request.business_day)

    def ReopenDay(self, request, context: grpc.ServicerContext):
        access = access_of(context)
        closed, figures = self._shifts.reopen_day(
            access.principal, request.business_day, access.approver
        )
        return _day(closed, figures, request.business_day)
