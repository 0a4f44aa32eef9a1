"""The handheld counter's state machine: keys and taps in, a CounterView out. No Kivy.

Log in, pick an open stocktake, type the zone, then scan and key the quantity. Every
count is written to the device's SQLite queue first (its UUIDv7 id made there), then
sent; when the server does not answer, the banner says so and tick() (a timer in the
app) sends the queue again, oldest first, each count id once. An edit is a new count
that replaces the one selected, so nothing already sent is ever changed in place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from clients.kivy_pos.client.errors import Offline, ServerError
from clients.kivy_pos.counter.count_queue import CountQueue, CountState, QueuedCount
from clients.kivy_pos.counter.sender import FlushResult, flush
from clients.kivy_pos.till.amounts import parse_quantity, quantity_text
from tillpoint.v1 import stock_pb2


class CounterClient(Protocol):
    def login(self, operator_id: str, pin: str) -> object: ...
    def list_sessions(self) -> Sequence[stock_pb2.StocktakeSession]: ...
    def send_counts(
        self, session_id: str, counts: list[stock_pb2.Count]
    ) -> stock_pb2.CountBatchResult: ...


class Step(StrEnum):
    OPERATOR = "operator"
    PIN = "pin"
    SESSION = "session"
    ZONE = "zone"
    CODE = "code"
    QUANTITY = "quantity"
    EDIT = "edit"


PROMPTS = {
    Step.OPERATOR: "工号，Enter 确认",
    Step.PIN: "密码，Enter 登录（Esc 返回）",
    Step.SESSION: "选择盘点：输入序号，Enter 确认",
    Step.ZONE: "区域/货架号，如 A1，Enter 确认",
    Step.CODE: "扫描商品条码（↑↓ 选择已盘行，F2 修改）",
    Step.QUANTITY: "{code}：数量，Enter 确认（直接 Enter = 1）",
    Step.EDIT: "修改 {code}（原 {qty}）：新数量，Enter 确认",
}
STATE_WORDS = {CountState.QUEUED: "待发送", CountState.SENT: "已发送", CountState.REJECTED: "被拒"}


@dataclass(frozen=True)
class CounterView:
    step: Step
    title: str  # the stocktake and zone, once picked
    prompt: str
    entry: str
    message: str
    banner: str  # offline: how many counts wait on the device
    rows: tuple[str, ...]  # sessions to pick, or this zone's running list (newest first)
    selected: int
    waiting: int


def count_row(count: QueuedCount) -> str:
    qty = quantity_text(count.quantity_milli, weighed=False)
    state = STATE_WORDS[count.state] + (f"：{count.message}" if count.message else "")
    mark = "（修改）" if count.replaces else ""
    return f"{count.code or count.product_id}  ×{qty}{mark}  {state}"


class CounterPresenter:
    def __init__(self, client: CounterClient, queue: CountQueue, batch_size: int = 500) -> None:
        self.client = client
        self.queue = queue
        self.batch_size = batch_size
        self._listeners: list[Callable[[], None]] = []
        self.step = Step.OPERATOR
        self.entry = ""
        self.message = ""
        self.offline = False
        self.operator_id = ""
        self.sessions: tuple[stock_pb2.StocktakeSession, ...] = ()
        self.session: stock_pb2.StocktakeSession | None = None
        self.zone = ""
        self.code = ""
        self.selected = 0
        self.last_flush = FlushResult()

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    # ---- the view ---------------------------------------------------------------

    def _zone_counts(self) -> list[QueuedCount]:
        """This zone's counts, newest first, without those an edit replaced."""
        if self.session is None:
            return []
        counts = [c for c in self.queue.of_session(self.session.session_id) if c.zone == self.zone]
        replaced = {c.replaces for c in counts if c.replaces}
        return [c for c in reversed(counts) if c.count_id not in replaced]

    def view(self) -> CounterView:
        if self.step is Step.SESSION:
            rows = tuple(
                f"{i + 1}. {s.name}（已盘 {s.counts} 条）" for i, s in enumerate(self.sessions)
            )
        else:
            rows = tuple(count_row(c) for c in self._zone_counts())
        waiting = self.queue.waiting()
        title = f"{self.session.name} · 区域 {self.zone}" if self.session and self.zone else ""
        selected = self._selected_count()
        return CounterView(
            step=self.step,
            title=title or (self.session.name if self.session else "Tillpoint 盘点"),
            prompt=PROMPTS[self.step].format(
                code=self.code or (selected.code if selected else ""),
                qty=quantity_text(selected.quantity_milli, weighed=False) if selected else "",
            ),
            entry="●" * len(self.entry) if self.step is Step.PIN else self.entry,
            message=self.message,
            banner=f"离线：{waiting} 条盘点记录保存在本机，恢复连接后自动发送"
            if self.offline
            else "",
            rows=rows,
            selected=self.selected,
            waiting=waiting,
        )

    # ---- inputs ---------------------------------------------------------------------

    def type_text(self, text: str) -> None:
        self.entry += text
        self._changed()

    def backspace(self) -> None:
        self.entry = self.entry[:-1]
        self._changed()

    def escape(self) -> None:
        self.message = ""
        if self.entry:
            self.entry = ""
        elif self.step in (Step.QUANTITY, Step.EDIT):
            self.step = Step.CODE
        elif self.step is Step.CODE:
            self.step = Step.ZONE
        elif self.step is Step.PIN:
            self.step = Step.OPERATOR
        self._changed()

    def action(self, name: str) -> None:
        """'up', 'down', 'edit', or 'pick:<row>' (a row tapped)."""
        verb, _, arg = name.partition(":")
        self.message = ""
        if verb in ("up", "down"):
            limit = len(self.view().rows) - 1
            self.selected = max(0, min(limit, self.selected + (1 if verb == "down" else -1)))
        elif verb == "pick":
            self.selected = int(arg)
            if self.step is Step.SESSION:
                self._pick_session(self.selected)
            elif self.step in (Step.CODE, Step.QUANTITY):
                self.step = Step.EDIT if self._selected_count() else self.step
        elif verb == "edit" and self.step in (Step.CODE, Step.QUANTITY):
            if self._selected_count() is None:
                self.message = "没有选中的盘点行"
            else:
                self.step = Step.EDIT
        self._changed()

    def enter(self) -> None:
        text, self.entry = self.entry.strip(), ""
        self.message = ""
        try:
            {
                Step.OPERATOR: self._enter_operator,
                Step.PIN: self._enter_pin,
                Step.SESSION: lambda t: self._pick_session(int(t) - 1 if t.isdigit() else -1),
                Step.ZONE: self._enter_zone,
                Step.CODE: self._enter_code,
                Step.QUANTITY: self._enter_quantity,
                Step.EDIT: self._enter_edit,
            }[self.step](text)
        except Offline as err:
            self.offline = True
            self.message = err.message
        except ServerError as err:
            self.message = err.message
        self._changed()

    def tick(self) -> None:
        """The app's timer: send what waits on the device (every count id once)."""
        if self.session is not None and self.queue.waiting():
            self._flush()
            self._changed()

    # ---- steps ---------------------------------------------------------------------------

    def _enter_operator(self, text: str) -> None:
        if text:
            self.operator_id = text
            self.step = Step.PIN

    def _enter_pin(self, text: str) -> None:
        try:
            self.client.login(self.operator_id, text)
        except ServerError:
            self.step = Step.OPERATOR
            raise
        self.offline = False
        self.sessions = tuple(s for s in self.client.list_sessions() if s.status == "open")
        self.step = Step.SESSION
        self.selected = 0
        if not self.sessions:
            self.message = "没有进行中的盘点：请先在后台开盘"

    def _pick_session(self, index: int) -> None:
        if not 0 <= index < len(self.sessions):
            self.message = "请输入列表中的序号"
            return
        self.session = self.sessions[index]
        self.step = Step.ZONE

    def _enter_zone(self, text: str) -> None:
        if not text:
            self.message = "请输入区域"
            return
        self.zone = text
        self.selected = 0
        self.step = Step.CODE

    def _enter_code(self, text: str) -> None:
        if text:
            self.code = text
            self.step = Step.QUANTITY

    def _enter_quantity(self, text: str) -> None:
        milli = parse_quantity(text) if text else 1_000
        if milli is None:
            self.message = "数量格式不对：最多三位小数"
            return
        assert self.session is not None
        self.queue.add(self.session.session_id, self.zone, milli, code=self.code)
        self.message = f"已记录 {self.code} ×{quantity_text(milli, weighed=False)}"
        self.code = ""
        self.step = Step.CODE
        self.selected = 0
        if not self.offline:  # offline, the timer resends; each count stays quick
            self._flush()

    def _selected_count(self) -> QueuedCount | None:
        counts = self._zone_counts() if self.step is not Step.SESSION else []
        return counts[self.selected] if 0 <= self.selected < len(counts) else None

    def _enter_edit(self, text: str) -> None:
        original = self._selected_count()
        milli = parse_quantity(text) if text else None
        if original is None or milli is None:
            self.message = "数量格式不对：最多三位小数"
            return
        assert self.session is not None
        self.queue.add(
            self.session.session_id,
            self.zone,
            milli,
            code=original.code,
            product_id=original.product_id if not original.code else 0,
            replaces=original.count_id,
        )
        self.message = f"已修改 {original.code} 为 ×{quantity_text(milli, weighed=False)}"
        self.step = Step.CODE
        self.selected = 0
        if not self.offline:
            self._flush()

    def _flush(self) -> None:
        result = flush(self.queue, self.client, batch_size=self.batch_size)
        self.last_flush = result
        self.offline = result.offline
        if result.error:
            self.message = result.error
