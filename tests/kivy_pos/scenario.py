"""A cashier's sale on the real till window under Xvfb, against a real store server.

`make screenshots` runs main() (PNGs into docs/screenshots/); the tests call
run_till() with a store they started and check what the screens showed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from tests.support import catalog_fixture as cf
from tests.support.handheld import Handheld, add_clerk
from tests.support.members import MemberDesk, supervisor_desk
from tests.support.server import RunningStore, make_template, start_store
from tests.support.till import Till
from tillpoint.v1 import stock_pb2

ROOT = Path(__file__).resolve().parents[2]
CODES = {"coke_can": cf.COKE_CAN, "sprite_can": cf.SPRITE_CAN, "coke_case": cf.COKE_CASE}
SHOTS = ("login", "sell", "tender", "tender_done")
COUNTER_SHOT = "count"


def prepare_stocktake(store: RunningStore) -> None:
    """A stock clerk (1004/4444) and an open stocktake for the handheld counter."""
    add_clerk(store)
    office = Handheld(store, device_id="office-01", operator=("1003", "3333"))
    office.call(
        "OpenSession", stock_pb2.OpenSessionRequest(session_id=str(uuid.uuid4()), name="全店盘点")
    )


def run_counter(address: str, out: Path) -> dict:
    """The handheld counter app at 480x800 under xvfb-run, counting a few items."""
    return run_till(address, out, size="480x800", driver="tests.kivy_pos.counter_driver")


def prepare_member(store: RunningStore) -> None:
    """The member the cashier attaches: 张三, 138****8000, with 110.00 stored value."""
    desk_till = Till(store, device_id="desk-01")
    desk_till.open_shift()
    member = MemberDesk(desk_till).register("13800138000")
    supervisor_desk(store, desk_till).top_up(member.member_id, 10_000)


def run_till(
    address: str,
    out: Path,
    *,
    scenario: str = "sale",
    handlers: dict[str, tuple[Callable[[], None], str]] | None = None,
    timeout: float = 60.0,
    size: str = "1024x768",
    printer: str = "",
    display: str = "",
    codes: dict[str, str] | None = None,
    driver: str = "tests.kivy_pos.till_driver",
) -> dict:
    """Run the till under xvfb-run through a scenario; returns its result.json.

    handlers: when the till signals NAME (a file in out), run the function,
    then answer with the reply file the till awaits.
    """
    out.mkdir(parents=True, exist_ok=True)
    pending = dict(handlers or {})
    env = {
        **os.environ,
        "KIVY_HOME": str(out / "kivy-home"),  # Kivy's config and logs, not ~/.kivy
        "KIVY_NO_ARGS": "1",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("KIVY_GL_BACKEND", None)  # the mock backend hangs; Mesa's llvmpipe works
    command = [
        "xvfb-run",
        "-a",
        "-s",
        f"-screen 0 {size}x24",
        sys.executable,
        "-m",
        driver,
        "--server",
        address,
        "--out",
        str(out),
        "--codes",
        json.dumps({**CODES, **(codes or {})}),
        "--scenario",
        scenario,
        "--size",
        size,
        "--printer",
        printer,
        "--display",
        display,
    ]
    log = out / "till.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=sink, stderr=sink)
        deadline = time.monotonic() + timeout
        try:
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the till ran past {timeout} s:\n{log.read_text()}")
                for name, (work, reply) in list(pending.items()):
                    if (out / name).exists():
                        work()
                        (out / reply).touch()
                        del pending[name]
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    result_file = out / "result.json"
    if not result_file.exists():
        raise RuntimeError(f"the till did not finish (exit {proc.returncode}):\n{log.read_text()}")
    result = json.loads(result_file.read_text())
    if not result["ok"]:
        raise RuntimeError(f"the till's scenario failed:\n{result['error']}\n{log.read_text()}")
    return result


def main() -> None:
    """`make screenshots`: a throwaway store, the scenario, PNGs into docs/screenshots/."""
    target = ROOT / "docs" / "screenshots"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "template").mkdir()
        (work / "store").mkdir()
        store = start_store(make_template(work / "template"), work / "store")
        try:
            prepare_member(store)
            prepare_stocktake(store)
            result = run_till(store.store.address, work / "shots")
            counter = run_counter(store.store.address, work / "counter")
        finally:
            store.channel.close()
            store.store.stop(grace=1.0)
        target.mkdir(parents=True, exist_ok=True)
        for name in SHOTS:
            Path(result["shots"][name]).replace(target / f"till-{name}.png")
            print(f"wrote {target / f'till-{name}.png'}")
        Path(counter["shots"][COUNTER_SHOT]).replace(target / "counter-count.png")
        print(f"wrote {target / 'counter-count.png'}")


if __name__ == "__main__":
    main()
