"""The agent's settings: `/etc/tillpoint/hq_link.toml`.

```toml
[hq_link]
hq = "hq.example.internal:50061"        # the HQ server
store_config = "/etc/tillpoint/store.toml"  # store id and database come from it
tls_cert = "/etc/tillpoint/hq-link/S01.pem" # this store's certificate (hqctl cert store)
tls_key = "/etc/tillpoint/hq-link/S01.key"  # its private key (0600)
ca_cert = "/etc/tillpoint/hq-link/ca.pem"   # the chain's CA: HQ's certificate must chain to it
server_name = ""            # the name to check in HQ's certificate, if not the host of `hq`
# insecure = true           # plaintext instead of mTLS: a demo HQ (`make hq`) only
batch_rows = 500            # rows per batch (a transaction is never split)
poll_seconds = 0.5          # how often to look for new rows when idle
backoff_max_seconds = 30    # longest wait between reconnects after link loss
lag_log_seconds = 60        # how often the lag is logged while nothing changes
```
TILLPOINT_DATABASE and TILLPOINT_STORE_ID override the store config as they do
for the store server; TILLPOINT_HQ overrides `hq`. mTLS is required unless
`insecure = true`: the certificate's CN must be the store id, or HQ refuses
every batch (PERMISSION_DENIED).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from hq_link.security.tls import ClientTls
from store_server.config import ConfigError, load_config

TLS_KEYS = ("tls_cert", "tls_key", "ca_cert")


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
    # None: plaintext (`insecure = true`, or an AgentConfig built in-process).
    tls: ClientTls | None = None


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
    return AgentConfig(
        store_id=store.store_id,
        database=store.database,
        hq=str(hq),
        tls=_client_tls(path, section),
        **numbers,
    )


def _client_tls(path: Path | str, section: dict) -> ClientTls | None:
    """The store's mTLS files; plaintext only when `insecure = true` says so."""
    insecure = section.get("insecure", False)
    if not isinstance(insecure, bool):
        raise ConfigError("[hq_link] insecure: true or false")
    given = {k: section[k] for k in TLS_KEYS if section.get(k)}
    if insecure:
        if given:
            raise ConfigError(
                f"{path}: [hq_link] insecure = true and {', '.join(given)}: choose one"
            )
        return None
    missing = [k for k in TLS_KEYS if k not in given]
    if missing:
        raise ConfigError(
            f"{path}: [hq_link] {', '.join(missing)} not set: mTLS needs tls_cert, tls_key "
            "and ca_cert (`hqctl cert store`); insecure = true for a demo HQ only"
        )
    for key, value in given.items():
        if not isinstance(value, str) or not Path(value).is_file():
            raise ConfigError(f"[hq_link] {key} {value!r}: no such file")
    server_name = section.get("server_name", "")
    if not isinstance(server_name, str):
        raise ConfigError("[hq_link] server_name: a host name")
    return ClientTls(
        cert=Path(given["tls_cert"]),
        key=Path(given["tls_key"]),
        ca_cert=Path(given["ca_cert"]),
        server_name=server_name,
    )
