"""Reading the one-card feed: what a store has not seen of the other stores."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine, select

from hq_link.hq import tables as hq
from hq_link.hq.onecard import tables as t

MAX_LIMIT = 5_000
DEFAULT_LIMIT = 1_000


@dataclass(frozen=True, slots=True)
class FeedRow:
    rev: int
    store_id: str  # the store that made the change
    kind: str
    key: str
    payload_json: str
    at: str  # UTC ISO-8601


@dataclass(frozen=True, slots=True)
class FeedPage:
    rows: list[FeedRow]
    next_rev: int  # the revision up to which HQ looked
    head_rev: int  # the highest revision HQ has


def pull(engine: Engine, store_id: str, after_rev: int, limit: int) -> FeedPage:
    """The changes of other stores after `after_rev`, looking at `limit` revisions.

    The caller's own changes are looked at but left out, and `next_rev`
    still moves past them: a store whose own changes fill the feed advances.
    """
    c, f = hq.changes.c, t.feed.c
    query = (
        select(f.rev, f.store_id, c.kind, c.key, c.payload, c.at)
        .join(hq.changes, (c.store_id == f.store_id) & (c.seq == f.seq))
        .where(f.rev > after_rev)
        .order_by(f.rev)
        .limit(limit)
    )
    with engine.connect() as conn:
        found = conn.execute(query).all()
        head = conn.execute(select(t.counter.c.rev).where(t.counter.c.id == 1)).scalar()
    rows = [
        FeedRow(
            rev=int(rev),
            store_id=origin,
            kind=kind,
            key=key,
            payload_json=json.dumps(payload, ensure_ascii=False, sort_keys=True),
            at=at.isoformat(),
        )
        for rev, origin, kind, key, payload, at in found
        if origin != store_id
    ]
    next_rev = int(found[-1][0]) if found else after_rev
    return FeedPage(rows=rows, next_rev=next_rev, head_rev=max(int(head or 0), next_rev))
