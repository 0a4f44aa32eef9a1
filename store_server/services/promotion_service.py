"""tillpoint.v1.PromotionService."""

from __future__ import annotations

import json

import grpc

from store_server.clock import Clock
from store_server.config import Config
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.domain.errors import InvalidArgument, NotFound
from store_server.interceptor import principal_of
from store_server.promotions import PromotionBook, create, end, listing
from store_server.services.convert import ts
from tillpoint.v1 import promotions_pb2, promotions_pb2_grpc

MAX_DEFINITION = 64 * 1024


def _info(
    promo_id: str, status: str, definition: str, created_at: object
) -> promotions_pb2.PromotionInfo:
    return promotions_pb2.PromotionInfo(
        promo_id=promo_id,
        name=json.loads(definition)["name"],
        active=status == "active",
        definition_json=definition,
        created_at=ts(created_at),
    )


class PromotionService(promotions_pb2_grpc.PromotionServiceServicer):
    def __init__(self, db: Database, config: Config, clock: Clock, book: PromotionBook) -> None:
        self._db = db
        self._cfg = config
        self._clock = clock
        self._book = book

    def _uow(self, context: grpc.ServicerContext):
        who = principal_of(context)
        return unit_of_work(self._db, Actor(who.operator_id, who.device_id), self._clock.now())

    def CreatePromotion(self, request, context: grpc.ServicerContext):
        if len(request.definition_json) > MAX_DEFINITION:
            raise InvalidArgument("definition_json", "at most 64 KiB")
        try:
            data = json.loads(request.definition_json)
        except ValueError as exc:
            raise InvalidArgument("definition_json", f"not JSON: {exc}") from exc
        with self._uow(context) as uow:
            promo = create(uow, data, zone=self._cfg.timezone)
            uow.after_commit(self._book.forget)
        return self._one(promo.promo_id)

    def ListPromotions(self, request, context: grpc.ServicerContext):
        with self._db.read() as conn:
            rows = listing(conn, include_ended=request.include_ended)
        return promotions_pb2.ListPromotionsResponse(promotions=[_info(*r) for r in rows])

    def EndPromotion(self, request, context: grpc.ServicerContext):
        if not request.promo_id:
            raise InvalidArgument("promo_id", "name the promotion")
        with self._uow(context) as uow:
            end(uow, request.promo_id)
            uow.after_commit(self._book.forget)
        return self._one(request.promo_id)

    def _one(self, promo_id: str) -> promotions_pb2.PromotionInfo:
        with self._db.read() as conn:
            for row in listing(conn, include_ended=True):
                if row[0] == promo_id:
                    return _info(*row)
        raise NotFound(f"no promotion {promo_id}")
