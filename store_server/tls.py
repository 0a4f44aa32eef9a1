"""The till link's listening port: plaintext, or TLS when the config names a certificate.

A store LAN is shared with card terminals, guest Wi-Fi bridges and whatever a
technician plugs in; TLS keeps PINs, tokens and member data off the wire in
clear. The certificate and key are PEM files ([server] tls_cert, tls_key).
"""

from __future__ import annotations

import grpc

from store_server.config import Config


def add_port(server: grpc.Server, config: Config) -> int:
    """Bind config.listen, with TLS when configured; returns the port (0: failed)."""
    if config.tls_cert is None or config.tls_key is None:
        return server.add_insecure_port(config.listen)
    credentials = grpc.ssl_server_credentials(
        [(config.tls_key.read_bytes(), config.tls_cert.read_bytes())]
    )
    return server.add_secure_port(config.listen, credentials)
