"""Read the ErrorDetail the server packs into a failed call's status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from grpc_status import rpc_status

from tillpoint.v1 import common_pb2


def error_detail(err: grpc.RpcError) -> common_pb2.ErrorDetail:
    status = rpc_status.from_call(err)
    assert status is not None, "the server sent no rich status"
    for packed in status.details:
        detail = common_pb2.ErrorDetail()
        if packed.Unpack(detail):
            return detail
    raise AssertionError("no ErrorDetail in the status details")


def expect_code(code: grpc.StatusCode, call: Callable[[], Any]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == code, (info.value.code(), info.value.details())
    return info.value
