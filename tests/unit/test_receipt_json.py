"""A commit encodes its receipt before its transaction: the receipt number and
the member section are spliced into that text later, and must read exactly as
the receipt encoded at once."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from store_server.domain.receipt import (
    Receipt,
    ReceiptAdjustment,
    ReceiptLine,
    ReceiptMember,
    ReceiptPayment,
    json_string,
    with_member_json,
)

# Names with what JSON must escape, and Chinese.
texts = st.text(alphabet=st.sampled_from('ab"\\/{}:,会员金卡\n\t\u2028'), max_size=12)
fen = st.integers(min_value=-(10**9), max_value=10**9)


@st.composite
def receipts(draw: st.DrawFn) -> Receipt:
    lines = tuple(
        ReceiptLine(
            line_no=n,
            name=draw(texts),
            sku=draw(texts),
            quantity_milli=1000,
            unit="件",
            unit_price_fen=draw(fen),
            base_amount_fen=draw(fen),
            adjustments=tuple(
                ReceiptAdjustment(draw(texts), draw(texts), draw(fen))
                for _ in range(draw(st.integers(0, 2)))
            ),
            net_amount_fen=draw(fen),
            pack_factor=1,
        )
        for n in range(1, draw(st.integers(1, 4)) + 1)
    )
    return Receipt(
        kind="sale",
        store_id="S01",
        store_name=draw(texts),
        receipt_no="",
        business_day="2026-11-24",
        at="2026-11-24T02:00:00+00:00",
        operator_id="1001",
        device_id=draw(texts),
        lines=lines,
        subtotal_fen=draw(fen),
        discount_fen=draw(fen),
        rounding_fen=0,
        total_fen=draw(fen),
        payments=(ReceiptPayment("stored_value", "储值卡", draw(fen), draw(fen)),),
        change_fen=draw(fen),
    )


members = st.builds(
    ReceiptMember,
    member_id=texts,
    masked_phone=texts,
    tier_name=texts,
    points_earned=fen,
    points_redeemed=fen,
    points_balance=fen,
    stored_value_fen=fen,
    upgraded_to=texts,
)


@given(receipts(), st.text(max_size=20), members)
def test_number_and_member_spliced_in_equal_the_receipt_encoded_at_once(
    receipt: Receipt, number: str, member: ReceiptMember
) -> None:
    head, tail = receipt.json_around_number()
    spliced = with_member_json(head + json_string(number) + tail, member)
    whole = replace(receipt, receipt_no=number, member=member)
    assert spliced == whole.to_json()
    assert Receipt.from_json(spliced) == whole
    assert json.loads(spliced)["member"]["tier_name"] == member.tier_name
