"""Import products from a CSV file: validate everything, then write all or nothing."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from store_server.clock import Clock
from store_server.db import catalog_repo
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.domain.catalog_import import RowError, check_header, parse_rows

Progress = Callable[[str, int, int], None]


@dataclass
class ImportReport:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_products_csv(
    db: Database,
    path: Path,
    *,
    clock: Clock,
    actor: Actor,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> ImportReport:
    report = ImportReport()
    try:
        # utf-8-sig: Excel saves CSV with a byte-order mark.
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            report.errors += check_header(reader.fieldnames or [])
            if report.errors:
                return report
            rows = list(reader)
    except UnicodeDecodeError as exc:
        report.errors.append(RowError(0, "-", f"not UTF-8 text ({exc.reason})"))
        return report
    except OSError as exc:
        report.errors.append(RowError(0, "-", f"cannot read the file: {exc.strerror}"))
        return report
    report.rows = len(rows)
    if progress:
        progress("validating", 0, len(rows))
    drafts, errors = parse_rows(rows)
    report.errors += errors
    if progress:
        progress("validating", len(rows), len(rows))
    skus = {d.sku for d in drafts}
    with db.read() as conn:
        owners = catalog_repo.existing_codes(conn, [c for d in drafts for c, _, _ in d.barcodes])
        plu_owners = catalog_repo.existing_plus(conn)
    for d in drafts:
        for code, pack, _ in d.barcodes:
            owner = owners.get(code)
            if owner is not None and owner != d.sku and owner not in skus:
                column = "barcode" if pack == 1 else "case_barcode"
                report.errors.append(RowError(d.row, column, f"{code} already belongs to {owner}"))
        owner = plu_owners.get(d.plu) if d.plu else None
        if owner is not None and owner != d.sku and owner not in skus:
            report.errors.append(RowError(d.row, "plu", f"{d.plu} already belongs to {owner}"))
    report.errors.sort(key=lambda err: (err.row, err.column))
    if report.errors or dry_run:
        return report
    if progress:
        progress("writing", 0, len(drafts))
    with unit_of_work(db, actor, clock.now()) as uow:
        report.inserted, report.updated = catalog_repo.upsert_products(uow, drafts)
        uow.audit(
            "catalog.import",
            path.name,
            detail={"inserted": report.inserted, "updated": report.updated},
        )
    if progress:
        progress("writing", len(drafts), len(drafts))
    return report
