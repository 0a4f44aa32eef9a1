"""Catalog search in memory: name substring or pinyin initials, fast on 100k SKUs.

SQLite's LIKE '%...%' scans the whole table for every keystroke (~100 ms at
100,000 products here). This index keeps each searchable field as one long
string per field and finds matches with str.find, which runs in C; only the
matches are touched in Python. Pure: no I/O; the caller feeds it rows.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

SEP = "\x00"  # cannot occur in names, so no match spans two products


@dataclass(frozen=True, slots=True)
class Entry:
    product_id: int
    sku: str
    name: str
    pinyin: str
    active: bool


class SearchIndex:
    """Matches rank as the SQL did: pinyin-initial prefix first, then by name, then id."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._entries: dict[int, Entry] = {}
        self._dirty = True
        self._order: list[Entry] = []
        self.upsert(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def upsert(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            self._entries[entry.product_id] = entry
            self._dirty = True

    def _rebuild(self) -> None:
        self._order = sorted(self._entries.values(), key=lambda e: (e.name, e.product_id))
        names, pinyins, starts = [], [], []
        offset = 0
        for entry in self._order:
            lowered = entry.name.lower()  # may differ in length from the name
            starts.append(offset)
            names.append(lowered)
            pinyins.append(entry.pinyin)
            offset += len(lowered) + 1
        self._names = SEP.join(names) + SEP
        self._starts = starts
        # Pinyin has its own offsets (lengths differ from the names').
        self._pinyin_starts = []
        offset = 0
        for p in pinyins:
            self._pinyin_starts.append(offset)
            offset += len(p) + 1
        self._pinyins = SEP.join(pinyins) + SEP
        self._skus = {e.sku: i for i, e in enumerate(self._order)}
        self._dirty = False

    def search(
        self, query: str, *, offset: int, limit: int, include_inactive: bool
    ) -> tuple[list[int], int]:
        """Product ids of one page of matches, and how many match in all."""
        if self._dirty:
            self._rebuild()
        found: set[int] = set()
        self._scan(self._names, self._starts, query.lower(), found)
        prefix: set[int] = set()
        upper = query.upper()
        self._scan(self._pinyins, self._pinyin_starts, upper, found, prefix)
        if query in self._skus:
            found.add(self._skus[query])
        ranked = sorted(
            (i for i in found if include_inactive or self._order[i].active),
            key=lambda i: (i not in prefix, i),
        )
        page = ranked[offset : offset + limit]
        return [self._order[i].product_id for i in page], len(ranked)

    @staticmethod
    def _scan(
        haystack: str,
        starts: list[int],
        needle: str,
        found: set[int],
        prefix: set[int] | None = None,
    ) -> None:
        if not needle or SEP in needle:
            return
        pos = haystack.find(needle)
        while pos != -1:
            index = bisect.bisect_right(starts, pos) - 1
            found.add(index)
            if prefix is not None and starts[index] == pos:
                prefix.add(index)
            # Next product: skip to the end of this one's field.
            end = haystack.find(SEP, pos)
            pos = haystack.find(needle, end + 1)
