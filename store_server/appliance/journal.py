"""Logging to the systemd journal with structured fields (its native protocol).

Each record is one datagram to /run/systemd/journal/socket: KEY=value lines,
and for a value holding a newline the key, a newline, its length as 64-bit
little endian, the value and a newline (systemd.journal-fields(7),
"Native Journal Protocol"). Fields: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER,
LOGGER, THREAD_NAME, CODE_FILE/LINE/FUNC, TILLPOINT_STORE_ID, the traceback
in EXCEPTION, and whatever a caller passes as extra={"journal": {...}}, so
`journalctl TILLPOINT_STORE_ID=S01 PRIORITY=3` finds a store's errors.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import sys
import traceback

JOURNAL_SOCKET = "/run/systemd/journal/socket"
# syslog priorities by logging level.
_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


def encode_fields(fields: dict[str, object]) -> bytes:
    out = bytearray()
    for key, value in fields.items():
        data = str(value).encode("utf-8", "replace")
        if b"\n" in data:
            out += key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += key.encode() + b"=" + data + b"\n"
    return bytes(out)


class JournalHandler(logging.Handler):
    def __init__(
        self,
        identifier: str,
        *,
        socket_path: str = JOURNAL_SOCKET,
        static_fields: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self._path = socket_path
        self._identifier = identifier
        self._static = dict(static_fields or {})
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    def fields_of(self, record: logging.LogRecord) -> dict[str, object]:
        fields: dict[str, object] = {
            "MESSAGE": record.getMessage(),
            "PRIORITY": _PRIORITY.get(record.levelno, 6),
            "SYSLOG_IDENTIFIER": self._identifier,
            "LOGGER": record.name,
            "THREAD_NAME": record.threadName,
            "CODE_FILE": record.pathname,
            "CODE_LINE": record.lineno,
            "CODE_FUNC": record.funcName,
            **self._static,
        }
        if record.exc_info and record.exc_info[1] is not None:
            fields["EXCEPTION"] = "".join(traceback.format_exception(*record.exc_info))
        extra = getattr(record, "journal", None)
        if isinstance(extra, dict):
            fields.update({str(k).upper(): v for k, v in extra.items()})
        return fields

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._sock.sendto(encode_fields(self.fields_of(record)), self._path)
        except OSError:
            # Too big for a datagram, or journald away: the line still goes
            # to stderr, which systemd also sends to the journal.
            sys.stderr.write(f"{record.levelname} {record.name}: {record.getMessage()}\n")
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        self._sock.close()
        super().close()


def journal_wanted(env: dict[str, str] | None = None) -> bool:
    """systemd connected our stderr to the journal (JOURNAL_STREAM) and it listens."""
    env = dict(os.environ) if env is None else env
    return bool(env.get("JOURNAL_STREAM")) and os.path.exists(JOURNAL_SOCKET)
