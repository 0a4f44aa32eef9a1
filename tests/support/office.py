"""What the back office does to a running store in the service tests: promotions and prices."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from tests.support.server import DEADLINE, RunningStore
from tillpoint.v1 import catalog_pb2, common_pb2, promotions_pb2, promotions_pb2_grpc


def create_promotion(
    store: RunningStore, md: list, definition: dict
) -> promotions_pb2.PromotionInfo:
    """CreatePromotion with `definition` as its JSON."""
    return promotions_pb2_grpc.PromotionServiceStub(store.channel).CreatePromotion(
        promotions_pb2.CreatePromotionRequest(definition_json=json.dumps(definition)),
        metadata=md,
        timeout=DEADLINE,
    )


def schedule_price(
    store: RunningStore,
    md: list,
    sku: str,
    retail: int,
    effective: datetime | None = None,
    change_id: str | None = None,
) -> catalog_pb2.PriceChange:
    """A retail price change for `sku`: now, or at `effective`."""
    product = store.catalog.GetProduct(
        catalog_pb2.GetProductRequest(sku=sku), metadata=md, timeout=DEADLINE
    )
    req = catalog_pb2.SchedulePriceChangeRequest(
        change_id=change_id or str(uuid.uuid4()),
        product_id=product.product_id,
        retail_price=common_pb2.Money(fen=retail),
    )
    if effective is not None:
        req.effective_at.FromDatetime(effective)
    return store.catalog.SchedulePriceChange(req, metadata=md, timeout=DEADLINE)
