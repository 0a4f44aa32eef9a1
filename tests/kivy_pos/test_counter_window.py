"""The handheld counter's real window (480x800) under Xvfb against a real store server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kivy_pos.scenario import ROOT, prepare_stocktake, run_counter
from tests.kivy_pos.test_till_window import assert_not_blank
from tests.support import catalog_fixture as cf
from tests.support.handheld import Handheld
from tests.support.server import RunningStore
from tillpoint.v1 import stock_pb2

pytestmark = pytest.mark.slow


def test_the_clerk_counts_three_items_and_the_server_has_them(
    store: RunningStore, tmp_path: Path
) -> None:
    prepare_stocktake(store)
    result = run_counter(store.store.address, tmp_path)
    shown = result["screens"]["count"]
    assert "全店盘点 · 区域 A1" in shown and "全部已发送" in shown
    assert shown.count(f"{cf.COKE_CAN}  ×24  已发送") == 1
    assert f"{cf.SPRITE_CAN}  ×6  已发送" in shown and f"{cf.COKE_CASE}  ×1  已发送" in shown
    assert cf.SPRITE_CAN in shown  # the next scan, typed in the box
    assert_not_blank(Path(result["shots"]["count"]), size=(480, 800))
    office = Handheld(store, device_id="office-02", operator=("1003", "3333"))
    sessions = office.call("ListSessions", stock_pb2.ListSessionsRequest()).sessions
    assert [s.counts for s in sessions] == [3]


def test_the_counter_screenshot_in_docs_is_not_blank() -> None:
    """`make screenshots` writes it; the README shows it."""
    assert_not_blank(ROOT / "docs" / "screenshots" / "counter-count.png", size=(480, 800))
