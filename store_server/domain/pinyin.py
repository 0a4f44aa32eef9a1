"""Pinyin initials (拼音首字母) for search: 可口可乐 -> KKKL.

pypinyin picks the reading of polyphonic characters from phrase context
(可乐 reads ke le, 音乐 yin yue), which a per-character table gets wrong.
Letters and digits in a name are kept, so 可口可乐330ml -> KKKL330ML.
"""

from __future__ import annotations

import functools
from collections.abc import Callable


@functools.cache
def _lazy_pinyin() -> Callable[..., list[str]]:
    # pypinyin's dictionaries take ~0.6 s and tens of MB to load; only imports
    # and master-data writes need them, never the till's read paths.
    from pypinyin import Style, lazy_pinyin

    return functools.partial(lazy_pinyin, style=Style.FIRST_LETTER, errors=lambda s: list(s))


def initials(name: str) -> str:
    out: list[str] = []
    for chunk in _lazy_pinyin()(name):
        out.extend(ch.upper() for ch in chunk if ch.isascii() and ch.isalnum())
    return "".join(out)
