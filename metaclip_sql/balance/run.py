"""The `balance` command as one library call: every option the CLI takes, checked together.

`balance_command` applies the command's policy (which options go with `--worldwide`,
`--distributor ray` or MetaCLIP 1's run, and the defaults that depend on the mode: `--lang` en
or all, `--unit` pair or image, `--t-en` 170000) and runs `balance` (v1.py, local or on Ray) or
`balance_worldwide` (v2.py). The CLI prints its summary; every problem is a BalanceError (or
another MetaclipError) with the one line to print.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from metaclip_sql.balance.options import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_SEED,
    DEFAULT_T_EN,
    check_command,
)
from metaclip_sql.balance.results import BalanceResult, WorldwideResult
from metaclip_sql.balance.v1 import balance
from metaclip_sql.balance.v2 import balance_worldwide


def balance_command(
    inputs: Sequence[str | Path],
    *,
    t: float | None = None,
    p: float | None = None,
    out: str | Path = "balanced",
    seed: int = DEFAULT_SEED,
    lang: str | None = None,
    metadata: str | Path | None = None,
    valid_uuids: Sequence[str | Path] | None = None,
    unit: str | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
    dry_run: bool = False,
    dry_run_plan: str = "auto",
    worldwide: bool = False,
    t_en: float | None = None,
    distributor: str = "local",
    ray_address: str | None = None,
    partitions: int | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> BalanceResult | WorldwideResult:
    """`metaclip-sql balance` with the CLI's options as given (None: not given; `threads` 0 or
    None: DuckDB's default, one per task on Ray). Raises BalanceError for a combination that
    makes no sense, before anything is read."""
    check_command(
        worldwide=worldwide,
        t=t,
        p=p,
        t_en=t_en,
        distributor=distributor,
        ray_address=ray_address,
        partitions=partitions,
        dry_run_plan=dry_run_plan,
    )
    if worldwide:
        return balance_worldwide(
            inputs,
            t_en=DEFAULT_T_EN if t_en is None else t_en,
            out=out,
            seed=seed,
            lang=lang or "all",
            metadata=metadata,
            valid_uuids=valid_uuids or (),
            unit=unit or "image",
            memory_limit=memory_limit,
            threads=threads or None,
            dry_run=dry_run,
        )
    return balance(
        inputs,
        t=t,
        p=p,
        out=out,
        seed=seed,
        lang=lang or "en",
        metadata=metadata,
        valid_uuids=valid_uuids or (),
        unit=unit or "pair",
        memory_limit=memory_limit,
        threads=threads or None,
        dry_run=dry_run,
        dry_run_plan=dry_run_plan,
        distributor=distributor,
        ray_address=ray_address,
        partitions=partitions,
        max_retries=max_retries,
    )
