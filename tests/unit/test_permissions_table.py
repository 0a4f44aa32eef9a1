"""Every store RPC has a rule, and docs/PERMISSIONS.md is what the generator writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from store_server.permissions_doc import REQUEST_CHECKS, render, store_rpcs
from store_server.rpc_rules import RULES

REPO = Path(__file__).resolve().parents[2]


def test_every_rpc_of_every_store_service_has_a_rule() -> None:
    rpcs = store_rpcs()
    paths = {rpc.path for rpc in rpcs}
    # Nine services today; a new proto file or RPC is picked up from the descriptors.
    assert len({rpc.service for rpc in rpcs}) >= 9 and len(rpcs) >= 78
    assert sorted(paths - RULES.keys()) == []
    # And no rule names an RPC that no longer exists (a stale rule hides a rename).
    assert sorted(RULES.keys() - paths) == []
    assert set(REQUEST_CHECKS) <= paths


def test_only_login_and_echo_are_public() -> None:
    public = sorted(p for p, rule in RULES.items() if rule.public)
    assert public == ["/tillpoint.v1.AuthService/Login", "/tillpoint.v1.DiagnosticsService/Echo"]


def test_docs_permissions_md_is_up_to_date() -> None:
    committed = (REPO / "docs/PERMISSIONS.md").read_text(encoding="utf-8")
    assert committed == render(), (
        "docs/PERMISSIONS.md is stale: run "
        "`python -m store_server.permissions_doc --write docs/PERMISSIONS.md`"
    )


def test_the_generator_runs_as_a_module() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "store_server.permissions_doc"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "| SalesService | CommitSale | unary | sell |" in out
    assert "| MemberService | RefundStoredValue | unary | member_manage |" in out
