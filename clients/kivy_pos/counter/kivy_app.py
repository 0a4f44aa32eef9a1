"""The handheld counter's Kivy app (480x800): shows CounterView, forwards keys and taps.

Call clients.kivy_pos.till.kivy_setup.configure() before importing this module. As in
the till, the presenter runs on one worker thread (a server that hangs never freezes
the screen) and a timer resends the device's queue while counts wait there.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
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


class CounterApp(App):
    title = "Tillpoint 盘点"

    def __init__(self, presenter: CounterPresenter, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.presenter = presenter
        self._inbox: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._outstanding = 0

    def build(self) -> CounterRoot:
        Builder.load_file(str(KV))
        Window.clearcolor = (0.95, 0.95, 0.96, 1)
        self.root_widget = CounterRoot()
        Window.bind(on_key_down=self._on_key_down, on_textinput=self._on_textinput)
        self.presenter.subscribe(self._changed)
        threading.Thread(target=self._work, name="counter-presenter", daemon=True).start()
        Clock.schedule_interval(lambda _dt: self._tick(), RESEND_SECONDS)
        self._show(self.presenter.view())
        return self.root_widget

    def on_stop(self) -> None:
        self._inbox.put(None)

    @property
    def idle(self) -> bool:
        return self._outstanding == 0

    def _work(self) -> None:
        while (task := self._inbox.get()) is not None:
            try:
                task()
            finally:
                Clock.schedule_once(self._done)

    def _done(self, _dt: float) -> None:
        self._outstanding -= 1

    def _submit(self, task: Callable[[], None]) -> None:
        self._outstanding += 1
        self._inbox.put(task)

    def _changed(self) -> None:
        view = self.presenter.view()  # on the worker thread; shown on Kivy's
        Clock.schedule_once(lambda _dt: self._show(view))

    def _show(self, view: CounterView) -> None:
        self.root_widget.view = view
        self.root_widget.ids.rows.data = [
            {"text": row, "index": i, "selected": i == view.selected}
            for i, row in enumerate(view.rows)
        ]

    def _tick(self) -> None:
        if self.idle:
            self._submit(self.presenter.tick)

    # ---- what kv and the keyboard forward ---------------------------------------

    def press(self, text: str) -> None:
        self._submit(lambda: self.presenter.type_text(text))

    def do(self, action: str) -> None:
        self._submit(lambda: self.presenter.action(action))

    def enter(self) -> None:
        self._submit(self.presenter.enter)

    def escape(self) -> None:
        self._submit(self.presenter.escape)

    def backspace(self) -> None:
        self._submit(self.presenter.backspace)

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
