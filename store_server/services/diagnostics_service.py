"""tillpoint.v1.DiagnosticsService: the benchmarks' reference round trip."""

from __future__ import annotations

import grpc

from tillpoint.v1 import diagnostics_pb2, diagnostics_pb2_grpc


class DiagnosticsService(diagnostics_pb2_grpc.DiagnosticsServiceServicer):
    def Echo(self, request: diagnostics_pb2.EchoMessage, context: grpc.ServicerContext):
        return request
