"""A throwaway PostgreSQL cluster: initdb in a temp dir, on 127.0.0.1 and a free
port, as the postgres user when run as root (CI runs as root; PostgreSQL
refuses to). The HQ tests' `pg_cluster` fixture and `bench.hq_bench` both
start theirs here. `make system-deps` installs PostgreSQL (Debian)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.support.process import free_port


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed or did not start (the message says which)."""


def pg_bin() -> Path:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    if not versions:
        raise PostgresUnavailable(
            "PostgreSQL is not installed: `make system-deps` installs it (Debian)"
        )
    return versions[-1].parent


def _as_cluster_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass(frozen=True)
class Cluster:
    port: int
    root: Path = field(default=Path("."), compare=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def create_database(self) -> str:
        name = f"hq_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return name


def start_cluster(*, durable: bool = False) -> Cluster:
    """initdb + pg_ctl start; raises PostgresUnavailable with the server's words.

    Not durable by default (fsync off): tests care about what PostgreSQL
    answers, not about surviving a power cut of the test machine.
    """
    bin_dir = pg_bin()
    root = Path(tempfile.mkdtemp(prefix="tillpoint-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data = root / "data"
    port = free_port()
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    try:
        subprocess.run(
            _as_cluster_owner(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            **run,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=300"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(
            _as_cluster_owner(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(root / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            **run,
        )
    except subprocess.CalledProcessError as exc:
        log = root / "server.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"PostgreSQL did not start: {exc.stderr}\n{text}") from exc
    return Cluster(port, root)


def stop_cluster(cluster: Cluster) -> None:
    """Stop at once (nothing in it is kept) and remove its files."""
    pg_ctl = str(pg_bin() / "pg_ctl")
    subprocess.run(
        _as_cluster_owner(
            [pg_ctl, "-D", str(cluster.root / "data"), "-m", "immediate", "-w", "stop"]
        ),
        capture_output=True,
        timeout=60,
    )
    shutil.rmtree(cluster.root, ignore_errors=True)
