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


class ServerProcess:
    """Start, kill and restart a store server on one fixed port and database."""

    def __init__(self, db: Path, port: int = 0, **env: str) -> None:
        self.db = db
        self.port = port
        self.env = env
        self.proc: subprocess.Popen[str] | None = None
        self.output: list[str] = []

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
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "store_server",
                "--config",
                str(REPO / "config/store.demo.toml"),
                "--log-level",
                "WARNING",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match.group(1))
                # Keep draining so the server never blocks on a full pipe.
                threading.Thread(
                    target=self.output.extend, args=(self.proc.stdout,), daemon=True
                ).start()
                return
        self.kill()
        raise AssertionError("store server did not start:\n" + "".join(self.output[-30:]))

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
