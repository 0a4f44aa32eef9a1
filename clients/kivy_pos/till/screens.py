"""The till's Kivy screens: each shows a TillView and forwards taps to the app.

Layout lives in kv/*.kv (one file per screen, loaded when the screen is made);
these classes only hold the view and fill the parts kv cannot (lists, key rows).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.recycleview import RecycleView
from kivy.uix.recycleview.views import RecycleDataAdapter
from kivy.uix.relativelayout import RelativeLayout
from kivy.uix.screenmanager import Screen as KivyScreen
from kivy.uix.widget import Widget

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


class RowKeepingAdapter(RecycleDataAdapter):
    """A RecycleView adapter that gives each row widget back to the row it showed.

    Kivy's adapter, on any data change, puts every row widget in a shared cache and
    hands them out again in any order: after a scan each visible basket line is drawn
    by another widget, whose labels all render their (CJK) text again, ~40 label
    renders per scan. Here a widget stays with its row index and only has its data
    set again, so only the labels whose text changed render: the new line's, the
    totals'.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Per view class: row index -> the widget that showed it; its data may be stale.
        self._stale: defaultdict[type, dict[int, Widget]] = defaultdict(dict)

    def invalidate(self) -> None:
        for index, view in self.views.items():
            self._stale[view.__class__][index] = view
        for cls, views in self.dirty_views.items():
            self._stale[cls].update(views)
        self.views = {}
        self.dirty_views.clear()

    def set_visible_views(
        self, indices: Any, data: Any, viewclasses: Any
    ) -> tuple[list[tuple[int, Widget]], list[tuple[int, Widget]], Any]:
        """As RecycleDataAdapter.set_visible_views, but a row first takes back its own
        widget; rows that had none take the spare ones afterwards."""
        visible: dict[int, Widget] = {}
        previous = self.views
        new: list[tuple[int, Widget]] = []
        remain: list[tuple[int, Widget]] = []
        unshown: list[int] = []
        for index in indices:
            view = previous.pop(index, None)
            if view is not None:
                visible[index] = view
                remain.append((index, view))
                continue
            cls = viewclasses[index]["viewclass"]
            view = self.dirty_views[cls].pop(index, None)  # still in sync with its data
            if view is None:
                view = self._stale[cls].pop(index, None)
                if view is not None:
                    self.refresh_view_attrs(index, data[index], view)
            if view is None:
                unshown.append(index)
            else:
                visible[index] = view
                new.append((index, view))
        for index in unshown:
            cls = viewclasses[index]["viewclass"]
            spare = self._stale[cls]
            if spare:
                view = spare.popitem()[1]
                self.refresh_view_attrs(index, data[index], view)
            else:
                view = self.get_view(index, data[index], cls)
            if view is not None:
                visible[index] = view
                new.append((index, view))
        old = previous.items()
        self.make_views_dirty()
        self.views = visible
        return new, remain, old


class QuietRecycleView(RecycleView):
    """A RecycleView whose scroll bar stays as it is.

    Kivy's fades out half a second after each scroll, an animation that redraws the
    whole window every frame (its float steps never quite equal the end colour) and,
    on a software renderer, holds up the next scan's frame by tens of ms.
    """

    def _bind_inactive_bar_color(self, *_args: object) -> None:
        pass


class FunctionKey(Button):
    """A function key: its action goes to the presenter; selected shows the current choice."""

    action = StringProperty("")
    selected = BooleanProperty(False)


class LineRowView(RelativeLayout):
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
        self.ids.lines.view_adapter = RowKeepingAdapter()
        self._rows_height = -1.0  # the lines' height when the newest is to be in sight
        self.ids.lines.bind(height=self._scroll_to_newest)  # laid out, or resized
        self._keys = action_buttons(SELL_KEYS)
        for button in self._keys:
            self.ids.function_keys.add_widget(button)

    def show(self, view: TillView, step: Step) -> None:
        super().show(view, step)
        relabel(self._keys, SELL_KEYS, view)
        if view.lines == getattr(self, "_lines_shown", None):
            return  # a keystroke: the lines (and their layout) stay as they are
        self._lines_shown = view.lines
        rows = [
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
        lines = self.ids.lines
        lines.data = rows
        self._rows_height = -1.0
        if view.lines and view.lines[-1].selected:
            # Keep the newest scan in sight. Worked out from the rows' heights now, not
            # from the laid-out list a frame later: a second frame per scan would hold
            # up the next scan's.
            spacing = lines.layout_manager.spacing * (len(rows) - 1)
            self._rows_height = sum(r["height"] for r in rows) + spacing
            self._scroll_to_newest()

    def _scroll_to_newest(self, *_args: object) -> None:
        """The list's end when the lines overflow it; else its top (Kivy's scroll
        view would put a short list at the bottom)."""
        if self._rows_height >= 0:
            lines = self.ids.lines
            lines.scroll_y = 0 if self._rows_height > lines.height else 1


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
