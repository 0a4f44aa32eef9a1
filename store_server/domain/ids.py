"""Client-generated document ids."""

from __future__ import annotations

import uuid

from store_server.domain.errors import InvalidArgument


def check_uuid(text: str, field: str) -> str:
    """The canonical form of a UUID the client generated; INVALID_ARGUMENT otherwise."""
    if not text or len(text) > 36:
        raise InvalidArgument(field, "must be a UUID the client generated")
    try:
        return str(uuid.UUID(text))
    except ValueError as exc:
        raise InvalidArgument(field, "must be a UUID the client generated") from exc
