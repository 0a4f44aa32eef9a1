"""Store server configuration: a TOML file, then environment overrides.

Environment variables win over the file so one config template serves every
store of a chain, and tests can point a server at a temporary database:
  TILLPOINT_LISTEN     e.g. 127.0.0.1:50051 (port 0 picks a free port)
  TILLPOINT_DATABASE   path of the SQLite file
  TILLPOINT_STORE_ID   e.g. S01
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from store_server.appliance.settings import (
    ApplianceConfig,
    ApplianceConfigError,
    appliance_from_dict,
)
from store_server.domain.barcodes import DEFAULT_LAYOUTS, ValueKind, VariableMeasureLayout
from store_server.domain.tender import CashRounding
from store_server.members_config import MembersConfig, MembersConfigError, members_from_dict


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    store_id: str = "S01"
    store_name: str = "Tillpoint"
    timezone: str = "Asia/Shanghai"
    business_day_cutover_hour: int = 4
    listen: str = "127.0.0.1:50051"
    database: Path = Path("var/store.db")
    # FULL: a committed sale survives a power cut, not only a process crash.
    synchronous: str = "FULL"
    workers: int = 16
    token_ttl: timedelta = timedelta(hours=12)
    grace_seconds: float = 5.0
    # TLS on the till link: PEM certificate (chain) and key; both or neither.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    scale_layouts: tuple[VariableMeasureLayout, ...] = field(default=DEFAULT_LAYOUTS)
    # 抹零 on sales paid (partly) in cash: none, jiao (drop the fen), yuan.
    cash_rounding: CashRounding = CashRounding.NONE
    # [backup] and [appliance]: backups, rotation, disk and health checks.
    appliance: ApplianceConfig = field(default_factory=ApplianceConfig)
    members: MembersConfig = field(default_factory=MembersConfig)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_config(path: Path | str | None, env: dict[str, str] | None = None) -> Config:
    """Read `path` (may be None for defaults) and apply TILLPOINT_* overrides."""
    env = dict(os.environ) if env is None else env
    data: dict = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {path} not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from exc
    cfg = _from_dict(data)
    overrides = {
        "listen": env.get("TILLPOINT_LISTEN"),
        "database": Path(env["TILLPOINT_DATABASE"]) if env.get("TILLPOINT_DATABASE") else None,
        "store_id": env.get("TILLPOINT_STORE_ID"),
    }
    cfg = replace(cfg, **{k: v for k, v in overrides.items() if v})
    _check(cfg)
    return cfg


def _from_dict(data: dict) -> Config:
    store = data.get("store", {})
    server = data.get("server", {})
    catalog = data.get("catalog", {})
    sales = data.get("sales", {})
    kwargs: dict = {}
    for key, attr in (
        ("id", "store_id"),
        ("name", "store_name"),
        ("timezone", "timezone"),
        ("business_day_cutover_hour", "business_day_cutover_hour"),
    ):
        if key in store:
            kwargs[attr] = store[key]
    for key in ("listen", "synchronous", "workers", "grace_seconds"):
        if key in server:
            kwargs[key] = server[key]
    if "database" in server:
        kwargs["database"] = Path(server["database"])
    for key in ("tls_cert", "tls_key"):
        if server.get(key):
            kwargs[key] = Path(server[key])
    if "token_ttl_minutes" in server:
        kwargs["token_ttl"] = timedelta(minutes=int(server["token_ttl_minutes"]))
    if "cash_rounding" in sales:
        try:
            kwargs["cash_rounding"] = CashRounding(sales["cash_rounding"])
        except ValueError as exc:
            raise ConfigError("[sales] cash_rounding: none, jiao or yuan") from exc
    if "members" in data:
        try:
            kwargs["members"] = members_from_dict(data["members"])
        except MembersConfigError as exc:
            raise ConfigError(str(exc)) from exc
    try:
        kwargs["appliance"] = appliance_from_dict(data)
    except ApplianceConfigError as exc:
        raise ConfigError(str(exc)) from exc
    if "variable_measure" in catalog:
        try:
            kwargs["scale_layouts"] = tuple(
                VariableMeasureLayout(
                    prefix=str(item["prefix"]),
                    plu_digits=int(item["plu_digits"]),
                    value_kind=ValueKind(item["value"]),
                    value_digits=int(item["value_digits"]),
                )
                for item in catalog["variable_measure"]
            )
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"[[catalog.variable_measure]]: {exc}") from exc
    return Config(**kwargs)


def _check(cfg: Config) -> None:
    if not cfg.store_id or not cfg.store_id.isalnum() or len(cfg.store_id) > 16:
        raise ConfigError(f"store id {cfg.store_id!r}: 1-16 letters or digits")
    if not 0 <= cfg.business_day_cutover_hour <= 23:
        raise ConfigError("business_day_cutover_hour must be 0-23")
    try:
        ZoneInfo(cfg.timezone)
    except Exception as exc:
        raise ConfigError(f"unknown time zone {cfg.timezone!r}") from exc
    if ":" not in cfg.listen:
        raise ConfigError(f"listen {cfg.listen!r}: expected host:port")
    if (cfg.tls_cert is None) != (cfg.tls_key is None):
        raise ConfigError("[server] tls_cert and tls_key: give both or neither")
    for name, path in (("tls_cert", cfg.tls_cert), ("tls_key", cfg.tls_key)):
        if path is not None and not path.is_file():
            raise ConfigError(f"[server] {name}: {path} is not a readable file")
