"""Which store is calling, and the rule that a store acts only as itself.

With mTLS every agent presents its store's certificate (signed by the chain's
CA, `hqctl cert store`); the store id is the certificate subject's CN. The
interceptor checks every call to every HQ service (present and future) before
its servicer runs: a request whose `store_id` field (or any of its `store_ids`)
names another store is PERMISSION_DENIED, so nothing of it is applied. An HQ
RPC that acts for a store carries the store in a top-level `store_id` field;
nested ids are the servicer's to check through `calling_store`.

A plaintext server (`--insecure`, the demo) has no peer identity: the claimed
store id is taken as it is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import grpc
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status

from hq_link.security.pki import valid_store_id
from tillpoint.v1 import common_pb2

# Standard services any client may call (load balancers, grpcurl).
EXEMPT_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)


# Services for people, not stores: the TLS handshake has checked the client's
# certificate (a store's or a user's, `hqctl cert user`) against the chain's
# CA; the service's bearer token decides which stores the person may read.
PEOPLE_SERVICES = frozenset({"tillpoint.hq.v1.HqReportService"})


class NotAStore(Exception):
    """The peer's certificate is not a store certificate (reason in the message)."""


@functools.lru_cache(maxsize=4096)
def _store_of_pem(pem: bytes) -> str:
    """The store id of a store certificate. Cached: agents reuse one certificate."""
    cert = x509.load_pem_x509_certificate(pem)
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = None
    # HQ's own server certificate is signed by the same CA: it must not pass
    # for a store just because its CN is a host name.
    if usages is not None and ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        raise NotAStore("the certificate is not for client authentication")
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    store_id = str(names[0].value) if names else ""
    if not valid_store_id(store_id):
        raise NotAStore(f"the certificate's CN {store_id!r} is not a store id")
    return store_id


def peer_store_id(context: grpc.ServicerContext) -> str | None:
    """The store id of the peer's certificate; None on a plaintext connection.

    Raises NotAStore for a TLS peer whose certificate names no store.
    """
    auth = context.auth_context()
    if auth.get("transport_security_type", [b""])[0] != b"ssl":
        return None
    pem = (auth.get("x509_pem_cert") or [b""])[0]
    if not pem:
        raise NotAStore("no client certificate")
    return _store_of_pem(pem)


def _denied(context: grpc.ServicerContext, message: str) -> None:
    detail = any_pb2.Any()
    detail.Pack(common_pb2.ErrorDetail(reason="WRONG_STORE", field="store_id", message=message))
    context.abort_with_status(
        rpc_status.to_status(
            status_pb2.Status(code=code_pb2.PERMISSION_DENIED, message=message, details=[detail])
        )
    )


def claimed_stores(request: Message) -> list[str]:
    """The store ids a request names at its top level (`store_id`, `store_ids`)."""
    fields = request.DESCRIPTOR.fields_by_name
    claimed: list[str] = []
    if "store_id" in fields and isinstance(request.store_id, str):  # type: ignore[attr-defined]
        claimed.append(request.store_id)  # type: ignore[attr-defined]
    if "store_ids" in fields:
        claimed.extend(str(s) for s in request.store_ids)  # type: ignore[attr-defined]
    return [s for s in claimed if s]


def check_request(request: Message, context: grpc.ServicerContext) -> None:
    """Abort with PERMISSION_DENIED unless the request names only the calling store."""
    try:
        store = peer_store_id(context)
    except NotAStore as exc:
        _denied(context, f"not a store certificate: {exc}")
        return
    if store is None:
        return
    for claimed in claimed_stores(request):
        if claimed != store:
            _denied(
                context,
                f"store_id: this certificate is store {store}'s; it cannot act as {claimed}",
            )


def calling_store(context: grpc.ServicerContext, claimed_store_id: str) -> str:
    """The store id this call may act as: its certificate's, or the claimed one in
    plaintext. A claim of another store is PERMISSION_DENIED (the interceptor
    has refused it already; this covers a servicer reached any other way)."""
    try:
        store = peer_store_id(context)
    except NotAStore as exc:
        _denied(context, f"not a store certificate: {exc}")
        raise AssertionError("unreachable") from exc  # abort raised
    if store is None:
        return claimed_store_id
    if claimed_store_id and claimed_store_id != store:
        _denied(
            context,
            f"store_id: this certificate is store {store}'s; it cannot act as {claimed_store_id}",
        )
    return store


def _checked(requests: Iterator[Message], context: grpc.ServicerContext) -> Iterator[Message]:
    for request in requests:
        check_request(request, context)
        yield request


class StoreIdentityInterceptor(grpc.ServerInterceptor):
    """Runs `check_request` on every request of every HQ service but the standard ones."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        service = handler_call_details.method.lstrip("/").split("/", 1)[0]
        if handler is None or service in EXEMPT_SERVICES or service in PEOPLE_SERVICES:
            return handler
        return _wrap(handler)


def _wrap(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    kw = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        inner_uu = handler.unary_unary

        def unary_unary(request: Message, context: grpc.ServicerContext) -> object:
            check_request(request, context)
            return inner_uu(request, context)

        return grpc.unary_unary_rpc_method_handler(unary_unary, **kw)
    if handler.unary_stream:
        inner_us = handler.unary_stream

        def unary_stream(request: Message, context: grpc.ServicerContext) -> object:
            check_request(request, context)
            return inner_us(request, context)

        return grpc.unary_stream_rpc_method_handler(unary_stream, **kw)
    if handler.stream_unary:
        inner_su = handler.stream_unary

        def stream_unary(requests: Iterator[Message], context: grpc.ServicerContext) -> object:
            return inner_su(_checked(requests, context), context)

        return grpc.stream_unary_rpc_method_handler(stream_unary, **kw)
    inner_ss = handler.stream_stream

    def stream_stream(requests: Iterator[Message], context: grpc.ServicerContext) -> object:
        return inner_ss(_checked(requests, context), context)

    return grpc.stream_stream_rpc_method_handler(stream_stream, **kw)
