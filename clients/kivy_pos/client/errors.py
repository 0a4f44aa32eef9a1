"""The client's own errors, made from a failed call's status and its ErrorDetail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
from grpc_status import rpc_status

from tillpoint.v1 import common_pb2

# Codes that mean the server was not reached or did not answer in time: the
# till shows its offline banner and may send an idempotent call again.
OFFLINE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


@dataclass(frozen=True)
class ErrorInfo:
    """What the server said: code, stable reason, field at fault, a sentence."""

    code: grpc.StatusCode
    reason: str
    field: str
    message: str
    retry_after: datetime | None = None


class ServerError(Exception):
    """The server refused the call (bad input, not found, not allowed ...)."""

    def __init__(self, info: ErrorInfo, method: str = "") -> None:
        super().__init__(info.message)
        self.info = info
        self.method = method

    @property
    def code(self) -> grpc.StatusCode:
        return self.info.code

    @property
    def reason(self) -> str:
        return self.info.reason

    @property
    def field(self) -> str:
        return self.info.field

    @property
    def message(self) -> str:
        return self.info.message


class Offline(ServerError):
    """The store server did not answer: unreachable, or past the deadline.

    For a call that writes, the server may or may not have done it; an
    idempotent call sent again with the same ids settles which.
    """


def _detail_of(err: grpc.RpcError) -> common_pb2.ErrorDetail | None:
    try:
        status = rpc_status.from_call(err)
    except ValueError:  # a status whose message and code disagree with the trailer
        return None
    if status is None:
        return None
    for packed in status.details:
        detail = common_pb2.ErrorDetail()
        if packed.Unpack(detail):
            return detail
    return None


def _offline_message(code: grpc.StatusCode) -> str:
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return "门店服务器没有及时回应"
    return "无法连接门店服务器"


def from_rpc_error(err: grpc.RpcError, method: str = "") -> ServerError:
    """The ServerError (or Offline) for a failed call, with the server's own words."""
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    if code in OFFLINE_CODES:
        return Offline(ErrorInfo(code, code.name, "", _offline_message(code)), method)
    detail = _detail_of(err)
    if detail is None:
        text = (err.details() if hasattr(err, "details") else "") or code.name
        return ServerError(ErrorInfo(code, code.name, "", text), method)
    retry_after = (
        detail.retry_after.ToDatetime(tzinfo=UTC) if detail.HasField("retry_after") else None
    )
    return ServerError(
        ErrorInfo(code, detail.reason, detail.field, detail.message or code.name, retry_after),
        method,
    )
