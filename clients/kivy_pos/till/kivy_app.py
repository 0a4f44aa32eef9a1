"""The till's Kivy app: shows the presenter's view, forwards keys and taps to it.

Call kivy_setup.configure() before importing this module (it opens Kivy).

The presenter runs on one worker thread (clients/kivy_pos/worker.py): its calls to
the server block, for up to their deadline when the server hangs, and the window
keeps drawing and taking keys meanwhile.
"""

from __future__ import annotations

import gc

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.screenmanager import NoTransition, ScreenManager

from clients.kivy_pos.till.keys import command_for
from clients.kivy_pos.till.presenter import Step, TillPresenter
from clients.kivy_pos.till.screens import TillScreen, make_screen
from clients.kivy_pos.till.view_model import Screen, TillView
from clients.kivy_pos.worker import PresenterWorker

RETRY_SECONDS = 2.0  # how often an offline till tries its unanswered commit again


class TillApp(PresenterWorker, App):
    title = "Tillpoint 收银"

    def __init__(self, presenter: TillPresenter, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.presenter: TillPresenter = presenter
        self._init_worker()
        self._screens: dict[Screen, TillScreen] = {}
        self._shown: TillView = presenter.view()

    def _make_view(self) -> tuple[TillView, Step]:  # on the worker thread
        return self.presenter.view(), self.presenter.step

    def _show_made(self, made: tuple[TillView, Step]) -> None:
        self._show(*made)

    # ---- Kivy's thread -------------------------------------------------------------

    def build(self) -> ScreenManager:
        Window.clearcolor = (0.95, 0.95, 0.96, 1)
        self.manager = ScreenManager(transition=NoTransition())
        Window.bind(on_key_down=self._on_key_down, on_textinput=self._on_textinput)
        self._start_worker("till-presenter")
        Clock.schedule_interval(self._retry, RETRY_SECONDS)
        self._show(self._shown, self.presenter.step)
        return self.manager

    def on_start(self) -> None:
        _freeze_long_lived()

    def on_stop(self) -> None:
        self._stop_worker()

    def screen(self, which: Screen) -> TillScreen:
        """The Kivy screen for a till screen, made (and its kv loaded) on first use."""
        if which not in self._screens:
            self._screens[which] = make_screen(which)
            self.manager.add_widget(self._screens[which])
            _freeze_long_lived()
        return self._screens[which]

    def _show(self, view: TillView, step: Step) -> None:
        self._shown = view
        target = self.screen(view.screen)
        target.show(view, step)
        self.manager.current = target.name

    # ---- the keyboard (kv calls press, do, enter, escape, backspace) -------------------

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


def _freeze_long_lived() -> None:
    """Keep the window's widgets, kv rules and fonts (~100,000 objects that live as long
    as the till) out of the garbage collector's full collections: walking them all
    stalls the till's both threads for ~100 ms under load, a scan's whole budget."""
    gc.freeze()
