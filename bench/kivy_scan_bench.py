"""Till scan latency: a keyboard-wedge Enter to the new line drawn on the till's screen.

`make bench` runs run(): the store server as its own process on the 100,000-SKU bench
store, the real till window under xvfb-run (this module with --window), 500 scans typed
like a wedge scanner (the code's characters, then Enter); each is timed from the Enter
key event to the first frame flipped after the sell screen shows the new line (the
server's AddItem, the presenter, the view and Kivy's layout and drawing): the moment
the frame is handed to the window's swap. Under Xvfb the software renderer (Mesa
llvmpipe) rasterises the frame during that swap; when the swap returns (the pixels
are in the X server) is printed beside it, not judged. The physical
reference is the raw gRPC echo p99 to the same server in the same run (250 calls before
and 250 after the window). Baskets are held every 25 scans, so baskets stay till-sized.
Target: p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCANS = 500
PER_BASKET = 25
TARGET_MS = 100.0


def _codes(db: Path, count: int) -> list[str]:
    with sqlite3.connect(db) as conn:
        codes = [
            r[0]
            for r in conn.execute(
                "SELECT b.code FROM barcodes b JOIN products p ON p.id = b.product_id "
                "WHERE b.pack_factor = 1 AND p.status = 'active' AND p.weighed = 0"
            )
        ]
    return random.Random(23).sample(codes, count)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * q) - 1)]


def run() -> bool:
    import grpc

    from bench.support import BENCH_DIR, catalog_db, measure, start_server, verdict
    from tillpoint.v1 import diagnostics_pb2, diagnostics_pb2_grpc

    print("\n== till scan latency (Kivy window under Xvfb)")
    source = catalog_db(100_000)
    db = BENCH_DIR / "kivy-scan.db"
    for leftover in BENCH_DIR.glob("kivy-scan.db*"):
        leftover.unlink()
    shutil.copy(source, db)
    codes = _codes(db, SCANS)
    server = start_server(db)
    try:
        channel = grpc.insecure_channel(server.address)
        echo = diagnostics_pb2_grpc.DiagnosticsServiceStub(channel)
        empty = diagnostics_pb2.EchoMessage()
        for _ in range(50):
            echo.Echo(empty, timeout=5)
        before = measure(lambda i: echo.Echo(empty, timeout=5), 250, label="echo before")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "scan.json"
            codes_file = Path(tmp) / "codes.json"
            codes_file.write_text(json.dumps(codes))
            env = {**os.environ, "KIVY_HOME": str(Path(tmp) / "kivy"), "KIVY_NO_ARGS": "1"}
            env.pop("KIVY_GL_BACKEND", None)  # the mock backend hangs
            command = [
                "xvfb-run", "-a", "-s", "-screen 0 1024x768x24", sys.executable, "-m",
                "bench.kivy_scan_bench", "--window", "--server", server.address,
                "--codes", str(codes_file), "--out", str(out),
            ]  # fmt: skip
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
            if done.returncode != 0 or not out.exists():
                print(done.stdout[-2000:], done.stderr[-4000:], file=sys.stderr)
                print("  the till window failed: TARGET MISSED")
                return False
            # Per scan, ms after the Enter key: worker starts, presenter done (AddItem
            # answered), view shown, frame flipped (the figure), swap done.
            detail = json.loads(out.read_text())
            scans = [d[3] for d in detail]
        after = measure(lambda i: echo.Echo(empty, timeout=5), 250, label="echo after")
        channel.close()
    finally:
        server.stop()
    echo_p99 = max(before.p99_ms, after.p99_ms)
    p50, p99 = _percentile(scans, 0.5), _percentile(scans, 0.99)
    ok = p99 < TARGET_MS
    stages = (
        "worker picks up the Enter",
        "presenter done (AddItem)",
        "view shown",
        "drawn",
        "swapped (pixels in Xvfb)",
    )
    for n, stage in enumerate(stages):
        values = [d[n] for d in detail]
        print(f"    {stage:<26} p50 {_percentile(values, 0.5):6.1f}  p99 "
              f"{_percentile(values, 0.99):6.1f} ms")  # fmt: skip
    print(f"  scans timed: {len(scans)} (wedge Enter -> line drawn, 100,000-SKU store)")
    print(
        f"  scan to screen p50 / p99: {p50:.1f} / {p99:.1f} ms   raw gRPC echo p99: "
        f"{echo_p99:.2f} ms (x{p99 / echo_p99:.1f})   target p99 < {TARGET_MS:.0f} ms: "
        f"{verdict(ok)}"
    )
    return ok


def window(server: str, codes: list[str], out: Path) -> None:
    """In the Xvfb process: the real till app, logged in, scanning like a wedge."""
    from clients.kivy_pos.till import kivy_setup

    kivy_setup.configure(1024, 768)
    from kivy.clock import Clock
    from kivy.core.window import Window

    from clients.kivy_pos.client import StoreClient
    from clients.kivy_pos.till.keys import ENTER
    from clients.kivy_pos.till.kivy_app import TillApp
    from clients.kivy_pos.till.presenter import Step, TillPresenter
    from clients.kivy_pos.till.view_model import Screen, TillView

    client = StoreClient(server, "bench-till")
    presenter = TillPresenter(client)
    app = TillApp(presenter)
    state: dict = {"lines": 0, "expect": -1, "t0": 0.0, "i": 0, "samples": [], "shown": 0.0}
    original_show = app._show
    original_enter = presenter.enter

    def timed_enter() -> None:  # on the worker: the presenter's part (AddItem included)
        state["work0"] = time.perf_counter()
        original_enter()
        state["work1"] = time.perf_counter()

    presenter.enter = timed_enter  # type: ignore[method-assign]

    def show(view: TillView, step: Step) -> None:
        original_show(view, step)
        if len(view.lines) != state["lines"]:
            state["shown"] = time.perf_counter()
        state["lines"] = len(view.lines)

    app._show = show  # type: ignore[method-assign]

    def on_flip(*_args: object) -> None:  # bound handlers run before Window's own swap
        if state["expect"] >= 0 and state["lines"] == state["expect"]:
            state["flipped"] = time.perf_counter()
            state["expect"] = -1
            state["swapping"] = True

    original_flip = Window.flip

    def flip() -> None:
        original_flip()
        if state.pop("swapping", False):
            now = time.perf_counter()
            t0 = state["t0"]
            times = (state["work0"], state["work1"], state["shown"], state["flipped"], now)
            state["samples"].append([(t - t0) * 1000 for t in times])
            Clock.schedule_once(scan, 0)

    Window.flip = flip  # type: ignore[method-assign]

    def type_text(text: str) -> None:
        for ch in text:
            Window.dispatch("on_key_down", ord(ch), 0, ch, [])
            Window.dispatch("on_textinput", ch)
            Window.dispatch("on_key_up", ord(ch), 0)

    def enter() -> None:
        Window.dispatch("on_key_down", ENTER, 0, None, [])
        Window.dispatch("on_key_up", ENTER, 0)

    def scan(_dt: float) -> None:
        if not app.idle:
            Clock.schedule_once(scan, 0.01)
            return
        i = state["i"]
        if i == len(codes):
            out.write_text(json.dumps(state["samples"]))
            app.stop()
            return
        if i and i % PER_BASKET == 0 and state["lines"]:
            app.do("hold")  # a fresh basket, as the next customer's
            Clock.schedule_once(scan, 0.05)
            return
        state["i"] = i + 1
        type_text(codes[i])
        state["expect"] = state["lines"] + 1
        state["t0"] = time.perf_counter()
        enter()

    def log_in(_dt: float) -> None:
        if not app.idle:
            Clock.schedule_once(log_in, 0.05)
            return
        if presenter.screen is Screen.SELL:
            Clock.schedule_once(scan, 0.5)
            return
        typed = {Step.OPERATOR: "1001", Step.PIN: "1111", Step.FLOAT: "500"}[presenter.step]
        type_text(typed)
        enter()
        Clock.schedule_once(log_in, 0.1)

    Window.bind(on_flip=on_flip)
    Clock.schedule_once(log_in, 1.0)
    app.run()
    client.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--window", action="store_true")
    parser.add_argument("--server", default="")
    parser.add_argument("--codes", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.window:
        window(args.server, json.loads(args.codes.read_text()), args.out)
        return 0
    return 0 if run() else 1


if __name__ == "__main__":
    sys.exit(main())
