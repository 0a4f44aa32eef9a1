"""The help overlay's lines: every key of every screen, from the key tables themselves."""

from __future__ import annotations

from clients.kivy_pos.till.keys import COMMON_KEYS, QUICK_KEYS, SELL_KEYS, TENDER_KEYS
from clients.kivy_pos.till.texts import Texts


def help_rows(t: Texts) -> tuple[str, ...]:
    rows = [t("help_sell")]
    rows += [f"  {key:<5} {t(label)}" for key, _action, label in SELL_KEYS]
    rows.append(t("help_tender"))
    rows += [f"  {key:<5} {t(label)}" for key, _action, label in TENDER_KEYS]
    rows.append(f"  {'/'.join(QUICK_KEYS)}  {t('help_quick')}")
    rows.append(f"  {'F7':<5} {t('help_foreign')}")
    rows.append(t("help_common"))
    rows += [f"  {key:<9} {t(label)}" for key, label in COMMON_KEYS]
    return tuple(rows)
