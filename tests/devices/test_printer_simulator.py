"""The simulated network printer: one TCP connection is one job, probes are not jobs."""

from __future__ import annotations

import socket
import threading

from devices.printer import commands
from devices.printer.decode import decode
from devices.printer.simulator import NetworkPrinterSimulator
from devices.printer.transports import open_printer
from tests.devices.conftest import wait_for


def test_each_connection_is_one_job_and_empty_ones_are_ignored() -> None:
    jobs: list[bytes] = []
    lock = threading.Lock()

    def on_job(data: bytes) -> None:
        with lock:
            jobs.append(data)
        if b"boom" in data:
            raise RuntimeError("a bad job")  # must not stop the printer

    with NetworkPrinterSimulator(on_job, port=0) as simulator:
        host, port = simulator.address
        socket.create_connection((host, port)).close()  # a probe: connects, sends nothing
        with socket.create_connection((host, port)) as conn:
            conn.sendall(b"boom")
        wait_for(lambda: len(jobs) == 1)
        for done, text in enumerate(("可口可乐 3.50", "雪碧 3.20"), start=2):
            printer = open_printer({"type": "network", "host": host, "port": port})
            try:
                commands.text_line(printer, text)
                commands.cut(printer)
            finally:
                printer.close()
            wait_for(lambda done=done: len(jobs) == done)
    assert jobs[0] == b"boom"
    assert [decode(job) for job in jobs[1:]] == [
        [("text", "可口可乐 3.50"), ("cut",)],
        [("text", "雪碧 3.20"), ("cut",)],
    ]
