"""Catalog lookups, search, streaming and scheduled prices against a real server."""

from __future__ import annotations

import uuid
from datetime import timedelta

import grpc
import pytest
from sqlalchemy import select

from store_server.db.models import LabelJob
from store_server.domain.barcodes import DEFAULT_LAYOUTS, make_scale_label
from tests.support import catalog_fixture as cf
from tests.support.errors import error_detail, expect_code
from tests.support.office import schedule_price
from tests.support.server import DEADLINE, RunningStore
from tillpoint.v1 import catalog_pb2, common_pb2


@pytest.fixture
def md(store: RunningStore) -> list[tuple[str, str]]:
    return store.login()


def lookup(store: RunningStore, md: list, code: str, kind: int = 0) -> catalog_pb2.LookupResponse:
    return store.catalog.Lookup(
        catalog_pb2.LookupRequest(code=code, kind=kind), metadata=md, timeout=DEADLINE
    )


def test_can_and_case_are_the_same_product_with_their_own_pack_and_price(
    store: RunningStore, md: list
) -> None:
    can = lookup(store, md, cf.COKE_CAN)
    case = lookup(store, md, cf.COKE_CASE)
    assert can.product.product_id == case.product.product_id
    assert can.product.name == "可口可乐 330ml"
    assert (can.pack_factor, can.quantity.milli, can.amount.fen) == (1, 1000, 300)
    assert (case.pack_factor, case.quantity.milli, case.amount.fen) == (24, 24000, 6600)
    assert can.product.member_price.fen == 280
    assert {(b.code, b.pack_factor, b.price.fen) for b in can.product.barcodes} == {
        (cf.COKE_CAN, 1, 0),
        (cf.COKE_CASE, 24, 6600),
    }


def test_ean8_and_upca_and_second_barcode(store: RunningStore, md: list) -> None:
    assert lookup(store, md, cf.WATER_EAN8).product.sku == "P3"
    assert lookup(store, md, cf.WATER).product.sku == "P3"
    chips = lookup(store, md, cf.UPC_CHIPS)
    assert (chips.product.sku, chips.amount.fen) == ("P4", 750)


@pytest.mark.parametrize(
    "code",
    [
        cf.COKE_CAN[:-1] + str((int(cf.COKE_CAN[-1]) + 1) % 10),  # EAN-13
        "96385075",  # EAN-8
        "036000291453",  # UPC-A
    ],
)
def test_bad_check_digit_is_invalid_argument(store: RunningStore, md: list, code: str) -> None:
    err = expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: lookup(store, md, code))
    detail = error_detail(err)
    assert (detail.reason, detail.field) == ("BAD_CHECK_DIGIT", "code")


def test_unknown_code_is_not_found(store: RunningStore, md: list) -> None:
    unknown = cf.ean13("690999999999")
    err = expect_code(grpc.StatusCode.NOT_FOUND, lambda: lookup(store, md, unknown))
    assert error_detail(err).reason == "UNKNOWN_BARCODE"
    expect_code(grpc.StatusCode.NOT_FOUND, lambda: lookup(store, md, "4242"))
    expect_code(grpc.StatusCode.NOT_FOUND, lambda: lookup(store, md, "INTERNAL-X1"))


def test_weight_label_gives_product_weight_and_price_in_fen(store: RunningStore, md: list) -> None:
    weight_layout = DEFAULT_LAYOUTS[0]
    # 0.352 kg of apples at 12.80/kg = 450.56 fen -> 451 (half up)
    code = make_scale_label(weight_layout, "1001", 352)
    resp = lookup(store, md, code)
    assert resp.product.name == "红富士苹果"
    assert resp.variable_measure
    assert (resp.quantity.milli, resp.amount.fen) == (352, 451)
    # 1.250 kg of tomatoes at 5.98/kg = 747.5 fen -> 748 (half up, not banker's)
    resp = lookup(store, md, make_scale_label(weight_layout, "1002", 1250))
    assert (resp.quantity.milli, resp.amount.fen) == (1250, 748)


def test_price_label_keeps_the_printed_price(store: RunningStore, md: list) -> None:
    resp = lookup(store, md, make_scale_label(DEFAULT_LAYOUTS[1], "1001", 1000))
    # 10.00 yuan of apples at 12.80/kg is 781.25 g -> 781 g
    assert (resp.amount.fen, resp.quantity.milli) == (1000, 781)


def test_scale_label_with_bad_check_digit_or_unknown_plu(store: RunningStore, md: list) -> None:
    good = make_scale_label(DEFAULT_LAYOUTS[0], "1001", 352)
    bad = good[:-1] + str((int(good[-1]) + 3) % 10)
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: lookup(store, md, bad))
    unknown = make_scale_label(DEFAULT_LAYOUTS[0], "9999", 352)
    err = expect_code(grpc.StatusCode.NOT_FOUND, lambda: lookup(store, md, unknown))
    assert error_detail(err).reason == "UNKNOWN_PLU"


def test_plu_lookup(store: RunningStore, md: list) -> None:
    resp = lookup(store, md, "1002")
    assert (resp.product.name, resp.product.weighed, resp.product.unit) == ("西红柿", True, "kg")
    assert resp.amount.fen == 598
    assert lookup(store, md, "1002", catalog_pb2.CODE_KIND_PLU).product.sku == "P7"


@pytest.mark.parametrize("code", ["", "   ", "x" * 49, "可口可乐", "12\x0034"])
def test_malformed_codes_are_invalid_argument(store: RunningStore, md: list, code: str) -> None:
    err = expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: lookup(store, md, code))
    assert error_detail(err).field == "code"


def search(store: RunningStore, md: list, query: str, size: int = 0, token: str = ""):
    return store.catalog.Search(
        catalog_pb2.SearchRequest(
            query=query, page=common_pb2.PageRequest(page_size=size, page_token=token)
        ),
        metadata=md,
        timeout=DEADLINE,
    )


def test_search_by_pinyin_initials(store: RunningStore, md: list) -> None:
    names = [p.name for p in search(store, md, "KKKL").products]
    assert names[0] == "可口可乐 330ml"
    assert set(names) == {"可口可乐 330ml", "可口可乐 零度 500ml"}
    assert [p.name for p in search(store, md, "kkkl").products] == names
    assert search(store, md, "KKKL").products[0].pinyin == "KKKL330ML"


def test_search_by_name_substring(store: RunningStore, md: list) -> None:
    assert [p.sku for p in search(store, md, "牛肉面").products] == ["P5"]
    assert {p.sku for p in search(store, md, "330ml").products} == {"P1", "P2"}
    assert search(store, md, "不存在的商品").products == []


def test_search_by_sku(store: RunningStore, md: list) -> None:
    assert [p.sku for p in search(store, md, "P5").products] == ["P5"]


def test_search_pages(store: RunningStore, md: list) -> None:
    # "ml" is in the names of P1, P2, P3 and P8.
    page1 = search(store, md, "ml", size=3)
    assert page1.page.total_count == 4 and len(page1.products) == 3
    page2 = search(store, md, "ml", size=3, token=page1.page.next_page_token)
    assert len(page2.products) == 1 and page2.page.next_page_token == ""
    seen = [p.sku for page in (page1, page2) for p in page.products]
    assert sorted(seen) == ["P1", "P2", "P3", "P8"]
    beyond = search(store, md, "ml", size=3, token="30")
    assert beyond.products == [] and beyond.page.total_count == 4


def test_search_treats_like_wildcards_and_quotes_as_text(store: RunningStore, md: list) -> None:
    for query in ("%", "_", "' OR 1=1 --", "\\"):
        assert search(store, md, query).products == []


def test_search_bad_input(store: RunningStore, md: list) -> None:
    for query, field in (("", "query"), ("x" * 41, "query")):
        err = expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda q=query: search(store, md, q))
        assert error_detail(err).field == field
    err = expect_code(
        grpc.StatusCode.INVALID_ARGUMENT, lambda: search(store, md, "ml", token="abc")
    )
    assert error_detail(err).field == "page.page_token"


def test_get_product(store: RunningStore, md: list) -> None:
    by_sku = store.catalog.GetProduct(
        catalog_pb2.GetProductRequest(sku="P6"), metadata=md, timeout=DEADLINE
    )
    assert (by_sku.name, by_sku.plu, by_sku.tax_rate_bp, by_sku.category) == (
        "红富士苹果",
        "1001",
        900,
        "水果",
    )
    by_id = store.catalog.GetProduct(
        catalog_pb2.GetProductRequest(product_id=by_sku.product_id), metadata=md, timeout=DEADLINE
    )
    assert by_id == by_sku
    expect_code(
        grpc.StatusCode.NOT_FOUND,
        lambda: store.catalog.GetProduct(
            catalog_pb2.GetProductRequest(product_id=999999), metadata=md, timeout=DEADLINE
        ),
    )


def stream(store: RunningStore, md: list, since: int = 0, chunk: int = 0):
    return list(
        store.catalog.StreamCatalog(
            catalog_pb2.StreamCatalogRequest(since_revision=since, chunk_size=chunk),
            metadata=md,
            timeout=DEADLINE,
        )
    )


def test_stream_whole_catalog_then_only_changes(store: RunningStore, md: list) -> None:
    chunks = stream(store, md, chunk=3)
    assert [len(c.products) for c in chunks] == [3, 3, 2, 0]
    assert chunks[-1].last and chunks[-1].total_count == 8
    skus = [p.sku for c in chunks for p in c.products]
    assert sorted(skus) == [f"P{i}" for i in range(1, 9)]
    revision = chunks[-1].revision
    assert revision > 0
    assert stream(store, md, since=revision)[-1].total_count == 0
    admin = store.login("1003", "3333", "office")
    schedule_price(store, admin, "P2", 350)
    changed = stream(store, md, since=revision)
    assert [p.sku for c in changed for p in c.products] == ["P2"]
    assert changed[0].products[0].retail_price.fen == 350
    assert changed[-1].revision == revision + 1


def test_scheduled_price_change_takes_effect_at_its_time_and_not_before(
    store: RunningStore, md: list
) -> None:
    admin = store.login("1003", "3333", "office")
    at = store.clock.now() + timedelta(hours=2)
    change = schedule_price(store, admin, "P1", 320, effective=at)
    assert not change.applied
    store.clock.set(at - timedelta(seconds=1))
    assert lookup(store, md, cf.COKE_CAN).amount.fen == 300
    store.clock.set(at)
    resp = lookup(store, md, cf.COKE_CAN)
    assert resp.amount.fen == 320
    # The case keeps its own price; the member price was cleared by the change.
    assert lookup(store, md, cf.COKE_CASE).amount.fen == 6600
    with store.db.read() as conn:
        jobs = conn.execute(select(LabelJob.product_id, LabelJob.source_id)).all()
    assert [(j.product_id, j.source_id) for j in jobs] == [
        (resp.product.product_id, change.change_id)
    ]


def test_schedule_is_idempotent_on_change_id(store: RunningStore) -> None:
    admin = store.login("1003", "3333", "office")
    change_id = str(uuid.uuid4())
    first = schedule_price(store, admin, "P5", 480, change_id=change_id)
    again = schedule_price(store, admin, "P5", 999, change_id=change_id)
    assert again == first
    with store.db.read() as conn:
        assert len(conn.execute(select(LabelJob)).all()) == 1


def test_schedule_bad_input_writes_nothing(store: RunningStore) -> None:
    admin = store.login("1003", "3333", "office")
    cases = [
        (
            "change_id",
            catalog_pb2.SchedulePriceChangeRequest(
                change_id="nope", product_id=1, retail_price=common_pb2.Money(fen=100)
            ),
        ),
        (
            "retail_price",
            catalog_pb2.SchedulePriceChangeRequest(
                change_id=str(uuid.uuid4()), product_id=1, retail_price=common_pb2.Money(fen=-5)
            ),
        ),
        (
            "retail_price",
            catalog_pb2.SchedulePriceChangeRequest(
                change_id=str(uuid.uuid4()), product_id=1, retail_price=common_pb2.Money(fen=2**62)
            ),
        ),
        (
            "member_price",
            catalog_pb2.SchedulePriceChangeRequest(
                change_id=str(uuid.uuid4()),
                product_id=1,
                retail_price=common_pb2.Money(fen=100),
                member_price=common_pb2.Money(fen=200),
            ),
        ),
    ]
    for field, req in cases:
        err = expect_code(
            grpc.StatusCode.INVALID_ARGUMENT,
            lambda r=req: store.catalog.SchedulePriceChange(r, metadata=admin, timeout=DEADLINE),
        )
        assert error_detail(err).field == field
    expect_code(
        grpc.StatusCode.NOT_FOUND,
        lambda: store.catalog.SchedulePriceChange(
            catalog_pb2.SchedulePriceChangeRequest(
                change_id=str(uuid.uuid4()),
                product_id=424242,
                retail_price=common_pb2.Money(fen=100),
            ),
            metadata=admin,
            timeout=DEADLINE,
        ),
    )
    with store.db.read() as conn:
        assert conn.execute(select(LabelJob)).all() == []


def test_search_sees_products_imported_while_the_server_runs(
    store: RunningStore, md: list, tmp_path
) -> None:
    from store_server.db.unit_of_work import Actor
    from store_server.product_import import import_products_csv

    assert search(store, md, "芬达").products == []  # the index is built now
    rows = [
        (
            "P9",
            "芬达 橙味 330ml",
            "饮料",
            "罐",
            "0",
            "",
            "13",
            "3.00",
            "",
            "",
            cf.ean13("690123456823"),
            "",
            "",
            "",
        )
    ]
    report = import_products_csv(
        store.db,
        cf.write_csv(tmp_path / "new.csv", rows),
        clock=store.clock,
        actor=Actor.system("test"),
    )
    assert report.ok
    found = search(store, md, "FD")
    assert [p.sku for p in found.products] == ["P9"]
    assert found.products[0].barcodes[0].code == cf.ean13("690123456823")


def test_label_jobs_list_and_complete(store: RunningStore, md: list) -> None:
    admin = store.login("1003", "3333", "office")
    schedule_price(store, admin, "P2", 350)
    schedule_price(store, admin, "P5", 480)
    expect_code(
        grpc.StatusCode.PERMISSION_DENIED,
        lambda: store.catalog.ListLabelJobs(
            catalog_pb2.ListLabelJobsRequest(), metadata=md, timeout=DEADLINE
        ),
    )
    jobs = store.catalog.ListLabelJobs(
        catalog_pb2.ListLabelJobsRequest(), metadata=admin, timeout=DEADLINE
    ).jobs
    assert [(j.product.sku, j.product.retail_price.fen, j.reason) for j in jobs] == [
        ("P2", 350, "price_change"),
        ("P5", 480, "price_change"),
    ]
    ids = [j.job_id for j in jobs]
    done = store.catalog.CompleteLabelJobs(
        catalog_pb2.CompleteLabelJobsRequest(job_ids=ids), metadata=admin, timeout=DEADLINE
    )
    again = store.catalog.CompleteLabelJobs(
        catalog_pb2.CompleteLabelJobsRequest(job_ids=ids), metadata=admin, timeout=DEADLINE
    )
    assert (done.completed, again.completed) == (2, 0)
    assert (
        store.catalog.ListLabelJobs(
            catalog_pb2.ListLabelJobsRequest(), metadata=admin, timeout=DEADLINE
        ).jobs
        == []
    )
