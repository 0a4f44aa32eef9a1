"""Who a member is: member numbers, phones, names, birthdays and photos, checked.

A phone number is personal data: it is shown and logged only masked
(138****5678); the full number is kept in the members table alone.
"""

from __future__ import annotations

import io
import re
from datetime import date

from stdnum import luhn

from store_server.domain.dates import parse_date
from store_server.domain.errors import InvalidArgument

# Member numbers: 8, the store's 4-digit code, a 7-digit sequence and a Luhn
# check digit. The store code keeps numbers made offline at two stores apart.
_MEMBER_NO = re.compile(r"8\d{12}")
_PHONE = re.compile(r"1[3-9]\d{9}")
_CARD_NO = re.compile(r"[0-9A-Za-z]{6,32}")
MAX_SEQUENCE = 9_999_999


def member_number(store_code: int, seq: int) -> str:
    if not 0 <= store_code <= 9999 or not 0 < seq <= MAX_SEQUENCE:
        raise ValueError("store code 0-9999, sequence 1-9,999,999")
    body = f"8{store_code:04d}{seq:07d}"
    return body + luhn.calc_check_digit(body)


def store_code(store_id: str) -> int:
    """The 4-digit code of a store id for member numbers: its digits (S01 -> 1)."""
    digits = "".join(ch for ch in store_id if ch.isdigit())
    return int(digits[-4:]) if digits else 0


def check_member_number(text: str, *, field: str = "member_no") -> str:
    text = text.strip()
    if not _MEMBER_NO.fullmatch(text) or not luhn.is_valid(text):
        raise InvalidArgument(field, "not a member number (13 digits with a check digit)")
    return text


def check_phone(text: str, *, field: str = "phone") -> str:
    """A mainland mobile number; spaces, dashes and a +86 prefix are dropped."""
    raw = re.sub(r"[\s-]", "", text)
    if raw.startswith("+86"):
        raw = raw[3:]
    if not _PHONE.fullmatch(raw):
        raise InvalidArgument(field, "a mobile number is 11 digits starting with 1")
    return raw


def mask_phone(phone: str) -> str:
    """138****5678: what every screen, receipt and log shows."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def check_name(text: str, *, field: str = "name") -> str:
    name = text.strip()
    if not 1 <= len(name) <= 40 or any(ord(ch) < 32 for ch in name):
        raise InvalidArgument(field, "1 to 40 printable characters")
    return name


def check_card_number(text: str, *, field: str = "card_no") -> str:
    card = text.strip()
    if not _CARD_NO.fullmatch(card):
        raise InvalidArgument(field, "6 to 32 letters or digits")
    return card


def check_birthday(value: date | None, *, today: date, field: str = "birthday") -> date | None:
    if value is None:
        return None
    if value > today:
        raise InvalidArgument(field, "a birthday cannot be in the future")
    if value.year < 1900:
        raise InvalidArgument(field, "a birthday before 1900")
    return value


def parse_birthday(text: str, *, today: date, field: str = "birthday") -> date | None:
    return check_birthday(parse_date(text, field), today=today, field=field)


def check_photo(data: bytes, *, max_bytes: int, field: str = "photo") -> str:
    """The photo's content type (image/jpeg or image/png); anything else is refused."""
    if len(data) > max_bytes:
        raise InvalidArgument(field, f"{len(data):,} bytes, the limit is {max_bytes:,}")
    if data.startswith(b"\xff\xd8\xff"):
        kind, fmt = "image/jpeg", "JPEG"
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        kind, fmt = "image/png", "PNG"
    else:
        raise InvalidArgument(field, "a JPEG or PNG image")
    # The header alone can be faked: let the decoder read the whole file.
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != fmt:
                raise InvalidArgument(field, "a JPEG or PNG image")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InvalidArgument(field, "the image is damaged") from exc
    return kind
