"""The store server in its own process, as systemd or `make run` starts it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChildProcess:
    """A real child process whose output is kept; kill (SIGKILL) and stop (SIGTERM)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    def _spawn(
        self,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        ready: str | None = None,
        timeout: float = 60,
        what: str = "process",
    ) -> re.Match[str] | None:
        """Start `python -m ...argv`; with `ready`, wait for a line matching it.

        The output is drained on a thread afterwards, so the child never blocks
        on a full pipe.
        """
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *argv],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        match = None
        if ready is not None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                line = self.proc.stdout.readline()  # type: ignore[union-attr]
                if not line:
                    break
                self.output.append(line)
                match = re.search(ready, line)
                if match:
                    break
            if match is None:
                self.kill()
                raise AssertionError(f"{what} did not start:\n" + "".join(self.output[-30:]))
        threading.Thread(target=self.output.extend, args=(self.proc.stdout,), daemon=True).start()
        return match

    def kill(self) -> None:
        """SIGKILL: the power cut of a process."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def stop(self) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout=30)

    @property
    def log(self) -> str:
        return "".join(self.output)


class ServerProcess(ChildProcess):
    """Start, kill and restart a store server on one fixed port and database."""

    def __init__(self, db: Path, port: int = 0, **env: str) -> None:
        super().__init__()
        self.db = db
        self.port = port
        self.env = env

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        env = {
            **os.environ,
            "TILLPOINT_DATABASE": str(self.db),
            "TILLPOINT_LISTEN": f"127.0.0.1:{self.port}",
            **self.env,
        }
        config = str(REPO / "config/store.demo.toml")
        match = self._spawn(
            ["store_server", "--config", config, "--log-level", "WARNING"],
            env=env,
            ready=r"listening on 127\.0\.0\.1:(\d+)",
            timeout=timeout,
            what="store server",
        )
        assert match is not None
        self.port = int(match.group(1))
