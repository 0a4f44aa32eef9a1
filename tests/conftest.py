from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store_server.domain.tender import CashRounding
from tests.support.server import RunningStore, make_template, start_store


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("template"))


def _running(template_db: Path, tmp_path: Path, **kw: object) -> Iterator[RunningStore]:
    running = start_store(template_db, tmp_path, **kw)
    yield running
    running.channel.close()
    running.store.stop(grace=1.0)


@pytest.fixture
def store(template_db: Path, tmp_path: Path) -> Iterator[RunningStore]:
    yield from _running(template_db, tmp_path)


@pytest.fixture
def jiao_store(template_db: Path, tmp_path: Path) -> Iterator[RunningStore]:
    """A store that drops the fen of a cash total (抹零 to the jiao)."""
    yield from _running(template_db, tmp_path, cash_rounding=CashRounding.JIAO)
