"""HQ master-data revisions: from one sequence, in commit order.

A PostgreSQL sequence hands out numbers in call order, not commit order: if a
writer took 10 and another 11 and 11 committed first, a store could pull past
11 and never see 10. Every master-data write therefore takes one transaction-
level advisory lock before its first revision, so revisions commit in order
(master data is written by a few HQ operators, not at till speed). On SQLite
the counter row's UPDATE takes the database's write lock, which does the same.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, text, update

from hq_link.hq.masterdata import tables

# Any constant shared by every writer of master data.
_LOCK_KEY = 7_401_007


def lock_for_writing(conn: Connection) -> None:
    """Serialise master-data writers until this transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def take(conn: Connection, count: int = 1) -> list[int]:
    """`count` new revisions, ascending (call lock_for_writing first)."""
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text("SELECT nextval('hq_md_revision_seq') FROM generate_series(1, :n)"), {"n": count}
        ).scalars()
        return sorted(int(r) for r in rows)
    c = tables.revision_counter.c
    last = conn.execute(
        update(tables.revision_counter)
        .where(c.id == 1)
        .values(value=c.value + count)
        .returning(c.value)
    ).scalar()
    if last is None:
        conn.execute(insert(tables.revision_counter).values(id=1, value=count))
        last = count
    return list(range(int(last) - count + 1, int(last) + 1))


def latest(conn: Connection) -> int:
    """The newest revision in the change history (0: none)."""
    value = conn.execute(
        select(tables.changes.c.revision).order_by(tables.changes.c.revision.desc()).limit(1)
    ).scalar()
    return int(value or 0)


def floor(conn: Connection) -> int:
    """The oldest revision the history still keeps (0: it was never pruned)."""
    value = conn.execute(
        select(tables.meta.c.value).where(tables.meta.c.key == "history_floor")
    ).scalar()
    return int(value or 0)
