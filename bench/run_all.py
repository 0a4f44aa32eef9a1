"""`make bench`: every benchmark, each printing its figure beside its physical reference."""

from __future__ import annotations

import sys

from bench import (
    catalog_bench,
    grpc_modes,
    hq_bench,
    kivy_scan_bench,
    members_bench,
    pricing_bench,
    reports_bench,
    sales_bench,
    stock_bench,
)


def main() -> int:
    results = {
        "grpc modes (sync vs aio)": grpc_modes.run(),
        "catalog": catalog_bench.run(),
        "selling": sales_bench.run(),
        "pricing with promotions": pricing_bench.run(),
        "stocktake": stock_bench.run(),
        "members (1,000,000)": members_bench.run(),
        "reports (300,000 lines)": reports_bench.run(),
        "till scan (Kivy, Xvfb)": kivy_scan_bench.run(),
        "HQ link": hq_bench.run(),
    }
    print("\n== summary")
    for name, ok in results.items():
        print(f"  {name:<28} {'ok' if ok else 'TARGET MISSED'}")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
