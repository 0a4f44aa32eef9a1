"""gRPC credentials for mTLS, from the PEM files `hqctl` wrote.

HQ: its server certificate and key, and the chain's CA that every store
certificate must chain to (a client without one fails the handshake). Agent:
its store certificate and key, and the CA that HQ's certificate must chain to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc


class TlsConfigError(Exception):
    """A TLS file that is missing or unreadable (message names it)."""


def _read(path: Path, what: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TlsConfigError(f"{what} {path}: {exc.strerror or exc}") from exc
    if b"-----BEGIN " not in data:
        raise TlsConfigError(f"{what} {path}: not a PEM file")
    return data


@dataclass(frozen=True)
class ServerTls:
    """HQ's side: `[hq] tls_cert`, `tls_key`, `client_ca`."""

    cert: Path
    key: Path
    client_ca: Path

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(_read(self.key, "tls_key"), _read(self.cert, "tls_cert"))],
            root_certificates=_read(self.client_ca, "client_ca"),
            require_client_auth=True,
        )


@dataclass(frozen=True)
class ClientTls:
    """The agent's side: `[hq_link] tls_cert`, `tls_key`, `ca_cert`.

    `server_name` overrides the name checked against HQ's certificate, for an
    HQ reached by an address its certificate does not name (a VPN IP).
    """

    cert: Path
    key: Path
    ca_cert: Path
    server_name: str = ""

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=_read(self.ca_cert, "ca_cert"),
            private_key=_read(self.key, "tls_key"),
            certificate_chain=_read(self.cert, "tls_cert"),
        )

    def channel_options(self) -> list[tuple[str, str]]:
        if not self.server_name:
            return []
        return [("grpc.ssl_target_name_override", self.server_name)]


def secure_channel(
    target: str, tls: ClientTls, options: list[tuple[str, object]] | None = None
) -> grpc.Channel:
    return grpc.secure_channel(
        target, tls.credentials(), options=[*(options or []), *tls.channel_options()]
    )
