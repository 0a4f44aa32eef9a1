"""The HQ server's wiring: database, servicers, health, reflection, port."""

from __future__ import annotations

import logging
from concurrent import futures
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy import Engine, create_engine, event

from hq_link.hq import tables
from hq_link.hq.identity import StoreIdentityInterceptor
from hq_link.hq.ingest import Ingest
from hq_link.hq.masterdata import service as masterdata
from hq_link.hq.onecard import service as onecard
from hq_link.hq.replication_service import ReplicationService
from hq_link.hq.reports import service as hq_reports
from hq_link.security.tls import ServerTls
from tillpoint.hq.v1 import replication_pb2, replication_pb2_grpc

log = logging.getLogger(__name__)
SERVICE = replication_pb2.DESCRIPTOR.services_by_name["ReplicationService"].full_name
# A batch never splits a store transaction, and one transaction (a catalog
# import) can be large: allow far more than gRPC's default 4 MiB.
MAX_MESSAGE = 256 * 1024 * 1024


def make_engine(url: str) -> Engine:
    """PostgreSQL (postgresql+psycopg://...) for a chain, SQLite for a demo."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _wal(dbapi_conn: object, _record: object) -> None:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")  # type: ignore[attr-defined]

        return engine
    return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)


@dataclass
class HqServer:
    server: grpc.Server
    engine: Engine
    health: health.HealthServicer
    port: int
    host: str

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        self.server.start()
        self.health.set(SERVICE, health_pb2.HealthCheckResponse.SERVING)
        self.health.set("", health_pb2.HealthCheckResponse.SERVING)

    def stop(self, grace: float = 5.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        self.engine.dispose()


def build_server(
    database_url: str, listen: str, *, workers: int = 16, tls: ServerTls | None = None
) -> HqServer:
    """With `tls`, only clients with a certificate of the chain's CA connect and
    each acts only as its own store; without it, plaintext (demo, in-process tests)."""
    engine = make_engine(database_url)
    tables.metadata.create_all(engine)
    tables.upgrade(engine)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hq"),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
        ],
        # Every HQ service, also those added later: a store acts only as itself.
        interceptors=[StoreIdentityInterceptor()],
    )
    replication_pb2_grpc.add_ReplicationServiceServicer_to_server(
        ReplicationService(Ingest(engine)), server
    )
    onecard_service = onecard.add_to_server(server, engine)  # 一卡通 pull
    masterdata_service = masterdata.add_to_server(server, engine)  # master data down
    reports_service = hq_reports.add_to_server(server, engine)  # owners' and HQ's reports
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (
            SERVICE,
            onecard_service,
            masterdata_service,
            reports_service,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    if tls is not None:
        port = server.add_secure_port(listen, tls.credentials())
    else:
        port = server.add_insecure_port(listen)
    if port == 0:
        raise OSError(f"cannot listen on {listen}")
    host = listen.rsplit(":", 1)[0]
    return HqServer(server=server, engine=engine, health=health_servicer, port=port, host=host)
