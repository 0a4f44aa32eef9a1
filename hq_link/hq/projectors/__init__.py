"""Projections HQ keeps beside the replicated log (hq_changes).

Each projector turns the newly applied change rows of one batch into rows of
its own tables, in the batch's transaction: `project(conn, insert, store_id,
rows)`, where `insert(table)` is the dialect's INSERT with ON CONFLICT DO
NOTHING and each row has `.row` (the IncomingRow), `.payload` (parsed JSON)
and `.at` (aware datetime). A row a projector cannot read raises
ProjectionError: that row alone is quarantined with the message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table


class ProjectionError(ValueError):
    """One change row a projector cannot read (quarantined with this reason)."""


Insert = Callable[[Table], Any]
Projector = Callable[[Connection, Insert, str, Sequence[Any]], None]

# One line per projector module; the order is the order they run in.
PROJECTORS: list[Projector] = []

# Reconciliation and reports (hq_link.hq.reconcile, hq_link.hq.reports).
from hq_link.hq.projectors import closes, ledger, receipts  # noqa: E402

PROJECTORS += [receipts.project, ledger.project, closes.project]

# One card across stores (hq_link.hq.onecard): members, ledger entries, the feed.
from hq_link.hq.projectors import members  # noqa: E402

PROJECTORS.append(members.project)
