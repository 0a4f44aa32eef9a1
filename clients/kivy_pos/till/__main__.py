"""Start the till: python -m clients.kivy_pos.till --server 127.0.0.1:50051 --device till-01"""

from __future__ import annotations

import argparse
from pathlib import Path

from clients.kivy_pos.till import kivy_setup


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m clients.kivy_pos.till")
    parser.add_argument("--server", default="127.0.0.1:50051")
    parser.add_argument(
        "--tls-ca", type=Path, help="PEM to check the server's TLS certificate (TLS on)"
    )
    parser.add_argument("--device", default="till-01")
    parser.add_argument("--size", default="1024x768", help="window size, e.g. 1920x1080")
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    parser.add_argument(
        "--printer", default="", help="network:HOST[:PORT], file:/dev/usb/lp0, serial:..., dummy"
    )
    parser.add_argument("--display", default="", help="pole display: /dev/ttyUSB0 or file:PATH")
    parser.add_argument("--print-queue", default="var/till-print-queue.db", type=Path)
    args = parser.parse_args(argv)
    width, height = (int(n) for n in args.size.split("x"))
    kivy_setup.configure(width, height)

    from clients.kivy_pos.client import StoreClient
    from clients.kivy_pos.till.devices import TillDevices
    from clients.kivy_pos.till.kivy_app import TillApp
    from clients.kivy_pos.till.presenter import TillPresenter
    from clients.kivy_pos.till.texts import Texts

    tls_ca = args.tls_ca.read_bytes() if args.tls_ca else None
    client = StoreClient(args.server, args.device, tls_ca=tls_ca)
    devices = TillDevices(printer=args.printer, display=args.display, queue_path=args.print_queue)
    try:
        TillApp(TillPresenter(client, texts=Texts(args.lang), devices=devices)).run()
    finally:
        devices.close()
        client.close()


if __name__ == "__main__":
    main()
