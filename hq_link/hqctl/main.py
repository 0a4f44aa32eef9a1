"""`hqctl [--database URL | --config hq.toml] <command> ...`.

Each command group lives in its own module with `register(subparsers)`; a
command's handler is `func(ctx, args) -> int` (the exit status), where ctx
carries the HQ database URL. The database comes from --database, then
TILLPOINT_HQ_DATABASE, then the [hq] section of --config, then the demo's
sqlite:///var/hq.db (as `python -m hq_link.hq`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE = "sqlite:///var/hq.db"


@dataclass(frozen=True)
class HqctlContext:
    database_url: str
    config: dict


# Modules with register(subparsers); one line each.
COMMAND_MODULES: list[str] = [
    "hq_link.hqctl.ca_cmds",  # ca init, cert store|server|show (mTLS)
    "hq_link.hqctl.masterdata_cmds",  # product|price|promotion|currency|tier|operator
    "hq_link.hqctl.onecard_cmds",  # members negative|balance (一卡通)
    "hq_link.hqctl.reconcile_cmds",  # reconcile --date, settlement --from --to
    "hq_link.hqctl.report_cmds",  # report summary|stores|... (consolidated)
    "hq_link.hqctl.user_cmds",  # user add|list|remove (owners see their stores)
]


def _registrars() -> list[Callable[[argparse._SubParsersAction], None]]:
    import importlib

    return [importlib.import_module(name).register for name in COMMAND_MODULES]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hqctl", description="Tillpoint HQ administration")
    p.add_argument("--config", help="TOML file with an [hq] section (as the HQ server's)")
    p.add_argument(
        "--database", help=f"SQLAlchemy URL of HQ's database (default {DEFAULT_DATABASE})"
    )
    sub = p.add_subparsers(dest="command", required=True)
    for register in _registrars():
        register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config: dict = {}
    if args.config:
        try:
            config = tomllib.loads(Path(args.config).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            print(f"hqctl: config {args.config}: {exc}", file=sys.stderr)
            return 2
    database = (
        args.database
        or os.environ.get("TILLPOINT_HQ_DATABASE")
        or config.get("hq", {}).get("database")
        or DEFAULT_DATABASE
    )
    return int(args.func(HqctlContext(database_url=database, config=config), args))


if __name__ == "__main__":
    sys.exit(main())
