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

from hq_link.agent.link_state import LinkState, read_link_state
from store_server.appliance.storage_probe import probe_storage
from store_server.backups.backup_info import integrity_of
from store_server.backups.naming import list_backups
from store_server.config import Config
from store_server.db import migrate
from store_server.members_config import MembersConfig

CERT_WARN_DAYS = 30
# The HQ link agent records here the last change-log seq that HQ acknowledged
# (the contract between this check and hq_link, issue 7).
HQ_SHIPPED_KEY = "hq_link.shipped_seq"
# With the link up the lag is a second or two; past these, HQ's figures (and the
# one-card balances other stores see) are stale enough for someone to look.
HQ_LAG_WARN = timedelta(minutes=15)
HQ_LAG_WARN_ROWS = 10_000


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
    checks: list[Callable[[], Check | None]] = [
        lambda: check_disk(cfg),
        lambda: check_database(cfg),
        lambda: check_backup_age(cfg, now),
        lambda: check_hq_link(cfg, now),
        lambda: check_hq_link_agent(cfg, now),
        lambda: check_hq_link_certificate(cfg, now),
        check_clock_sync,
        lambda: check_qr_secret(cfg),
        *(lambda p=p: check_certificate(p, now) for p in cfg.appliance.certificates),
    ]
    if not cfg.appliance.certificates:
        checks.append(lambda: Check("certificates", Level.INFO, "none configured"))
    results = []
    for check in checks:
        try:
            result = check()
        except Exception as exc:  # one broken check must not hide the others
            result = Check("check", Level.FAIL, f"{type(exc).__name__}: {exc}")
        if result is not None:
            results.append(result)
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


def _link_state(cfg: Config) -> tuple[LinkState | None, int, int, str | None]:
    """The agent's recorded state, HQ's acknowledged seq, rows after it, the oldest's time."""
    conn = sqlite3.connect(f"file:{cfg.database}?mode=ro", uri=True, timeout=30)
    try:
        state = read_link_state(conn)
        if state is None:
            return None, 0, 0, None
        row = conn.execute("SELECT value FROM store_meta WHERE key = ?", (HQ_SHIPPED_KEY,))
        shipped = int((row.fetchone() or ("0",))[0])
        pending, oldest = conn.execute(
            "SELECT count(*), min(at) FROM change_log WHERE seq > ?", (shipped,)
        ).fetchone()
    finally:
        conn.close()
    return state, shipped, int(pending), oldest


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def check_hq_link(cfg: Config, now: datetime) -> Check:
    """Rows and seconds the store's change log is ahead of what HQ acknowledged."""
    state, shipped, pending, oldest = _link_state(cfg)
    if state is None:
        return Check("hq_link lag", Level.INFO, "not configured (no HQ link agent has run here)")
    if not pending:
        return Check(
            "hq_link lag", Level.OK, f"0 rows, 0 s: every change is at HQ (seq {shipped:,})"
        )
    lag = max(timedelta(0), now - datetime.fromisoformat(str(oldest)).replace(tzinfo=UTC))
    detail = (
        f"{pending:,} row(s), {_ago(lag.total_seconds())}: not yet at HQ (HQ has seq {shipped:,})"
    )
    if lag > HQ_LAG_WARN or pending > HQ_LAG_WARN_ROWS:
        return Check("hq_link lag", Level.WARN, f"{detail}; is the agent running, is HQ reachable?")
    return Check("hq_link lag", Level.OK, detail)


def check_hq_link_agent(cfg: Config, now: datetime) -> Check | None:
    """The agent's last contact with HQ and its last error (hq_link.agent.link_state)."""
    conn = sqlite3.connect(f"file:{cfg.database}?mode=ro", uri=True, timeout=30)
    try:
        state = read_link_state(conn)
    finally:
        conn.close()
    if state is None:
        return None
    contact = (
        f"last contact {_ago((now - state.last_contact_at).total_seconds())} ago"
        if state.last_contact_at
        else "never reached HQ"
    )
    detail = f"{state.hq or 'HQ'}: {contact}"
    if state.failing and state.last_error_at is not None:
        since = _ago((now - state.last_error_at).total_seconds())
        return Check(
            "hq_link agent", Level.WARN, f"{detail}; failing {since} ago: {state.last_error}"
        )
    if "(plaintext)" in state.hq:
        return Check("hq_link agent", Level.WARN, f"{detail}; plaintext, no mTLS (demo only)")
    return Check("hq_link agent", Level.OK, detail)


def check_hq_link_certificate(cfg: Config, now: datetime) -> Check | None:
    """The agent's store certificate: HQ refuses the store once it expires."""
    conn = sqlite3.connect(f"file:{cfg.database}?mode=ro", uri=True, timeout=30)
    try:
        state = read_link_state(conn)
    finally:
        conn.close()
    if state is None or not state.tls_cert:
        return None
    path = Path(state.tls_cert)
    if path in cfg.appliance.certificates:
        return None  # listed in [appliance] certificates: checked there
    return check_certificate(path, now)


def check_qr_secret(cfg: Config) -> Check:
    """The demo's member-QR secret is public (it is in the source): anyone could
    forge a member's QR code. A real chain sets its own in [members] qr_secret."""
    if cfg.members.qr_secret == MembersConfig().qr_secret:
        return Check(
            "member QR secret",
            Level.WARN,
            "the demo secret: anyone can forge member QR codes; set [members] qr_secret "
            "(the same in every store of the chain)",
        )
    return Check("member QR secret", Level.OK, "the chain's own")


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
