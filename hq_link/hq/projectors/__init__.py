"""Projections HQ keeps beside the replicated log (hq_changes).

Each projector turns the newly applied change rows of one batch into rows of
its own tables, in the batch's transaction: `project(conn, insert, store_id,
rows)`. Each row has `.row` (the IncomingRow), `.payload` (the JSON, parsed
once by ingest: never parse `.row.payload_json` again), `.at` (aware
datetime) and, on "sale" and "return" rows, `.receipt` (the receipt, parsed;
see receipts.receipt_of). `insert` is a bulk_insert.RowWriter: `insert(table)`
is the dialect's INSERT with ON CONFLICT DO NOTHING for a projector's own
statements, and `insert.rows(table, dicts)` writes all of a batch's rows of
one table at once (a COPY on PostgreSQL): build them in Python, write each
table once. A row a projector cannot read raises ProjectionError: ingest then
applies the batch row by row and that row alone is quarantined with the message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection

from hq_link.hq.bulk_insert import RowWriter


class ProjectionError(ValueError):
    """One change row a projector cannot read (quarantined with this reason)."""


def integer(value: object, what: str) -> int:
    """`value` if it is an integer (not a bool), else ProjectionError naming `what`."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProjectionError(f"{what} {value!r} is not an integer")
    return value


Insert = RowWriter
Projector = Callable[[Connection, Insert, str, Sequence[Any]], None]

# One line per projector module; the order is the order they run in.
PROJECTORS: list[Projector] = []

# Reconciliation and reports (hq_link.hq.reconcile, hq_link.hq.reports).
from hq_link.hq.projectors import closes, ledger, receipts  # noqa: E402

PROJECTORS += [receipts.project, ledger.project, closes.project]

# One card across stores (hq_link.hq.onecard): members, ledger entries, the feed.
from hq_link.hq.projectors import members  # noqa: E402

PROJECTORS.append(members.project)

# Stock as of each store's last day close, and posted stocktakes (HQ's stock reports).
from hq_link.hq.projectors import stock  # noqa: E402

PROJECTORS.append(stock.project)
