"""`make run DEVICES=sim`: the store server plus a simulated receipt printer.

    python -m clients.printing.sim_store --config config/store.demo.toml \\
        --printer-listen 127.0.0.1:9100 --out var/receipts

Starts the simulated network printer (clients.printing.sim_printer) in this process, then
the store server exactly as `make run` does (``python -m store_server --config ...``) as a
child process. Tills print with the printer config ``network:127.0.0.1:9100`` (`make
receipt-demo DEVICES=sim`), and every receipt appears in --out as .txt, .png and .bin.
Ctrl-C (or SIGTERM) stops the server cleanly first, then the printer; the exit status is
the server's.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from clients.printing.sim_printer import DEFAULT_LISTEN, parse_listen, start_simulator


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m clients.printing.sim_store", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--config", help="the store server's TOML configuration")
    parser.add_argument("--printer-listen", type=parse_listen, default=parse_listen(DEFAULT_LISTEN))
    parser.add_argument("--out", type=Path, default=Path("var/receipts"))
    args = parser.parse_args(argv)
    # force: an imported library (python-escpos) already configured the root logger.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    try:
        simulator = start_simulator(args.printer_listen, args.out)
    except OSError as exc:
        host, port = args.printer_listen
        print(f"error: simulated printer cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    host, port = simulator.address
    print(
        f"simulated receipt printer on {host}:{port} (printer config network:{host}:{port}), "
        f"receipts into {args.out}/",
        flush=True,
    )
    command = [sys.executable, "-m", "store_server"]
    if args.config:
        command += ["--config", args.config]
    try:
        server = subprocess.Popen(command)
    except OSError:
        simulator.stop()
        raise

    def forward(signum: int, _frame: object) -> None:
        # Ctrl-C in a terminal reaches the server too; a second SIGINT is harmless there.
        if server.poll() is None:
            server.send_signal(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, forward)
    try:
        status = server.wait()
    finally:
        simulator.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())
