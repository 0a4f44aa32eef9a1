"""Start the handheld counter:
python -m clients.kivy_pos.counter --server 127.0.0.1:50051 --device hh-01"""

from __future__ import annotations

import argparse
from pathlib import Path

from clients.kivy_pos.till import kivy_setup


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m clients.kivy_pos.counter")
    parser.add_argument("--server", default="127.0.0.1:50051")
    parser.add_argument(
        "--tls-ca", type=Path, help="PEM to check the server's TLS certificate (TLS on)"
    )
    parser.add_argument("--device", default="hh-01")
    parser.add_argument("--size", default="480x800")
    parser.add_argument("--queue", default="var/counter-queue.db", type=Path)
    args = parser.parse_args(argv)
    width, height = (int(n) for n in args.size.split("x"))
    kivy_setup.configure(width, height)

    from clients.kivy_pos.client import StoreClient
    from clients.kivy_pos.counter.count_queue import CountQueue
    from clients.kivy_pos.counter.kivy_app import CounterApp
    from clients.kivy_pos.counter.presenter import CounterPresenter

    tls_ca = args.tls_ca.read_bytes() if args.tls_ca else None
    client = StoreClient(args.server, args.device, tls_ca=tls_ca)
    count_queue = CountQueue(args.queue)
    try:
        CounterApp(CounterPresenter(client, count_queue)).run()
    finally:
        count_queue.close()
        client.close()


if __name__ == "__main__":
    main()
