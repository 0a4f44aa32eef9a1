"""The one server interceptor: authentication, permission, audit, error mapping.

Every call of every service passes here, so no servicer checks a token or
turns an exception into a status code by itself. Domain errors become their
status with an ErrorDetail in the rich status details; anything else is
logged with its traceback and answered INTERNAL without internals.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import any_pb2, timestamp_pb2
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status

from store_server.appliance.storage_faults import storage_fault
from store_server.auth import Authenticator, Principal
from store_server.clock import Clock
from store_server.db.audit_log import append_audit
from store_server.db.database import Database
from store_server.domain import errors as e
from store_server.domain.permissions import Permission
from store_server.rpc_rules import GUARDED_PREFIX, RULES, RpcRule
from tillpoint.v1 import common_pb2

log = logging.getLogger("tillpoint.rpc")

_CODES: list[tuple[type[e.DomainError], grpc.StatusCode]] = [
    (e.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (e.NotFound, grpc.StatusCode.NOT_FOUND),
    (e.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (e.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (e.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (e.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (e.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (e.Unavailable, grpc.StatusCode.UNAVAILABLE),
]
# Refusals worth an audit entry even on RPCs that are not audited themselves.
_AUDITED_REFUSALS = (e.PermissionDenied, e.ResourceExhausted)


@dataclass(frozen=True, slots=True)
class CallAccess:
    principal: Principal
    approver: Principal | None  # the supervisor whose override admitted the call


_calls: weakref.WeakKeyDictionary[Any, CallAccess] = weakref.WeakKeyDictionary()
_calls_lock = threading.Lock()


def access_of(context: grpc.ServicerContext) -> CallAccess:
    with _calls_lock:
        access = _calls.get(context)
    if access is None:  # only a public RPC could get here, and those never ask
        raise e.Unauthenticated("not logged in")
    return access


def principal_of(context: grpc.ServicerContext) -> Principal:
    """The operator the interceptor authenticated for this call."""
    return access_of(context).principal


def require(
    auth: Authenticator, principal: Principal, permission: Permission, override: Any, *, field: str
) -> Principal | None:
    """Admit `principal` for `permission`, or a supervisor's override in `override`.

    Returns the approving supervisor, or None when the caller may act alone.
    Used by the interceptor for a method's fixed permission, and by servicers
    whose permission depends on the request (a return without a receipt).
    """
    if principal.can(permission):
        return None
    if override is None or not getattr(override, "operator_id", ""):
        raise _Denied(principal, permission)
    return auth.verify_override(
        override.operator_id, override.pin, principal.device_id, permission, field=field
    )


def status_code_of(error: e.DomainError) -> grpc.StatusCode:
    for cls, code in _CODES:
        if isinstance(error, cls):
            return code
    return grpc.StatusCode.FAILED_PRECONDITION


def to_status(error: e.DomainError) -> grpc.Status:
    code = status_code_of(error)
    detail = common_pb2.ErrorDetail(reason=error.reason, field=error.field, message=error.message)
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        ts = timestamp_pb2.Timestamp()
        ts.FromDatetime(retry_after)
        detail.retry_after.CopyFrom(ts)
    packed = any_pb2.Any()
    packed.Pack(detail)
    return rpc_status.to_status(
        status_pb2.Status(code=code.value[0], message=error.message, details=[packed])
    )


def _internal_status() -> grpc.Status:
    return rpc_status.to_status(
        status_pb2.Status(
            code=code_pb2.INTERNAL, message="internal error in the store server (logged)"
        )
    )


class TillpointInterceptor(grpc.ServerInterceptor):
    def __init__(
        self,
        auth: Authenticator,
        db: Database,
        clock: Clock,
        rules: dict[str, RpcRule] | None = None,
        on_storage_fault: Callable[[e.Unavailable], None] | None = None,
    ) -> None:
        self._auth = auth
        # Told at once when a write fails for a full or read-only disk, so
        # health goes NOT_SERVING before the next periodic check.
        self._on_storage_fault = on_storage_fault
        self._db = db
        self._clock = clock
        self._rules = RULES if rules is None else rules
        # The wrapped handler of each method, made once: gRPC asks for it on
        # every call, and the services' handlers never change once registered.
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def intercept_service(self, continuation: Callable, details: grpc.HandlerCallDetails):
        handler = continuation(details)
        if handler is None:
            return handler
        method = details.method
        known = self._wrapped.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        wrapped = self._wrap(method, handler)
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if not method.startswith(GUARDED_PREFIX):
            return _public(handler)  # health, reflection: open, but bad bytes are refused
        rule = self._rules.get(method)
        if handler.unary_unary is not None:
            inner = handler.unary_unary
            return grpc.unary_unary_rpc_method_handler(
                lambda req, ctx: self._unary(method, rule, inner, req, ctx),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=_passing_encoded(handler.response_serializer),
            )
        if handler.unary_stream is not None:
            inner = handler.unary_stream
            return grpc.unary_stream_rpc_method_handler(
                lambda req, ctx: self._stream(method, rule, inner, req, ctx),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=_passing_encoded(handler.response_serializer),
            )
        if handler.stream_unary is not None:
            # Client-streaming (handheld count upload): admitted on its metadata
            # like a unary call; the request is the iterator of messages.
            inner = handler.stream_unary
            return grpc.stream_unary_rpc_method_handler(
                lambda reqs, ctx: self._unary(method, rule, inner, _decoded(reqs), ctx),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=_passing_encoded(handler.response_serializer),
            )
        # Bidirectional streams: none yet.
        raise NotImplementedError(f"{method}: bidirectional streams are not wired yet")

    # -- the two call shapes -------------------------------------------------

    def _unary(
        self,
        method: str,
        rule: RpcRule | None,
        inner: Callable,
        request: Any,
        context: grpc.ServicerContext,
    ) -> Any:
        started = time.perf_counter()
        principal = None
        try:
            _refuse_undecodable(request)
            principal = self._admit(method, rule, context, request)
            response = inner(request, context)
        except Exception as exc:
            self._fail(method, rule, request, principal, context, exc)
        else:
            self._audit_call(method, rule, request, principal, context, "OK")
            return response
        finally:
            self._release(context)
            log.debug("%s %.2f ms", method, (time.perf_counter() - started) * 1000)

    def _stream(
        self,
        method: str,
        rule: RpcRule | None,
        inner: Callable,
        request: Any,
        context: grpc.ServicerContext,
    ) -> Iterator[Any]:
        principal = None
        try:
            _refuse_undecodable(request)
            principal = self._admit(method, rule, context, request)
            yield from inner(request, context)
        except Exception as exc:
            self._fail(method, rule, request, principal, context, exc)
        else:
            self._audit_call(method, rule, request, principal, context, "OK")
        finally:
            self._release(context)

    # -- steps ---------------------------------------------------------------

    def _admit(
        self, method: str, rule: RpcRule | None, context: grpc.ServicerContext, request: Any
    ) -> Principal | None:
        if rule is None:
            raise e.PermissionDenied(f"{method} is not open to any role", reason="UNKNOWN_RPC")
        if rule.public:
            return None
        metadata = dict(context.invocation_metadata())
        bearer = metadata.get("authorization", "")
        token = bearer[7:] if bearer.lower().startswith("bearer ") else ""
        principal = self._auth.authenticate(token, metadata.get("x-device-id", ""))
        with _calls_lock:
            _calls[context] = CallAccess(principal, None)
        if rule.permission is not None and not principal.can(rule.permission):
            if not rule.override_field:
                raise _Denied(principal, rule.permission)
            override = getattr(request, rule.override_field)
            approver = require(
                self._auth, principal, rule.permission, override, field=rule.override_field
            )
            with _calls_lock:
                _calls[context] = CallAccess(principal, approver)
        return principal

    @staticmethod
    def _release(context: grpc.ServicerContext) -> None:
        with _calls_lock:
            _calls.pop(context, None)

    def _fail(
        self,
        method: str,
        rule: RpcRule | None,
        request: Any,
        principal: Principal | None,
        context: grpc.ServicerContext,
        exc: Exception,
    ) -> None:
        if isinstance(exc, _Denied):
            principal = exc.principal
        fault = storage_fault(exc)
        if fault is not None:
            exc = fault
            if self._on_storage_fault is not None:
                self._on_storage_fault(fault)
        if isinstance(exc, e.DomainError):
            code = status_code_of(exc)
            audit = (rule is not None and rule.audited) or isinstance(exc, _AUDITED_REFUSALS)
            if audit:
                self._audit_call(
                    method, rule, request, principal, context, code.name, {"reason": exc.reason}
                )
            log.info("%s refused: %s %s", method, code.name, exc.message)
            context.abort_with_status(to_status(exc))
        if _already_aborted(context):
            raise exc
        log.exception("%s failed", method, exc_info=exc)
        context.abort_with_status(_internal_status())

    def _audit_call(
        self,
        method: str,
        rule: RpcRule | None,
        request: Any,
        principal: Principal | None,
        context: grpc.ServicerContext,
        outcome: str,
        detail: dict[str, object] | None = None,
    ) -> None:
        with _calls_lock:
            access = _calls.get(context)
        approver = access.approver if access is not None else None
        if outcome == "OK" and (rule is None or not rule.audited) and approver is None:
            return
        if approver is not None:
            detail = {**(detail or {}), "approved_by": approver.operator_id}
        if principal is not None:
            operator, device = principal.operator_id, principal.device_id
        else:
            operator = rule.audit_target(request) if rule and rule.audit_target else ""
            device = rule.audit_device(request) if rule and rule.audit_device else ""
            if not device:
                device = dict(context.invocation_metadata()).get("x-device-id", "")
        target = rule.audit_target(request) if rule and rule.audit_target else ""
        try:
            with self._db.write() as conn:
                append_audit(
                    conn,
                    at=self._clock.now(),
                    operator_id=operator,
                    device_id=device,
                    action=method.removeprefix("/tillpoint.v1."),
                    target=target,
                    outcome=outcome,
                    detail=detail,
                )
        except Exception:
            # Never let a failed audit write mask the call's own answer; it is
            # logged loudly and the call's outcome stands.
            log.exception("audit write failed for %s", method)


class _Denied(e.PermissionDenied):
    """A permission refusal that remembers who was refused (for the audit entry)."""

    def __init__(self, principal: Principal, permission: object) -> None:
        super().__init__(
            f"operator {principal.operator_id} ({principal.role}) lacks the "
            f"{permission} permission",
            reason="MISSING_PERMISSION",
        )
        self.principal = principal


def _passing_encoded(serializer: Callable[[Any], bytes] | None) -> Callable[[Any], bytes] | None:
    """The method's serializer, but a reply a servicer already encoded (bytes,
    as sales_convert.basket_bytes gives) is sent as it is."""
    if serializer is None:
        return None

    def serialize(response: Any) -> bytes:
        return response if response.__class__ is bytes else serializer(response)

    return serialize


def _already_aborted(context: grpc.ServicerContext) -> bool:
    try:
        return context.code() is not None
    except (AttributeError, NotImplementedError):
        return False


class _Undecodable:
    """Request bytes that are no valid message: bad UTF-8 in a string, truncated, garbage."""

    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """Decode like `deserializer`, but hand an undecodable request on as _Undecodable.

    gRPC answers a deserializer's exception with INTERNAL ("Exception
    deserializing request!"); a client's bad bytes are its error, so the call
    is refused with INVALID_ARGUMENT by _refuse_undecodable instead.
    """
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as exc:  # DecodeError, or upb's UTF-8 check
            return _Undecodable(f"{type(exc).__name__}: {exc}")

    return decode


def _refuse_undecodable(request: Any) -> None:
    if isinstance(request, _Undecodable):
        raise e.InvalidArgument(
            "request",
            "is not a valid message (bad encoding or invalid UTF-8 text)",
            reason="UNDECODABLE_REQUEST",
        )


def _public(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """A public service's handler (health, reflection) that answers undecodable
    bytes with INVALID_ARGUMENT, not gRPC's INTERNAL; nothing else changes."""

    def refuse(request: Any, context: grpc.ServicerContext) -> None:
        if isinstance(request, _Undecodable):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"request: {request.problem}")

    def checked(requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
        for request in requests:
            refuse(request, context)
            yield request

    kw = {
        "request_deserializer": _tolerant(handler.request_deserializer),
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        uu = handler.unary_unary
        return grpc.unary_unary_rpc_method_handler(
            lambda req, ctx: (refuse(req, ctx), uu(req, ctx))[1], **kw
        )
    if handler.unary_stream is not None:
        us = handler.unary_stream
        return grpc.unary_stream_rpc_method_handler(
            lambda req, ctx: (refuse(req, ctx), us(req, ctx))[1], **kw
        )
    if handler.stream_unary is not None:
        su = handler.stream_unary
        return grpc.stream_unary_rpc_method_handler(
            lambda reqs, ctx: su(checked(reqs, ctx), ctx), **kw
        )
    ss = handler.stream_stream
    return grpc.stream_stream_rpc_method_handler(
        lambda reqs, ctx: ss(checked(reqs, ctx), ctx), **kw
    )


def _decoded(requests: Iterator[Any]) -> Iterator[Any]:
    """A client stream's messages; an undecodable one fails the call there."""
    for request in requests:
        _refuse_undecodable(request)
        yield request
