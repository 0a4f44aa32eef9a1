"""Catalog speed on a 100,000-SKU store, beside the same run's raw gRPC echo.

Figures: barcode lookup p50/p99 vs echo p50/p99 (target: lookup p99 < 3x echo
p99), whole-catalog StreamCatalog time (target < 3 s on a 2-core machine),
store server RSS after streaming (target < 150 MB); name search for reference.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time

import grpc
import psutil

from bench.support import (
    catalog_db,
    login_metadata,
    measure,
    measure_pair,
    start_server,
    verdict,
)
from tillpoint.v1 import catalog_pb2, catalog_pb2_grpc, diagnostics_pb2, diagnostics_pb2_grpc

SKUS = 100_000
CALLS = 3_000


def run(skus: int = SKUS, calls: int = CALLS) -> bool:
    db = catalog_db(skus)
    with sqlite3.connect(db) as conn:
        codes = [r[0] for r in conn.execute("SELECT code FROM barcodes")]
    rng = random.Random(7)
    sample = [rng.choice(codes) for _ in range(calls)]
    server = start_server(db)
    try:
        channel = grpc.insecure_channel(server.address)
        md = login_metadata(channel)
        echo = diagnostics_pb2_grpc.DiagnosticsServiceStub(channel)
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        empty = diagnostics_pb2.EchoMessage()
        for _ in range(200):  # warm both paths up
            echo.Echo(empty, timeout=5)
            catalog.Lookup(catalog_pb2.LookupRequest(code=sample[0]), metadata=md, timeout=5)
        echo_lat, lookup_lat = measure_pair(
            lambda i: echo.Echo(empty, timeout=5),
            lambda i: catalog.Lookup(
                catalog_pb2.LookupRequest(code=sample[i]), metadata=md, timeout=5
            ),
            calls,
            label="echo + lookup",
        )
        words = ["牛奶", "可乐", "KSF", "面", "YL", "苹果", "洗衣", "啤酒"]
        search_lat = measure(
            lambda i: catalog.Search(
                catalog_pb2.SearchRequest(query=words[i % len(words)]), metadata=md, timeout=10
            ),
            200,
            label="search",
        )
        started = time.perf_counter()
        products = 0
        for chunk in catalog.StreamCatalog(
            catalog_pb2.StreamCatalogRequest(), metadata=md, timeout=120
        ):
            products += len(chunk.products)
        stream_s = time.perf_counter() - started
        rss_mb = psutil.Process(server.proc.pid).memory_info().rss / 2**20
        channel.close()
    finally:
        server.stop()

    ratio = lookup_lat.p99_ms / echo_lat.p99_ms
    print(f"\n== catalog, {skus:,} SKUs, {calls:,} sequential calls each, 127.0.0.1")
    print(
        f"  raw gRPC echo      p50 {echo_lat.p50_ms:6.3f} ms  p99 {echo_lat.p99_ms:6.3f} ms"
        f"  ({echo_lat.per_second:,.0f} calls/s)"
    )
    print(
        f"  barcode lookup     p50 {lookup_lat.p50_ms:6.3f} ms  p99 {lookup_lat.p99_ms:6.3f} ms"
        f"  ({lookup_lat.per_second:,.0f} calls/s)"
    )
    print(
        f"  lookup/echo        p50 x{lookup_lat.p50_ms / echo_lat.p50_ms:.2f}  p99 x{ratio:.2f}"
        f"   (target p99 < x3.00: {verdict(ratio < 3)})"
    )
    print(
        f"  name search        p50 {search_lat.p50_ms:6.3f} ms  p99 {search_lat.p99_ms:6.3f} ms"
        f"  (x{search_lat.p50_ms / echo_lat.p50_ms:.1f} echo p50; no target)"
    )
    print(
        f"  StreamCatalog      {products:,} products in {stream_s:.2f} s"
        f" = {stream_s * 1000 / echo_lat.p50_ms:,.0f} echo round trips"
        f"   (target < 3 s: {verdict(stream_s < 3)})"
    )
    print(
        f"  server RSS         {rss_mb:.0f} MB after the stream"
        f"   (target < 150 MB: {verdict(rss_mb < 150)})"
    )
    return products == skus and ratio < 3 and stream_s < 3 and rss_mb < 150


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
