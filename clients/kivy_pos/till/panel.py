"""The two overlays of the sell screen, as plain values: a list panel and a question.

A Panel is a list the cashier picks from (search results, held baskets, the
functions menu, a receipt's lines for a return) or only reads (X and Z reports,
the key help). An Ask is one question in the entry box whose answer goes to a
callback (an amount, a reason, a supervisor's id and PIN); answers that need
further questions simply set the next Ask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Panel:
    kind: str  # search, held, menu, report, help, return
    title: str
    rows: tuple[str, ...]
    pick: Callable[[int], None] | None = None  # a row tapped, or its number typed
    confirm: Callable[[], None] | None = None  # Enter on an empty box (default: pick selected)
    selected: int = 0
    footer: str = ""
    marked: set[int] = field(default_factory=set)  # rows ticked (a return's lines)
    # Text typed other than a row number (e.g. a return's '2*1': row 2, quantity 1);
    # True when the panel took it.
    typed: Callable[[str], bool] | None = None

    def move(self, delta: int) -> None:
        if self.rows:
            self.selected = max(0, min(len(self.rows) - 1, self.selected + delta))


@dataclass(frozen=True)
class Ask:
    prompt: str
    answer: Callable[[str], None]
    secret: bool = False  # a PIN: shown as dots
    title: str = ""  # a dialog's heading (e.g. 主管授权), shown above the entry box
