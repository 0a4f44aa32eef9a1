"""The handheld counter's Kivy app (480x800): shows CounterView, forwards keys and taps.

Call clients.kivy_pos.till.kivy_setup.configure() before importing this module. As in
the till, the presenter runs on one worker thread (clients/kivy_pos/worker.py: a server
that hangs never freezes the screen, a wedge scan draws one frame) and a timer resends
the device's queue while counts wait there.
"""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from clients.kivy_pos.counter.presenter import CounterPresenter, CounterView, Step
from clients.kivy_pos.till.keys import BACKSPACE, DOWN, ENTER, ESCAPE, F1, NUMPAD_ENTER, UP
from clients.kivy_pos.worker import PresenterWorker

RESEND_SECONDS = 3.0
KV = Path(__file__).parent / "kv" / "counter.kv"
BLANK = CounterView(Step.OPERATOR, "", "", "", "", "", (), 0, 0)


class CountRowView(ButtonBehavior, BoxLayout):
    text = StringProperty("")
    index = NumericProperty(0)
    selected = BooleanProperty(False)

    def on_release(self) -> None:
        App.get_running_app().do(f"pick:{self.index}")


class CounterRoot(BoxLayout):
    view = ObjectProperty(BLANK, rebind=True)


class CounterApp(PresenterWorker, App):
    title = "Tillpoint 盘点"

    def __init__(self, presenter: CounterPresenter, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.presenter: CounterPresenter = presenter
        self._init_worker()

    def _make_view(self) -> CounterView:  # on the worker thread
        return self.presenter.view()

    def _show_made(self, made: CounterView) -> None:
        self._show(made)

    def build(self) -> CounterRoot:
        Builder.load_file(str(KV))
        Window.clearcolor = (0.95, 0.95, 0.96, 1)
        self.root_widget = CounterRoot()
        Window.bind(on_key_down=self._on_key_down, on_textinput=self._on_textinput)
        self._start_worker("counter-presenter")
        Clock.schedule_interval(lambda _dt: self._tick(), RESEND_SECONDS)
        self._show(self.presenter.view())
        return self.root_widget

    def on_stop(self) -> None:
        self._stop_worker()

    def _show(self, view: CounterView) -> None:
        self.root_widget.view = view
        self.root_widget.ids.rows.data = [
            {"text": row, "index": i, "selected": i == view.selected}
            for i, row in enumerate(view.rows)
        ]

    def _tick(self) -> None:
        if self.idle:
            self._submit(self.presenter.tick)

    # ---- the keyboard (kv calls press, do, enter, escape, backspace) -----------------

    def _on_key_down(
        self, _window: object, keycode: int, _scancode: int, _text: str | None, _mods: list
    ) -> bool:
        simple = {ENTER: self.enter, NUMPAD_ENTER: self.enter, ESCAPE: self.escape}
        if keycode in simple:
            simple[keycode]()
        elif keycode == BACKSPACE:
            self.backspace()
        elif keycode in (UP, DOWN):
            self.do("up" if keycode == UP else "down")
        elif keycode == F1 + 1:
            self.do("edit")
        else:
            return False
        return True

    def _on_textinput(self, _window: object, text: str) -> None:
        if text.isprintable():
            self.press(text)
