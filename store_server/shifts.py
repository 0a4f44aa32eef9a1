"""Shifts (交班), cash in and out (现金收支), no-sale, X/Z reports, day close (日结)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import Connection

from store_server import close_figures
from store_server.auth import Principal
from store_server.clock import Clock
from store_server.config import Config
from store_server.db import shift_repo
from store_server.db.database import Database
from store_server.db.shift_repo import ShiftFigures, ShiftRow
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.domain.business_day import business_day
from store_server.domain.errors import FailedPrecondition, InvalidArgument
from store_server.domain.ids import check_uuid
from store_server.domain.money import check_fen
from store_server.stock import snapshot


@dataclass(frozen=True, slots=True)
class ShiftReport:
    shift: ShiftRow
    final: bool
    figures: ShiftFigures
    expected_cash_fen: int
    counted_cash_fen: int | None

    @property
    def over_short_fen(self) -> int | None:
        if self.counted_cash_fen is None:
            return None
        return self.counted_cash_fen - self.expected_cash_fen


def _z_json(report: ShiftReport) -> str:
    data = asdict(report.figures)
    data["expected_cash_fen"] = report.expected_cash_fen
    return json.dumps(data, sort_keys=True)


def check_day(text: str, field: str = "business_day") -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise InvalidArgument(field, "a date like 2026-11-23") from exc


class Shifts:
    def __init__(self, db: Database, config: Config, clock: Clock) -> None:
        self._db = db
        self._cfg = config
        self._clock = clock

    def today(self) -> str:
        return business_day(
            self._clock.now(), self._cfg.zone, self._cfg.business_day_cutover_hour
        ).isoformat()

    def open(self, who: Principal, shift_id: str, float_fen: int) -> ShiftRow:
        shift_id = check_uuid(shift_id, "shift_id")
        check_fen(float_fen, field="float")
        with unit_of_work(
            self._db, Actor(who.operator_id, who.device_id), self._clock.now()
        ) as uow:
            existing = shift_repo.get(uow.conn, shift_id)
            if existing is not None:
                if existing.device_id != who.device_id:
                    raise InvalidArgument("shift_id", "already used by another till")
                return existing
            current = shift_repo.open_for_device(uow.conn, who.device_id)
            if current is not None:
                raise FailedPrecondition(
                    f"this till already has an open shift ({current.shift_id}): close it first",
                    reason="SHIFT_OPEN",
                )
            day = self.today()
            if shift_repo.day_is_closed(uow.conn, day):
                raise FailedPrecondition(f"business day {day} is closed", reason="DAY_CLOSED")
            shift_repo.insert_shift(
                uow.conn,
                shift_id=shift_id,
                device_id=who.device_id,
                operator_id=who.operator_id,
                business_day=day,
                float_fen=float_fen,
                opened_at=uow.now,
            )
            uow.audit("shift.open", f"shift:{shift_id}", detail={"float_fen": float_fen})
            uow.change(
                "shift.open",
                shift_id,
                {"device_id": who.device_id, "day": day, "float_fen": float_fen},
            )
            return shift_repo.get(uow.conn, shift_id)

    def current(self, conn: Connection, who: Principal) -> ShiftRow:
        shift = shift_repo.open_for_device(conn, who.device_id)
        if shift is None:
            raise FailedPrecondition(
                "no open shift on this till: open one first", reason="NO_SHIFT"
            )
        return shift

    def cash_movement(
        self,
        who: Principal,
        movement_id: str,
        kind: str,
        amount_fen: int,
        reason: str,
        approver: Principal | None = None,
    ) -> tuple[str, str]:
        movement_id = check_uuid(movement_id, "movement_id")
        if kind in ("in", "out"):
            check_fen(amount_fen, field="amount", allow_zero=False)
        if len(reason) > 120:
            raise InvalidArgument("reason", "at most 120 characters")
        if kind in ("in", "out", "no_sale") and not reason.strip():
            raise InvalidArgument("reason", "say why the drawer is opened")
        with unit_of_work(
            self._db, Actor(who.operator_id, who.device_id), self._clock.now()
        ) as uow:
            existing = shift_repo.movement(uow.conn, movement_id)
            if existing is not None:
                return existing.movement_id, existing.shift_id
            shift = self.current(uow.conn, who)
            shift_repo.insert_movement(
                uow.conn,
                movement_id=movement_id,
                shift_id=shift.shift_id,
                kind=kind,
                amount_fen=amount_fen,
                reason=reason.strip(),
                operator_id=who.operator_id,
                approved_by=approver.operator_id if approver else None,
                created_at=uow.now,
            )
            uow.audit(
                f"cash.{kind}",
                f"shift:{shift.shift_id}",
                detail={"amount_fen": amount_fen, "reason": reason.strip()},
            )
            uow.change(
                "cash_movement",
                movement_id,
                {"shift_id": shift.shift_id, "kind": kind, "amount_fen": amount_fen},
            )
            return movement_id, shift.shift_id

    def report(self, who: Principal) -> ShiftReport:
        with self._db.read() as conn:
            shift = self.current(conn, who)
            return self._report(conn, shift, final=False, counted=None)

    def _report(
        self, conn: Connection, shift: ShiftRow, *, final: bool, counted: int | None
    ) -> ShiftReport:
        figures = shift_repo.figures(conn, shift_id=shift.shift_id)
        return ShiftReport(
            shift=shift,
            final=final,
            figures=figures,
            expected_cash_fen=shift.float_fen + figures.drawer_delta_fen,
            counted_cash_fen=counted,
        )

    def close(self, who: Principal, counted_fen: int) -> ShiftReport:
        """Blind count: the till sends what it counted; the server says over or short."""
        check_fen(counted_fen, field="counted_cash")
        with unit_of_work(
            self._db, Actor(who.operator_id, who.device_id), self._clock.now()
        ) as uow:
            shift = self.current(uow.conn, who)
            report = self._report(uow.conn, shift, final=True, counted=counted_fen)
            shift_repo.close_shift(
                uow.conn,
                shift.shift_id,
                at=uow.now,
                counted_fen=counted_fen,
                z_report=_z_json(report),
            )
            uow.audit(
                "shift.close",
                f"shift:{shift.shift_id}",
                detail={
                    "expected_cash_fen": report.expected_cash_fen,
                    "counted_cash_fen": counted_fen,
                    "over_short_fen": report.over_short_fen,
                },
            )
            uow.change(
                "shift.close",
                shift.shift_id,
                {
                    "expected_cash_fen": report.expected_cash_fen,
                    "counted_cash_fen": counted_fen,
                    # The Z report as printed, for HQ's reconciliation.
                    "business_day": shift.business_day,
                    "z": close_figures.figures_payload(report.figures),
                },
            )
            closed = shift_repo.get(uow.conn, shift.shift_id)
        return ShiftReport(
            shift=closed,
            final=True,
            figures=report.figures,
            expected_cash_fen=report.expected_cash_fen,
            counted_cash_fen=counted_fen,
        )

    def close_day(self, who: Principal, day: str) -> tuple[bool, ShiftFigures]:
        day = check_day(day)
        with unit_of_work(
            self._db, Actor(who.operator_id, who.device_id), self._clock.now()
        ) as uow:
            open_shifts = shift_repo.open_shifts_of_day(uow.conn, day)
            if open_shifts:
                raise FailedPrecondition(
                    f"{len(open_shifts)} shift(s) of {day} still open: close them first",
                    reason="SHIFTS_OPEN",
                )
            if not shift_repo.day_is_closed(uow.conn, day):
                shift_repo.set_day(uow.conn, day, closed_at=uow.now, closed_by=who.operator_id)
                # The day's figures as the store closed them, for HQ's reconciliation.
                uow.change(
                    "day.close",
                    day,
                    {
                        "day": day,
                        "figures": close_figures.figures_payload(
                            shift_repo.figures(uow.conn, day=day)
                        ),
                        "ledger": close_figures.day_ledger(
                            uow.conn,
                            self._cfg.store_id,
                            day,
                            self._cfg.zone,
                            self._cfg.business_day_cutover_hour,
                        ),
                    },
                )
                # On-hand and new stocktakes for HQ's stock reports, with the close.
                snapshot.append(uow, day, self._cfg.zone, self._cfg.business_day_cutover_hour)
            return True, shift_repo.figures(uow.conn, day=day)

    def reopen_day(
        self, who: Principal, day: str, approver: Principal | None
    ) -> tuple[bool, ShiftFigures]:
        day = check_day(day)
        with unit_of_work(
            self._db, Actor(who.operator_id, who.device_id), self._clock.now()
        ) as uow:
            if not shift_repo.day_is_closed(uow.conn, day):
                raise FailedPrecondition(f"business day {day} is not closed", reason="DAY_OPEN")
            shift_repo.set_day(
                uow.conn,
                day,
                closed_at=None,
                closed_by=None,
                reopened_at=uow.now,
                reopened_by=(approver or who).operator_id,
            )
            uow.change("day.reopen", day, {"day": day})
            return False, shift_repo.figures(uow.conn, day=day)
