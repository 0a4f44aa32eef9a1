"""The durable print queue against a socat pty: printed once, kept while the printer is
gone, reprinted after it returns, and found again after a crash."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from escpos.escpos import Escpos
from escpos.printer import Dummy

from clients.printing.print_errors import DISCONNECTED, INTERRUPTED, OFFLINE
from clients.printing.print_queue import Backoff, PrintQueue, RunResult
from clients.printing.printer_factory import printer_factory
from devices.errors import DeviceUnavailableError
from devices.printer.decode import decode
from tests.printing.conftest import PrinterLink as SocatLink
from tests.printing.receipts import RECEIPT_NO, sale_receipt
from tests.support.socat import read_until

REPO = Path(__file__).resolve().parents[2]
CUT = b"\x1d\x56\x00"
DRAWER = b"\x1bp\x00\x32\x32"  # pin 2, 100 ms
TOTAL_GB = "合计".encode("gb18030")
FIRST_ITEM_GB = "可口可乐".encode("gb18030")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make_queue(path: Path, open_printer: Callable[[], Escpos], **kwargs) -> PrintQueue:
    kwargs.setdefault("clock", FakeClock())
    return PrintQueue(path, open_printer, width=48, **kwargs)


def receipt_numbers(events: list[tuple]) -> list[str]:
    return [event[2] for event in events if event[0] == "barcode"]


def has_copy_banner(events: list[tuple]) -> bool:
    return any(event[0] == "text" and event[1].strip() == "重印 COPY" for event in events)


def read_slips(port, cuts: int, *, drawer_after_last: bool) -> list[tuple]:
    """What arrives on the far end, up to the ``cuts``-th cut (and its drawer pulse)."""

    def done(got: bytes) -> bool:
        if got.count(CUT) < cuts:
            return False
        return not drawer_after_last or got.endswith(DRAWER)

    return decode(read_until(port, done))


def test_enqueue_twice_makes_one_job(tmp_path: Path) -> None:
    with make_queue(tmp_path / "q.db", Dummy) as queue:
        assert queue.enqueue(sale_receipt(), open_drawer=True) is True
        assert queue.enqueue(sale_receipt(), open_drawer=True) is False
        [job] = queue.pending()
        assert (job.key, job.receipt_no, job.attempts, job.last_error) == (
            RECEIPT_NO,
            RECEIPT_NO,
            0,
            None,
        )
        copy = sale_receipt()
        copy.copy = True
        assert queue.enqueue(copy, open_drawer=False) is True  # a reprint is its own job
        assert [job.key for job in queue.pending()] == [RECEIPT_NO, RECEIPT_NO + ":copy"]


def test_prints_to_the_pty_once_with_the_drawer_pulse(
    tmp_path: Path, socat_link: SocatLink
) -> None:
    far = socat_link.open_far_end()
    with make_queue(
        tmp_path / "q.db", printer_factory({"type": "file", "devfile": socat_link.printer_path})
    ) as queue:
        queue.enqueue(sale_receipt(), open_drawer=True)
        assert queue.run_once() is RunResult.PRINTED
        events = read_slips(far, 1, drawer_after_last=True)
        assert receipt_numbers(events) == [RECEIPT_NO]
        assert events[-2:] == [("cut",), ("drawer", 2)]
        assert ("text", "可口可乐 330ml") in events
        assert not has_copy_banner(events)
        assert queue.pending() == []
        assert queue.run_once() is RunResult.IDLE
        # Done is done: the same receipt enqueued again (a retried commit) is no new job.
        assert queue.enqueue(sale_receipt(), open_drawer=True) is False
        assert queue.run_once() is RunResult.IDLE
    far.close()


def test_printer_gone_before_the_job_then_back(tmp_path: Path, socat_link: SocatLink) -> None:
    socat_link.kill()
    clock = FakeClock()
    factory = printer_factory({"type": "file", "devfile": socat_link.printer_path})
    with make_queue(tmp_path / "q.db", factory, clock=clock) as queue:
        queue.enqueue(sale_receipt(), open_drawer=True)
        assert queue.run_once() is RunResult.FAILED
        assert queue.run_once() is RunResult.FAILED
        [job] = queue.pending()
        assert job.attempts == 2
        assert job.last_error == OFFLINE
        assert "打印机未连接" in job.last_error and "Printer not connected" in job.last_error
        assert not job.maybe_printed
        # The missing device was not created as a plain file that would swallow receipts.
        assert not Path(socat_link.printer_path).exists()

        socat_link.start()  # plugged back in: same link path, new pty
        far = socat_link.open_far_end()
        clock.now += 5  # within the drawer window: the cashier is still there
        assert queue.run_once() is RunResult.PRINTED
        # A second receipt after it: everything before its cut is what the retry printed.
        queue.enqueue(sale_receipt("S01-20261123-0043"), open_drawer=False)
        assert queue.run_once() is RunResult.PRINTED
        events = read_slips(far, 2, drawer_after_last=False)
        assert receipt_numbers(events) == [RECEIPT_NO, "S01-20261123-0043"]
        assert events.count(("drawer", 2)) == 1
        assert not has_copy_banner(events)  # nothing reached paper before: the original
        assert queue.pending() == []
        far.close()


@pytest.mark.parametrize(
    ("kill_at", "reprinted_as_copy"),
    [
        ("before the first item", False),  # a torn header: the retry is the receipt
        ("after the total", True),  # the slip may read as a receipt: retry marked COPY
    ],
)
def test_printer_unplugged_mid_job(
    tmp_path: Path, socat_link: SocatLink, kill_at: str, reprinted_as_copy: bool
) -> None:
    far = socat_link.open_far_end()
    open_file = printer_factory({"type": "file", "devfile": socat_link.printer_path})
    armed = [True]

    def unplugging_factory() -> Escpos:
        printer = open_file()
        write = printer._raw

        def raw(msg: bytes) -> None:
            if armed[0] and kill_at == "before the first item" and FIRST_ITEM_GB in msg:
                armed[0] = False
                socat_link.kill()
            write(msg)
            if armed[0] and kill_at == "after the total" and TOTAL_GB in msg:
                armed[0] = False
                socat_link.kill()

        printer._raw = raw  # type: ignore[method-assign]
        return printer

    with make_queue(tmp_path / "q.db", unplugging_factory) as queue:
        queue.enqueue(sale_receipt(), open_drawer=True)
        assert queue.run_once() is RunResult.FAILED
        [job] = queue.pending()
        assert (job.attempts, job.last_error) == (1, DISCONNECTED)
        assert job.maybe_printed is reprinted_as_copy
        assert "OSError" in (job.detail or "")
        far.close()

        socat_link.start()
        far = socat_link.open_far_end()
        assert queue.run_once() is RunResult.PRINTED
        queue.enqueue(sale_receipt("S01-20261123-0043"), open_drawer=False)
        assert queue.run_once() is RunResult.PRINTED
        events = read_slips(far, 2, drawer_after_last=False)
        assert receipt_numbers(events) == [RECEIPT_NO, "S01-20261123-0043"]
        assert has_copy_banner(events) is reprinted_as_copy
        # A possibly complete slip gets no second drawer pulse.
        assert events.count(("drawer", 2)) == (0 if reprinted_as_copy else 1)
        assert queue.pending() == []
    far.close()


CRASHING_TILL = """
import os, sys
from escpos.printer import Dummy
from clients.printing.print_queue import PrintQueue
from tillpoint.v1 import sales_pb2

class DyingPrinter(Dummy):
    def _raw(self, msg):
        super()._raw(msg)
        if "合计".encode("gb18030") in msg:
            os._exit(3)  # power cut right after the total went out

queue = PrintQueue(sys.argv[1], DyingPrinter, width=48)
receipt = sales_pb2.Receipt.FromString(bytes.fromhex(sys.argv[3]))
queue.enqueue(receipt, open_drawer=True)
if sys.argv[2] == "after-enqueue":
    os._exit(3)
queue.run_once()
"""


@pytest.mark.parametrize(("crash", "as_copy"), [("after-enqueue", False), ("mid-print", True)])
def test_queue_file_after_a_crash_still_has_the_job(
    tmp_path: Path, crash: str, as_copy: bool
) -> None:
    path = tmp_path / "q.db"
    blob = sale_receipt().SerializeToString().hex()
    process = subprocess.run(
        [sys.executable, "-c", CRASHING_TILL, str(path), crash, blob],
        cwd=REPO,
        capture_output=True,
        timeout=60,
    )
    assert process.returncode == 3, process.stderr.decode()

    printer = Dummy()
    with make_queue(path, lambda: printer) as queue:
        [job] = queue.pending()
        assert job.receipt_no == RECEIPT_NO
        assert job.maybe_printed is as_copy
        assert job.last_error == (INTERRUPTED if as_copy else None)
        assert queue.run_once() is RunResult.PRINTED
        events = decode(printer.output)
        assert receipt_numbers(events) == [RECEIPT_NO]
        assert has_copy_banner(events) is as_copy
        assert (("drawer", 2) in events) is not as_copy
        assert queue.pending() == []


def test_no_drawer_kick_when_the_printer_returns_long_after_the_sale(tmp_path: Path) -> None:
    clock = FakeClock()
    printer = Dummy()
    plugged = [False]

    def factory() -> Escpos:
        if not plugged[0]:
            raise DeviceUnavailableError("printer /dev/usb/lp0 cannot be opened")
        return printer

    with make_queue(tmp_path / "q.db", factory, clock=clock, drawer_window_s=60) as queue:
        queue.enqueue(sale_receipt(), open_drawer=True)
        assert queue.run_once() is RunResult.FAILED
        clock.now += 600
        plugged[0] = True
        assert queue.run_once() is RunResult.PRINTED
        events = decode(printer.output)
        assert receipt_numbers(events) == [RECEIPT_NO]
        assert ("drawer", 2) not in events


def test_a_receipt_the_printer_cannot_take_says_so(tmp_path: Path) -> None:
    receipt = sale_receipt("S01{bad")  # '{' is a CODE128 code-set switch
    with make_queue(tmp_path / "q.db", Dummy) as queue:
        queue.enqueue(receipt, open_drawer=False)
        assert queue.run_once() is RunResult.FAILED
        [job] = queue.pending()
        assert "请联系管理员" in (job.last_error or "")
        assert "ValueError" in (job.detail or "")


def test_background_worker_retries_with_backoff(tmp_path: Path) -> None:
    printer = Dummy()
    opens = [0]

    def flaky_factory() -> Escpos:
        opens[0] += 1
        if opens[0] <= 3:
            raise DeviceUnavailableError("printer offline")
        return printer

    delays: list[float] = []
    idle = threading.Event()
    release = threading.Event()
    backoff = Backoff(first_s=1, factor=2, max_s=3, idle_s=30)

    def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        if seconds == backoff.idle_s:  # the job is printed and nothing is left
            idle.set()
            release.wait(10)  # a hang guard; stop() releases it below

    queue = make_queue(tmp_path / "q.db", flaky_factory, backoff=backoff, sleep=fake_sleep)
    try:
        queue.enqueue(sale_receipt(), open_drawer=False)
        queue.start()
        assert idle.wait(10), "the worker never went idle"
        release.set()
        queue.stop()
    finally:
        release.set()
        queue.close()
    assert delays == [1, 2, 3, 30]  # doubling, capped at max_s, then idle polling
    assert receipt_numbers(decode(printer.output)) == [RECEIPT_NO]


def test_backoff_delays() -> None:
    backoff = Backoff(first_s=1, factor=2, max_s=60)
    assert [backoff.delay(n) for n in (1, 2, 3, 6, 7, 20)] == [1, 2, 4, 32, 60, 60]
