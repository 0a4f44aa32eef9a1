"""Operator PINs: scrypt hashes and the lock-out rule.

A 4-digit PIN has only 10,000 values, so the hash alone does not protect it;
the lock-out does (5 wrong tries lock the operator for 5 minutes) and the
hash keeps a stolen database from handing out every PIN at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from store_server.domain.errors import InvalidArgument

# n=2**14, r=8: ~16 MiB and a few tens of ms per check on a Raspberry Pi 4.
_N, _R, _P = 2**14, 8, 1

MAX_FAILED_PINS = 5
LOCKOUT = timedelta(minutes=5)


def check_pin_format(pin: str, *, field: str = "pin") -> str:
    if not (pin.isdigit() and pin.isascii() and 4 <= len(pin) <= 8):
        raise InvalidArgument(field, "a PIN is 4 to 8 digits")
    return pin


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(
        pin.encode(),
        salt=bytes.fromhex(salt_hex),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(digest_hex) // 2,
    )
    return hmac.compare_digest(digest.hex(), digest_hex)


@dataclass(frozen=True, slots=True)
class LockState:
    failed_count: int
    locked_until: datetime | None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def after_failure(self, now: datetime, lockout: timedelta = LOCKOUT) -> LockState:
        """The state after one more wrong PIN; the fifth locks."""
        count = self.failed_count + 1
        if count >= MAX_FAILED_PINS:
            return LockState(failed_count=0, locked_until=now + lockout)
        return LockState(failed_count=count, locked_until=self.locked_until)

    @staticmethod
    def cleared() -> LockState:
        return LockState(failed_count=0, locked_until=None)
