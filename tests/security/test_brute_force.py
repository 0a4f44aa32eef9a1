"""PIN guessing through the side doors is throttled like the front door.

Login's lock-out (tests/service/test_auth.py) and IdentifyMember's
(tests/service/test_members.py) are tested where they live; these are the
other ways to try a PIN: a supervisor override typed on a cashier's till, and
the member PIN taken by IssueQrCode and ReportCardLost.
"""

from __future__ import annotations

import grpc

from tests.support.errors import error_detail, expect_code
from tests.support.members import MemberDesk, by_phone
from tests.support.server import RunningStore
from tests.support.till import Till, new_id, supervisor
from tillpoint.v1 import members_pb2, sales_pb2

LOCKED = grpc.StatusCode.RESOURCE_EXHAUSTED
PHONE = "13800138000"


def test_guessing_a_supervisor_pin_at_a_till_locks_the_supervisor(store: RunningStore) -> None:
    till = Till(store)
    till.open_shift()

    def no_sale(pin: str) -> object:
        request = sales_pb2.NoSaleRequest(
            movement_id=new_id(), reason="试PIN", supervisor=supervisor("1002", pin)
        )
        return till.call("NoSale", request)

    for guess in ("0000", "1234", "9999", "1111", "2221"):
        expect_code(grpc.StatusCode.UNAUTHENTICATED, lambda g=guess: no_sale(g))
    # The sixth try is refused even with the right PIN, and so is the supervisor's own login.
    err = expect_code(LOCKED, lambda: no_sale("2222"))
    assert error_detail(err).reason == "PIN_LOCKED"
    expect_code(LOCKED, lambda: store.login("1002", "2222", device_id="till-09"))
    # Nothing was opened: no drawer kick was recorded.
    assert till.call("XReport", sales_pb2.ShiftReportRequest()).no_sale_count == 0


def test_guessing_a_member_pin_through_qr_codes_and_card_loss_locks_the_card(
    store: RunningStore,
) -> None:
    desk = MemberDesk(Till(store))
    desk.register(PHONE)
    wrong = by_phone(PHONE, "000000")
    for _ in range(2):
        expect_code(grpc.StatusCode.UNAUTHENTICATED, lambda: desk.call("IssueQrCode", wrong))
    for _ in range(2):
        expect_code(
            grpc.StatusCode.UNAUTHENTICATED,
            lambda: desk.call("ReportCardLost", members_pb2.ReportCardLostRequest(member=wrong)),
        )
    expect_code(LOCKED, lambda: desk.call("IssueQrCode", wrong))
    # Locked for every way in, right PIN or not: no QR code, no identification.
    expect_code(LOCKED, lambda: desk.call("IssueQrCode", by_phone(PHONE)))
    err = expect_code(LOCKED, lambda: desk.identify(by_phone(PHONE)))
    assert error_detail(err).reason == "MEMBER_PIN_LOCKED"


def test_an_unknown_phone_answers_like_a_wrong_pin(store: RunningStore) -> None:
    """Phone + PIN must not tell a guesser which phone numbers are members."""
    desk = MemberDesk(Till(store))
    desk.register(PHONE)
    known = expect_code(
        grpc.StatusCode.UNAUTHENTICATED, lambda: desk.identify(by_phone(PHONE, "000000"))
    )
    unknown = expect_code(
        grpc.StatusCode.UNAUTHENTICATED, lambda: desk.identify(by_phone("13700137001", "000000"))
    )
    assert (error_detail(known).reason, known.details()) == (
        error_detail(unknown).reason,
        unknown.details(),
    )
