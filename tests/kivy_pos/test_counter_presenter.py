"""The handheld counter's logic (no Kivy) against a real store server that is really
stopped and started again: counts queue on the device and arrive once."""

from __future__ import annotations

from pathlib import Path

from clients.kivy_pos.client import CallPolicy, StoreClient
from clients.kivy_pos.counter.count_queue import CountQueue
from clients.kivy_pos.counter.presenter import CounterPresenter, Step
from tests.kivy_pos.stores import start_again, stop
from tests.kivy_pos.test_counter_queue import counts_on_server, open_stocktake
from tests.support import catalog_fixture as cf
from tests.support.handheld import CLERK, add_clerk
from tests.support.server import RunningStore


def key_in(counter: CounterPresenter, text: str) -> None:
    counter.type_text(text)
    counter.enter()


def counter_for(store: RunningStore, path: Path) -> tuple[CounterPresenter, StoreClient]:
    client = StoreClient(
        store.store.address,
        "hh-01",
        policy=CallPolicy(deadline=1.0, attempts=1, backoff=0.01),
        sleep=lambda _s: None,
    )
    return CounterPresenter(client, CountQueue(path), batch_size=50), client


def to_counting(counter: CounterPresenter, zone: str = "A1") -> None:
    key_in(counter, CLERK[0])
    key_in(counter, CLERK[1])
    assert counter.step is Step.SESSION, counter.message
    assert counter.view().rows[0].startswith("1. 全店盘点")
    key_in(counter, "1")
    key_in(counter, zone)
    assert counter.step is Step.CODE


def test_200_counts_made_while_the_server_is_down_are_delivered_once(
    fixed_store: RunningStore, tmp_path: Path
) -> None:
    add_clerk(fixed_store)
    session_id = open_stocktake(fixed_store)
    counter, client = counter_for(fixed_store, tmp_path / "counts.db")
    to_counting(counter)
    key_in(counter, cf.COKE_CAN)
    key_in(counter, "12")
    assert counter.view().rows == (f"{cf.COKE_CAN}  ×12  已发送",)

    stop(fixed_store)
    codes = [cf.SPRITE_CAN, cf.WATER, cf.COKE_CASE, cf.NOODLES]
    for i in range(200):
        key_in(counter, codes[i % 4])
        key_in(counter, str(i % 7 + 1))
    view = counter.view()
    assert view.banner.startswith("离线：200 条") and view.waiting == 200
    assert len(view.rows) == 201 and view.rows[0].endswith("待发送")
    counter.tick()  # the app's timer while the server is still down: nothing lost
    assert counter.offline and counter.queue.waiting() == 200

    start_again(fixed_store)
    assert client.reachable(timeout=5.0)
    counter.tick()
    view = counter.view()
    assert view.banner == "" and view.waiting == 0
    assert (counter.last_flush.accepted, counter.last_flush.duplicates) == (200, 0)
    assert counts_on_server(client, session_id) == 201
    counter.tick()  # nothing is sent twice
    assert counts_on_server(client, session_id) == 201
    counter.queue.close()
    client.close()


def test_edit_a_count_and_an_unknown_code_is_shown_rejected(
    store: RunningStore, tmp_path: Path
) -> None:
    add_clerk(store)
    session_id = open_stocktake(store)
    counter, client = counter_for(store, tmp_path / "counts.db")
    to_counting(counter, zone="B2")
    key_in(counter, cf.WATER)
    counter.enter()  # an empty quantity is one
    key_in(counter, cf.SPRITE_CAN)
    key_in(counter, "6")
    counter.action("down")  # the water, below the newest
    counter.action("edit")
    assert counter.view().prompt.startswith(f"修改 {cf.WATER}（原 1）")
    key_in(counter, "4")
    assert counter.view().rows == (
        f"{cf.WATER}  ×4（修改）  已发送",
        f"{cf.SPRITE_CAN}  ×6  已发送",
    )
    key_in(counter, cf.ean13("690999999999"))
    key_in(counter, "1")
    assert "被拒" in counter.view().rows[0]
    # Three counts sent, the correction replaced the first: the stocktake holds two.
    assert counts_on_server(client, session_id) == 2
    counter.queue.close()
    client.close()
