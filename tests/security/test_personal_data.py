"""No phone number, name or birthday in the server's log or the audit chain in clear.

A real server process at DEBUG log level registers members, identifies them
(right and wrong PIN, by phone, card and QR), refuses a duplicate phone,
sells to a member, tops up, reports a card lost and replaces it. Then its
whole log output and every audit row are searched for the personal data.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from pathlib import Path

import grpc

from tests.support import catalog_fixture as cf
from tests.support.process import REPO, ChildProcess, free_port
from tillpoint.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    common_pb2,
    members_pb2,
    members_pb2_grpc,
    sales_pb2,
    sales_pb2_grpc,
)

PHONE, NAME, BIRTHDAY = "13912345678", "欧阳娜娜", "1988-07-15"
OTHER_PHONE, OTHER_NAME = "13698765432", "Zhang Wei"
PIN = "135790"
DEADLINE = 10


def new_id() -> str:
    return str(uuid.uuid4())


def serve_at_debug(db: Path) -> tuple[ChildProcess, str]:
    port = free_port()
    env = {
        **os.environ,
        "TILLPOINT_DATABASE": str(db),
        "TILLPOINT_LISTEN": f"127.0.0.1:{port}",
    }
    server = ChildProcess()
    server._spawn(
        ["store_server", "--config", str(REPO / "config/store.demo.toml"), "--log-level", "DEBUG"],
        env=env,
        ready=r"listening on 127\.0\.0\.1:\d+",
        what="store server",
    )
    return server, f"127.0.0.1:{port}"


def test_personal_data_never_reaches_the_log_or_the_audit_chain(
    template_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "store.db"
    shutil.copy(template_db, db)
    server, address = serve_at_debug(db)
    try:
        with grpc.insecure_channel(address) as channel:
            exercise_members(channel)
    finally:
        server.stop()
    log = server.log
    assert "RegisterMember" in log or "MemberService" in log  # the DEBUG log did run
    with sqlite3.connect(db) as conn:
        audit = "\n".join(repr(row) for row in conn.execute("SELECT * FROM audit_log").fetchall())
    assert "member:" in audit  # members are named in the audit, by number
    for secret in (PHONE, NAME, BIRTHDAY, OTHER_PHONE, OTHER_NAME, PIN, "1234-5678"):
        assert secret not in log, f"{secret} in the server log"
        assert secret not in audit, f"{secret} in the audit log"
    # Not even the phone's digits in another spelling.
    assert "139 1234 5678" not in log and "+8613912345678" not in log


def exercise_members(channel: grpc.Channel) -> None:
    def login(operator_id: str, pin: str) -> list[tuple[str, str]]:
        resp = auth_pb2_grpc.AuthServiceStub(channel).Login(
            auth_pb2.LoginRequest(operator_id=operator_id, pin=pin, device_id="till-01"),
            timeout=DEADLINE,
        )
        return [("authorization", f"Bearer {resp.token}"), ("x-device-id", "till-01")]

    admin = login("1003", "3333")
    members = members_pb2_grpc.MemberServiceStub(channel)
    sales = sales_pb2_grpc.SalesServiceStub(channel)
    sales.OpenShift(
        sales_pb2.OpenShiftRequest(shift_id=new_id(), float=common_pb2.Money(fen=0)),
        metadata=admin,
        timeout=DEADLINE,
    )

    def call(method, request, expect=grpc.StatusCode.OK):
        try:
            return method(request, metadata=admin, timeout=DEADLINE)
        except grpc.RpcError as err:
            assert err.code() == expect, (err.code(), err.details())
            return None

    member = call(
        members.RegisterMember,
        members_pb2.RegisterMemberRequest(
            registration_id=new_id(), phone=PHONE, name=NAME, birthday=BIRTHDAY, pin=PIN
        ),
    )
    call(
        members.RegisterMember,
        members_pb2.RegisterMemberRequest(
            registration_id=new_id(), phone=OTHER_PHONE, name=OTHER_NAME
        ),
    )
    # Refusals that could echo what was typed: a taken phone, a bad phone, a wrong PIN.
    call(
        members.RegisterMember,
        members_pb2.RegisterMemberRequest(
            registration_id=new_id(), phone="+86 139 1234 5678", name=NAME
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    call(
        members.RegisterMember,
        members_pb2.RegisterMemberRequest(registration_id=new_id(), phone="1234-5678", name=NAME),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    call(
        members.RegisterMember,
        members_pb2.RegisterMemberRequest(
            registration_id=new_id(), phone="13912345679", name=NAME, birthday="2199-01-01"
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    call(
        members.IdentifyMember,
        members_pb2.MemberCredential(phone=PHONE, pin="000000"),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    call(members.IdentifyMember, members_pb2.MemberCredential(phone=PHONE, pin=PIN))
    qr = call(members.IssueQrCode, members_pb2.MemberCredential(phone=PHONE, pin=PIN))
    call(members.IdentifyMember, members_pb2.MemberCredential(qr_payload=qr.payload))
    by_id = members_pb2.MemberCredential(member_id=member.member_id)
    call(
        members.TopUp,
        members_pb2.TopUpRequest(
            topup_id=new_id(),
            member=by_id,
            amount=common_pb2.Money(fen=10_000),
            payment=members_pb2.DepositPayment(kind="cash"),
        ),
    )
    basket_id = new_id()
    call(sales.CreateBasket, sales_pb2.CreateBasketRequest(basket_id=basket_id))
    call(
        sales.AddItem,
        sales_pb2.AddItemRequest(basket_id=basket_id, line_id=new_id(), code=cf.COKE_CAN),
    )
    call(
        sales.AttachMember,
        sales_pb2.AttachMemberRequest(
            basket_id=basket_id, member=members_pb2.MemberCredential(card_no=member.card_no)
        ),
    )
    basket = call(sales.TotalBasket, sales_pb2.BasketRef(basket_id=basket_id))
    call(
        sales.CommitSale,
        sales_pb2.CommitSaleRequest(
            sale_id=new_id(),
            basket_id=basket_id,
            payments=[
                sales_pb2.Payment(kind=sales_pb2.TENDER_KIND_STORED_VALUE, amount=basket.total)
            ],
        ),
    )
    call(members.MemberHistory, members_pb2.MemberHistoryRequest(member=by_id))
    call(members.ReportCardLost, members_pb2.ReportCardLostRequest(member=by_id))
    call(
        members.ReplaceCard,
        members_pb2.ReplaceCardRequest(member_id=member.member_id, new_card_no="8800000000001"),
    )
