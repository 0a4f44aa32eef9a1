"""What the till's and the counter's Kivy apps share: the forwarders kv and the keyboard
call (press, do, enter, escape, backspace) and the one worker thread the presenter runs on.

The presenter's calls to the server block, for up to their deadline when the server
hangs, so they never run on Kivy's thread: inputs are queued to the worker, in order,
and the view the presenter makes there is handed back to Kivy's thread to be shown.
A wedge scanner types a code and its Enter within one frame: the inputs of a frame go
to the worker together, and one view (and one frame) answers them, not one per digit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from kivy.clock import Clock


class Inputs(Protocol):
    """A presenter's inputs: one method per key or tap; each tells its listeners."""

    def type_text(self, text: str) -> None: ...
    def action(self, name: str) -> None: ...
    def enter(self) -> None: ...
    def escape(self) -> None: ...
    def backspace(self) -> None: ...
    def subscribe(self, listener: Callable[[], None]) -> None: ...


class PresenterWorker:
    """Mixed into an App: call _start_worker() in build(), _stop_worker() in on_stop();
    _make_view() runs on the worker, _show_made(made) on Kivy's thread."""

    presenter: Inputs

    def _init_worker(self) -> None:
        self._inbox: queue.Queue[list[Callable[[], None]] | None] = queue.Queue()
        self._batch: list[Callable[[], None]] = []  # inputs of this frame (Kivy's thread)
        self._outstanding = 0  # inputs queued and not yet shown (Kivy's thread only)
        self._latest: Any = None  # a view made on the worker, not yet shown
        self._latest_lock = threading.Lock()
        self._changed_since_shown = False  # the worker's: the presenter changed, not shown

    def _start_worker(self, name: str) -> None:
        self.presenter.subscribe(self._presenter_changed)
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _stop_worker(self) -> None:
        self._inbox.put(None)

    def _make_view(self) -> Any:
        raise NotImplementedError

    def _show_made(self, made: Any) -> None:
        raise NotImplementedError

    @property
    def idle(self) -> bool:
        """No input is waiting or running, and its view is on screen."""
        return self._outstanding == 0

    # ---- the worker: the presenter runs here ------------------------------------------

    def _work(self) -> None:
        while (batch := self._inbox.get()) is not None:
            try:
                for task in batch:
                    task()
            finally:
                # While more input is queued this view would be replaced before it
                # could be drawn: the view is made (and a frame drawn) only once the
                # queue is empty. A later input always ends here too: none is lost.
                if self._changed_since_shown and self._inbox.empty():
                    self._changed_since_shown = False
                    self._publish()
                Clock.schedule_once(partial(self._done, len(batch)))

    def _done(self, count: int, _dt: float) -> None:
        self._outstanding -= count

    def _presenter_changed(self) -> None:
        # On the worker thread, during an input: the view is taken after it (_work).
        self._changed_since_shown = True

    def _publish(self) -> None:
        # On the worker thread: make the view here, show it on Kivy's thread. Views
        # made faster than frames are coalesced: only the newest is drawn.
        with self._latest_lock:
            first = self._latest is None
            self._latest = self._make_view()
        if first:
            Clock.schedule_once(self._show_latest)

    def _show_latest(self, _dt: float) -> None:
        with self._latest_lock:
            latest, self._latest = self._latest, None
        if latest is not None:
            self._show_made(latest)

    # ---- Kivy's thread: what kv and the keyboard forward ---------------------------------

    def _submit(self, task: Callable[[], None]) -> None:
        self._outstanding += 1
        self._batch.append(task)
        if len(self._batch) == 1:
            Clock.schedule_once(self._hand_over, -1)  # -1: before this frame is drawn

    def _hand_over(self, _dt: float) -> None:
        batch, self._batch = self._batch, []
        self._inbox.put(batch)

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
