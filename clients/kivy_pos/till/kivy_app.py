"""The till's Kivy app: shows the presenter's view, forwards keys and taps to it.

Call kivy_setup.configure() before importing this module (it opens Kivy).

The presenter's calls to the server block, for up to their deadline when the
server hangs, so they never run on Kivy's thread: every input is queued to one
worker thread, in order, and each view the presenter makes there is handed
back to Kivy's thread to be shown. The window keeps drawing and taking keys.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.screenmanager import NoTransition, ScreenManager

from clients.kivy_pos.till.keys import command_for
from clients.kivy_pos.till.presenter import Step, TillPresenter
from clients.kivy_pos.till.screens import TillScreen, make_screen
from clients.kivy_pos.till.view_model import Screen, TillView

RETRY_SECONDS = 2.0  # how often an offline till tries its unanswered commit again


class TillApp(App):
    title = "Tillpoint 收银"

    def __init__(self, presenter: TillPresenter, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.presenter = presenter
        self._screens: dict[Screen, TillScreen] = {}
        self._inbox: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._outstanding = 0  # inputs queued and not yet shown (Kivy's thread only)
        self._shown: TillView = presenter.view()
        self._latest: tuple[TillView, Step] | None = None  # made on the worker, not yet shown
        self._latest_lock = threading.Lock()

    # ---- the worker: the presenter runs here, one input at a time --------------

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

    @property
    def idle(self) -> bool:
        """No input is waiting or running, and its view is on screen."""
        return self._outstanding == 0

    def _presenter_changed(self) -> None:
        # On the worker thread: take the view here, show it on Kivy's thread. Views
        # made faster than frames (a wedge types 13 digits at once) are coalesced:
        # only the newest is drawn.
        with self._latest_lock:
            first = self._latest is None
            self._latest = (self.presenter.view(), self.presenter.step)
        if first:
            Clock.schedule_once(self._show_latest)

    def _show_latest(self, _dt: float) -> None:
        with self._latest_lock:
            latest, self._latest = self._latest, None
        if latest is not None:
            self._show(*latest)

    # ---- Kivy's thread -------------------------------------------------------------

    def build(self) -> ScreenManager:
        Window.clearcolor = (0.95, 0.95, 0.96, 1)
        self.manager = ScreenManager(transition=NoTransition())
        Window.bind(on_key_down=self._on_key_down, on_textinput=self._on_textinput)
        self.presenter.subscribe(self._presenter_changed)
        threading.Thread(target=self._work, name="till-presenter", daemon=True).start()
        Clock.schedule_interval(self._retry, RETRY_SECONDS)
        self._show(self._shown, self.presenter.step)
        return self.manager

    def on_stop(self) -> None:
        self._inbox.put(None)

    def screen(self, which: Screen) -> TillScreen:
        """The Kivy screen for a till screen, made (and its kv loaded) on first use."""
        if which not in self._screens:
            self._screens[which] = make_screen(which)
            self.manager.add_widget(self._screens[which])
        return self._screens[which]

    def _show(self, view: TillView, step: Step) -> None:
        self._shown = view
        target = self.screen(view.screen)
        target.show(view, step)
        self.manager.current = target.name

    # ---- what kv and the keyboard forward --------------------------------------

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
        command = command_for(keycode, self._shown.screen)
        if command is None:
            return False  # printable keys arrive as on_textinput
        if command in ("enter", "escape", "backspace"):
            getattr(self, command)()
        else:
            self.do(command)
        return True

    def _on_textinput(self, _window: object, text: str) -> None:
        if text.isprintable():
            self.press(text)

    def _retry(self, _dt: float) -> None:
        if self._shown.banner and self.idle:
            self._submit(self.presenter.retry)
