"""storectl member ...: register, show, history, expire points, and the demo members."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_storectl import storectl


def test_register_show_history_and_expire(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    assert storectl(db, "init").returncode == 0
    made = storectl(db, "member", "register", "--phone", "13900139000", "--name", "李四")
    assert made.returncode == 0, made.stderr
    number = made.stdout.split()[0]
    assert len(number) == 13 and "139****9000" in made.stdout
    assert "13900139000" not in made.stdout  # masked, even in a shell
    for key in (number, "13900139000"):
        shown = storectl(db, "member", "show", key)
        assert shown.returncode == 0 and number in shown.stdout
    again = storectl(db, "member", "register", "--phone", "13900139000", "--name", "李四")
    assert again.returncode == 1 and "phone" in again.stderr
    bad = storectl(db, "member", "register", "--phone", "1390013900x", "--name", "李四")
    assert bad.returncode == 1 and "phone" in bad.stderr
    history = storectl(db, "member", "history", number)
    assert history.returncode == 0 and "purchases:" in history.stdout
    expired = storectl(db, "member", "expire-points", "--today", "2030-01-01")
    assert expired.returncode == 0 and "expired 0 points" in expired.stdout


def test_the_demo_store_has_members_to_try(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    first = storectl(db, "demo", "--products", "20")
    assert first.returncode == 0, first.stderr
    assert "Demo members" in first.stdout and "13700137000" in first.stdout
    gold = storectl(db, "member", "show", "13700137000")
    assert "金卡" in gold.stdout and "points 8,800" in gold.stdout
    assert "stored value 1160.00" in gold.stdout
    # Run again (make run does): the members are kept, not doubled or topped up twice.
    assert storectl(db, "demo", "--if-missing").returncode == 0
    assert "stored value 1160.00" in storectl(db, "member", "show", "13700137000").stdout
