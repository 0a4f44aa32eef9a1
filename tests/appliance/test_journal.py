"""Log records reach the journal socket as structured fields."""

from __future__ import annotations

import logging
import socket
import struct
from pathlib import Path

from store_server.appliance.journal import JournalHandler, encode_fields


def _decode(data: bytes) -> dict[str, str]:
    fields = {}
    while data:
        head, _, rest = data.partition(b"\n")
        if b"=" in head:
            key, _, value = head.partition(b"=")
            fields[key.decode()] = value.decode()
            data = rest
        else:  # KEY \n <u64 length> value \n
            (size,) = struct.unpack("<Q", rest[:8])
            fields[head.decode()] = rest[8 : 8 + size].decode()
            data = rest[8 + size + 1 :]
    return fields


def test_multiline_values_use_the_binary_form() -> None:
    data = encode_fields({"MESSAGE": "one\ntwo", "PRIORITY": 3})
    assert data == b"MESSAGE\n" + struct.pack("<Q", 7) + b"one\ntwo\nPRIORITY=3\n"
    assert _decode(data) == {"MESSAGE": "one\ntwo", "PRIORITY": "3"}


def test_records_carry_priority_store_and_extra_fields(tmp_path: Path) -> None:
    path = tmp_path / "journal.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    handler = JournalHandler(
        "tillpoint-store", socket_path=str(path), static_fields={"TILLPOINT_STORE_ID": "S01"}
    )
    logger = logging.getLogger("tillpoint.test.journal")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("sale %s failed", "A-1", extra={"journal": {"sale_id": "A-1"}})
        fields = _decode(sock.recv(65536))
        try:
            raise OSError("disk full")
        except OSError:
            logger.exception("commit failed")
        with_traceback = _decode(sock.recv(65536))
    finally:
        logger.removeHandler(handler)
        handler.close()
        sock.close()
    assert fields["MESSAGE"] == "sale A-1 failed"
    assert fields["PRIORITY"] == "3"
    assert fields["SYSLOG_IDENTIFIER"] == "tillpoint-store"
    assert fields["TILLPOINT_STORE_ID"] == "S01"
    assert fields["SALE_ID"] == "A-1"
    assert fields["LOGGER"] == "tillpoint.test.journal"
    assert fields["CODE_FUNC"] == "test_records_carry_priority_store_and_extra_fields"
    assert "OSError: disk full" in with_traceback["EXCEPTION"]
