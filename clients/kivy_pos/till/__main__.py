"""Start the till: python -m clients.kivy_pos.till --server 127.0.0.1:50051 --device till-01"""

from __future__ import annotations

import argparse

from clients.kivy_pos.till import kivy_setup


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m clients.kivy_pos.till")
    parser.add_argument("--server", default="127.0.0.1:50051")
    parser.add_argument("--device", default="till-01")
    parser.add_argument("--size", default="1024x768", help="window size, e.g. 1920x1080")
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    args = parser.parse_args(argv)
    width, height = (int(n) for n in args.size.split("x"))
    kivy_setup.configure(width, height)

    from clients.kivy_pos.client import StoreClient
    from clients.kivy_pos.till.kivy_app import TillApp
    from clients.kivy_pos.till.presenter import TillPresenter
    from clients.kivy_pos.till.texts import Texts

    client = StoreClient(args.server, args.device)
    try:
        TillApp(TillPresenter(client, texts=Texts(args.lang))).run()
    finally:
        client.close()


if __name__ == "__main__":
    main()
