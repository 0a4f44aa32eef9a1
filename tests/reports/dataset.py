"""A generated store history with known sales, written by fast raw inserts.

Every row the generator writes is also returned as plain Python records, so a
test computes each report's expected figures with simple loops over what was
sold, independently of the report code. Also used by bench/reports_bench.py.
"""

from __future__ import annotations

import random
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from store_server.domain.money import line_amount

ZONE = ZoneInfo("Asia/Shanghai")
OPERATORS = ("1001", "1002", "1003")
TENDERS = ("cash", "mobile", "bank_card")
TIERS = ("normal", "silver", "gold")


@dataclass(frozen=True)
class Product:
    id: int
    sku: str
    name: str
    category: str
    tax_rate_bp: int
    price_fen: int
    cost_fen: int | None


@dataclass(frozen=True)
class Line:
    product_id: int
    quantity_milli: int  # scan units
    pack_factor: int
    base_fen: int
    paid_fen: int
    tax_rate_bp: int


@dataclass(frozen=True)
class KnownSale:
    sale_id: str
    day: date  # business day
    at: datetime  # UTC
    operator_id: str
    shift_id: str
    member_id: str | None
    lines: tuple[Line, ...]
    payments: tuple[tuple[str, int], ...]  # (kind, applied fen)

    @property
    def total_fen(self) -> int:
        return sum(ln.paid_fen for ln in self.lines)

    @property
    def discount_fen(self) -> int:
        return sum(ln.base_fen - ln.paid_fen for ln in self.lines)


@dataclass(frozen=True)
class KnownReturn:
    return_id: str
    day: date
    operator_id: str
    shift_id: str
    product_id: int
    quantity_milli: int
    pack_factor: int
    refund_fen: int
    kind: str  # refunded to this tender


@dataclass
class Dataset:
    products: dict[int, Product]
    sales: list[KnownSale] = field(default_factory=list)
    returns: list[KnownReturn] = field(default_factory=list)
    members: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # id: (tier, created)
    points: list[tuple[str, str, int, datetime]] = field(
        default_factory=list
    )  # member, kind, pts, at
    stored_value: list[tuple[str, str, int, int, datetime]] = field(default_factory=list)
    on_hand: dict[int, int] = field(default_factory=dict)


def products_of(conn: sqlite3.Connection) -> dict[int, Product]:
    return {
        r[0]: Product(*r)
        for r in conn.execute(
            "SELECT p.id, p.sku, p.name, c.name, p.tax_rate_bp, p.retail_price_fen, p.cost_fen "
            "FROM products p JOIN categories c ON c.id = p.category_id WHERE p.weighed = 0 "
            "ORDER BY p.id"
        )
    }


def _utc(day: date, hour: int, minute: int) -> datetime:
    local = datetime.combine(day, time(0), tzinfo=ZONE) + timedelta(hours=hour, minutes=minute)
    return local.astimezone(UTC)


def _text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(
    conn: sqlite3.Connection,
    days: list[date],
    *,
    sales_per_day: int,
    lines_per_sale: int,
    seed: int = 7,
    products: dict[int, Product] | None = None,
    members: int = 20,
    keep: bool = True,
) -> Dataset:
    """Write shifts, sales, lines, payments, returns, members and ledgers for `days`.

    Sales run 08:00-21:59 local, plus one at 02:30 the next morning per day
    (before the 04:00 cut-over, so it belongs to the day). Every 7th line is
    sold at 10 % off; every 4th sale is a member's; every 5th sale pays part
    by bank card; every 50th sale gets a return of its first line.
    `keep=False` returns no records (the benchmark's big set).
    """
    rng = random.Random(seed)
    products = products or products_of(conn)
    data = Dataset(products)
    pids = list(products)
    member_ids = [f"8{n:012d}" for n in range(1, members + 1)]
    first = min(days)
    for n, mid in enumerate(member_ids):
        created = _utc(first - timedelta(days=10 - n % 20), 12, 0)
        data.members[mid] = (TIERS[n % 3], created)
    conn.executemany(
        "INSERT OR IGNORE INTO members (member_id, card_no, phone, name, tier, status, "
        "card_discount_bp, home_store, created_at, points, points_earned_total, spend_total_fen, "
        "sv_paid_fen, sv_bonus_fen, birthday_coupon_year, failed_pins) "
        "VALUES (?, ?, ?, '会员', ?, 'active', 0, 'S01', ?, 0, 0, 0, 0, 0, 0, 0)",
        [
            (mid, mid, f"139{i:08d}", tier, _text(at))
            for i, (mid, (tier, at)) in enumerate(data.members.items())
        ],
    )
    for mid in member_ids[::2]:  # half the members topped up 100 + 10 before the range
        at = _utc(first - timedelta(days=1), 9, 0)
        data.stored_value.append((mid, "topup", 10_000, 1_000, at))
    sales_rows, line_rows, pay_rows, shift_rows = [], [], [], []
    ret_rows, ret_line_rows, ret_pay_rows = [], [], []
    seq = 0
    for day in days:
        shifts = {op: str(uuid.uuid4()) for op in OPERATORS}
        for op, sid in shifts.items():
            shift_rows.append(
                (
                    sid,
                    f"till-{op}",
                    op,
                    day.isoformat(),
                    0,
                    _text(_utc(day, 7, 0)),
                    _text(_utc(day, 23, 0)),
                )
            )
        for i in range(sales_per_day + 1):
            seq += 1
            if i == sales_per_day:
                at = _utc(day, 26, 30)  # 02:30 the next morning
            else:
                at = _utc(day, 8 + (i * 14) // sales_per_day, (i * 7) % 60)
            op = OPERATORS[i % 3]
            member = member_ids[seq % len(member_ids)] if member_ids and seq % 4 == 0 else None
            lines = []
            for k in range(1 + (seq % lines_per_sale) if keep else lines_per_sale):
                p = products[pids[rng.randrange(len(pids))]]
                qty = 1000 * (1 + (seq + k) % 3)
                base = line_amount(p.price_fen, qty)
                paid = base - base // 10 if (seq + k) % 7 == 0 else base
                lines.append(Line(p.id, qty, 1, base, paid, p.tax_rate_bp))
            total = sum(ln.paid_fen for ln in lines)
            if member is not None and seq % 8 == 0 and member in member_ids[::2]:
                payments = (("stored_value", min(total, 500)),) + (
                    (("cash", total - 500),) if total > 500 else ()
                )
            elif seq % 5 == 0 and total > 100:
                payments = (("bank_card", 100), ("cash", total - 100))
            else:
                payments = ((TENDERS[seq % 3], total),)
            sale = KnownSale(
                str(uuid.uuid4()), day, at, op, shifts[op], member, tuple(lines), payments
            )
            if keep:
                data.sales.append(sale)
            sales_rows.append(
                (
                    sale.sale_id,
                    f"S01-{day:%Y%m%d}-{seq:06d}",
                    day.isoformat(),
                    sale.shift_id,
                    f"till-{op}",
                    op,
                    sale.sale_id,
                    member,
                    total + sale.discount_fen,
                    sale.discount_fen,
                    total,
                    _text(at),
                )
            )
            line_rows += [
                (
                    sale.sale_id,
                    n,
                    ln.product_id,
                    ln.quantity_milli,
                    ln.pack_factor,
                    ln.base_fen,
                    ln.paid_fen,
                    ln.paid_fen,
                    ln.tax_rate_bp,
                )
                for n, ln in enumerate(lines, 1)
            ]
            pay_rows += [(sale.sale_id, n, k, a, a) for n, (k, a) in enumerate(payments, 1)]
            if member is not None:
                data.points.append((member, "earn", total // 100, at))
                for kind, amount in payments:
                    if kind == "stored_value":
                        data.stored_value.append((member, "spend", -amount, 0, at))
            if seq % 50 == 0:
                ln = lines[0]
                ret = KnownReturn(
                    str(uuid.uuid4()),
                    day,
                    op,
                    shifts[op],
                    ln.product_id,
                    ln.quantity_milli,
                    ln.pack_factor,
                    ln.paid_fen,
                    "cash",
                )
                if keep:
                    data.returns.append(ret)
                ret_rows.append(
                    (
                        ret.return_id,
                        f"R-{day:%Y%m%d}-{seq}",
                        sale.sale_id,
                        day.isoformat(),
                        ret.shift_id,
                        f"till-{op}",
                        op,
                        ret.refund_fen,
                        _text(at + timedelta(minutes=5)),
                    )
                )
                ret_line_rows.append(
                    (ret.return_id, 1, 1, ln.product_id, ln.quantity_milli, 1, ln.paid_fen)
                )
                ret_pay_rows.append((ret.return_id, 1, "cash", ln.paid_fen))
    conn.executemany(
        "INSERT INTO shifts (shift_id, device_id, operator_id, business_day, float_fen, opened_at, "
        "closed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        shift_rows,
    )
    conn.executemany(
        "INSERT INTO sales (sale_id, receipt_no, store_id, business_day, shift_id, device_id, "
        "operator_id, basket_id, member_id, subtotal_fen, discount_fen, rounding_fen, total_fen, "
        "change_fen, created_at, receipt) "
        "VALUES (?, ?, 'S01', ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 0, ?, '{}')",
        sales_rows,
    )
    conn.executemany(
        "INSERT INTO sale_lines (sale_id, line_no, product_id, quantity_milli, pack_factor, "
        "base_amount_fen, net_amount_fen, paid_fen, tax_rate_bp, gift) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
        line_rows,
    )
    conn.executemany(
        "INSERT INTO sale_payments (sale_id, seq, kind, tendered_fen, applied_fen, currency, "
        "foreign_amount_minor, rate_micro, reference) VALUES (?, ?, ?, ?, ?, 'CNY', 0, 0, '')",
        pay_rows,
    )
    conn.executemany(
        "INSERT INTO returns (return_id, receipt_no, original_sale_id, business_day, shift_id, "
        "device_id, operator_id, reason, refund_fen, created_at, receipt) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 'test', ?, ?, '{}')",
        ret_rows,
    )
    conn.executemany(
        "INSERT INTO return_lines (return_id, line_no, original_line_no, product_id, "
        "quantity_milli, pack_factor, refund_fen) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ret_line_rows,
    )
    conn.executemany(
        "INSERT INTO return_payments (return_id, seq, kind, amount_fen, reference) "
        "VALUES (?, ?, ?, ?, '')",
        ret_pay_rows,
    )
    conn.executemany(
        "INSERT INTO points_entries (entry_id, member_id, kind, points, source_kind, source_id, "
        "store_id, operator_id, device_id, created_at) "
        "VALUES (?, ?, ?, ?, 'sale', '', 'S01', '', '', ?)",
        [(f"P{n}-{seed}", m, k, p, _text(at)) for n, (m, k, p, at) in enumerate(data.points)],
    )
    conn.executemany(
        "INSERT INTO stored_value_entries (entry_id, member_id, kind, paid_fen, bonus_fen, "
        "source_kind, source_id, store_id, operator_id, device_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, 'sale', '', 'S01', '', '', ?)",
        [
            (f"V{n}-{seed}", m, k, p, b, _text(at))
            for n, (m, k, p, b, at) in enumerate(data.stored_value)
        ],
    )
    for n, pid in enumerate(pids):
        data.on_hand[pid] = (n % 4 - 1) * 7_500  # -7.5, 0, 7.5, 15 units
    conn.executemany(
        "INSERT INTO stock_levels (product_id, on_hand_milli) VALUES (?, ?) "
        "ON CONFLICT (product_id) DO UPDATE SET on_hand_milli = excluded.on_hand_milli",
        list(data.on_hand.items()),
    )
    conn.commit()
    return data
