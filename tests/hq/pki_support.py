"""Certificates for the HQ tests: one chain CA per test session (made on first
use), HQ's server certificate for 127.0.0.1 and localhost, and a client
certificate per store id, issued when first asked for."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

from hq_link.security import pki
from hq_link.security.tls import ClientTls, ServerTls


class TestPki:
    """A CA in `root` with HQ's certificate; store certificates on demand."""

    __test__ = False  # not a pytest test class

    def __init__(self, root: Path, name: str = "Tillpoint test CA") -> None:
        self.root = root
        now = datetime.now(UTC)
        self.ca = pki.make_ca(now, name=name)
        self.ca_cert = root / pki.CA_CERT
        pki.write_issued(self.ca, self.ca_cert, root / pki.CA_KEY)
        server = pki.make_server_cert(self.ca, ["localhost"], ["127.0.0.1"], now)
        pki.write_issued(server, root / "hq.pem", root / "hq.key")
        self._lock = threading.Lock()
        self._stores: dict[str, ClientTls] = {}

    def server_tls(self) -> ServerTls:
        return ServerTls(
            cert=self.root / "hq.pem", key=self.root / "hq.key", client_ca=self.ca_cert
        )

    def client_tls(self, store_id: str) -> ClientTls:
        """The store's certificate (CN = store_id), issued by this CA once."""
        with self._lock:
            if store_id not in self._stores:
                issued = pki.make_store_cert(self.ca, store_id, datetime.now(UTC))
                cert, key = self.root / f"{store_id}.pem", self.root / f"{store_id}.key"
                pki.write_issued(issued, cert, key)
                self._stores[store_id] = ClientTls(cert=cert, key=key, ca_cert=self.ca_cert)
            return self._stores[store_id]

    def user_tls(self, user_id: str) -> ClientTls:
        """A person's certificate (CN user:<id>) for HQ's report service."""
        with self._lock:
            key = f"user:{user_id}"
            if key not in self._stores:
                issued = pki.make_user_cert(self.ca, user_id, datetime.now(UTC))
                cert, pem_key = self.root / f"user-{user_id}.pem", self.root / f"user-{user_id}.key"
                pki.write_issued(issued, cert, pem_key)
                self._stores[key] = ClientTls(cert=cert, key=pem_key, ca_cert=self.ca_cert)
            return self._stores[key]


_session: TestPki | None = None
_session_lock = threading.Lock()


def session_pki() -> TestPki:
    """The session's CA (its temporary directory goes when the interpreter exits)."""
    global _session
    with _session_lock:
        if _session is None:
            root = Path(tempfile.mkdtemp(prefix="tillpoint-pki-"))
            atexit.register(shutil.rmtree, root, ignore_errors=True)
            _session = TestPki(root)
        return _session
