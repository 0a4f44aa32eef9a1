"""proto <-> domain conversions shared by the servicers."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import timestamp_pb2

from store_server.domain.catalog import ProductInfo
from store_server.domain.errors import InvalidArgument
from tillpoint.v1 import catalog_pb2, common_pb2

DEFAULT_PAGE = 50
MAX_PAGE = 500


def ts(when: datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(when.astimezone(UTC))
    return out


def from_ts(value: timestamp_pb2.Timestamp, *, field: str) -> datetime:
    # Years 1970..9998 (9999 left out, so a shift to the store's
    # time zone cannot overflow), and nanos a Timestamp allows: anything else
    # would be a ValueError deep in the servicer (INTERNAL), not the caller's error.
    if not (0 <= value.seconds < 253370764800 and 0 <= value.nanos <= 999_999_999):
        raise InvalidArgument(field, "is not a valid time")
    return value.ToDatetime(tzinfo=UTC)


def money(fen: int | None) -> common_pb2.Money:
    return common_pb2.Money(fen=fen or 0)


def page_bounds(page: common_pb2.PageRequest, *, field: str = "page") -> tuple[int, int]:
    """(offset, limit) from a page request; the token is the offset as text."""
    if page.page_size < 0:
        raise InvalidArgument(f"{field}.page_size", "must not be negative")
    limit = min(page.page_size or DEFAULT_PAGE, MAX_PAGE)
    token = page.page_token
    if token and not (token.isascii() and token.isdigit() and len(token) <= 9):
        raise InvalidArgument(f"{field}.page_token", "is not a token this server gave out")
    return int(token or 0), limit


def next_page(offset: int, limit: int, total: int) -> common_pb2.PageResponse:
    nxt = offset + limit
    return common_pb2.PageResponse(
        next_page_token=str(nxt) if nxt < total else "", total_count=total
    )


_STATUS = {
    "active": catalog_pb2.PRODUCT_STATUS_ACTIVE,
    "inactive": catalog_pb2.PRODUCT_STATUS_INACTIVE,
}


def product(p: ProductInfo) -> catalog_pb2.Product:
    return catalog_pb2.Product(
        product_id=p.id,
        sku=p.sku,
        name=p.name,
        pinyin=p.pinyin,
        category=p.category,
        unit=p.unit,
        weighed=p.weighed,
        plu=p.plu or "",
        tax_rate_bp=p.tax_rate_bp,
        retail_price=money(p.retail_price_fen),
        member_price=money(p.member_price_fen),
        status=_STATUS.get(p.status, catalog_pb2.PRODUCT_STATUS_UNSPECIFIED),
        barcodes=[
            catalog_pb2.Barcode(code=b.code, pack_factor=b.pack_factor, price=money(b.price_fen))
            for b in p.barcodes
        ],
        revision=p.revision,
    )


def add_product_rows(
    chunk: catalog_pb2.CatalogChunk, rows: list[tuple[tuple, list[tuple]]]
) -> None:
    """Append catalog_repo's stream tuples to `chunk` (StreamCatalog's fast path).

    Filling fields in place is ~2.5x faster than building nested messages by
    keyword; at 100,000 products that is most of the stream's time.
    """
    for row, codes in rows:
        (
            pid,
            sku,
            name,
            pinyin,
            category,
            unit,
            weighed,
            plu,
            tax_bp,
            retail,
            member,
            status,
            revision,
        ) = row
        p = chunk.products.add(
            product_id=pid,
            sku=sku,
            name=name,
            pinyin=pinyin,
            category=category,
            unit=unit,
            weighed=bool(weighed),
            plu=plu or "",
            tax_rate_bp=tax_bp,
            status=_STATUS.get(status, catalog_pb2.PRODUCT_STATUS_UNSPECIFIED),
            revision=revision,
        )
        p.retail_price.fen = retail
        if member:
            p.member_price.fen = member
        for code, pack, price in codes:
            barcode = p.barcodes.add(code=code, pack_factor=pack)
            if price:
                barcode.price.fen = price
