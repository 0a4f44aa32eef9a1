"""A TCP proxy between the agent and HQ that the test tells where to cut.

It forwards bytes and knows nothing of gRPC, so TLS passes through it
unchanged. The cut points are byte-level stand-ins for the points of a batch's
life:

- `CutKind.MID_BATCH`: after N more bytes went upstream, the rest of that
  chunk is dropped and the connection closed (HQ gets half a request);
- `CutKind.BEFORE_ACK`: once a request went upstream (at least
  `request_bytes` since arming), the first answer coming back is dropped and
  the connection closed (HQ may have applied it; the agent never hears so);
- `CutKind.AFTER_ACK`: that first answer is delivered, then the connection
  closes (the agent has its ack; the next batch finds the link gone);
- `cut_now()`: every connection, at once.

Closing sends a TCP reset (SO_LINGER 0), as a dropped VPN or a pulled cable
looks to the far side sooner or later. `set_down(True)` refuses new
connections as well (a store offline for a day).
"""

from __future__ import annotations

import contextlib
import enum
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass


class CutKind(enum.Enum):
    NOW = "now"
    MID_BATCH = "mid_batch"
    BEFORE_ACK = "before_ack"
    AFTER_ACK = "after_ack"


class _Cut(enum.Enum):
    NO = 0
    RESET = 1  # reset every connection now
    AFTER_DELIVERY = 2  # FIN to the agent after what was just forwarded


@dataclass
class _Armed:
    kind: CutKind
    after_bytes: int  # MID_BATCH: bytes upstream before the cut
    request_bytes: int  # BEFORE/AFTER_ACK: upstream bytes that make a request
    fired: threading.Event
    up_seen: int = 0


def _reset(sock: socket.socket) -> None:
    """Close with RST: no graceful FIN, what is in flight is lost."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        # Wakes the pump blocked reading it and sends nothing (SHUT_WR would send a FIN).
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()


class _Link:
    """One client connection and its upstream connection."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.closed = False

    def close(self) -> None:
        self.closed = True
        _reset(self.client)
        _reset(self.upstream)


class TcpProxy:
    """Listens on 127.0.0.1 (a free port) and forwards to `upstream` ("host:port")."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._armed: _Armed | None = None
        self._down = False
        self._closing = False
        self.cuts: Counter[CutKind] = Counter()
        self.connections = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self._thread = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept(); close() alone does not
        self._listener.close()
        self.cut_now(count=False)
        self._thread.join(timeout=5)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what the test tells it -------------------------------------------------

    def cut_now(self, count: bool = True) -> int:
        """Reset every connection; returns how many there were."""
        with self._lock:
            links = list(self._links)
            self._links.clear()
            if count:
                self.cuts[CutKind.NOW] += 1
        for link in links:
            link.close()
        return len(links)

    def arm(
        self, kind: CutKind, *, after_bytes: int = 0, request_bytes: int = 200
    ) -> threading.Event:
        """Cut at the next such point; the event is set once the cut happened."""
        if kind is CutKind.NOW:
            raise ValueError("use cut_now() to cut at once")
        armed = _Armed(kind, after_bytes, request_bytes, threading.Event())
        with self._lock:
            self._armed = armed
        return armed.fired

    def disarm(self) -> None:
        with self._lock:
            self._armed = None

    def set_down(self, down: bool) -> None:
        """Down: every connection is cut and new ones are refused (reset at once)."""
        with self._lock:
            self._down = down
        if down:
            self.cut_now(count=False)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._links)

    # --- the forwarding ---------------------------------------------------------

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                down = self._down
            if down:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:  # HQ is down: the agent sees the link drop
                _reset(client)
                continue
            upstream.settimeout(None)
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(client, upstream)
            with self._lock:
                self._links.add(link)
                self.connections += 1
            for source, sink, up in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(
                    target=self._pump, args=(link, source, sink, up), daemon=True
                ).start()

    def _pump(self, link: _Link, source: socket.socket, sink: socket.socket, up: bool) -> None:
        while True:
            try:
                chunk = source.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            forward, cut = self._decide(chunk, up)
            try:
                if forward:
                    sink.sendall(forward)
            except OSError:
                break
            if cut is _Cut.RESET:
                self.cut_now(count=False)
                return
            if cut is _Cut.AFTER_DELIVERY:
                self._cut_after_delivery(link)
                return
        self._drop(link)

    def _cut_after_delivery(self, link: _Link) -> None:
        """The answer just forwarded must reach the agent: a FIN after it, not a
        reset (a reset can discard what the agent's kernel has not yet handed
        over). HQ's side and every other connection are reset."""
        with self._lock:
            others = [other for other in self._links if other is not link]
            self._links.clear()
        with contextlib.suppress(OSError):
            link.client.shutdown(socket.SHUT_WR)
        _reset(link.upstream)
        for other in others:
            other.close()
        # The client's socket is closed by its own pump once the agent hangs up.

    def _decide(self, chunk: bytes, up: bool) -> tuple[bytes, _Cut]:
        """What of `chunk` to forward, and whether to cut right after it."""
        with self._lock:
            if up:
                self.bytes_up += len(chunk)
            else:
                self.bytes_down += len(chunk)
            armed = self._armed
            if armed is None:
                return chunk, _Cut.NO
            if up:
                if armed.kind is CutKind.MID_BATCH:
                    left = armed.after_bytes - armed.up_seen
                    if len(chunk) >= left:
                        return self._fire(armed, chunk[: max(left, 0)], _Cut.RESET)
                armed.up_seen += len(chunk)
                return chunk, _Cut.NO
            if armed.kind is CutKind.MID_BATCH or armed.up_seen < armed.request_bytes:
                return chunk, _Cut.NO
            if armed.kind is CutKind.BEFORE_ACK:
                return self._fire(armed, b"", _Cut.RESET)
            return self._fire(armed, chunk, _Cut.AFTER_DELIVERY)

    def _fire(self, armed: _Armed, forward: bytes, cut: _Cut) -> tuple[bytes, _Cut]:
        """Called with the lock held: the armed cut happens after `forward`."""
        self._armed = None
        self.cuts[armed.kind] += 1
        armed.fired.set()
        return forward, cut

    def _drop(self, link: _Link) -> None:
        with self._lock:
            self._links.discard(link)
        link.close()
