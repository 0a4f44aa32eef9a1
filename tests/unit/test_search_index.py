from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from store_server.domain.search import Entry, SearchIndex

ENTRIES = [
    Entry(1, "可口可乐 330ml", "KKKL330ML", True),
    Entry(2, "雪碧 330ML", "XB330ML", True),
    Entry(3, "百事可乐 500ml", "BSKL500ML", True),
    Entry(4, "可口可乐 零度", "KKKLLD", False),
]


def ids(index: SearchIndex, query: str, **kw: object) -> list[int]:
    return index.search(query, offset=0, limit=50, include_inactive=kw.get("all", False))[0]


def test_pinyin_prefix_ranks_first_then_name() -> None:
    index = SearchIndex(ENTRIES)
    assert ids(index, "KL") == [1, 3]  # both contain KL, neither starts with it: by name
    assert ids(index, "kkkl") == [1]
    assert ids(index, "KKKL", all=True) == [1, 4]
    assert ids(index, "BS") == [3]


def test_name_substring_is_case_insensitive_for_latin() -> None:
    index = SearchIndex(ENTRIES)
    assert sorted(ids(index, "330ml")) == [1, 2]
    assert ids(index, "可乐") == [1, 3]
    assert ids(index, "%") == [] and ids(index, "\x00") == []


def test_a_renamed_product_and_paging() -> None:
    index = SearchIndex([*ENTRIES[:1], Entry(2, "雪碧 新装", "XBXZ", True), *ENTRIES[2:]])
    assert ids(index, "330") == [1]
    page, total = index.search("L", offset=1, limit=1, include_inactive=True)
    assert total == 3 and len(page) == 1  # 1, 3 and 4 have an L; 2 no longer


names = st.text(alphabet="可口乐雪碧abcML 0123", min_size=1, max_size=12)


@given(st.lists(names, min_size=1, max_size=30), names)
def test_same_answer_as_a_plain_scan(all_names: list[str], query: str) -> None:
    entries = [Entry(i, n, n.upper(), True) for i, n in enumerate(all_names)]
    index = SearchIndex(entries)
    expected = {
        e.product_id
        for e in entries
        if query.lower() in e.name.lower() or query.upper() in e.pinyin
    }
    found, total = index.search(query, offset=0, limit=1000, include_inactive=True)
    assert set(found) == expected and total == len(expected)
