"""The options of `balance`, and which combinations make sense.

Every check raises `BalanceError` with the one line the CLI prints, before anything is read or
written. `check_command` is the policy of the `balance` command as a whole (which options go
with `--worldwide`, `--distributor ray` or MetaCLIP 1's run); the checks below it are those of
each library entry point (`balance`, `balance_ray`, `balance_worldwide`), which call them too.
"""

from __future__ import annotations

from metaclip_sql.errors import MetaclipError
from metaclip_sql.runtime import DISTRIBUTORS

DEFAULT_SEED = 0
UNITS = ("pair", "image")
#: How a dry run reads the pool: `auto` picks in-memory when its estimate fits (v1.use_in_memory).
DRY_RUN_PLANS = ("auto", "in-memory", "streaming")
DEFAULT_MAX_RETRIES = 3
#: --worldwide: English's threshold, and the language whose tail proportion every other matches.
DEFAULT_T_EN = 170_000.0
ANCHOR_LANG = "en"


class BalanceError(MetaclipError):
    """A problem with the user's inputs or options, told in one line; nothing is written."""


def check_command(
    *,
    worldwide: bool,
    t: float | None,
    p: float | None,
    t_en: float | None,
    distributor: str,
    ray_address: str | None,
    partitions: int | None,
    dry_run_plan: str,
) -> None:
    """The `balance` command's option combinations, checked in the order the CLI always has."""
    if distributor == "local" and (ray_address is not None or partitions is not None):
        raise BalanceError("--ray-address and --partitions need --distributor ray")
    if worldwide:
        if distributor != "local":
            raise BalanceError("--worldwide runs with --distributor local only, for now")
        if t is not None or p is not None:
            raise BalanceError("--worldwide takes --t-en (English's threshold), not --t or --p")
        if dry_run_plan != "auto":
            raise BalanceError(
                "--dry-run-plan is for MetaCLIP 1's --unit pair; --worldwide streams"
            )
    elif t_en is not None:
        raise BalanceError("--t-en needs --worldwide")


def check_threshold(t: float | None, p: float | None, unit: str) -> None:
    """MetaCLIP 1: exactly one of t and p, each in range, and a known unit."""
    if (t is None) == (p is None):
        raise BalanceError("give exactly one of --t (threshold) and --p (tail proportion)")
    if t is not None and not t > 0:
        raise BalanceError(f"--t must be > 0, got {t}")
    if p is not None and not 0 < p < 1:
        raise BalanceError(f"--p must be between 0 and 1 (exclusive), got {p}")
    check_unit(unit)


def check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise BalanceError(f"--unit must be one of {', '.join(UNITS)}, got {unit!r}")


def in_memory_applies(dry_run: bool, unit: str, t: float | None) -> bool:
    """The in-memory plan computes a --unit pair dry run's kept total for a given t (not --p,
    not a full run)."""
    return dry_run and unit == "pair" and t is not None


def check_plan(plan: str, dry_run: bool, distributor: str, unit: str, t: float | None) -> None:
    """A known --dry-run-plan, and `in-memory` only where it applies; a known distributor."""
    if plan not in DRY_RUN_PLANS:
        raise BalanceError(f"--dry-run-plan must be one of {', '.join(DRY_RUN_PLANS)}")
    if plan == "in-memory" and not (distributor == "local" and in_memory_applies(dry_run, unit, t)):
        raise BalanceError(
            "--dry-run-plan in-memory works with --dry-run, --unit pair, --t and the local "
            "distributor only"
        )
    if distributor not in DISTRIBUTORS:
        raise BalanceError(f"--distributor must be one of {', '.join(DISTRIBUTORS)}")


def check_ray_options(partitions: int | None, max_retries: int) -> None:
    if partitions is not None and partitions < 1:
        raise BalanceError(f"--partitions must be >= 1, got {partitions}")
    if max_retries < 0:
        raise BalanceError(f"--max-retries must be >= 0, got {max_retries}")


def check_worldwide(t_en: float, unit: str, lang: str) -> list[str] | None:
    """MetaCLIP 2's options; returns the languages (None: all), which must include the anchor."""
    if not t_en > 0:
        raise BalanceError(f"--t-en must be > 0, got {t_en}")
    check_unit(unit)
    langs = parse_langs(lang)
    if langs is not None and ANCHOR_LANG not in langs:
        raise BalanceError(f"--lang must include {ANCHOR_LANG}: its counts turn --t-en into p")
    return langs


def parse_langs(lang: str) -> list[str] | None:
    """`en` -> ['en']; `all` -> None (every language); `de,fr` -> ['de', 'fr']."""
    codes = [code.strip() for code in lang.split(",") if code.strip()]
    if not codes:
        raise BalanceError("--lang is empty: give a code (en), a list (de,fr) or all")
    return None if codes == ["all"] else codes
