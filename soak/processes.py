"""The soak's processes: the store server, HQ and the hq_link agent, each its
own process, started the way the tests start them (tests/support/process.py,
tests/hq/support.py), so the soak follows their command lines as they change.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import grpc

from tests.hq.support import AgentProcess, HqProcess, hq_cursor
from tests.support.process import ServerProcess

AGENT_BATCH_ROWS = 500  # the production default (README: HQ link)


@dataclass
class SoakProcesses:
    server: ServerProcess
    hq: HqProcess
    agent: AgentProcess

    def stop(self) -> dict[str, int | None]:
        """SIGTERM each, the agent first; their exit statuses."""
        codes: dict[str, int | None] = {}
        for name, proc in (("agent", self.agent), ("hq", self.hq), ("server", self.server)):
            try:
                codes[name] = proc.stop()
            except Exception:  # hung past its grace: kill it, report no status
                proc.kill()
                codes[name] = None
        return codes

    def kill(self) -> None:
        for proc in (self.agent, self.hq, self.server):
            proc.kill()

    def write_logs(self, directory: Path) -> None:
        for name, proc in (("server", self.server), ("hq", self.hq), ("agent", self.agent)):
            (directory / f"{name}.log").write_text(proc.log, encoding="utf-8")


def start_processes(store_db: Path, hq_url: str, directory: Path) -> SoakProcesses:
    server = ServerProcess(store_db)
    server.start(timeout=120)
    hq = HqProcess(hq_url)
    try:
        hq.start()
        # HQ keys the replicated log by (store, seq): a database that already holds
        # this store's log from an earlier run would take the new rows as duplicates.
        if hq_cursor(hq.address) != 0:
            raise SystemExit(
                "soak: HQ's database already holds this store's log: give an empty one"
            )
        agent = AgentProcess(directory, store_db, hq.address, batch_rows=AGENT_BATCH_ROWS)
        agent.start()
    except BaseException:
        hq.kill()
        server.kill()
        raise
    return SoakProcesses(server, hq, agent)


def store_last_seq(store_db: Path) -> int:
    conn = sqlite3.connect(f"file:{store_db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT coalesce(max(seq), 0) FROM change_log").fetchone()[0]
    finally:
        conn.close()


def hq_lag_rows(store_db: Path, hq_address: str) -> int | None:
    """Change rows the store has and HQ has not acknowledged; None if HQ does not answer."""
    try:
        return max(0, store_last_seq(store_db) - hq_cursor(hq_address))
    except grpc.RpcError:
        return None
