"""tillpoint.hq.v1.OneCardService: the stores pull other stores' member changes."""

from __future__ import annotations

import grpc
from sqlalchemy import Engine

from hq_link.hq.identity import calling_store
from hq_link.hq.onecard.feed import DEFAULT_LIMIT, MAX_LIMIT, pull
from tillpoint.hq.v1 import onecard_pb2, onecard_pb2_grpc

SERVICE = onecard_pb2.DESCRIPTOR.services_by_name["OneCardService"].full_name


class OneCardService(onecard_pb2_grpc.OneCardServiceServicer):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def PullMemberChanges(
        self, request: onecard_pb2.PullMemberChangesRequest, context: grpc.ServicerContext
    ) -> onecard_pb2.PullMemberChangesResponse:
        if not request.store_id or len(request.store_id) > 16:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "store_id: 1-16 characters")
        if request.after_rev < 0:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "after_rev: 0 or more")
        if not 0 <= request.limit <= MAX_LIMIT:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"limit: 0..{MAX_LIMIT}")
        store_id = calling_store(context, request.store_id)
        page = pull(self._engine, store_id, request.after_rev, request.limit or DEFAULT_LIMIT)
        return onecard_pb2.PullMemberChangesResponse(
            changes=[
                onecard_pb2.MemberChange(
                    rev=r.rev,
                    store_id=r.store_id,
                    kind=r.kind,
                    key=r.key,
                    payload_json=r.payload_json,
                    at=r.at,
                )
                for r in page.rows
            ],
            next_rev=page.next_rev,
            head_rev=page.head_rev,
        )


def add_to_server(server: grpc.Server, engine: Engine) -> str:
    """Register the servicer; returns its full name (for health and reflection)."""
    onecard_pb2_grpc.add_OneCardServiceServicer_to_server(OneCardService(engine), server)
    return SERVICE
