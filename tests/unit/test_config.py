from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from store_server.config import ConfigError, load_config
from store_server.domain.barcodes import ValueKind

REPO = Path(__file__).resolve().parents[2]


def test_demo_config_file_is_read() -> None:
    cfg = load_config(REPO / "config/store.demo.toml", env={})
    assert (cfg.store_id, cfg.listen, cfg.database) == (
        "S01",
        "127.0.0.1:50051",
        Path("var/store.db"),
    )
    assert cfg.synchronous == "FULL" and cfg.token_ttl == timedelta(hours=12)
    assert [(lay.prefix, lay.value_kind) for lay in cfg.scale_layouts] == [
        ("21", ValueKind.WEIGHT),
        ("22", ValueKind.PRICE),
    ]
    assert str(cfg.zone) == "Asia/Shanghai"


def test_environment_overrides_the_file() -> None:
    cfg = load_config(
        REPO / "config/store.demo.toml",
        env={
            "TILLPOINT_LISTEN": "127.0.0.1:0",
            "TILLPOINT_DATABASE": "/tmp/x.db",
            "TILLPOINT_STORE_ID": "S42",
        },
    )
    assert (cfg.listen, cfg.database, cfg.store_id) == ("127.0.0.1:0", Path("/tmp/x.db"), "S42")


def test_no_file_means_defaults() -> None:
    assert load_config(None, env={}).store_id == "S01"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[store]\nid = 'S 1'", "store id"),
        ("[store]\ntimezone = 'Mars/Olympus'", "unknown time zone"),
        ("[server]\nlisten = 'nowhere'", "host:port"),
        (
            "[[catalog.variable_measure]]\nprefix = '21'\nplu_digits = 5\nvalue = 'weight'\n"
            "value_digits = 6",
            "variable_measure",
        ),
        ("[store\nid=", "store.toml"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "store.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert message in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", env={})
