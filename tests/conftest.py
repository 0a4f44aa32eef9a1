from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import RunningStore, make_template, start_store


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def store(template_db: Path, tmp_path: Path) -> Iterator[RunningStore]:
    running = start_store(template_db, tmp_path)
    yield running
    running.channel.close()
    running.store.stop(grace=1.0)
