from __future__ import annotations

import pytest

from devices.printer.decode import EscPosDecodeError, decode


def test_text_outside_chinese_mode_is_code_page_437() -> None:
    assert decode(b"Hello\n\nWorld") == [("text", "Hello"), ("text", ""), ("text", "World")]


def test_chinese_region_inside_a_line() -> None:
    data = b"Item: \x1c&" + "可乐".encode("gb18030") + b"\x1c. 3.50\n"
    assert decode(data) == [("text", "Item: 可乐 3.50")]


def test_pending_text_is_flushed_before_other_events() -> None:
    data = b"abc\x1bp\x00\x19\xfa"
    assert decode(data) == [("text", "abc"), ("drawer", 2)]


def test_function_a_barcode_and_partial_cut() -> None:
    data = b"\x1dk\x02" + b"6901234567892\x00" + b"\x1dVB\x00"
    assert decode(data) == [("barcode", "EAN13", "6901234567892"), ("cut",)]


def test_code128_escaped_brace() -> None:
    assert decode(b"\x1dkI\x06{BA{{1") == [("barcode", "CODE128", "A{1")]


def test_raster_image_is_skipped() -> None:
    image = b"\x1dv0\x00\x02\x00\x03\x00" + b"\xff" * 6
    assert decode(b"top\n" + image + b"bottom\n") == [("text", "top"), ("text", "bottom")]


@pytest.mark.parametrize("data", [b"\x1b\x99", b"\x1dk\x49\x10ab", b"\x07", b"\x1b"])
def test_unknown_or_truncated_commands_raise(data: bytes) -> None:
    with pytest.raises(EscPosDecodeError):
        decode(data)
