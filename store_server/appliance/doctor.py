"""`storectl doctor`: a checklist of what keeps a store server healthy.

Each check answers OK, WARN, FAIL or INFO with one line of detail; nothing
here writes. The command fails (exit 1) when any check fails.
"""

from __future__ import annotations

import enum
import sqlite3
import ssl
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from store_server.appliance.storage_probe import probe_storage
from store_server.backups.backup_info import integrity_of
from store_server.backups.naming import list_backups
from store_server.config import Config
from store_server.db import migrate

CERT_WARN_DAYS = 30
# The HQ link agent records here the last change-log seq that HQ acknowledged
# (the contract between this check and hq_link, issue 7).
HQ_SHIPPED_KEY = "hq_link.shipped_seq"
HQ_LAG_WARN = timedelta(hours=1)


class Level(enum.Enum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"
    INFO = "INFO"


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    detail: str


def run_checks(cfg: Config, now: datetime) -> list[Check]:
    checks: list[Callable[[], Check]] = [
        lambda: check_disk(cfg),
        lambda: check_database(cfg),
        lambda: check_backup_age(cfg, now),
        lambda: check_hq_link(cfg, now),
        check_clock_sync,
        *(lambda p=p: check_certificate(p, now) for p in cfg.appliance.certificates),
    ]
    if not cfg.appliance.certificates:
        checks.append(lambda: Check("certificates", Level.INFO, "none configured"))
    results = []
    for check in checks:
        try:
            results.append(check())
        except Exception as exc:  # one broken check must not hide the others
            results.append(Check("check", Level.FAIL, f"{type(exc).__name__}: {exc}"))
    return results


def check_disk(cfg: Config) -> Check:
    if not cfg.database.parent.exists():
        return Check("disk", Level.FAIL, f"{cfg.database.parent} does not exist")
    state = probe_storage(cfg.database, cfg.appliance.min_free_mb * 1_048_576)
    if state.ok:
        return Check("disk", Level.OK, state.detail)
    return Check("disk", Level.FAIL, f"{state.reason}: {state.detail}")


def check_database(cfg: Config) -> Check:
    if not cfg.database.is_file():
        return Check("database", Level.FAIL, f"no database at {cfg.database}")
    conn = sqlite3.connect(f"file:{cfg.database}?mode=ro", uri=True, timeout=30)
    try:
        integrity = integrity_of(conn)
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            row = None
    finally:
        conn.close()
    revision = row[0] if row else None
    head = migrate.head_revision()
    if integrity != "ok":
        return Check("database", Level.FAIL, f"integrity_check: {integrity}")
    if revision != head:
        return Check(
            "database",
            Level.WARN,
            f"integrity ok, schema {revision} (this version: {head}; the server upgrades "
            "it when it starts)",
        )
    return Check("database", Level.OK, f"integrity ok, schema {revision}, {cfg.database}")


def check_backup_age(cfg: Config, now: datetime) -> Check:
    policy = cfg.appliance.backup
    directory = policy.directory_for(cfg.database)
    backups = list_backups(directory, cfg.store_id)
    if not backups:
        return Check("backup", Level.FAIL, f"no backup of store {cfg.store_id} in {directory}")
    taken, path = backups[0]
    age = now - taken
    hours = age.total_seconds() / 3600
    detail = f"newest {path.name}, {hours:.1f} h old, {len(backups)} kept"
    if hours > policy.max_age_hours:
        return Check("backup", Level.WARN, f"{detail} (older than {policy.max_age_hours:g} h)")
    return Check("backup", Level.OK, detail)


def check_hq_link(cfg: Config, now: datetime) -> Check:
    if getattr(cfg, "hq_link", None) is None:  # the [hq_link] section comes with issue 7
        return Check("hq_link lag", Level.INFO, "not configured")
    conn = sqlite3.connect(f"file:{cfg.database}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute("SELECT value FROM store_meta WHERE key = ?", (HQ_SHIPPED_KEY,))
        shipped = int((row.fetchone() or ("0",))[0])
        pending, oldest = conn.execute(
            "SELECT count(*), min(at) FROM change_log WHERE seq > ?", (shipped,)
        ).fetchone()
    finally:
        conn.close()
    if not pending:
        return Check("hq_link lag", Level.OK, "every change is at HQ")
    lag = now - datetime.fromisoformat(str(oldest)).replace(tzinfo=UTC)
    detail = f"{pending} change(s) not yet at HQ, oldest {lag.total_seconds() / 60:.0f} min"
    return Check("hq_link lag", Level.WARN if lag > HQ_LAG_WARN else Level.OK, detail)


def check_clock_sync(run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> Check:
    """A till's receipts and a token's expiry trust this clock: NTP must hold it."""
    try:
        out = run(
            ["timedatectl", "show", "--property=NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        out = None
        why = str(exc)
    else:
        why = (out.stderr.strip().splitlines() or [""])[0]
    if out is not None and out.returncode == 0:
        if out.stdout.strip() == "yes":
            return Check("clock sync", Level.OK, "synchronised by NTP")
        return Check("clock sync", Level.WARN, "NOT synchronised: check timesyncd/NTP")
    if Path("/run/systemd/timesync/synchronized").exists():
        return Check("clock sync", Level.OK, "synchronised (systemd-timesyncd)")
    return Check("clock sync", Level.WARN, f"cannot tell: timedatectl: {why or 'failed'}")


def certificate_not_after(path: Path) -> datetime:
    # The standard library decodes a PEM certificate only through this
    # helper; it avoids a dependency on the cryptography package.
    decoded = ssl._ssl._test_decode_cert(str(path))  # type: ignore[attr-defined]
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(decoded["notAfter"]), UTC)


def check_certificate(path: Path, now: datetime) -> Check:
    name = f"certificate {path.name}"
    try:
        not_after = certificate_not_after(path)
    except (OSError, ssl.SSLError, ValueError) as exc:
        return Check(name, Level.FAIL, f"cannot read {path}: {exc}")
    left = not_after - now
    detail = f"expires {not_after:%Y-%m-%d} ({left.days} days)"
    if left <= timedelta(0):
        return Check(name, Level.FAIL, f"EXPIRED {not_after:%Y-%m-%d}")
    if left < timedelta(days=CERT_WARN_DAYS):
        return Check(name, Level.WARN, detail)
    return Check(name, Level.OK, detail)
