"""The ASCII continuous-output protocol of common Chinese retail scales and indicators.

The scale sends one line per reading, several times a second, without being asked::

    ST,GS,+  0.352kg\\r\\n
    US,GS,+  0.350kg\\r\\n
    OL,GS,+ --.---kg\\r\\n
    ST,NT,-    120g\\r\\n

Fields, separated by commas:

1. state, 2 letters: ``ST`` stable, ``US`` unstable (still settling), ``OL`` overload
   (over capacity; the value is not a weight, often dashes, and is ignored);
2. weight kind, 2 letters: ``GS`` gross or ``NT`` net (after tare);
3. sign ``+`` or ``-``, then the value right-aligned with spaces: digits with an optional
   decimal point, immediately followed by the unit ``kg`` or ``g``.

Lines end in CR LF (a bare LF is accepted too). Weights are returned as integer grams:
the decimal text is read digit by digit, never through float, so 0.352 kg is exactly 352.
A value finer than one gram (``0.3525kg``) is rejected rather than rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

MAX_LINE_LENGTH = 32


class ScaleState(Enum):
    STABLE = "stable"
    UNSTABLE = "unstable"
    OVERLOAD = "overload"
    NEGATIVE = "negative"  # below zero: tare lifted or scale needs re-zeroing


class WeightKind(Enum):
    GROSS = "GS"
    NET = "NT"


class ScaleProtocolError(ValueError):
    """A line that does not follow the protocol."""


@dataclass(frozen=True)
class ScaleReading:
    """One parsed line. ``grams`` is None for overload (no usable value)."""

    state: ScaleState
    kind: WeightKind
    grams: int | None

    @property
    def sellable_grams(self) -> int | None:
        """The weight to sell by: only stable, non-negative, in-range readings have one."""
        if self.state is ScaleState.STABLE and self.grams is not None and self.grams >= 0:
            return self.grams
        return None


_STATES = {"ST": ScaleState.STABLE, "US": ScaleState.UNSTABLE, "OL": ScaleState.OVERLOAD}
_GRAMS_PER_UNIT_DIGITS = {"kg": 3, "g": 0}  # decimal places that make a whole gram


def parse_grams(text: str, unit: str) -> int:
    """'0.352' kg -> 352; '120' g -> 120. Digit by digit: no float rounding."""
    places = _GRAMS_PER_UNIT_DIGITS[unit]
    whole, dot, fraction = text.partition(".")
    if not whole and not fraction:
        raise ScaleProtocolError(f"no digits in {text!r}")
    if not (whole or "0").isdigit() or (dot and fraction and not fraction.isdigit()):
        raise ScaleProtocolError(f"not a decimal number: {text!r}")
    if not (whole.isascii() and fraction.isascii()):
        raise ScaleProtocolError(f"not a decimal number: {text!r}")
    extra = fraction[places:]
    if extra.strip("0"):
        raise ScaleProtocolError(f"{text}{unit} is finer than one gram")
    grams = 0
    for digit in whole + fraction[:places].ljust(places, "0"):
        grams = grams * 10 + (ord(digit) - ord("0"))
    return grams


def parse_line(line: bytes | str) -> ScaleReading:
    """Parse one line (terminator optional) or raise ScaleProtocolError."""
    if isinstance(line, bytes):
        try:
            line = line.decode("ascii")
        except UnicodeDecodeError as exc:
            raise ScaleProtocolError(f"non-ASCII byte in {line!r}") from exc
    line = line.rstrip("\r\n")
    fields = line.split(",")
    if len(fields) != 3:
        raise ScaleProtocolError(f"expected 3 comma-separated fields: {line!r}")
    state_text, kind_text, weight_text = fields
    state = _STATES.get(state_text)
    if state is None:
        raise ScaleProtocolError(f"unknown state {state_text!r}")
    try:
        kind = WeightKind(kind_text)
    except ValueError as exc:
        raise ScaleProtocolError(f"unknown weight kind {kind_text!r}") from exc
    if weight_text[:1] not in ("+", "-"):
        raise ScaleProtocolError(f"weight must start with + or -: {weight_text!r}")
    sign, rest = weight_text[0], weight_text[1:]
    unit = "kg" if rest.endswith("kg") else "g" if rest.endswith("g") else None
    if unit is None:
        raise ScaleProtocolError(f"unit must be kg or g: {weight_text!r}")
    if state is ScaleState.OVERLOAD:
        return ScaleReading(state, kind, None)
    grams = parse_grams(rest[: -len(unit)].lstrip(" "), unit)
    if sign == "-" and grams:
        return ScaleReading(ScaleState.NEGATIVE, kind, -grams)
    return ScaleReading(state, kind, grams)


def format_line(reading: ScaleReading, unit: str = "kg") -> bytes:
    """The line a scale sends for ``reading`` (the simulator's output)."""
    state_text = {v: k for k, v in _STATES.items()}
    if reading.state is ScaleState.OVERLOAD or reading.grams is None:
        value = "--.---" if unit == "kg" else "-----"
        return f"OL,{reading.kind.value},+{value:>7}{unit}\r\n".encode("ascii")
    grams = abs(reading.grams)
    value = f"{grams // 1000}.{grams % 1000:03d}" if unit == "kg" else str(grams)
    sign = "-" if reading.grams < 0 else "+"
    # A negative reading is sent with the scale's own stability flag; we say stable.
    code = state_text.get(reading.state, "ST")
    return f"{code},{reading.kind.value},{sign}{value:>7}{unit}\r\n".encode("ascii")
