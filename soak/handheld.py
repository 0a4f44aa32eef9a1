"""A simulated handheld counter: a stock clerk scanning shelves into the one
open stocktake, sending the queued counts in batches (now and then as a
stream, now and then the same batch twice, as after a lost answer), and
keeping its own record of every count the server took.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field

import grpc

from soak.calls import CallRecorder, ScenarioError
from soak.store_setup import CLERK_PIN, SoakStore
from store_server.domain.barcodes import ean_check_digit
from tillpoint.v1 import auth_pb2, auth_pb2_grpc, stock_pb2, stock_pb2_grpc

log = logging.getLogger(__name__)

MISTYPE_SHARE = 0.01
RESEND_SHARE = 0.05
STREAM_SHARE = 0.20


@dataclass
class HandheldRecord:
    # count id -> (product id, quantity in product units, thousandths)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    events: Counter[str] = field(default_factory=Counter)


class SimulatedHandheld(threading.Thread):
    def __init__(
        self,
        number: int,
        address: str,
        store: SoakStore,
        session_id: str,
        recorder: CallRecorder,
        stop: threading.Event,
        seed: int,
    ) -> None:
        super().__init__(name=f"handheld-{number}", daemon=True)
        self.device = f"soak-hh-{number}"
        self.operator = store.clerks[number - 1]
        self.store = store
        self.session_id = session_id
        self.recorder = recorder
        self.stop = stop
        self.rng = random.Random(seed)
        self.record = HandheldRecord()
        self.channel = grpc.insecure_channel(address)
        self.stocktake = stock_pb2_grpc.StocktakeServiceStub(self.channel)
        self.md: list[tuple[str, str]] = []

    def login(self) -> None:
        auth = auth_pb2_grpc.AuthServiceStub(self.channel)
        answer = self.recorder.call(
            self.device,
            "Login",
            auth.Login,
            auth_pb2.LoginRequest(operator_id=self.operator, pin=CLERK_PIN, device_id=self.device),
        )
        self.md = [("authorization", f"Bearer {answer.token}"), ("x-device-id", self.device)]

    def run(self) -> None:
        queue: list[tuple[stock_pb2.Count, tuple[int, int] | None]] = []
        batch_size = self.rng.randint(10, 30)
        zone = self._zone()
        while True:
            stopping = self.stop.wait(self.rng.uniform(0.5, 2.0))
            if not stopping:
                if self.rng.random() < 0.02:
                    zone = self._zone()  # on to the next shelf
                queue.append(self._count(zone))
            if queue and (len(queue) >= batch_size or stopping):
                try:
                    self._send(queue)
                except ScenarioError:
                    self.record.events["batches dropped after an error"] += 1
                except Exception as exc:  # a bug of the simulation itself: count it, go on
                    log.exception("%s: simulation error", self.device)
                    self.recorder.error(self.device, "client", type(exc).__name__, str(exc))
                queue = []
                batch_size = self.rng.randint(10, 30)
            if stopping:
                break
        self.channel.close()

    def _zone(self) -> str:
        return f"{self.rng.choice('ABCDEFGH')}{self.rng.randint(1, 20)}"

    def _count(self, zone: str) -> tuple[stock_pb2.Count, tuple[int, int] | None]:
        """One scan; with what the server should take (None: a code it must reject)."""
        rng = self.rng
        count = stock_pb2.Count(count_id=str(uuid.uuid4()), zone=zone)
        if rng.random() < MISTYPE_SHARE:
            body = "699" + f"{rng.randrange(10**9):09d}"
            count.code = body + ean_check_digit(body)
            count.quantity_milli = 1000
            return count, None
        if rng.random() < 0.1:
            code = rng.choice(self.store.case_codes)
            count.quantity_milli = 1000 * rng.randint(1, 3)
        else:
            code = rng.choice(self.store.unit_codes)
            count.quantity_milli = 1000 * rng.randint(1, 24)
        count.code = code.code
        return count, (code.product_id, count.quantity_milli * code.pack_factor)

    def _send(self, queue: list[tuple[stock_pb2.Count, tuple[int, int] | None]]) -> None:
        counts = [c for c, _ in queue]
        good = {c.count_id: expected for c, expected in queue if expected is not None}
        bad = {c.count_id for c, expected in queue if expected is None}
        if self.rng.random() < STREAM_SHARE:
            half = len(counts) // 2
            batches = [counts[:half], counts[half:]]
            result = self.recorder.call(
                self.device,
                "StreamCounts",
                self.stocktake.StreamCounts,
                iter(stock_pb2.CountBatch(session_id=self.session_id, counts=b) for b in batches),
                metadata=self.md,
            )
        else:
            result = self._send_batch(counts)
        self._check(result, accepted=len(good), duplicates=0, rejected=bad)
        self.record.counts.update(good)
        self.record.events["counts"] += len(good)
        self.record.events["batches"] += 1
        if bad:
            self.recorder.expected_outcome("SendCounts rejected UNKNOWN_BARCODE", len(bad))
        if self.rng.random() < RESEND_SHARE:
            again = self._send_batch(counts)
            self._check(again, accepted=0, duplicates=len(good), rejected=bad)
            self.record.events["batches re-sent"] += 1

    def _send_batch(self, counts: list[stock_pb2.Count]) -> stock_pb2.CountBatchResult:
        return self.recorder.call(
            self.device,
            "SendCounts",
            self.stocktake.SendCounts,
            stock_pb2.CountBatch(session_id=self.session_id, counts=counts),
            metadata=self.md,
        )

    def _check(
        self, result: stock_pb2.CountBatchResult, *, accepted: int, duplicates: int, rejected: set
    ) -> None:
        got = {r.count_id for r in result.rejected}
        reasons = {r.reason for r in result.rejected}
        if (
            result.accepted != accepted
            or result.duplicates != duplicates
            or got != rejected
            or (reasons and reasons != {"UNKNOWN_BARCODE"})
        ):
            self.recorder.error(
                self.device,
                "SendCounts",
                "COUNT_MISMATCH",
                f"accepted {result.accepted}/{accepted}, duplicates {result.duplicates}/"
                f"{duplicates}, rejected {sorted(reasons)} {len(got)}/{len(rejected)}",
            )
