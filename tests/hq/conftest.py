"""A throwaway PostgreSQL cluster for the HQ tests (tests/support/pg.py: initdb
in a temp dir, on 127.0.0.1 and a free port). `make system-deps` installs
PostgreSQL: a missing PostgreSQL fails the tests, it never skips them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from hq_link.hq import tables
from hq_link.hq.server import make_engine
from tests.support.pg import Cluster, PostgresUnavailable, start_cluster, stop_cluster

__all__ = ["Cluster", "engine", "hq_url", "pg_cluster"]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    try:
        cluster = start_cluster()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc))
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


@pytest.fixture
def hq_url(pg_cluster: Cluster) -> str:
    """A fresh, empty HQ database of its own for one test."""
    return pg_cluster.url(pg_cluster.create_database())


@pytest.fixture
def engine(hq_url: str) -> Iterator[Engine]:
    """An engine on a fresh HQ database with HQ's tables (a module may define its own)."""
    e = make_engine(hq_url)
    tables.metadata.create_all(e)
    yield e
    e.dispose()
