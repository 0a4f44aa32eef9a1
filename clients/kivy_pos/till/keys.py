"""Which key does what, per screen. Plain Python: the Kivy layer looks keys up here,
the on-screen buttons take their key hints from the same tables, and the help overlay
lists them, so a key, its button and its help line can never disagree."""

from __future__ import annotations

from clients.kivy_pos.till.view_model import Screen

# Kivy's key codes (SDL2 key symbols as Kivy numbers them).
ENTER, NUMPAD_ENTER, ESCAPE, BACKSPACE, UP, DOWN = 13, 271, 27, 8, 273, 274
F1 = 282  # F1..F12 are 282..293
HOME, END = 278, 279

EDIT_KEYS = {
    ENTER: "enter",
    NUMPAD_ENTER: "enter",
    ESCAPE: "escape",
    BACKSPACE: "backspace",
}

# (key name, action, label text key) per screen, in button order.
SELL_KEYS: tuple[tuple[str, str, str], ...] = (
    ("F1", "help", "key_help"),
    ("F2", "member", "key_member"),
    ("F3", "quantity", "key_quantity"),
    ("F4", "void", "key_void"),
    ("F5", "search", "key_search"),
    ("F6", "hold", "key_hold"),
    ("F7", "held", "key_held"),
    ("F8", "price", "key_price"),
    ("F9", "gift", "key_gift"),
    ("F10", "return", "key_return"),
    ("F11", "menu", "key_menu"),
    ("F12", "total", "key_total"),
)
TENDER_KEYS: tuple[tuple[str, str, str], ...] = (
    ("F1", "tender:CASH", "cash"),
    ("F2", "tender:BANK_CARD", "bank_card"),
    ("F3", "tender:MOBILE", "mobile"),
    ("F4", "tender:STORED_VALUE", "stored_value"),
    ("F5", "tender:POINTS", "points"),
    ("F6", "tender:GIFT_VOUCHER", "gift_voucher"),
    ("F7", "foreign", "foreign_cash"),
    ("F8", "coupons", "key_coupons"),
    ("End", "count_card", "count_card"),  # the member's count cards (计次卡)
    ("Home", "help", "key_help"),
)
LOGIN_KEYS: tuple[tuple[str, str, str], ...] = (("F1", "help", "key_help"),)
QUICK_KEYS = ("F9", "F10", "F11", "F12")  # the quick cash amounts, in order
# Keys that work everywhere, for the help overlay (name, text key).
COMMON_KEYS: tuple[tuple[str, str], ...] = (
    ("Enter", "help_enter"),
    ("Esc", "help_esc"),
    ("Backspace", "help_backspace"),
    ("↑ ↓", "help_updown"),
    ("+ / -", "help_plus_minus"),
    ("数量*条码", "help_times"),
    ("TPM1.…", "help_qr"),
)

_NAMED = {UP: "↑", DOWN: "↓", HOME: "Home", END: "End", **{F1 + i: f"F{i + 1}" for i in range(12)}}


def key_name(keycode: int) -> str:
    return _NAMED.get(keycode, "")


def command_for(keycode: int, screen: Screen) -> str | None:
    """'enter', 'escape', 'backspace', or an action name for the presenter; None: not ours."""
    if keycode in EDIT_KEYS:
        return EDIT_KEYS[keycode]
    name = key_name(keycode)
    if not name:
        return None
    if name in ("↑", "↓"):
        return "up" if name == "↑" else "down"
    if screen is Screen.SELL:
        table = SELL_KEYS
    elif screen is Screen.TENDER:
        if name in QUICK_KEYS:
            return f"quick_index:{QUICK_KEYS.index(name)}"
        table = TENDER_KEYS
    else:
        table = LOGIN_KEYS
    for key, action, _label in table:
        if key == name:
            return action
    return None
