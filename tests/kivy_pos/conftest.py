from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kivy_pos.stores import start_store_at_fixed_port, stop
from tests.support.server import RunningStore


@pytest.fixture
def fixed_store(template_db: Path, tmp_path: Path) -> Iterator[RunningStore]:
    """A store server whose address survives a stop and a start."""
    running = start_store_at_fixed_port(template_db, tmp_path)
    yield running
    stop(running)
