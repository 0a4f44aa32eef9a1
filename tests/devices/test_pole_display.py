from __future__ import annotations

import pytest
import serial

from devices.display.layout import fit, format_fen, label_amount, to_ascii
from devices.display.pole_display import PoleDisplay, cursor_to, frame
from devices.display.simulator import DisplaySimulator
from devices.errors import DeviceUnavailableError
from tests.devices.conftest import PtyPair
from tests.support.socat import read_until


@pytest.mark.parametrize(
    ("fen", "text"),
    [(12345, "123.45"), (5, "0.05"), (100, "1.00"), (0, "0.00"), (-250, "-2.50")],
)
def test_format_fen(fen: int, text: str) -> None:
    assert format_fen(fen) == text


def test_format_fen_refuses_floats() -> None:
    with pytest.raises(TypeError):
        format_fen(1.5)  # type: ignore[arg-type]


def test_lines_are_exactly_20_columns() -> None:
    assert fit("COCA COLA") == b"COCA COLA           "
    assert fit("X" * 25) == b"X" * 20
    assert fit("TOTAL", align="right") == b" " * 15 + b"TOTAL"
    assert label_amount("PRICE", 350) == b"PRICE           3.50"
    assert len(label_amount("A VERY LONG LABEL HERE", 1234567)) == 20


def test_non_ascii_is_transliterated_or_replaced() -> None:
    assert to_ascii("Café Ａ１") == "Cafe A1"
    assert fit("可乐 Cola") == b"?? Cola" + b" " * 13


def test_cjk_uses_two_columns_per_hanzi_and_never_splits_one() -> None:
    line = fit("可口可乐", cjk=True)
    assert line == "可口可乐".encode("gb18030") + b" " * 12
    # 9 hanzi = 18 columns; the 10th does not fit after "X" and is dropped whole.
    assert fit("X" + "乐" * 10, cjk=True) == b"X" + "乐".encode("gb18030") * 9 + b" "


def test_frame_bytes() -> None:
    line1, line2 = fit("A"), fit("B")
    assert frame(line1, line2) == b"\x0b" + line1 + b"\x1f\x24\x01\x02" + line2
    assert cursor_to(20, 1) == b"\x1f\x24\x14\x01"


def test_simulator_handles_split_commands_and_clear() -> None:
    sim = DisplaySimulator()
    data = b"\x1b@\x1f\x01\x0c" + frame(fit("HELLO"), fit("WORLD", align="right"))
    for i in range(len(data)):  # one byte at a time, as a serial read may deliver it
        sim.feed(data[i : i + 1])
    assert sim.lines == ("HELLO" + " " * 15, " " * 15 + "WORLD")
    sim.feed(b"\x0c")
    assert sim.lines == (" " * 20, " " * 20)
    with pytest.raises(ValueError):
        sim.feed(b"\x1b\x99")


def read_screen(port: serial.Serial, sim: DisplaySimulator, expected: tuple[str, str]) -> None:
    """Feed what arrives on ``port`` into ``sim`` until it shows ``expected``."""
    fed = 0

    def shows_expected(received: bytes) -> bool:
        nonlocal fed
        sim.feed(received[fed:])
        fed = len(received)
        return sim.lines == expected

    read_until(port, shows_expected)


def test_display_over_a_real_pty(pty_pair: PtyPair, far_end: serial.Serial) -> None:
    display = PoleDisplay(pty_pair.a)
    sim = DisplaySimulator()
    try:
        display.show_item("Kekou Kele 330ml", 350)
        read_screen(far_end, sim, ("Kekou Kele 330ml    ", "PRICE           3.50"))
        display.show_total(12345)
        read_screen(far_end, sim, ("TOTAL               ", "              123.45"))
        display.show_change(655)
        read_screen(far_end, sim, ("CHANGE              ", "                6.55"))
        display.thank_you()
        read_screen(far_end, sim, ("     THANK YOU      ", " PLEASE COME AGAIN  "))
    finally:
        display.close()


def test_cjk_display_over_a_real_pty(pty_pair: PtyPair, far_end: serial.Serial) -> None:
    display = PoleDisplay(pty_pair.a, cjk=True)
    sim = DisplaySimulator()
    try:
        display.show_item("可口可乐 330ml", 350)
        read_screen(far_end, sim, ("可口可乐 330ml      ", "PRICE           3.50"))
        assert sim.cjk
        display.thank_you()
        read_screen(far_end, sim, ("     THANK YOU      ", "      谢谢惠顾      "))
    finally:
        display.close()


def test_missing_port_is_a_clear_error(tmp_path) -> None:
    display = PoleDisplay(str(tmp_path / "ttyVFD"))
    with pytest.raises(DeviceUnavailableError, match="customer display port"):
        display.show_total(100)
