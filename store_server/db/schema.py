"""The whole schema: importing this registers every table on Base.metadata."""

from __future__ import annotations

from store_server.db import (
    masterdata_models,
    member_models,
    promotion_models,
    sales_models,
    stock_models,
)
from store_server.db.models import Base

metadata = Base.metadata
__all__ = [
    "masterdata_models",
    "member_models",
    "metadata",
    "promotion_models",
    "sales_models",
    "stock_models",
]
