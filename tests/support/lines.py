"""A basket line as the store keeps it, for the unit tests of scan pricing and encoding."""

from __future__ import annotations

from store_server.db.basket_repo import StoredLine


def stored_line(n: int, **kw: object) -> StoredLine:
    values: dict[str, object] = {
        "line_id": f"00000000-0000-4000-8000-{n:012d}",
        "seq": n,
        "product_id": 1000 + n,
        "sku": f"P{n}",
        "name": "可口可乐 330ml",
        "unit": "罐",
        "weighed": False,
        "tax_rate_bp": 1300,
        "code": "6901234567892",
        "pack_factor": 1,
        "quantity_milli": 1000,
        "unit_price_fen": 300,
        "member_unit_price_fen": None,
        "fixed_amount_fen": None,
        "override_unit_price_fen": None,
        "override_by": None,
        "gift": False,
        "category": "饮料",
    }
    values.update(kw)
    return StoredLine(**values)  # type: ignore[arg-type]
