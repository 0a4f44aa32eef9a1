"""`python -m soak [--seconds 600] [--tills 30] [--handhelds 3] [--hq-database URL]`
(`make soak`): exit status 0 only when the soak passed every check."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from soak.runner import run
from soak.settings import SoakSettings


def main(argv: list[str] | None = None) -> int:
    d = SoakSettings()
    p = argparse.ArgumentParser(prog="python -m soak", description=__doc__)
    p.add_argument("--seconds", type=float, default=d.seconds)
    p.add_argument("--tills", type=int, default=d.tills)
    p.add_argument("--handhelds", type=int, default=d.handhelds)
    p.add_argument("--out", type=Path, default=d.out_dir, help="working directory and summary")
    p.add_argument(
        "--hq-database", default="", help="HQ's SQLAlchemy URL (default: SQLite in --out)"
    )
    p.add_argument("--progress-seconds", type=float, default=d.progress_seconds)
    p.add_argument("--window-seconds", type=float, default=d.window_seconds)
    p.add_argument("--latency-tolerance", type=float, default=d.latency_tolerance)
    p.add_argument("--rss-tolerance", type=float, default=d.rss_tolerance)
    p.add_argument("--seed", type=int, default=d.seed)
    a = p.parse_args(argv)
    if a.seconds <= 0 or a.tills < 1 or a.handhelds < 0:
        p.error("--seconds must be positive, --tills at least 1, --handhelds not negative")
    settings = SoakSettings(
        seconds=a.seconds,
        tills=a.tills,
        handhelds=a.handhelds,
        out_dir=a.out,
        hq_database=a.hq_database,
        progress_seconds=a.progress_seconds,
        window_seconds=a.window_seconds,
        latency_tolerance=a.latency_tolerance,
        rss_tolerance=a.rss_tolerance,
        seed=a.seed,
    )
    return 0 if run(settings)["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
