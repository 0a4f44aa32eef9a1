"""The catalog's search index, kept in step with the catalog revision.

Built on the first search (not at start-up, which stays fast), then brought
up to date before each search by reading only the products whose revision
moved — a price change, an import, or HQ's master data.
"""

from __future__ import annotations

import threading

from sqlalchemy import Connection

from store_server.db import catalog_repo
from store_server.domain.catalog import ProductInfo
from store_server.domain.search import Entry, SearchIndex


class CatalogSearch:
    def __init__(self) -> None:
        self._index = SearchIndex()
        self._revision = -1
        self._lock = threading.Lock()

    def search(
        self,
        conn: Connection,
        store_id: str,
        query: str,
        *,
        offset: int,
        limit: int,
        include_inactive: bool,
    ) -> tuple[list[ProductInfo], int]:
        with self._lock:
            self._refresh(conn)
            ids, total = self._index.search(
                query, offset=offset, limit=limit, include_inactive=include_inactive
            )
        return catalog_repo.products_by_ids(conn, store_id, ids), total

    def _refresh(self, conn: Connection) -> None:
        revision = catalog_repo.catalog_revision(conn)
        if revision == self._revision:
            return
        rows = catalog_repo.index_rows(conn, max(self._revision, 0))
        self._index.upsert(
            Entry(product_id=r[0], sku=r[1], name=r[2], pinyin=r[3], active=bool(r[4]))
            for r in rows
        )
        self._revision = revision
