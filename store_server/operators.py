"""Adding and changing operators (storectl; later HQ master data)."""

from __future__ import annotations

from sqlalchemy import insert, select, update

from store_server.db.models import Operator
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.errors import InvalidArgument
from store_server.domain.permissions import Role
from store_server.domain.pins import check_pin_format, hash_pin


def upsert_operator(
    uow: UnitOfWork, *, operator_id: str, name: str, role: str, pin: str, store_id: str
) -> bool:
    """Create or update an operator; returns True when created. The PIN is stored hashed."""
    if not (operator_id.isascii() and operator_id.isdigit()) or not 1 <= len(operator_id) <= 16:
        raise InvalidArgument("operator_id", "1-16 digits")
    if not name or len(name) > 40:
        raise InvalidArgument("name", "1-40 characters")
    try:
        Role(role)
    except ValueError as exc:
        raise InvalidArgument("role", f"one of {', '.join(r.value for r in Role)}") from exc
    check_pin_format(pin)
    values = {
        "name": name,
        "role": role,
        "pin_hash": hash_pin(pin),
        "store_id": store_id,
        "active": True,
        "failed_pin_count": 0,
        "locked_until": None,
    }
    exists = uow.conn.execute(
        select(Operator.id).where(Operator.operator_id == operator_id)
    ).first()
    if exists:
        uow.conn.execute(
            update(Operator).where(Operator.operator_id == operator_id).values(**values)
        )
    else:
        uow.conn.execute(
            insert(Operator).values(operator_id=operator_id, created_at=uow.now, **values)
        )
    # The audit and change log never carry the PIN or its hash.
    uow.audit("operator.upsert", operator_id, detail={"role": role, "created": not exists})
    uow.change(
        "operator",
        operator_id,
        {"operator_id": operator_id, "name": name, "role": role, "store_id": store_id},
    )
    return not exists
