"""Every RPC of every store service, fuzzed against a real server.

For each RPC (enumerated from the proto descriptors), hypothesis sends
generated requests (tests/fuzz/strategies.py) with a valid token, or as a
lesser role, or with a token stolen to another device, or none. Each answer
must be a documented status (never INTERNAL or UNKNOWN, never a hang: every
call has a deadline), and a rejected call must leave every table but the
audit log as it was. FUZZ_EXAMPLES raises the examples per RPC (default 40);
FUZZ_RANDOM=1 draws new examples instead of the fixed sequence.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store_server.permissions_doc import StoreRpc, store_rpcs
from tests.fuzz import conftest
from tests.fuzz.dump import differences, dump
from tests.fuzz.plans import PLANS
from tests.fuzz.seed import CASHIER, Pools
from tests.support.server import start_store

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
CALL_DEADLINE = 15.0
# README "Talking to the server": the statuses a caller may get for bad input.
DOCUMENTED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
# Mostly a fully privileged operator, so the request reaches the servicer.
CALLERS = ("admin", "admin", "admin", "admin", "admin", "cashier", "clerk", "stolen", "none")
RPCS = store_rpcs()


def test_every_rpc_has_a_plan() -> None:
    paths = {rpc.path for rpc in RPCS}
    assert sorted(paths - PLANS.keys()) == [], "RPCs without a fuzz plan"
    assert sorted(PLANS.keys() - paths) == [], "plans for RPCs that do not exist"


def invoker(channel: grpc.Channel, method: MethodDescriptor) -> Callable[..., Any]:
    """Call `method` generically, whatever its kind; returns the response(s)."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    out = message_factory.GetMessageClass(method.output_type)
    kw = {
        "request_serializer": lambda m: m.SerializeToString(),
        "response_deserializer": out.FromString,
    }
    if method.client_streaming:
        if method.server_streaming:
            call = channel.stream_stream(path, **kw)
            return lambda req, md: list(call(iter(req), metadata=md, timeout=CALL_DEADLINE))
        call = channel.stream_unary(path, **kw)
        return lambda req, md: call(iter(req), metadata=md, timeout=CALL_DEADLINE)
    if method.server_streaming:
        call = channel.unary_stream(path, **kw)
        return lambda req, md: list(call(req, metadata=md, timeout=CALL_DEADLINE))
    call = channel.unary_unary(path, **kw)
    return lambda req, md: call(req, metadata=md, timeout=CALL_DEADLINE)


def _short(request: Any) -> str:
    text = repr(request)
    return text if len(text) < 2000 else text[:2000] + f"... ({len(text)} chars)"


@pytest.mark.parametrize("rpc", RPCS, ids=lambda r: f"{r.service}.{r.name}")
def test_fuzz_rpc(rpc: StoreRpc, seeded: tuple[Path, Pools], tmp_path: Path) -> None:
    seeded_db, pools = seeded
    store = start_store(seeded_db, tmp_path)
    db = tmp_path / "store.db"
    try:
        admin = pools.logins["admin"]
        token_md = {
            **pools.logins,
            # The admin's token presented from the cashier's till: theft.
            "stolen": [admin[0], ("x-device-id", CASHIER[2])],
            "none": [],
        }
        call = invoker(store.channel, rpc.method)
        label = f"{rpc.service}.{rpc.name}"
        seen = conftest.STATS.setdefault(label, Counter())
        state = {"before": dump(db)[0]}

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=os.environ.get("FUZZ_RANDOM") != "1",
            suppress_health_check=list(HealthCheck),
        )
        @given(request=PLANS[rpc.path](rpc.method, pools), who=st.sampled_from(CALLERS))
        def one_call(request: Any, who: str) -> None:
            try:
                call(request, token_md[who])
                code, details = grpc.StatusCode.OK, ""
            except grpc.RpcError as err:
                code, details = err.code(), err.details()
            seen[code.name] += 1
            assert code in DOCUMENTED, (
                f"{label} as {who} answered {code.name}: {details}\nrequest: {_short(request)}"
            )
            after = dump(db)[0]
            if code != grpc.StatusCode.OK:
                changed = differences(state["before"], after)
                assert not changed, (
                    f"{label} as {who} was refused ({code.name}: {details}) but wrote:\n"
                    + "\n".join(changed[:20])
                    + f"\nrequest: {_short(request)}"
                )
            state["before"] = after

        one_call()
    finally:
        store.channel.close()
        store.store.stop(grace=1.0)
