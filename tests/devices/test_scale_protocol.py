from __future__ import annotations

import pytest

from devices.scale.protocol import (
    ScaleProtocolError,
    ScaleReading,
    ScaleState,
    WeightKind,
    format_line,
    parse_grams,
    parse_line,
)


@pytest.mark.parametrize(
    ("line", "state", "kind", "grams"),
    [
        (b"ST,GS,+  0.352kg\r\n", ScaleState.STABLE, WeightKind.GROSS, 352),
        (b"US,GS,+  0.350kg\r\n", ScaleState.UNSTABLE, WeightKind.GROSS, 350),
        (b"ST,NT,+ 12.005kg", ScaleState.STABLE, WeightKind.NET, 12005),
        (b"ST,GS,+    120g\r\n", ScaleState.STABLE, WeightKind.GROSS, 120),
        (b"ST,GS,+  1.5kg", ScaleState.STABLE, WeightKind.GROSS, 1500),
        (b"ST,GS,+  0.000kg", ScaleState.STABLE, WeightKind.GROSS, 0),
        (b"ST,GS,-  0.000kg", ScaleState.STABLE, WeightKind.GROSS, 0),
        (b"ST,NT,-  0.120kg", ScaleState.NEGATIVE, WeightKind.NET, -120),
        (b"US,GS,-    5g", ScaleState.NEGATIVE, WeightKind.GROSS, -5),
        (b"OL,GS,+ --.---kg\r\n", ScaleState.OVERLOAD, WeightKind.GROSS, None),
    ],
)
def test_parse_line(line: bytes, state: ScaleState, kind: WeightKind, grams: int | None) -> None:
    assert parse_line(line) == ScaleReading(state, kind, grams)


def test_only_stable_non_negative_readings_are_sellable() -> None:
    assert parse_line("ST,GS,+  0.352kg").sellable_grams == 352
    assert parse_line("ST,GS,+  0.000kg").sellable_grams == 0
    assert parse_line("US,GS,+  0.352kg").sellable_grams is None
    assert parse_line("ST,GS,-  0.352kg").sellable_grams is None
    assert parse_line("OL,GS,+ 99.999kg").sellable_grams is None


def test_grams_are_exact_without_float() -> None:
    # 0.1 + 0.2 style errors would show here: 4.35 kg * 1000 = 4349.999... as a float.
    assert parse_grams("4.35", "kg") == 4350
    assert parse_grams("0.3520", "kg") == 352
    assert parse_grams("352.0", "g") == 352
    assert parse_grams("7", "kg") == 7000


@pytest.mark.parametrize(
    "line",
    [
        b"ST,GS,+  0.3525kg",  # finer than a gram
        b"ST,GS,+  0.3a5kg",
        b"ST,GS,+     .kg",
        b"ST,GS,  0.352kg",  # no sign
        b"ST,GS,+  0.352lb",
        b"XX,GS,+  0.352kg",
        b"ST,TR,+  0.352kg",
        b"ST,+  0.352kg",
        b"ST,GS,+  0.\xb3kg",
        b"ST,GS,+  0.\xef\xbc\x93kg",  # full-width digit: isdigit() would accept it
    ],
)
def test_malformed_lines_are_refused(line: bytes) -> None:
    with pytest.raises(ScaleProtocolError):
        parse_line(line)


def test_format_line_round_trips() -> None:
    for reading, unit, text in [
        (ScaleReading(ScaleState.STABLE, WeightKind.GROSS, 352), "kg", b"ST,GS,+  0.352kg\r\n"),
        (ScaleReading(ScaleState.UNSTABLE, WeightKind.NET, 12005), "kg", b"US,NT,+ 12.005kg\r\n"),
        (ScaleReading(ScaleState.STABLE, WeightKind.GROSS, 120), "g", b"ST,GS,+    120g\r\n"),
        (ScaleReading(ScaleState.OVERLOAD, WeightKind.GROSS, None), "kg", b"OL,GS,+ --.---kg\r\n"),
        (ScaleReading(ScaleState.NEGATIVE, WeightKind.NET, -120), "kg", b"ST,NT,-  0.120kg\r\n"),
    ]:
        assert format_line(reading, unit) == text
        assert parse_line(text) == reading
