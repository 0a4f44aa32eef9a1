"""When the store last heard from HQ, as the offline floor limit (一卡通) reads it.

The hq_link agent writes it (hq_link.agent.link_state, CONTACT_KEY) after HQ
answers: one row of store_meta, UTC ISO-8601 text. The key is written down
twice because the store server imports nothing of hq_link; a unit test
checks they agree.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

LAST_CONTACT_KEY = "hq_link.last_contact_at"
_READ = "SELECT value FROM store_meta WHERE key = ?"


def read_last_contact(conn: sqlite3.Connection) -> datetime | None:
    """The last time HQ answered the agent (aware UTC); None if it never did."""
    row = conn.execute(_READ, (LAST_CONTACT_KEY,)).fetchone()
    if row is None or not row[0]:
        return None
    try:
        at = datetime.fromisoformat(row[0])
    except ValueError:
        return None  # unreadable: as if never, which is the cautious answer
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at
