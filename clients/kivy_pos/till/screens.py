"""The till's Kivy screens: each shows a TillView and forwards taps to the app.

Layout lives in kv/*.kv (one file per screen, loaded when the screen is made);
these classes only hold the view and fill the parts kv cannot (lists, key rows).
"""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.screenmanager import Screen as KivyScreen

from clients.kivy_pos.till.keys import QUICK_KEYS, SELL_KEYS, TENDER_KEYS
from clients.kivy_pos.till.presenter import Step
from clients.kivy_pos.till.tender import FOREIGN_CURRENCIES as CURRENCIES
from clients.kivy_pos.till.view_model import Screen, TillView

KV_DIR = Path(__file__).parent / "kv"
BLANK = TillView(screen=Screen.LOGIN, operator="", prompt="", entry="", message="", banner="")
_loaded: set[str] = set()


def load_kv(name: str) -> None:
    """Load kv/<name>.kv once, when the first screen that needs it is made."""
    if name not in _loaded:
        Builder.load_file(str(KV_DIR / f"{name}.kv"))
        _loaded.add(name)


class FunctionKey(Button):
    """A function key: its action goes to the presenter; selected shows the current choice."""

    action = StringProperty("")
    selected = BooleanProperty(False)


class LineRowView(BoxLayout):
    number = StringProperty("")
    name = StringProperty("")
    detail = StringProperty("")  # the line's discounts, explained
    quantity = StringProperty("")
    unit_price = StringProperty("")
    amount = StringProperty("")
    selected = BooleanProperty(False)


class PanelRowView(ButtonBehavior, BoxLayout):
    """One row of the overlay list: a tap picks it (search result, held basket, menu)."""

    text = StringProperty("")
    index = NumericProperty(0)
    selected = BooleanProperty(False)

    def on_release(self) -> None:
        App.get_running_app().do(f"pick:{self.index}")


class PanelOverlay(BoxLayout):
    title = StringProperty("")
    footer = StringProperty("")


def action_buttons(table: tuple[tuple[str, str, str], ...]) -> list[FunctionKey]:
    return [FunctionKey(text=f"{key}\n{label}", action=action) for key, action, label in table]


def relabel(
    buttons: list[FunctionKey], table: tuple[tuple[str, str, str], ...], view: TillView
) -> None:
    """Function keys in the view's language (the label keys are text keys)."""
    for button, (key, _action, label) in zip(buttons, table, strict=True):
        text = f"{key}\n{view.labels.get(label, label)}"
        if button.text != text:
            button.text = text


class TillScreen(KivyScreen):
    # rebind: kv rules read root.view.<field>, so they must follow each new view.
    view = ObjectProperty(BLANK, rebind=True)

    def show(self, view: TillView, step: Step) -> None:
        self.view = view
        overlay = self.ids.get("overlay")
        rows = (view.panel_rows, view.panel_selected)
        # Only a changed list is handed to its RecycleView: a keystroke must not re-lay it.
        if overlay is not None and rows != getattr(self, "_panel_shown", None):
            self._panel_shown = rows
            overlay.ids.rows.data = [
                {"text": row, "index": i, "selected": i == view.panel_selected}
                for i, row in enumerate(view.panel_rows)
            ]


class LoginScreen(TillScreen):
    step_text = StringProperty("")

    def show(self, view: TillView, step: Step) -> None:
        super().show(view, step)
        key = {Step.OPERATOR: "step_operator", Step.PIN: "step_pin", Step.FLOAT: "step_float"}
        self.step_text = view.labels.get(key.get(step, ""), "")


class SellScreen(TillScreen):
    def on_kv_post(self, base_widget: object) -> None:
        self._keys = action_buttons(SELL_KEYS)
        for button in self._keys:
            self.ids.function_keys.add_widget(button)

    def show(self, view: TillView, step: Step) -> None:
        super().show(view, step)
        relabel(self._keys, SELL_KEYS, view)
        if view.lines == getattr(self, "_lines_shown", None):
            return  # a keystroke: the lines (and their layout) stay as they are
        self._lines_shown = view.lines
        self.ids.lines.data = [
            {
                "number": str(row.number),
                "name": row.name,
                "detail": "  ".join(row.adjustments),
                "quantity": row.quantity,
                "unit_price": row.unit_price,
                "amount": row.amount,
                "selected": row.selected,
                "height": dp(58) if row.adjustments else dp(40),
            }
            for row in view.lines
        ]
        if view.lines and view.lines[-1].selected:
            Clock.schedule_once(self._show_newest)  # once the rows are laid out

    def _show_newest(self, _dt: float) -> None:
        """Keep the newest scan in sight; a short list stays at the top."""
        lines = self.ids.lines
        lines.scroll_y = 0 if lines.children and lines.children[0].height > lines.height else 1


class TenderScreen(TillScreen):
    def on_kv_post(self, base_widget: object) -> None:
        self._kinds = action_buttons(TENDER_KEYS)
        for button in self._kinds:
            self.ids.tender_keys.add_widget(button)
        self._quick: tuple[tuple[str, str], ...] = ()

    def show(self, view: TillView, step: Step) -> None:
        super().show(view, step)
        relabel(self._kinds, TENDER_KEYS, view)
        for button, (_key, _action, label) in zip(self._kinds, TENDER_KEYS, strict=True):
            text = view.labels.get(label, label)  # foreign cash shows its currency after
            button.selected = view.tender_kind in (text, *(f"{text} {c}" for c, _ in CURRENCIES))
        if view.quick != self._quick:
            self._quick = view.quick
            self.ids.quick_keys.clear_widgets()
            for key, (action, amount) in zip(QUICK_KEYS, view.quick, strict=False):
                self.ids.quick_keys.add_widget(FunctionKey(text=f"{key}\n¥{amount}", action=action))


SCREENS: dict[Screen, type[TillScreen]] = {
    Screen.LOGIN: LoginScreen,
    Screen.SELL: SellScreen,
    Screen.TENDER: TenderScreen,
}


def make_screen(screen: Screen) -> TillScreen:
    load_kv("common")
    load_kv(screen.value)
    return SCREENS[screen]()
