"""Change-row schema 2 (a receipt as a JSON object in the payload) beside schema 1
(the receipt as a JSON string), and the upgrade of an older HQ database whose
change log kept payloads as jsonb."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select, text

from hq_link.hq import tables
from hq_link.hq.ingest import SUPPORTED_SCHEMA_VERSION, IncomingRow, Ingest
from hq_link.hq.server import make_engine
from store_server.db.unit_of_work import CHANGE_SCHEMA_VERSION, receipt_payload
from tests.hq.test_ingest_fast_path import (
    AT,
    NOW,
    PROJECTED,
    a_day_of_changes,
    no_row_by_row,
)


def as_schema_2(rows: list[IncomingRow]) -> list[IncomingRow]:
    """The same rows as today's store writes them: receipts spliced in as objects."""
    out = []
    for r in rows:
        payload = json.loads(r.payload_json)
        if r.kind in ("sale", "return"):
            receipt = payload.pop("receipt")
            assert isinstance(receipt, str)
            text_ = receipt_payload(receipt, **payload)
        else:
            text_ = r.payload_json
        out.append(IncomingRow(r.seq, r.txn, r.kind, r.key, text_, r.at, 2))
    return out


def projections(engine: Engine) -> dict[str, list[tuple]]:
    """Every projected table; of the change log, what does not depend on the schema."""
    with engine.connect() as conn:
        got = {
            t.name: sorted(tuple(r) for r in conn.execute(select(t)))
            for t in PROJECTED
            if t is not tables.changes
        }
        c = tables.changes.c
        got["hq_changes"] = [
            (r.seq, r.kind, r.key, _receipt_as_object(r.payload))
            for r in conn.execute(select(c.seq, c.kind, c.key, c.payload).order_by(c.seq))
        ]
    return got


def _receipt_as_object(payload: dict) -> dict:
    receipt = payload.get("receipt")
    return {**payload, "receipt": json.loads(receipt)} if isinstance(receipt, str) else payload


def test_the_store_writes_schema_2_and_hq_reads_it() -> None:
    assert CHANGE_SCHEMA_VERSION == 2 == SUPPORTED_SCHEMA_VERSION


def test_schema_2_rows_project_exactly_as_schema_1(
    engine: Engine, pg_cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Ingest, "_row_by_row", no_row_by_row)
    old = make_engine(pg_cluster.url(pg_cluster.create_database()))
    try:
        tables.metadata.create_all(old)
        v1 = a_day_of_changes()
        v2 = as_schema_2(v1)
        assert any(r.payload_json.startswith('{"receipt": {') for r in v2)
        assert Ingest(old).push("S01", 1, 12, v1, NOW).applied_rows == 12
        assert Ingest(engine).push("S01", 1, 12, v2, NOW).applied_rows == 12
        expected = projections(old)
        assert len(expected["hq_receipt_lines"]) == 8
        assert projections(engine) == expected
    finally:
        old.dispose()


def test_an_older_hq_database_gets_its_jsonb_change_log_turned_into_json(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE hq_changes ALTER COLUMN payload TYPE jsonb"))
        conn.execute(
            text("INSERT INTO hq_changes VALUES ('S00', 1, 1, 'note', 'k', :p, :at, 1, :at)"),
            {"p": '{"b": 1, "a": "收银"}', "at": AT},
        )
    tables.upgrade(engine)
    tables.upgrade(engine)  # a second start changes nothing
    monkeypatch.setattr(Ingest, "_row_by_row", no_row_by_row)  # the COPY fits the column
    assert Ingest(engine).push("S01", 1, 12, as_schema_2(a_day_of_changes()), NOW).applied_rows
    with engine.connect() as conn:
        kind = conn.execute(
            text(
                "SELECT data_type FROM information_schema.columns"
                " WHERE table_name = 'hq_changes' AND column_name = 'payload'"
            )
        ).scalar()
        kept = conn.execute(
            select(tables.changes.c.payload).where(tables.changes.c.store_id == "S00")
        ).scalar()
        stored = conn.execute(
            text("SELECT payload::text FROM hq_changes WHERE store_id = 'S01' AND seq = 3")
        ).scalar()
    assert kind == "json"
    assert kept == {"a": "收银", "b": 1}
    # The payload is kept as the store sent it, byte for byte.
    assert stored == as_schema_2(a_day_of_changes())[2].payload_json
