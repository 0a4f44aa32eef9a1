"""storectl backup, restore and doctor: the appliance's maintenance commands."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

from store_server.appliance.doctor import Level, run_checks
from store_server.backups.restore import RestoreRefused, restore_backup
from store_server.backups.snapshot import BackupFailed, backup_and_rotate
from store_server.config import Config
from store_server.db.database import Database


def become_data_owner(cfg: Config) -> None:
    """Run as the user owning the data directory when started as root.

    SQLite creates the -wal and -shm files (and these commands create backups
    and the restored database) owned by whoever runs it; an operator running
    `sudo storectl backup` must not leave root-owned files that the server,
    running as `tillpoint`, then cannot open.
    """
    if os.geteuid() != 0:
        return
    try:
        st = cfg.database.parent.stat()
    except FileNotFoundError:
        return
    if st.st_uid == 0:
        return
    os.setgroups([])
    os.setgid(st.st_gid)
    os.setuid(st.st_uid)


def cmd_backup(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    become_data_owner(cfg)
    policy = cfg.appliance.backup
    try:
        result = backup_and_rotate(
            cfg.database, policy, store_id=cfg.store_id, now=datetime.now(UTC), zone=cfg.zone
        )
    except (BackupFailed, OSError) as exc:
        print(f"storectl: backup failed, nothing was written: {exc}", file=sys.stderr)
        return 1
    print(
        f"backup {result.path} ({result.size_bytes / 1_048_576:,.1f} MB, "
        f"{result.seconds:.1f} s, integrity ok)"
    )
    for old in result.removed:
        print(f"  rotated out {old.name}")
    return 0


def cmd_restore(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    if not args.server_stopped_check_off and _server_answers(cfg.listen):
        print(
            f"storectl: a store server is listening on {cfg.listen}: stop it first "
            "(systemctl stop tillpoint-store); nothing was changed",
            file=sys.stderr,
        )
        return 1
    become_data_owner(cfg)
    try:
        result = restore_backup(
            args.file, cfg.database, store_id=cfg.store_id, now=datetime.now(UTC)
        )
    except RestoreRefused as exc:
        print(f"storectl: restore refused: {exc}", file=sys.stderr)
        return 1
    print(
        f"restored {args.file} (store {result.info.store_id}, taken {result.info.taken_at}, "
        f"schema {result.info.revision}) into {cfg.database}"
    )
    if result.set_aside is not None:
        print(f"the database it replaced is kept as {result.set_aside}")
    print("start the store server: it upgrades the schema if the backup is older")
    return 0


def cmd_doctor(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    become_data_owner(cfg)
    checks = run_checks(cfg, datetime.now(UTC))
    for check in checks:
        print(f"[{check.level.value:^4}] {check.name}: {check.detail}")
    failed = [c for c in checks if c.level is Level.FAIL]
    return 1 if failed else 0


def _server_answers(listen: str) -> bool:
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if host in {"", "0.0.0.0", "::"}:
        host = "127.0.0.1"
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except (OSError, ValueError):
        return False


def register(sub: argparse._SubParsersAction) -> None:
    """Add backup, restore and doctor to storectl's subcommands."""
    backup = sub.add_parser("backup", help="back up the database now (online, verified, rotated)")
    backup.set_defaults(fn=cmd_backup)
    restore = sub.add_parser(
        "restore", help="replace the database by a backup (the server must be stopped)"
    )
    restore.add_argument("file", type=Path)
    restore.add_argument(
        "--no-server-check",
        dest="server_stopped_check_off",
        action="store_true",
        help="do not check that no server listens on the configured address",
    )
    restore.set_defaults(fn=cmd_restore)
    sub.add_parser(
        "doctor", help="checklist: disk, database, backups, hq_link, clock, certificates"
    ).set_defaults(fn=cmd_doctor)
