"""storectl backup, restore and doctor, run as the timer and an operator run them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store_server.appliance.doctor import Level, check_certificate, check_qr_secret
from store_server.config import Config
from tests.support.process import free_port

STORECTL = [sys.executable, "-m", "store_server.cli.main"]


def _config(directory: Path, db: Path, port: int, certificate: Path | None = None) -> Path:
    certs = f'["{certificate}"]' if certificate else "[]"
    path = directory / "store.toml"
    path.write_text(
        f'[store]\nid = "S01"\n[server]\nlisten = "127.0.0.1:{port}"\ndatabase = "{db}"\n'
        f'[backup]\ndirectory = "{directory / "backups"}"\n'
        f"[appliance]\nmin_free_mb = 1\ncertificates = {certs}\n"
    )
    return path


def storectl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STORECTL, "--config", str(config), *args], capture_output=True, text=True, timeout=60
    )


def _certificate(directory: Path, days: int) -> Path | None:
    if shutil.which("openssl") is None:
        return None
    cert = directory / "hq-link.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            str(days),
            "-subj",
            "/CN=store-S01",
            "-keyout",
            str(directory / "key.pem"),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert


def test_backup_doctor_and_restore(template_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "data" / "store.db"
    db.parent.mkdir()
    shutil.copy(template_db, db)
    port = free_port()
    cert = _certificate(tmp_path, days=10)
    config = _config(tmp_path, db, port, cert)

    before = storectl(config, "doctor")
    assert before.returncode == 1, before.stdout + before.stderr
    assert "[FAIL] backup: no backup of store S01" in before.stdout
    assert "[ OK ] disk:" in before.stdout
    assert "[ OK ] database: integrity ok" in before.stdout
    assert "[INFO] hq_link lag: not configured" in before.stdout
    assert "clock sync:" in before.stdout
    if cert is not None:
        assert "[WARN] certificate hq-link.pem: expires" in before.stdout

    backup = storectl(config, "backup")
    assert backup.returncode == 0, backup.stderr
    assert "integrity ok" in backup.stdout
    (taken,) = (tmp_path / "backups").glob("S01-*.db")

    after = storectl(config, "doctor")
    assert after.returncode == 0, after.stdout
    assert f"[ OK ] backup: newest {taken.name}" in after.stdout

    # Not while a server listens on the store's address.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        refused = storectl(config, "restore", str(taken))
    assert refused.returncode == 1
    assert "stop it first" in refused.stderr

    restored = storectl(config, "restore", str(taken))
    assert restored.returncode == 0, restored.stderr
    assert "is kept as" in restored.stdout
    # The replaced database is kept whole: its file and its WAL, renamed together.
    (aside,) = db.parent.glob("store.db.before-restore-*Z")
    assert aside.stat().st_size > 0


def test_restore_refuses_another_stores_backup(template_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    shutil.copy(template_db, db)
    other = tmp_path / "other"
    other.mkdir()
    other_config = _config(other, db, free_port())
    other_config.write_text(other_config.read_text().replace('id = "S01"', 'id = "S02"'))
    assert storectl(other_config, "backup").returncode == 0
    (foreign,) = (other / "backups").glob("S02-*.db")

    result = storectl(_config(tmp_path, db, free_port()), "restore", str(foreign))
    assert result.returncode == 1
    assert "restore refused" in result.stderr and "store S02" in result.stderr


def test_doctor_fails_an_expired_certificate(tmp_path: Path) -> None:
    cert = _certificate(tmp_path, days=1)
    if cert is None:
        pytest.skip("openssl is not installed")
    check = check_certificate(cert, datetime.now(UTC) + timedelta(days=2))
    assert check.level is Level.FAIL and "EXPIRED" in check.detail


def test_run_as_root_it_writes_as_the_owner_of_the_data(template_db: Path, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")  # CI runs as root: this runs there
    # pytest's own temp directories are root's alone: the data lives elsewhere.
    data = Path(tempfile.mkdtemp(prefix="tillpoint-owner-"))
    try:
        data.chmod(0o755)
        db = data / "store.db"
        shutil.copy(template_db, db)
        nobody = 65534
        for path in (data, db):
            os.chown(path, nobody, nobody)
        config = _config(data, db, free_port())
        # storectl in a forked child rather than a new interpreter: the child
        # becomes `nobody`, who may not be able to exec a Python installed
        # under a private home (as on CI), but already has every module loaded.
        import _strptime  # noqa: F401  (datetime.strptime imports it lazily)

        from store_server.cli.main import main

        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = main(["--config", str(config), "backup"])
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        (taken,) = (data / "backups").glob("S01-*.db")
        owners = {p.name: p.stat().st_uid for p in (taken, *data.glob("store.db*"))}
        assert set(owners.values()) == {nobody}, owners
    finally:
        shutil.rmtree(data)


def test_doctor_warns_of_the_demo_member_qr_secret() -> None:
    demo = check_qr_secret(Config())
    assert demo.level == Level.WARN and "forge" in demo.detail
    own = replace(Config(), members=replace(Config().members, qr_secret=b"chain-7f3a9c"))
    assert check_qr_secret(own).level == Level.OK
