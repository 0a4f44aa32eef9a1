"""hqctl user add|list|remove: HQ's read-side accounts (HqReportService).

`user add` prints the account's bearer token once; HQ keeps only its hash.
Adding an existing id again issues a new token (the old one stops working)
and replaces its role and stores.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from hq_link.hq.reports import users
from hq_link.hqctl.report_cmds import hq_connection
from store_server.domain.errors import DomainError


def cmd_add(ctx: object, args: argparse.Namespace) -> int:
    try:
        stores = users.parse_stores(args.stores)
        with hq_connection(ctx) as conn:
            token = users.add_user(conn, args.id, args.role, stores, datetime.now(UTC))
    except DomainError as exc:
        print(f"hqctl user add: {exc.message}", file=sys.stderr)
        return 2
    scope = ",".join(stores) if args.role == "owner" else "all stores"
    print(f"user {args.id} ({args.role}, {scope})", file=sys.stderr)
    print(token)  # alone on stdout, for scripts
    return 0


def cmd_list(ctx: object, args: argparse.Namespace) -> int:
    with hq_connection(ctx) as conn:
        for u in users.list_users(conn):
            print(f"{u.user_id:<20} {u.role.value:<6} {','.join(u.stores) or '*'}")
    return 0


def cmd_remove(ctx: object, args: argparse.Namespace) -> int:
    with hq_connection(ctx) as conn:
        found = users.remove_user(conn, args.id)
    if not found:
        print(f"hqctl user remove: no user {args.id}", file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `user` to hqctl."""
    user = sub.add_parser("user", help="HQ read-side accounts: hq staff or store owners")
    cmds = user.add_subparsers(dest="user_command", required=True)
    add = cmds.add_parser("add", help="create a user (or issue a new token); prints the token")
    add.add_argument("--id", required=True)
    add.add_argument("--role", required=True, choices=("hq", "owner"))
    add.add_argument("--stores", default="", help="an owner's stores: S01,S02")
    add.set_defaults(func=cmd_add)
    cmds.add_parser("list", help="every user").set_defaults(func=cmd_list)
    rm = cmds.add_parser("remove", help="delete a user (its token stops working)")
    rm.add_argument("--id", required=True)
    rm.set_defaults(func=cmd_remove)
