"""The member's QR code: a signed, expiring payload, so yesterday's screenshot fails.

TPM1.<member_no>.<expiry, unix seconds>.<HMAC-SHA256, 16 bytes, base32>. Upper
case and digits only, so the QR code fits its compact alphanumeric mode.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from store_server.domain.errors import FailedPrecondition, InvalidArgument

PREFIX = "TPM1"


def _mac(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode(), hashlib.sha256).digest()[:16]
    return base64.b32encode(digest).decode().rstrip("=")


def sign_qr(secret: bytes, member_no: str, *, now: datetime, ttl: timedelta) -> str:
    expiry = int((now + ttl).timestamp())
    body = f"{PREFIX}.{member_no}.{expiry}"
    return f"{body}.{_mac(secret, body)}"


def verify_qr(secret: bytes, payload: str, *, now: datetime, field: str = "qr_payload") -> str:
    """The member number in a genuine, unexpired payload."""
    parts = payload.strip().split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not parts[2].isdigit():
        raise InvalidArgument(field, "not a member QR code")
    body = ".".join(parts[:3])
    if not hmac.compare_digest(_mac(secret, body), parts[3]):
        raise InvalidArgument(field, "the QR code's signature does not match", reason="QR_FORGED")
    expiry = datetime.fromtimestamp(int(parts[2]), tz=UTC)
    if now.astimezone(UTC) >= expiry:
        raise FailedPrecondition(
            "the QR code has expired: ask the member to refresh it", reason="QR_EXPIRED"
        )
    return parts[1]
