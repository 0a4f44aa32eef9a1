"""The agent's channel to HQ: mTLS with the store's certificate, or plaintext
when the configuration says `insecure = true` (a demo HQ)."""

from __future__ import annotations

import grpc

from hq_link.security.tls import ClientTls, secure_channel

# A batch never splits a store transaction, and one (a catalog import) can be large.
MAX_MESSAGE = 256 * 1024 * 1024
OPTIONS: list[tuple[str, object]] = [
    ("grpc.max_send_message_length", MAX_MESSAGE),
    ("grpc.max_receive_message_length", MAX_MESSAGE),
]


def hq_channel(target: str, tls: ClientTls | None) -> grpc.Channel:
    """A channel to HQ at `target` ("host:port"); credentials are read on each call,
    so a renewed certificate is used from the next reconnect on."""
    if tls is None:
        return grpc.insecure_channel(target, options=OPTIONS)
    return secure_channel(target, tls, OPTIONS)
