"""The systemd units as `make install` writes them pass `systemd-analyze verify`."""

from __future__ import annotations

import configparser
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = (
    "tillpoint-store.service",
    "tillpoint-backup.service",
    "tillpoint-backup.timer",
    "tillpoint-hq-link.service",
    "tillpoint-hq.service",
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """`make install-units install-config` into a DESTDIR, PREFIX in the temp dir."""
    root = tmp_path_factory.mktemp("install")
    dest, prefix = root / "dest", root / "prefix"
    # verify checks that ExecStart's program exists: give the prefix a venv's names.
    (prefix / "venv/bin").mkdir(parents=True)
    (prefix / "venv/bin/python").symlink_to(sys.executable)
    (prefix / "venv/bin/storectl").symlink_to(Path(sys.executable).with_name("storectl"))
    subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(REPO),
            "install-units",
            "install-config",
            f"DESTDIR={dest}",
            f"PREFIX={prefix}",
        ],
        check=True,
        capture_output=True,
    )
    return dest, prefix


def test_systemd_analyze_verify_passes_on_every_unit(installed: tuple[Path, Path]) -> None:
    dest, _ = installed
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze missing: `make system-deps` installs Debian's systemd"
    unit_dir = dest / "etc/systemd/system"
    assert sorted(p.name for p in unit_dir.iterdir()) == sorted(UNITS)
    result = subprocess.run(
        [analyze, "verify", *UNITS],
        cwd=unit_dir,
        capture_output=True,
        text=True,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0"},
    )
    # verify exits 0 even when it warns (unknown keys, bad values): any output fails.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


def _unit(dest: Path, name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(dest / "etc/systemd/system" / name)
    return parser


def test_store_unit_is_notify_watchdog_and_sandboxed(installed: tuple[Path, Path]) -> None:
    dest, prefix = installed
    service = _unit(dest, "tillpoint-store.service")["Service"]
    assert service["Type"] == "notify"
    assert service["WatchdogSec"] == "30s"
    assert service["ExecStart"].startswith(f"{prefix}/venv/bin/python -m store_server ")
    assert service["User"] == "tillpoint"
    assert service["ProtectSystem"] == "strict"
    assert "/var/lib/tillpoint" in service["ReadWritePaths"]
    assert service["PrivateTmp"] == service["NoNewPrivileges"] == "yes"
    assert service["RestrictAddressFamilies"] == "AF_UNIX AF_INET AF_INET6"
    assert service["MemoryMax"] == "384M"
    assert service["RestartPreventExitStatus"] == "3"


def test_hq_units_use_the_hq_link_entry_points(installed: tuple[Path, Path]) -> None:
    dest, prefix = installed
    agent = _unit(dest, "tillpoint-hq-link.service")["Service"]["ExecStart"]
    server = _unit(dest, "tillpoint-hq.service")["Service"]["ExecStart"]
    assert agent.startswith(f"{prefix}/venv/bin/python -m hq_link.agent ")
    assert server.startswith(f"{prefix}/venv/bin/python -m hq_link.hq ")
    # The modules the units run exist (a renamed entry point fails here, not in a store).
    for command in (agent, server):
        module = command.split(" -m ")[1].split()[0]
        assert importlib.util.find_spec(f"{module}.__main__") is not None, module
    timer = _unit(dest, "tillpoint-backup.timer")["Timer"]
    assert timer["Persistent"] == "true"


def test_config_template_and_systemd_files_are_installed(installed: tuple[Path, Path]) -> None:
    dest, _ = installed
    assert (dest / "etc/tillpoint/store.toml").read_text() == (
        REPO / "systemd/etc/store.toml"
    ).read_text()
    tmpfiles = (dest / "usr/lib/tmpfiles.d/tillpoint.conf").read_text()
    assert "d /var/lib/tillpoint " in tmpfiles and "d /run/tillpoint " in tmpfiles
    assert (dest / "usr/lib/sysusers.d/tillpoint.conf").read_text().count("u tillpoint") == 1


def test_install_config_keeps_an_edited_config(installed: tuple[Path, Path]) -> None:
    dest, prefix = installed
    config = dest / "etc/tillpoint/store.toml"
    config.write_text("# edited by the store\n")
    subprocess.run(
        ["make", "-s", "-C", str(REPO), "install-config", f"DESTDIR={dest}", f"PREFIX={prefix}"],
        check=True,
        capture_output=True,
    )
    assert config.read_text() == "# edited by the store\n"
