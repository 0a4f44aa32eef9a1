"""Operator login, tokens, lock-out and permissions against a real server."""

from __future__ import annotations

import uuid
from datetime import timedelta

import grpc
from sqlalchemy import func, select

from store_server.db.audit_log import iter_audit
from store_server.db.models import AuditEntry, AuthSession
from tests.support.errors import error_detail, expect_code
from tests.support.server import DEADLINE, RunningStore
from tillpoint.v1 import auth_pb2, catalog_pb2, common_pb2

UNAUTH = grpc.StatusCode.UNAUTHENTICATED


def login_req(pin: str, operator: str = "1001", device: str = "till-01") -> auth_pb2.LoginRequest:
    return auth_pb2.LoginRequest(operator_id=operator, pin=pin, device_id=device)


def test_login_gives_a_working_token(store: RunningStore) -> None:
    resp = store.auth.Login(login_req("1111"), timeout=DEADLINE)
    assert len(resp.token) >= 40
    assert resp.operator.role == "cashier"
    assert resp.operator.permissions == ["sell"]
    assert resp.expires_at.ToDatetime().replace(tzinfo=store.clock.now().tzinfo) == (
        store.clock.now() + timedelta(hours=12)
    )
    md = [("authorization", f"Bearer {resp.token}"), ("x-device-id", "till-01")]
    me = store.auth.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=md, timeout=DEADLINE)
    assert (me.operator_id, me.name, me.device_id) == ("1001", "收银员 小王", "till-01")
    # The database keeps only the token's hash.
    with store.db.read() as conn:
        hashes = conn.execute(select(AuthSession.token_hash)).scalars().all()
    assert resp.token not in hashes and len(hashes) == 1


def test_wrong_pin_is_unauthenticated_and_unknown_operator_looks_the_same(
    store: RunningStore,
) -> None:
    wrong = expect_code(UNAUTH, lambda: store.auth.Login(login_req("9999"), timeout=DEADLINE))
    unknown = expect_code(
        UNAUTH, lambda: store.auth.Login(login_req("1111", operator="4242"), timeout=DEADLINE)
    )
    assert wrong.details() == unknown.details() == "wrong operator id or PIN"


def test_sixth_try_is_locked_even_with_the_right_pin_until_five_minutes_pass(
    store: RunningStore,
) -> None:
    for _ in range(5):
        expect_code(UNAUTH, lambda: store.auth.Login(login_req("0000"), timeout=DEADLINE))
    err = expect_code(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        lambda: store.auth.Login(login_req("1111"), timeout=DEADLINE),
    )
    detail = error_detail(err)
    assert detail.reason == "PIN_LOCKED"
    assert detail.retry_after.ToDatetime().replace(tzinfo=store.clock.now().tzinfo) == (
        store.clock.now() + timedelta(minutes=5)
    )
    store.clock.advance(timedelta(minutes=4, seconds=59))
    expect_code(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        lambda: store.auth.Login(login_req("1111"), timeout=DEADLINE),
    )
    store.clock.advance(timedelta(seconds=1))
    assert store.auth.Login(login_req("1111"), timeout=DEADLINE).token
    # Another operator was never affected.
    assert store.auth.Login(login_req("2222", operator="1002"), timeout=DEADLINE).token
    with store.db.read() as conn:
        outcomes = [(r.action, r.target, r.outcome) for r in iter_audit(conn)]
    assert outcomes.count(("AuthService/Login", "1001", "UNAUTHENTICATED")) == 5
    assert outcomes.count(("AuthService/Login", "1001", "RESOURCE_EXHAUSTED")) == 2
    assert outcomes.count(("AuthService/Login", "1001", "OK")) == 1


def test_a_right_pin_resets_the_count_of_wrong_ones(store: RunningStore) -> None:
    for _ in range(4):
        expect_code(UNAUTH, lambda: store.auth.Login(login_req("0000"), timeout=DEADLINE))
    store.login()
    for _ in range(4):
        expect_code(UNAUTH, lambda: store.auth.Login(login_req("0000"), timeout=DEADLINE))
    assert store.auth.Login(login_req("1111"), timeout=DEADLINE).token


def test_expired_token_is_unauthenticated(store: RunningStore) -> None:
    md = store.login()
    store.clock.advance(timedelta(hours=12) - timedelta(seconds=1))
    store.auth.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=md, timeout=DEADLINE)
    store.clock.advance(timedelta(seconds=1))
    err = expect_code(
        UNAUTH, lambda: store.auth.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=md, timeout=DEADLINE)
    )
    assert error_detail(err).reason == "TOKEN_EXPIRED"


def test_token_from_another_device_is_unauthenticated(store: RunningStore) -> None:
    md = dict(store.login(device_id="till-01"))
    md["x-device-id"] = "till-02"
    err = expect_code(
        UNAUTH,
        lambda: store.auth.WhoAmI(
            auth_pb2.WhoAmIRequest(), metadata=list(md.items()), timeout=DEADLINE
        ),
    )
    assert error_detail(err).reason == "WRONG_DEVICE"


def test_no_token_and_made_up_token_are_unauthenticated(store: RunningStore) -> None:
    req = catalog_pb2.LookupRequest(code="1001")
    expect_code(UNAUTH, lambda: store.catalog.Lookup(req, timeout=DEADLINE))
    md = [("authorization", "Bearer not-a-token"), ("x-device-id", "till-01")]
    expect_code(UNAUTH, lambda: store.catalog.Lookup(req, metadata=md, timeout=DEADLINE))


def test_logout_ends_the_token(store: RunningStore) -> None:
    md = store.login()
    store.auth.Logout(auth_pb2.LogoutRequest(), metadata=md, timeout=DEADLINE)
    expect_code(
        UNAUTH, lambda: store.auth.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=md, timeout=DEADLINE)
    )


def test_token_survives_a_server_restart(store: RunningStore) -> None:
    """The restarted server has an empty token cache: the token is found in the database."""
    md = store.login()
    store.restart()
    me = store.auth.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=md, timeout=DEADLINE)
    assert me.operator_id == "1001"


def test_cashier_calling_an_admin_rpc_is_denied_and_audited(store: RunningStore) -> None:
    md = store.login("1001", "1111", "till-07")
    req = catalog_pb2.SchedulePriceChangeRequest(
        change_id=str(uuid.uuid4()), product_id=1, retail_price=common_pb2.Money(fen=100)
    )
    with store.db.read() as conn:
        before = conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    err = expect_code(
        grpc.StatusCode.PERMISSION_DENIED,
        lambda: store.catalog.SchedulePriceChange(req, metadata=md, timeout=DEADLINE),
    )
    assert "catalog_admin" in err.details()
    with store.db.read() as conn:
        rows = list(iter_audit(conn))[before:]
    assert [(r.operator_id, r.device_id, r.action, r.outcome) for r in rows] == [
        ("1001", "till-07", "CatalogService/SchedulePriceChange", "PERMISSION_DENIED")
    ]
    # The admin may.
    admin = store.login("1003", "3333", "office-pc")
    change = store.catalog.SchedulePriceChange(req, metadata=admin, timeout=DEADLINE)
    assert change.applied


def test_bad_login_fields_are_invalid_argument_naming_the_field(store: RunningStore) -> None:
    cases = {
        "operator_id": login_req("1111", operator=""),
        "pin": login_req("12ab"),
        "device_id": login_req("1111", device=""),
    }
    for field, req in cases.items():
        err = expect_code(
            grpc.StatusCode.INVALID_ARGUMENT,
            lambda req=req: store.auth.Login(req, timeout=DEADLINE),
        )
        assert error_detail(err).field == field
        assert err.details().startswith(f"{field}:")
