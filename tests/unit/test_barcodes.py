from __future__ import annotations

import pytest

from store_server.domain.barcodes import (
    DEFAULT_LAYOUTS,
    ValueKind,
    VariableMeasureLayout,
    make_scale_label,
    normalize_code,
    parse_scale_label,
    validate_gtin,
)
from store_server.domain.errors import InvalidArgument


@pytest.mark.parametrize("code", ["6901234567892", "96385074", "036000291452", "4006381333931"])
def test_valid_gtins(code: str) -> None:
    assert validate_gtin(code) == code


@pytest.mark.parametrize("code", ["6901234567891", "96385075", "036000291453"])
def test_bad_check_digits(code: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        validate_gtin(code)
    assert info.value.reason == "BAD_CHECK_DIGIT"


def test_scale_label_round_trip_and_layouts() -> None:
    weight, price = DEFAULT_LAYOUTS
    code = make_scale_label(weight, "1001", 352)
    assert code[:12] == "210100100352" and len(code) == 13
    label = parse_scale_label(code, DEFAULT_LAYOUTS)
    assert (label.plu, label.value_kind, label.value) == ("1001", ValueKind.WEIGHT, 352)
    label = parse_scale_label(make_scale_label(price, "42", 1999), DEFAULT_LAYOUTS)
    assert (label.plu, label.value_kind, label.value) == ("42", ValueKind.PRICE, 1999)


def test_configurable_layout_four_digit_plu_six_digit_value() -> None:
    layout = VariableMeasureLayout("2", 5, ValueKind.PRICE, 6)
    code = make_scale_label(layout, "123", 12345)
    assert parse_scale_label(code, (layout,)).value == 12345


def test_codes_outside_layouts_are_not_scale_labels() -> None:
    assert parse_scale_label("6901234567892", DEFAULT_LAYOUTS) is None
    # Prefix 23 is not configured: an internal code, looked up as a barcode.
    assert parse_scale_label("2300000000001", DEFAULT_LAYOUTS) is None


def test_layout_must_add_up_to_13() -> None:
    with pytest.raises(ValueError):
        VariableMeasureLayout("21", 5, ValueKind.WEIGHT, 6)
    with pytest.raises(ValueError):
        VariableMeasureLayout("69", 5, ValueKind.WEIGHT, 5)


def test_normalize_code() -> None:
    assert normalize_code(" 6901234567892\r\n") == "6901234567892"
    for bad in ("", "  ", "可乐", "a" * 49, "12\t34"):
        with pytest.raises(InvalidArgument):
            normalize_code(bad)
