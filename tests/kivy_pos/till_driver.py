"""Runs the real till app in this process's window and drives it like a cashier.

Started as a subprocess under Xvfb by tests/kivy_pos/scenario.py:
    python -m tests.kivy_pos.till_driver --server HOST:PORT --out DIR
It taps the PIN pad (touch events), types scans like a keyboard wedge (key
events), presses F-keys, takes screenshots and writes what every screen
showed (the texts of its widget tree) to DIR/result.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from clients.kivy_pos.till import kivy_setup
from clients.kivy_pos.till.keys import ENTER, ESCAPE, F1

MEMBER = "13800138000*246810"


def login_steps() -> list[tuple]:
    return [
        *[("tap", d) for d in "1001"],
        ("key", ENTER),
        *[("tap", d) for d in "1111"],
        ("tap", "Enter 确认"),
        ("type", "500"),  # the opening float
        ("key", ENTER),
        ("expect", "sell"),
    ]


def outage(codes: dict[str, str]) -> list[tuple]:
    """The server goes away during tender (the test stops it between the signals)."""
    return [
        *login_steps(),
        ("type", f"2*{codes['sprite_can']}"),
        ("key", ENTER),
        ("key", F1 + 11),  # F12: total
        ("expect", "tender"),
        ("signal", "stop-the-server"),
        ("await", "server-stopped"),
        ("type", "10"),
        ("key", ENTER),
        ("shot", "offline"),
        ("signal", "offline-shown"),
        ("await", "server-started"),
        ("until", "sold"),  # the till's retry timer commits on its own
        ("shot", "offline_done"),
    ]


def scenario(codes: dict[str, str]) -> list[tuple]:
    """The cashier's steps: ('tap', text), ('type', text), ('key', code), ('shot', name),
    ('expect', screen): the scenario stops with an error when the till is elsewhere;
    ('signal', name) writes a file for the test, ('await', name) waits for the test's."""
    return [
        *[("tap", d) for d in "1001"],
        ("key", ENTER),
        ("tap", "1"),
        ("tap", "1"),
        ("shot", "login"),
        ("tap", "1"),
        ("tap", "1"),
        ("tap", "Enter 确认"),
        ("type", "500"),  # the opening float
        ("key", ENTER),
        ("expect", "sell"),
        ("key", F1 + 1),  # F2: member
        ("type", MEMBER),
        ("key", ENTER),
        ("type", codes["coke_can"]),
        ("key", ENTER),
        ("type", f"3*{codes['sprite_can']}"),
        ("key", ENTER),
        ("type", codes["coke_case"]),
        ("key", ENTER),
        ("type", "0.5*1001"),  # 500 g of apples by PLU
        ("key", ENTER),
        ("shot", "sell"),
        ("key", F1 + 11),  # F12: total, to tender
        ("expect", "tender"),
        ("shot", "tender"),
        ("type", "100"),
        ("key", ENTER),
        ("shot", "tender_done"),
    ]


def cashier(codes: dict[str, str]) -> list[tuple]:
    """The full cashier: 5 items (one weighed by scale label, one case), a member by F2,
    search as you type picked by touch, split tender (card + cash), printed, shift closed
    with a blind count through the functions menu."""
    return [
        *login_steps(),
        ("key", F1 + 1),  # F2: member
        ("type", MEMBER),
        ("key", ENTER),
        ("type", codes["coke_can"]),
        ("key", ENTER),
        ("type", f"3*{codes['sprite_can']}"),
        ("key", ENTER),
        ("type", codes["coke_case"]),
        ("key", ENTER),
        ("type", codes["apples_label"]),  # a scale label: 0.352 kg of apples
        ("key", ENTER),
        ("type", "nfsq"),  # search as you type: 农夫山泉 by its pinyin initials
        ("shot", "cashier_search"),
        ("tap_row", 0),
        ("shot", "cashier_sell"),
        ("key", F1 + 11),  # F12: total
        ("expect", "tender"),
        ("key", F1 + 1),  # F2: bank card
        ("type", "50"),
        ("key", ENTER),
        ("type", "C-7788"),  # the card slip's number
        ("key", ENTER),
        ("key", F1),  # F1: cash
        ("tap", "1"),
        ("tap", "0"),
        ("tap", "0"),
        ("tap", "Enter 确认"),
        ("printed", "sale"),
        ("shot", "cashier_done"),
        ("key", ENTER),  # the next sale
        ("expect", "sell"),
        ("key", F1 + 10),  # F11: functions
        ("type", "4"),  # 4. close the shift
        ("key", ENTER),
        ("type", codes["counted"]),  # the blind count
        ("key", ENTER),
        ("shot", "cashier_z"),
        ("key", ENTER),  # log out
        ("expect", "login"),
    ]


def tenders(codes: dict[str, str]) -> list[tuple]:
    """Two sales paid with the newer tenders, their buttons tapped on the tender screen:
    the member's coupon, points and stored value; then the member's count card, a gift
    voucher and foreign cash (converted by the server)."""
    return [
        *login_steps(),
        ("key", F1 + 1),  # F2: member
        ("type", MEMBER),
        ("key", ENTER),
        ("type", codes["coke_case"]),
        ("key", ENTER),
        ("key", F1 + 11),  # F12: total
        ("expect", "tender"),
        ("tap", "F8\n优惠券"),
        ("tap_row", 0),  # the coupon: on the basket
        ("key", ESCAPE),  # the coupon list closes
        ("tap", "F5\n积分抵现"),
        ("type", codes["points"]),
        ("key", ENTER),
        ("tap", "F4\n储值卡"),
        ("key", ENTER),  # an empty Enter: stored value pays the rest, the sale is sent
        ("until", "sold"),
        ("shot", "tenders_member"),
        ("key", ENTER),  # the next sale
        ("expect", "sell"),
        ("key", F1 + 1),
        ("type", MEMBER),
        ("key", ENTER),
        ("type", f"2*{codes['coke_can']}"),
        ("key", ENTER),
        ("type", codes["coke_case"]),
        ("key", ENTER),
        ("key", F1 + 11),
        ("expect", "tender"),
        ("tap", "End\n计次卡"),
        ("tap_row", 0),  # the member's count card pays the two cans
        ("tap", "F6\n礼券"),
        ("type", codes["voucher"]),
        ("key", ENTER),
        ("type", "GV-8888"),  # the voucher's number
        ("key", ENTER),
        ("tap", "F7\n外币现金"),
        ("type", codes["foreign"]),
        ("key", ENTER),  # foreign cash last: the sale is sent
        ("until", "sold"),
        ("shot", "tenders_foreign"),
    ]


SCANS = 16  # more lines than the sell screen shows: the list scrolls


def scans(codes: dict[str, str]) -> list[tuple]:
    """Scans typed like a wedge scanner (the code and Enter at once); after each, what
    the till drew until it settled: frames, label renders and the visible texts."""
    steps: list[tuple] = [*login_steps()]
    for i in range(SCANS):
        steps += [("wedge", codes["coke_can" if i % 2 else "sprite_can"]), ("settle", i)]
    return steps


def wide(codes: dict[str, str]) -> list[tuple]:
    """A short sale on a 1920x1080 screen, with the help overlay open."""
    return [
        *login_steps(),
        ("type", codes["coke_can"]),
        ("key", ENTER),
        ("key", F1),  # help
        ("shot", "wide_help"),
        ("key", 27),  # Esc
        ("key", F1 + 11),
        ("expect", "tender"),
        ("shot", "wide_tender"),
    ]


def texts_of(widget) -> list[str]:
    """Every non-empty label text under a widget, in tree order (what is on screen)."""
    from kivy.uix.label import Label

    found = [widget.text] if isinstance(widget, Label) and widget.text else []
    for child in reversed(widget.children):
        found.extend(texts_of(child))
    return found


def find_button(widget, text: str):
    from kivy.uix.button import Button

    if isinstance(widget, Button) and widget.text == text:
        return widget
    for child in widget.children:
        hit = find_button(child, text)
        if hit is not None:
            return hit
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--codes", required=True, help="JSON: the barcodes to scan")
    parser.add_argument(
        "--scenario",
        default="sale",
        choices=["sale", "outage", "cashier", "wide", "tenders", "scans"],
    )
    parser.add_argument("--size", default="1024x768")
    parser.add_argument("--printer", default="")
    parser.add_argument("--display", default="")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    kivy_setup.configure(width, height)

    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch
    from kivy.uix.label import Label

    from clients.kivy_pos.client import StoreClient
    from clients.kivy_pos.till.devices import TillDevices
    from clients.kivy_pos.till.kivy_app import TillApp
    from clients.kivy_pos.till.presenter import TillPresenter

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    client = StoreClient(args.server, "till-01")
    devices = TillDevices(
        printer=args.printer, display=args.display, queue_path=out / "print-queue.db"
    )
    app = TillApp(TillPresenter(client, devices=devices))
    scenarios = {
        "sale": scenario,
        "outage": outage,
        "cashier": cashier,
        "wide": wide,
        "tenders": tenders,
        "scans": scans,
    }
    steps = scenarios[args.scenario](json.loads(args.codes))
    result: dict = {"screens": {}, "shots": {}, "ok": False}

    def current():
        return app.manager.current_screen

    def tap(text: str) -> None:
        button = find_button(current(), text)
        if button is None:
            raise LookupError(f"no button {text!r} on {current().name}")
        x, y = button.to_window(*button.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()

    def tap_row(index: int) -> None:
        """A finger on a row of the overlay list (search results, held baskets, menu)."""
        rows = current().ids.overlay.ids.rows
        row = next((w for w in rows.children[0].children if w.index == index), None)
        if row is None:
            raise LookupError(f"no overlay row {index} on {current().name}")
        x, y = row.to_window(*row.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()

    def press(keycode: int, text: str = "") -> None:
        Window.dispatch("on_key_down", keycode, 0, text or None, [])
        if text:
            Window.dispatch("on_textinput", text)
        Window.dispatch("on_key_up", keycode, 0)

    def shoot(name: str) -> None:
        result["screens"][name] = texts_of(current())
        made = Window.screenshot(name=str(out / f"{name}.png"))
        final = out / f"{name}.png"
        Path(made).replace(final)
        result["shots"][name] = str(final)

    def expect(screen: str) -> None:
        p = app.presenter
        if p.screen.value != screen:
            raise AssertionError(f"expected {screen}, the till shows {p.screen.value}: {p.message}")

    def signal(name: str) -> None:
        (out / name).touch()

    waited = {"since": 0.0}
    drawn = {"frames": 0, "renders": 0, "since": 0.0}
    if args.scenario == "scans":  # count frames and label renders
        Window.bind(on_flip=lambda *_a: drawn.update(frames=drawn["frames"] + 1))
        render = Label.texture_update

        def texture_update(label: Label, *largs: object) -> None:  # Kivy binds it by name
            drawn["renders"] += 1
            render(label, *largs)

        Label.texture_update = texture_update  # type: ignore[method-assign]

    def wedge(code: str) -> None:
        """A barcode scanner: the code's keys and Enter within one frame."""
        for ch in code:
            press(ord(ch), ch)
        press(ENTER)
        drawn.update(frames=0, renders=0, since=time.monotonic())

    def settle(index: int) -> bool:
        """Half a second and more after the scan (Kivy fades a scroll bar out after
        0.5 s): what was drawn since the scan, and what the screen shows."""
        if time.monotonic() - drawn["since"] < 0.8:
            return True
        p = app.presenter
        result.setdefault("scans", []).append(
            {
                "scan": index + 1,
                "frames": drawn["frames"],
                "renders": drawn["renders"],
                "lines": len(p.basket.lines) if p.basket else 0,
                "texts": texts_of(current()),
                # The basket lines the list shows (the row widgets laid out in it).
                "rows": sorted(int(r.number) for r in current().ids.lines.children[0].children),
            }
        )
        return False

    def waiting(done: bool, what: str) -> bool:
        """True while still waiting; fails after 20 s."""
        if done:
            waited["since"] = 0.0
            return False
        waited["since"] = waited["since"] or time.monotonic()
        if time.monotonic() - waited["since"] > 20:
            raise TimeoutError(f"waited 20 s for {what}")
        return True

    actions: dict[str, Callable] = {
        "expect": expect,
        "signal": signal,
        "await": lambda name: waiting((out / name).exists(), name),
        "until": lambda _what: waiting(app.presenter.last_sale is not None, "the sale"),
        "printed": lambda _what: waiting(
            devices.queue is None or not devices.queue.pending(), "the receipt printed"
        ),
        "tap": tap,
        "tap_row": tap_row,
        "wedge": wedge,
        "settle": settle,
        "type": lambda text: [press(ord(ch), ch) for ch in text],
        "key": press,
        "shot": shoot,
    }

    def finish(ok: bool, error: str = "") -> None:
        result["ok"], result["error"] = ok, error
        (out / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
        app.stop()

    def run_step(_dt: float) -> None:
        if not app.idle:  # the till is still at the last input: wait, as a cashier does
            Clock.schedule_once(run_step, 0.05)
            return
        try:
            if not steps:
                finish(True)
                return
            kind, arg = steps[0]
            if actions[kind](arg) is True:  # still waiting: the same step again soon
                Clock.schedule_once(run_step, 0.1)
                return
            steps.pop(0)
            p = app.presenter
            result.setdefault("trace", []).append([kind, str(arg), p.screen.value, p.entry])
            # Two frames for kv to lay out what the step changed before the next one.
            Clock.schedule_once(run_step, 0.1)
        except Exception:
            trace = "\n".join(" ".join(step) for step in result.get("trace", []))
            finish(False, f"{traceback.format_exc()}\nsteps done:\n{trace}")

    frames = {"drawn": 0}

    def start_when_laid_out(_dt: float) -> None:
        # A tap lands where the button is; before the first layouts it is nowhere.
        seven = find_button(app.root, "7") if app.root else None
        frames["drawn"] = frames["drawn"] + 1 if seven and tuple(seven.size) != (100, 100) else 0
        if frames["drawn"] >= 5:
            Clock.schedule_once(run_step, 0.2)
        else:
            Clock.schedule_once(start_when_laid_out, 0.1)

    Clock.schedule_once(start_when_laid_out, 0.2)
    app.run()
    devices.close()  # waits for the print queue's current job
    client.close()
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
