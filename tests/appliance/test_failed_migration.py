"""A migration that fails leaves the database exactly as it was, and the
server says why (stderr, the journal, and STATUS= for `systemctl status`)."""

from __future__ import annotations

import shutil
import socket
import sqlite3
from pathlib import Path

import pytest

from store_server import __main__ as server_main
from store_server.db import migrate
from tests.support.process import REPO
from tests.support.seed_schema import snapshot

PROBE = """
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
{body}
"""


def _scripts_with_a_failing_upgrade(tmp_path: Path) -> Path:
    """The real migrations plus two new ones; the second fails half-way."""
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    head = migrate.head_revision()
    (scripts / "versions/9998_probe.py").write_text(
        PROBE.format(
            revision="9998",
            down=head,
            body='    op.create_table("upgrade_probe", sa.Column("id", sa.Integer, '
            "primary_key=True))\n"
            '    op.execute("INSERT INTO upgrade_probe (id) VALUES (1)")',
        )
    )
    (scripts / "versions/9999_fails.py").write_text(
        PROBE.format(
            revision="9999",
            down="9998",
            body="    op.execute(\"INSERT INTO store_meta (key, value) VALUES ('half', 'done')\")\n"
            '    raise RuntimeError("cannot convert the widget column")',
        )
    )
    return scripts


def test_a_failed_migration_changes_nothing_and_says_why(
    template_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "store.db"
    shutil.copy(template_db, db)
    old_head = migrate.head_revision()
    conn = sqlite3.connect(db)
    before = snapshot(conn)
    conn.close()

    monkeypatch.setattr(migrate, "MIGRATIONS", _scripts_with_a_failing_upgrade(tmp_path))
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("TILLPOINT_DATABASE", str(db))
    monkeypatch.setenv("TILLPOINT_LISTEN", "127.0.0.1:0")

    code = server_main.main(["--config", str(REPO / "config/store.demo.toml")])

    assert code == server_main.MIGRATION_FAILED_EXIT == 3
    status = notify.recv(4096).decode()
    notify.close()
    assert status.startswith("STATUS=migration failed: ")
    assert "cannot convert the widget column" in status
    assert f"unchanged at schema {old_head}" in status
    assert "cannot convert the widget column" in capsys.readouterr().err
    conn = sqlite3.connect(db)
    after = snapshot(conn)
    conn.close()
    assert after == before  # no upgrade_probe table, no half row, same revision
    assert "upgrade_probe" not in after
