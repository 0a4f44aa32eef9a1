"""`hqctl members negative` and `hqctl members balance MEMBER`: one card (一卡通).

    hqctl members negative            members whose stored value, summed over
                                      every store, went below zero (spent offline
                                      at several stores); exit status 1 if any
    hqctl members balance 8000100000035

Balances are sums of the ledger entries every store sent up (HQ is the
authority for cross-store balances). Amounts in yuan with two decimals.
"""

from __future__ import annotations

import argparse

from sqlalchemy import create_engine

from hq_link.hq.onecard.balances import balance, negative_members
from hq_link.hqctl.main import HqctlContext


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def cmd_negative(ctx: HqctlContext, args: argparse.Namespace) -> int:
    engine = create_engine(ctx.database_url)
    try:
        with engine.connect() as conn:
            found = negative_members(conn)
    finally:
        engine.dispose()
    if not found:
        print("没有储值为负的会员 (no member below zero)")
        return 0
    print(f"{'member':<14} {'home':<6} {'balance':>10} {'offline spent':>14}  offline at")
    for m in found:
        print(
            f"{m.member_id:<14} {m.home_store or '?':<6} {_yuan(m.stored_value_fen):>10} "
            f"{_yuan(m.offline_spent_fen):>14}  {', '.join(m.offline_stores) or '-'}"
        )
    print(f"{len(found)} member(s) below zero")
    return 1


def cmd_balance(ctx: HqctlContext, args: argparse.Namespace) -> int:
    engine = create_engine(ctx.database_url)
    try:
        with engine.connect() as conn:
            b = balance(conn, args.member_id)
    finally:
        engine.dispose()
    print(f"{b.member_id} stored value {_yuan(b.stored_value_fen)} points {b.points}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    members = sub.add_parser("members", help="one card: balances across stores")
    msub = members.add_subparsers(dest="members_command", required=True)
    neg = msub.add_parser("negative", help="members driven below zero (offline spends)")
    neg.set_defaults(func=cmd_negative)
    bal = msub.add_parser("balance", help="a member's balances summed over every store")
    bal.add_argument("member_id")
    bal.set_defaults(func=cmd_balance)
