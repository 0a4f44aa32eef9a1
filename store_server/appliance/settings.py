"""The [backup] and [appliance] sections of the store configuration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class ApplianceConfigError(ValueError):
    pass


@dataclass(frozen=True)
class BackupPolicy:
    """Where backups go and how many of each age are kept (see backups.rotation)."""

    # None: a "backups" directory beside the database.
    directory: Path | None = None
    keep_daily: int = 7
    keep_weekly: int = 5
    keep_monthly: int = 12
    # `storectl doctor` warns when the newest backup is older than this
    # (the timer runs daily; 26 h allows for its randomised delay).
    max_age_hours: float = 26.0

    def directory_for(self, database: Path) -> Path:
        return self.directory if self.directory is not None else database.parent / "backups"


@dataclass(frozen=True)
class ApplianceConfig:
    backup: BackupPolicy = BackupPolicy()
    # Health says NOT_SERVING below this much free space on the database's
    # file system: SQLite needs room for the WAL and for checkpoints.
    min_free_mb: int = 64
    # How often the main loop checks disk and database (and pings the
    # watchdog, at least twice per WatchdogSec).
    health_interval_seconds: float = 5.0
    # Certificates whose expiry `storectl doctor` watches (the HQ link's mTLS).
    certificates: tuple[Path, ...] = ()


def appliance_from_dict(data: dict) -> ApplianceConfig:
    """Build from the parsed TOML document (only its [backup] and [appliance] tables)."""
    backup = data.get("backup", {})
    appliance = data.get("appliance", {})
    policy: dict = {}
    if "directory" in backup:
        policy["directory"] = Path(backup["directory"])
    for key in ("keep_daily", "keep_weekly", "keep_monthly"):
        if key in backup:
            value = backup[key]
            if not isinstance(value, int) or value < 0:
                raise ApplianceConfigError(f"[backup] {key}: a whole number, 0 or more")
            policy[key] = value
    if "max_age_hours" in backup:
        policy["max_age_hours"] = _positive(backup["max_age_hours"], "[backup] max_age_hours")
    kwargs: dict = {"backup": BackupPolicy(**policy)}
    if "min_free_mb" in appliance:
        value = appliance["min_free_mb"]
        if not isinstance(value, int) or value < 0:
            raise ApplianceConfigError("[appliance] min_free_mb: a whole number, 0 or more")
        kwargs["min_free_mb"] = value
    if "health_interval_seconds" in appliance:
        kwargs["health_interval_seconds"] = _positive(
            appliance["health_interval_seconds"], "[appliance] health_interval_seconds"
        )
    if "certificates" in appliance:
        certs = appliance["certificates"]
        if not isinstance(certs, list) or not all(isinstance(c, str) for c in certs):
            raise ApplianceConfigError("[appliance] certificates: a list of file paths")
        kwargs["certificates"] = tuple(Path(c) for c in certs)
    return ApplianceConfig(**kwargs)


def _positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ApplianceConfigError(f"{name}: a number above 0")
    return float(value)
