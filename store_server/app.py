"""Wiring: the only place that builds the server (route_guide's serve())."""

from __future__ import annotations

import logging
import threading
import time
from concurrent import futures
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from store_server.appliance.health_monitor import HealthMonitor
from store_server.auth import Authenticator
from store_server.baskets import Baskets
from store_server.checkout import Checkout
from store_server.clock import Clock, SystemClock
from store_server.config import Config
from store_server.db import migrate
from store_server.db.database import Database
from store_server.db.group_commit import GroupCommitter
from store_server.hq_apply.tiers import with_hq_tiers
from store_server.interceptor import TillpointInterceptor
from store_server.members.book import MemberBook
from store_server.members.expiry_job import PointsExpiryJob
from store_server.members.registry import Members
from store_server.prices import PriceScheduler
from store_server.promotions import PromotionBook
from store_server.returns import Returns
from store_server.services.auth_service import AuthService
from store_server.services.catalog_service import CatalogService
from store_server.services.diagnostics_service import DiagnosticsService
from store_server.services.member_service import MemberService
from store_server.services.promotion_service import PromotionService
from store_server.services.report_service import ReportService
from store_server.services.sales_service import SalesService
from store_server.services.stock_service import StockService
from store_server.services.stocktake_service import StocktakeService
from store_server.shifts import Shifts
from store_server.tls import add_port
from tillpoint.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    diagnostics_pb2,
    diagnostics_pb2_grpc,
    members_pb2,
    members_pb2_grpc,
    promotions_pb2,
    promotions_pb2_grpc,
    reports_pb2,
    reports_pb2_grpc,
    sales_pb2,
    sales_pb2_grpc,
    stock_pb2,
    stock_pb2_grpc,
)

log = logging.getLogger(__name__)

SERVICE_NAMES = (
    auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name,
    catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name,
    diagnostics_pb2.DESCRIPTOR.services_by_name["DiagnosticsService"].full_name,
    sales_pb2.DESCRIPTOR.services_by_name["SalesService"].full_name,
    promotions_pb2.DESCRIPTOR.services_by_name["PromotionService"].full_name,
    members_pb2.DESCRIPTOR.services_by_name["MemberService"].full_name,
    stock_pb2.DESCRIPTOR.services_by_name["StockService"].full_name,
    stock_pb2.DESCRIPTOR.services_by_name["StocktakeService"].full_name,
    reports_pb2.DESCRIPTOR.services_by_name["ReportService"].full_name,
)
TICK_SECONDS = 30.0
# How often the tick thread looks for price changes and promotions another
# process wrote: under their RECHECK_SECONDS, so a scan never pays that read.
REFRESH_SECONDS = 0.4
# Well under gRPC's 4 MiB default; our largest message (a catalog chunk of
# 2,000 products) is ~0.5 MiB.
MAX_MESSAGE = 4 * 1024 * 1024


@dataclass
class StoreServer:
    config: Config
    db: Database
    server: grpc.Server
    health: health.HealthServicer
    port: int
    prices: PriceScheduler
    clock: Clock
    committer: GroupCommitter
    monitor: HealthMonitor
    expiry: PointsExpiryJob
    promotions: PromotionBook
    _stop_tick: threading.Event = field(default_factory=threading.Event)

    @property
    def address(self) -> str:
        host = self.config.listen.rsplit(":", 1)[0]
        return f"{host}:{self.port}"

    def start(self) -> None:
        self.db.start_checkpointer()
        self.server.start()
        self.prices.ensure_current(self.clock.now())
        threading.Thread(target=self._tick, name="price-tick", daemon=True).start()
        for name in ("", *SERVICE_NAMES):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        # From here on health follows the disk: NOT_SERVING at once if it is full.
        self.monitor.start()
        log.info("store %s serving on %s", self.config.store_id, self.address)

    def _tick(self) -> None:
        expiry_due = 0.0
        while True:
            if time.monotonic() >= expiry_due:
                expiry_due = time.monotonic() + TICK_SECONDS
                try:
                    self.expiry.tick()
                except Exception:
                    log.exception("points expiry failed")
            if self._stop_tick.wait(REFRESH_SECONDS):
                return
            try:
                self.prices.ensure_current(self.clock.now())
                self.promotions.current()
            except Exception:
                log.exception("price tick failed")

    def stop(self, grace: float | None = None) -> None:
        """Stop cleanly: say NOT_SERVING, finish in-flight calls, close the database."""
        grace = self.config.grace_seconds if grace is None else grace
        self.health.enter_graceful_shutdown()
        self._stop_tick.set()
        self.server.stop(grace).wait()
        self.committer.close()
        self.db.dispose()
        log.info("store server stopped")

    def wait(self) -> None:
        self.server.wait_for_termination()


def build_server(config: Config, *, clock: Clock | None = None) -> StoreServer:
    """Open and migrate the database, then build (not start) the server."""
    clock = clock or SystemClock()
    db = Database(config.database, synchronous=config.synchronous)
    try:
        migrate.upgrade(db)
    except Exception as exc:
        raise MigrationFailed(_migration_failure(config, db, exc)) from exc
    config = with_hq_tiers(config, db)  # member tiers from HQ's master data, if any
    auth = Authenticator(db, clock, config.token_ttl)
    prices = PriceScheduler(db)
    health_servicer = health.HealthServicer()
    monitor = HealthMonitor(
        health_servicer,
        SERVICE_NAMES,
        config.database,
        min_free_bytes=config.appliance.min_free_mb * 1_048_576,
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="rpc"),
        interceptors=[TillpointInterceptor(auth, db, clock, on_storage_fault=monitor.report_fault)],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
        ],
    )
    auth_pb2_grpc.add_AuthServiceServicer_to_server(AuthService(auth), server)
    catalog_pb2_grpc.add_CatalogServiceServicer_to_server(
        CatalogService(db, config, clock, prices), server
    )
    diagnostics_pb2_grpc.add_DiagnosticsServiceServicer_to_server(DiagnosticsService(), server)
    shifts = Shifts(db, config, clock)
    committer = GroupCommitter(db)
    book = PromotionBook(db, config)
    member_book = MemberBook(db, config)
    members = Members(db, config, clock, member_book)
    baskets = Baskets(db, config, clock, prices, book, member_book)
    members_pb2_grpc.add_MemberServiceServicer_to_server(MemberService(members, shifts), server)
    promotions_pb2_grpc.add_PromotionServiceServicer_to_server(
        PromotionService(db, config, clock, book), server
    )
    sales_pb2_grpc.add_SalesServiceServicer_to_server(
        SalesService(
            auth,
            baskets,
            Checkout(db, config, clock, baskets, shifts, committer, member_book),
            Returns(db, config, clock, shifts, member_book),
            members,
            shifts,
        ),
        server,
    )
    stock_pb2_grpc.add_StockServiceServicer_to_server(StockService(db, clock), server)
    stock_pb2_grpc.add_StocktakeServiceServicer_to_server(
        StocktakeService(db, clock, committer), server
    )
    reports_pb2_grpc.add_ReportServiceServicer_to_server(ReportService(db, config, clock), server)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *SERVICE_NAMES):
        health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = add_port(server, config)  # TLS when [server] tls_cert/tls_key are set
    if port == 0:
        db.dispose()
        raise OSError(f"cannot listen on {config.listen}")
    return StoreServer(
        expiry=PointsExpiryJob(db, config, clock, member_book),
        promotions=book,
        committer=committer,
        monitor=monitor,
        config=config,
        db=db,
        server=server,
        health=health_servicer,
        port=port,
        prices=prices,
        clock=clock,
    )


class MigrationFailed(RuntimeError):
    """The schema upgrade failed; the database is as it was before the attempt."""


def _migration_failure(config: Config, db: Database, exc: Exception) -> str:
    # Alembic runs every pending migration in one SQLite transaction, so a
    # failure rolls all of them back: say where the database stays.
    try:
        at = migrate.current_revision(db)
    except Exception:
        at = "unknown"
    finally:
        db.dispose()
    return (
        f"upgrading {config.database} to schema {migrate.head_revision()} failed, "
        f"the database is unchanged at schema {at}: {type(exc).__name__}: {exc}"
    )
