"""The [backup] and [appliance] configuration sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from store_server.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[2]


def test_the_installed_template_loads() -> None:
    cfg = load_config(REPO / "systemd/etc/store.toml", env={})
    assert cfg.database == Path("/var/lib/tillpoint/store.db")
    assert cfg.appliance.backup.directory_for(cfg.database) == Path("/var/lib/tillpoint/backups")
    assert (cfg.appliance.backup.keep_daily, cfg.appliance.backup.keep_weekly) == (7, 5)
    assert cfg.appliance.min_free_mb == 64


def test_defaults_put_backups_beside_the_database(tmp_path: Path) -> None:
    cfg = load_config(None, env={"TILLPOINT_DATABASE": str(tmp_path / "s.db")})
    assert cfg.appliance.backup.directory_for(cfg.database) == tmp_path / "backups"


@pytest.mark.parametrize(
    "text",
    [
        "[backup]\nkeep_daily = -1\n",
        "[backup]\nmax_age_hours = 0\n",
        "[appliance]\nmin_free_mb = 'a lot'\n",
        "[appliance]\ncertificates = 'one.pem'\n",
    ],
)
def test_bad_values_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load_config(path, env={})
