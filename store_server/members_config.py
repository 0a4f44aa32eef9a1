"""The [members] section of the store configuration: tiers, points, stored value, QR."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from store_server.domain.members.points import PointsRules
from store_server.domain.members.stored_value import DEFAULT_BONUS_RULES, BonusRule
from store_server.domain.members.tiers import DEFAULT_TIERS, Tier


class MembersConfigError(ValueError):
    pass


@dataclass(frozen=True)
class MembersConfig:
    # Signs member QR codes. One secret for the whole chain (the same card
    # works in every store); HQ hands it out. The default suits a demo only.
    qr_secret: bytes = b"tillpoint-demo-qr-secret"
    qr_ttl: timedelta = timedelta(seconds=60)
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    points: PointsRules = field(default_factory=PointsRules)
    bonus_rules: tuple[BonusRule, ...] = DEFAULT_BONUS_RULES
    max_topup_fen: int = 500_000  # 5,000 yuan in one top-up
    photo_max_bytes: int = 256 * 1024
    pin_lockout: timedelta = timedelta(minutes=15)
    # The birthday coupon issued in the member's birthday month.
    birthday_coupon_fen: int = 2_000
    birthday_coupon_min_spend_fen: int = 5_000
    # Offline floor limits (ARCHITECTURE §11): while the store cannot reach HQ, a
    # member registered at another store spends stored value only up to these.
    offline_floor_limit_fen: int = 20_000  # per member per business day
    offline_store_limit_fen: int = 500_000  # the store's total per business day
    offline_after_seconds: int = 120  # no contact with HQ for longer: offline
    offline_max_seconds: int = 72 * 3600  # unreachable for longer: no offline spending


def members_from_dict(data: dict) -> MembersConfig:
    """Read [members], [[members.tiers]], [[members.bonus]] and [members.points]."""
    kwargs: dict = {}
    try:
        if "qr_secret" in data:
            kwargs["qr_secret"] = str(data["qr_secret"]).encode()
        if "qr_ttl_seconds" in data:
            kwargs["qr_ttl"] = timedelta(seconds=int(data["qr_ttl_seconds"]))
        for key in (
            "max_topup_fen",
            "photo_max_bytes",
            "birthday_coupon_fen",
            "birthday_coupon_min_spend_fen",
            "offline_floor_limit_fen",
            "offline_store_limit_fen",
            "offline_after_seconds",
            "offline_max_seconds",
        ):
            if key in data:
                kwargs[key] = int(data[key])
        if "pin_lockout_minutes" in data:
            kwargs["pin_lockout"] = timedelta(minutes=int(data["pin_lockout_minutes"]))
        if "tiers" in data:
            kwargs["tiers"] = tuple(
                Tier(
                    code=str(t["code"]),
                    name=str(t["name"]),
                    rank=rank,
                    discount_bp=int(t.get("discount_bp", 0)),
                    points_multiplier_bp=int(t.get("points_multiplier_bp", 10_000)),
                    min_spend_fen=int(t.get("min_spend_fen", 0)),
                    min_points=int(t.get("min_points", 0)),
                )
                for rank, t in enumerate(data["tiers"])
            )
            if not kwargs["tiers"]:
                raise MembersConfigError("[[members.tiers]]: at least one tier")
        if "bonus" in data:
            kwargs["bonus_rules"] = tuple(
                BonusRule(int(b["min_topup_fen"]), int(b["bonus_fen"])) for b in data["bonus"]
            )
        if "points" in data:
            p = data["points"]
            kwargs["points"] = PointsRules(
                points_per_yuan=int(p.get("points_per_yuan", 1)),
                redeem_points_per_yuan=int(p.get("redeem_points_per_yuan", 100)),
                category_multiplier_bp={
                    str(k): int(v) for k, v in p.get("category_multiplier_bp", {}).items()
                },
                expiry_years=int(p.get("expiry_years", 1)),
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise MembersConfigError(f"[members]: {exc}") from exc
    cfg = MembersConfig(**kwargs)
    if cfg.points.redeem_points_per_yuan <= 0 or cfg.max_topup_fen <= 0:
        raise MembersConfigError("[members]: redeem rate and top-up limit must be positive")
    if (
        min(cfg.offline_floor_limit_fen, cfg.offline_store_limit_fen) < 0
        or min(cfg.offline_after_seconds, cfg.offline_max_seconds) <= 0
    ):
        raise MembersConfigError("[members]: offline limits 0 or more, offline seconds positive")
    return cfg
