"""The catalog's search index, kept in step with the catalog revision.

Built on the first search (not at start-up, which stays fast) and rebuilt on
the first search after the catalog revision moved (an import, a price change,
HQ's master data): a few hundred ms for 100,000 products, a few times a day.
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
        # A SKU typed in full is the most specific answer: first on the first page.
        by_sku = catalog_repo.get_product(conn, store_id, sku=query)
        if by_sku is not None and (include_inactive or by_sku.active) and by_sku.id not in ids:
            total += 1
            if offset == 0:
                ids = [by_sku.id, *ids][:limit]
        return catalog_repo.products_by_ids(conn, store_id, ids), total

    def _refresh(self, conn: Connection) -> None:
        revision = catalog_repo.catalog_revision(conn)
        if revision != self._revision:
            self._index = SearchIndex(
                Entry(product_id=r[0], name=r[1], pinyin=r[2], active=bool(r[3]))
                for r in catalog_repo.index_rows(conn, 0)
            )
            self._revision = revision
