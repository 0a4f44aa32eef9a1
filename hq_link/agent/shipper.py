"""The agent's loop: ask HQ where it stands, then push batches in seq order.

HQ's cursor is the truth: after every (re)connect the agent asks for it and
resumes after it, so a crash between HQ's acknowledgement and the local record
loses nothing and ships nothing twice (a resent batch would be acknowledged
without being applied anyway). The local record (`store_meta`) is written only
after HQ acknowledged, for `storectl hq status` and `storectl doctor`.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

import grpc
from grpc_status import rpc_status

from hq_link.agent.channel import hq_channel
from hq_link.agent.config import AgentConfig
from hq_link.agent.link_state import LinkRecorder
from hq_link.agent.outbox import ChangeRow, StoreOutbox
from hq_link.agent.progress import CatchUp
from hq_link.security.tls import TlsConfigError
from tillpoint.hq.v1 import replication_pb2, replication_pb2_grpc

log = logging.getLogger("hq_link.agent")
MAX_MESSAGE = 256 * 1024 * 1024
# Batches sent and not yet acknowledged: two keep HQ busy (it parses the next
# while its database writes the one before) without a backlog of retries.
IN_FLIGHT = 2
# While catching up, batches of this many times batch_rows.
CATCH_UP_FACTOR = 4


def to_request(
    store_id: str, after: int, rows: list[ChangeRow]
) -> replication_pb2.PushBatchRequest:
    """A batch covering seqs after+1 .. the last row's seq."""
    return replication_pb2.PushBatchRequest(
        store_id=store_id,
        first_seq=after + 1,
        last_seq=rows[-1].seq,
        rows=[
            replication_pb2.ChangeRow(
                seq=r.seq,
                txn=r.txn,
                kind=r.kind,
                key=r.key,
                payload_json=r.payload_json,
                at=r.at,
                schema_version=r.schema_version,
            )
            for r in rows
        ],
    )


def expected_seq(err: grpc.RpcError) -> int | None:
    """The seq HQ expects, from a SEQUENCE_GAP refusal."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    for packed in status.details if status is not None else ():
        gap = replication_pb2.SequenceGap()
        if packed.Unpack(gap):
            return gap.expected_seq
    return None


class Shipper:
    def __init__(
        self,
        config: AgentConfig,
        outbox: StoreOutbox,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        channel_factory: Callable[[str], grpc.Channel] | None = None,
    ) -> None:
        self.config = config
        self.outbox = outbox
        self._now = now
        # mTLS with the store's certificate unless the config says insecure.
        self._channel_factory = channel_factory or (lambda target: hq_channel(target, config.tls))
        # Last contact and last error, where `storectl doctor` reads them.
        self.link = LinkRecorder(
            outbox.path,
            hq=config.hq,
            tls_cert=config.tls.cert if config.tls is not None else None,
            now=now,
        )
        self.cursor = 0
        self._connected = False
        self._last_lag_log = 0.0
        # A backlog of a few batches is normal under load; a catch-up is more.
        self._catch_up = CatchUp(
            threshold_rows=max(1000, 4 * config.batch_rows),
            every_seconds=min(5.0, config.lag_log_seconds),
        )

    def run(self, stop: threading.Event) -> None:
        backoff = self.config.backoff_initial_seconds
        while not stop.is_set():
            try:
                channel = self._channel_factory(self.config.hq)
            except TlsConfigError as exc:  # a certificate file gone or unreadable
                log.error("HQ link: %s; retry in %.0f s", exc, self.config.backoff_max_seconds)
                self._record_error(str(exc))
                stop.wait(self.config.backoff_max_seconds)
                continue
            try:
                self._session(replication_pb2_grpc.ReplicationServiceStub(channel), stop)
            except grpc.RpcError as err:
                if self._connected:  # the link was up: start backing off afresh
                    backoff = self.config.backoff_initial_seconds
                    self._connected = False
                code = err.code()  # type: ignore[attr-defined]
                self._record_error(
                    f"{code.name if code else '?'}: {err.details()}"  # type: ignore[attr-defined]
                )
                if code == grpc.StatusCode.FAILED_PRECONDITION:
                    # HQ's cursor is not where we thought (HQ restored from a
                    # backup?): ask again and resend from where it stands.
                    why = err.details()  # type: ignore[attr-defined]
                    log.warning("HQ refused the batch: %s; resuming from HQ's cursor", why)
                    stop.wait(self.config.backoff_initial_seconds)
                else:
                    wait = min(backoff, self.config.backoff_max_seconds)
                    wait *= 0.5 + random.random() / 2  # no thundering herd of stores
                    log.warning(
                        "HQ link down (%s: %s); retry in %.1f s; %s",
                        code.name if code else "?",
                        err.details(),  # type: ignore[attr-defined]
                        wait,
                        self._lag_text(),
                    )
                    stop.wait(wait)
                    backoff = min(backoff * 2, self.config.backoff_max_seconds)
            except sqlite3.Error as exc:
                # Busy past its timeout, or not yet upgraded by the store server.
                log.error(
                    "store database %s: %s; retry in %.0f s",
                    self.outbox.path,
                    exc,
                    self.config.backoff_max_seconds,
                )
                stop.wait(self.config.backoff_max_seconds)
            finally:
                channel.close()

    def _session(
        self, stub: replication_pb2_grpc.ReplicationServiceStub, stop: threading.Event
    ) -> None:
        timeout = self.config.rpc_timeout_seconds
        answer = stub.GetCursor(
            replication_pb2.GetCursorRequest(store_id=self.config.store_id), timeout=timeout
        )
        self._connected = True
        self._record(self.link.connected)
        local = self.outbox.shipped_seq()
        self.cursor = answer.acked_seq
        last = self.outbox.lag(self._now(), self.cursor).last_seq
        if self.cursor > last:
            # A store database restored from a backup numbers new changes again
            # from below HQ's cursor: HQ would take them for duplicates. Needs a
            # store incarnation id (a later slice); until then, say it loudly.
            log.error(
                "HQ has seq %d of store %s but its change log ends at seq %d: "
                "was the store database restored from a backup?",
                self.cursor,
                self.config.store_id,
                last,
            )
        if self.cursor != local:
            if self.cursor < local:
                log.warning(
                    "HQ has seq %d only, the store recorded %d as shipped: resending",
                    self.cursor,
                    local,
                )
            self.outbox.record_shipped(self.cursor)
        log.info(
            "connected to HQ at %s as store %s, resuming after seq %d",
            self.config.hq,
            self.config.store_id,
            self.cursor,
        )
        self._log_lag(force=True)
        self._catch_up.interrupted()  # a new session counts its backlog afresh
        line = self._catch_up.begin(last - self.cursor, time.monotonic())
        if line:
            log.info("%s", line)
        # Up to IN_FLIGHT batches on their way: the next batch is read and built
        # while HQ applies the one before it. HQ applies a store's batches in
        # seq order (a gap is refused), and a row counts as shipped only once
        # HQ acknowledged it, in order: on any error the session ends, the
        # batches still in flight are forgotten and the next session resumes
        # from HQ's cursor.
        in_flight: deque[tuple[replication_pb2.PushBatchRequest, grpc.Future]] = deque()
        try:
            while not stop.is_set():
                while len(in_flight) < IN_FLIGHT:
                    after = in_flight[-1][0].last_seq if in_flight else self.cursor
                    rows = self.outbox.read_after(after, self._batch_rows())
                    if not rows:
                        break
                    request = to_request(self.config.store_id, after, rows)
                    in_flight.append((request, stub.PushBatch.future(request, timeout=timeout)))
                if not in_flight:
                    self._log_lag()
                    stop.wait(self.config.poll_seconds)
                    continue
                request, future = in_flight.popleft()
                self._acknowledged(request, future.result())
        finally:
            for _, future in in_flight:
                future.cancel()

    def _batch_rows(self) -> int:
        """Rows per batch: larger while catching up (fewer, fuller round trips and
        transactions at HQ), the configured size otherwise (the lag stays low)."""
        if self._catch_up.running:
            return self.config.batch_rows * CATCH_UP_FACTOR
        return self.config.batch_rows

    def _acknowledged(
        self, request: replication_pb2.PushBatchRequest, reply: replication_pb2.PushBatchResponse
    ) -> None:
        self._record(self.link.contact)
        if reply.quarantined_rows:
            log.warning(
                "HQ quarantined %d row(s) of seq %d..%d",
                reply.quarantined_rows,
                request.first_seq,
                request.last_seq,
            )
        self.cursor = max(self.cursor, reply.acked_seq)
        self.outbox.record_shipped(self.cursor)
        left = self.outbox.last_seq() - self.cursor
        line = self._catch_up.shipped(len(request.rows), left, time.monotonic())
        if line:
            log.info("%s", line)
        # The lag right after a catch-up ends (line, and no longer running).
        self._log_lag(force=bool(line) and not self._catch_up.running)

    def _record(self, write: Callable[[], None]) -> None:
        # The state is for people reading doctor: failing to write it (the store
        # database busy past its timeout) must not stop the shipping.
        try:
            write()
        except sqlite3.Error as exc:
            log.warning("cannot record the link's state in %s: %s", self.outbox.path, exc)

    def _record_error(self, text: str) -> None:
        self._record(lambda: self.link.error(text))

    def _log_lag(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._last_lag_log < self.config.lag_log_seconds:
            return
        self._last_lag_log = time.monotonic()
        log.info("%s", self._lag_text())

    def _lag_text(self) -> str:
        try:
            lag = self.outbox.lag(self._now(), self.cursor)
        except sqlite3.Error as exc:
            return f"lag unknown ({exc})"
        return (
            f"lag: {lag.rows} rows, {lag.seconds:.1f} s "
            f"(HQ has seq {lag.shipped_seq} of {lag.last_seq})"
        )
