"""The whole schema: importing this registers every table on Base.metadata."""

from __future__ import annotations

from store_server.db import promotion_models, sales_models
from store_server.db.models import Base

metadata = Base.metadata
__all__ = ["metadata", "promotion_models", "sales_models"]
