"""Standard gRPC tooling works: health checking and server reflection."""

from __future__ import annotations

from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.support.server import DEADLINE, RunningStore
from tillpoint.v1 import diagnostics_pb2


def test_health_reports_serving_for_the_server_and_each_service(store: RunningStore) -> None:
    stub = health_pb2_grpc.HealthStub(store.channel)
    for name in ("", "tillpoint.v1.AuthService", "tillpoint.v1.CatalogService"):
        resp = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=DEADLINE)
        assert resp.status == health_pb2.HealthCheckResponse.SERVING, name


def test_health_says_not_serving_while_stopping(store: RunningStore) -> None:
    store.store.health.enter_graceful_shutdown()
    stub = health_pb2_grpc.HealthStub(store.channel)
    resp = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=DEADLINE)
    assert resp.status == health_pb2.HealthCheckResponse.NOT_SERVING


def test_reflection_lists_every_service(store: RunningStore) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(store.channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    (response,) = list(stub.ServerReflectionInfo(iter([request]), timeout=DEADLINE))
    names = {s.name for s in response.list_services_response.service}
    assert {
        "tillpoint.v1.AuthService",
        "tillpoint.v1.CatalogService",
        "tillpoint.v1.DiagnosticsService",
        "grpc.health.v1.Health",
    } <= names
    # And a tool can fetch the schema of a service from it.
    request = reflection_pb2.ServerReflectionRequest(
        file_containing_symbol="tillpoint.v1.CatalogService"
    )
    (response,) = list(stub.ServerReflectionInfo(iter([request]), timeout=DEADLINE))
    assert response.file_descriptor_response.file_descriptor_proto


def test_echo_needs_no_login(store: RunningStore) -> None:
    msg = diagnostics_pb2.EchoMessage(payload=b"\x00ping")
    assert store.diagnostics.Echo(msg, timeout=DEADLINE).payload == b"\x00ping"
