"""Which key does what, per screen. Plain Python: the Kivy layer looks keys up here,
and the on-screen buttons take their key hints from the same tables."""

from __future__ import annotations

from clients.kivy_pos.till.view_model import Screen

# Kivy's key codes (SDL2 key symbols as Kivy numbers them).
ENTER, NUMPAD_ENTER, ESCAPE, BACKSPACE, UP, DOWN = 13, 271, 27, 8, 273, 274
F1 = 282  # F1..F12 are 282..293

EDIT_KEYS = {
    ENTER: "enter",
    NUMPAD_ENTER: "enter",
    ESCAPE: "escape",
    BACKSPACE: "backspace",
}

# (key name, action, button text key or literal) per screen, in button order.
SELL_KEYS: tuple[tuple[str, str, str], ...] = (
    ("F2", "member", "会员"),
    ("F3", "quantity", "数量"),
    ("F4", "void", "删除行"),
    ("↑", "up", "上一行"),
    ("↓", "down", "下一行"),
    ("F12", "total", "合计收款"),
)
TENDER_KEYS: tuple[tuple[str, str, str], ...] = (
    ("F1", "tender:CASH", "现金"),
    ("F2", "tender:BANK_CARD", "银行卡"),
    ("F3", "tender:MOBILE", "移动支付"),
    ("F4", "tender:STORED_VALUE", "储值卡"),
    ("F5", "tender:POINTS", "积分抵现"),
)
QUICK_KEYS = ("F9", "F10", "F11", "F12")  # the quick cash amounts, in order

_NAMED = {UP: "↑", DOWN: "↓", **{F1 + i: f"F{i + 1}" for i in range(12)}}


def key_name(keycode: int) -> str:
    return _NAMED.get(keycode, "")


def command_for(keycode: int, screen: Screen) -> str | None:
    """'enter', 'escape', 'backspace', or an action name for the presenter; None: not ours."""
    if keycode in EDIT_KEYS:
        return EDIT_KEYS[keycode]
    name = key_name(keycode)
    if not name:
        return None
    if screen is Screen.SELL:
        table = SELL_KEYS
    elif screen is Screen.TENDER:
        if name in QUICK_KEYS:
            return f"quick_index:{QUICK_KEYS.index(name)}"
        table = TENDER_KEYS
    else:
        return None
    for key, action, _label in table:
        if key == name:
            return action
    return None
