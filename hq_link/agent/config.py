"""The agent's settings: `/etc/tillpoint/hq_link.toml`.

```toml
[hq_link]
hq = "hq.example.internal:50061"        # the HQ server (plaintext until mTLS)
store_config = "/etc/tillpoint/store.toml"  # store id and database come from it
batch_rows = 500            # rows per batch (a transaction is never split)
poll_seconds = 0.5          # how often to look for new rows when idle
backoff_max_seconds = 30    # longest wait between reconnects after link loss
lag_log_seconds = 60        # how often the lag is logged while nothing changes
```
TILLPOINT_DATABASE and TILLPOINT_STORE_ID override the store config as they do
for the store server; TILLPOINT_HQ overrides `hq`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from store_server.config import ConfigError, load_config


@dataclass(frozen=True)
class AgentConfig:
    store_id: str
    database: Path
    hq: str
    batch_rows: int = 500
    poll_seconds: float = 0.5
    backoff_initial_seconds: float = 0.2
    backoff_max_seconds: float = 30.0
    lag_log_seconds: float = 60.0
    rpc_timeout_seconds: float = 30.0


def load_agent_config(path: Path | str, env: dict[str, str] | None = None) -> AgentConfig:
    env = dict(os.environ) if env is None else env
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from exc
    section = data.get("hq_link")
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: no [hq_link] section")
    store_config = section.get("store_config")
    store = load_config(store_config, env)  # defaults + TILLPOINT_* when absent
    hq = env.get("TILLPOINT_HQ") or section.get("hq")
    if not hq:
        raise ConfigError(f'{path}: [hq_link] hq = "host:port" is required')
    numbers: dict[str, float] = {}
    for key in (
        "batch_rows",
        "poll_seconds",
        "backoff_initial_seconds",
        "backoff_max_seconds",
        "lag_log_seconds",
        "rpc_timeout_seconds",
    ):
        if key in section:
            value = section[key]
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"[hq_link] {key}: a positive number")
            numbers[key] = value
    if "batch_rows" in numbers:
        numbers["batch_rows"] = int(numbers["batch_rows"])
    return AgentConfig(store_id=store.store_id, database=store.database, hq=str(hq), **numbers)
