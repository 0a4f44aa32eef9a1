"""Runs the real handheld counter app in this process's window (480x800) and counts.

Started under Xvfb by tests/kivy_pos/scenario.run_counter():
    python -m tests.kivy_pos.counter_driver --server HOST:PORT --out DIR --codes JSON
Types like a clerk with a wedge scanner, taps the keypad, takes a screenshot of the
count screen and writes what it showed to DIR/result.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

from clients.kivy_pos.till import kivy_setup
from clients.kivy_pos.till.keys import ENTER
from tests.kivy_pos.till_driver import find_button, texts_of


def steps(codes: dict[str, str]) -> list[tuple]:
    return [
        ("type", "1004"),
        ("key", ENTER),
        ("type", "4444"),
        ("key", ENTER),
        ("type", "1"),  # the first open stocktake
        ("key", ENTER),
        ("type", "A1"),
        ("key", ENTER),
        ("type", codes["coke_can"]),
        ("key", ENTER),
        ("tap", "2"),
        ("tap", "4"),
        ("tap", "Enter 确认"),
        ("type", codes["sprite_can"]),
        ("key", ENTER),
        ("type", "6"),
        ("key", ENTER),
        ("type", codes["coke_case"]),
        ("key", ENTER),
        ("key", ENTER),  # one case
        ("type", codes["sprite_can"]),
        ("shot", "count"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--codes", required=True)
    args, _till_only = parser.parse_known_args()  # scenario.run_till's till options
    kivy_setup.configure(480, 800)

    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch

    from clients.kivy_pos.client import StoreClient
    from clients.kivy_pos.counter.count_queue import CountQueue
    from clients.kivy_pos.counter.kivy_app import CounterApp
    from clients.kivy_pos.counter.presenter import CounterPresenter

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    client = StoreClient(args.server, "hh-01")
    count_queue = CountQueue(out / "counts.db")
    app = CounterApp(CounterPresenter(client, count_queue))
    todo = steps(json.loads(args.codes))
    result: dict = {"screens": {}, "shots": {}, "ok": False}

    def press(keycode: int, text: str = "") -> None:
        Window.dispatch("on_key_down", keycode, 0, text or None, [])
        if text:
            Window.dispatch("on_textinput", text)
        Window.dispatch("on_key_up", keycode, 0)

    def tap(text: str) -> None:
        button = find_button(app.root, text)
        if button is None:
            raise LookupError(f"no button {text!r}")
        touch = UnitTestTouch(*button.to_window(*button.center))
        touch.touch_down()
        touch.touch_up()

    def shoot(name: str) -> None:
        result["screens"][name] = texts_of(app.root)
        made = Window.screenshot(name=str(out / f"{name}.png"))
        Path(made).replace(out / f"{name}.png")
        result["shots"][name] = str(out / f"{name}.png")

    actions = {
        "type": lambda text: [press(ord(ch), ch) for ch in text],
        "key": press,
        "tap": tap,
        "shot": shoot,
    }

    def finish(ok: bool, error: str = "") -> None:
        result["ok"], result["error"] = ok, error
        (out / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
        app.stop()

    def run_step(_dt: float) -> None:
        if not app.idle:
            Clock.schedule_once(run_step, 0.05)
            return
        try:
            if not todo:
                finish(True)
                return
            kind, arg = todo.pop(0)
            actions[kind](arg)
            Clock.schedule_once(run_step, 0.1)
        except Exception:
            finish(False, traceback.format_exc())

    def start_when_laid_out(_dt: float) -> None:
        seven = find_button(app.root, "7") if app.root else None
        if seven is not None and tuple(seven.size) != (100, 100):
            Clock.schedule_once(run_step, 0.5)
        else:
            Clock.schedule_once(start_when_laid_out, 0.1)

    Clock.schedule_once(start_when_laid_out, 0.2)
    app.run()
    count_queue.close()
    client.close()
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
