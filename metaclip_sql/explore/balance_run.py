"""What a balance output says about the run that made it: its t, seed, unit, languages and
`--valid-uuids`, read from its manifest, so that `explain` and `report` decide as it did.

Only the manifest and the output's own files are read (balance's public outputs, not its
internals). The images a run admitted with `--valid-uuids` are read again from the files its
manifest lists, with balance's own reader (`balance.inputs.valid_input`) and by the rule balance
applies (`sql/explore/valid_ids.sql`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from metaclip_sql.balance import BalanceError
from metaclip_sql.balance.inputs import valid_input
from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.explore.errors import ExploreError

UNITS = ("pair", "image")


@dataclass(frozen=True)
class BalanceRun:
    """The settings of one balance run: enough to redo each of its decisions."""

    out: Path | None
    seed: int
    unit: str
    #: The languages balance selected (`--lang`), None for every language.
    langs: tuple[str, ...] | None
    #: MetaCLIP 1: the one threshold. MetaCLIP 2 (`--worldwide`): None, see `lang_t`.
    t: float | None
    lang_t: dict[str, float] = field(default_factory=dict)
    valid_files: tuple[Path, ...] = ()
    #: `--valid-uuids` files the manifest lists that are no longer there.
    missing_valid: tuple[str, ...] = ()
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def worldwide(self) -> bool:
        return self.t is None

    @property
    def uses_valid_uuids(self) -> bool:
        return bool(self.valid_files or self.missing_valid)

    def t_for(self, lang: str | None) -> float | None:
        """The threshold a pair of language `lang` was balanced with (None: no threshold)."""
        if self.t is not None:
            return self.t
        return self.lang_t.get(lang) if lang is not None else None

    def selects(self, lang: str | None) -> bool:
        """Whether balance's `--lang` made pairs of this language candidates."""
        return self.langs is None or lang in self.langs

    def describe(self) -> str:
        """One line: where the settings come from and what they are."""
        where = f"the balance output {self.out}" if self.out else "the options"
        if self.t is not None:
            t = f"t={_num(self.t)}"
        else:
            t = f"per-language t (t_en={_num(self.manifest.get('t_en', 0))})"
        langs = "all" if self.langs is None else ",".join(self.langs)
        valid = (
            f", --valid-uuids ({len(self.valid_files)} file(s))" if self.uses_valid_uuids else ""
        )
        return f"{t}, seed {self.seed}, unit {self.unit}, lang {langs}{valid} (from {where})"


def read_manifest(balance_dir: Path) -> dict[str, Any] | None:
    """A balance output's manifest.json, None when it has none (or it cannot be read)."""
    try:
        manifest = json.loads((balance_dir / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def run_from_manifest(balance_dir: Path) -> BalanceRun:
    """The settings a balance output records; ExploreError when it records none."""
    manifest = read_manifest(balance_dir)
    if manifest is None:
        raise ExploreError(
            f"{balance_dir} has no readable manifest.json: its t, seed and unit are unknown"
        )
    try:
        seed = int(manifest["seed"])
        unit = str(manifest["unit"])
        langs = parse_lang(str(manifest.get("lang") or "all"))
        if "t_en" in manifest:
            t = None
            lang_t = {k: float(v["t"]) for k, v in (manifest.get("languages") or {}).items()}
        else:
            t, lang_t = float(manifest["t"]), {}
    except (KeyError, TypeError, ValueError) as exc:
        raise ExploreError(f"{balance_dir}/manifest.json lacks the run's settings ({exc})") from exc
    present, missing = [], []
    for item in manifest.get("valid_uuids") or []:
        path = Path(item["path"]) if isinstance(item, dict) else Path(str(item))
        (present if path.is_file() else missing).append(path)
    return BalanceRun(
        out=balance_dir,
        seed=seed,
        unit=unit,
        langs=langs,
        t=t,
        lang_t=lang_t,
        valid_files=tuple(present),
        missing_valid=tuple(str(p) for p in missing),
        manifest=manifest,
    )


def run_from_options(
    t: float | None, seed: int | None, unit: str | None, lang: str | None
) -> BalanceRun:
    """The settings of a balance run not made yet: `--t` (needed), `--seed` (0), `--unit`
    (pair) and `--lang` (en), balance's own defaults."""
    if t is None:
        raise ExploreError("give --t (or a balance output in --data, whose t is used)")
    check_t(t)
    return BalanceRun(
        out=None,
        seed=0 if seed is None else int(seed),
        unit=check_unit(unit or "pair"),
        langs=parse_lang(lang or "en"),
        t=float(t),
    )


def merge_options(
    run: BalanceRun, t: float | None, seed: int | None, unit: str | None, lang: str | None
) -> BalanceRun:
    """A balance output's settings, refusing options that say otherwise (a decision can only
    be explained with the settings that made it)."""
    given = {
        "--t": (t, run.t),
        "--seed": (seed, run.seed),
        "--unit": (unit, run.unit),
        "--lang": (None if lang is None else parse_lang(lang), run.langs),
    }
    for option, (value, recorded) in given.items():
        if value is not None and value != recorded:
            shown = recorded if not isinstance(recorded, tuple) else ",".join(recorded)
            raise ExploreError(
                f"{option} {value if not isinstance(value, tuple) else ','.join(value)} "
                f"differs from the balance output's ({shown if shown is not None else 'all'}): "
                "drop the option to explain that run, or drop the balance output from --data"
            )
    return run


def parse_lang(lang: str) -> tuple[str, ...] | None:
    """`en` -> ('en',); `all` -> None; `de,fr` -> ('de', 'fr'), as balance's --lang."""
    codes = tuple(code.strip() for code in lang.split(",") if code.strip())
    if not codes:
        raise ExploreError("--lang is empty: give a code (en), a list (de,fr) or all")
    return None if codes == ("all",) else codes


def check_t(t: float) -> float:
    if not (t > 0 and math.isfinite(t)):
        raise ExploreError(f"--t must be > 0, got {t}")
    return t


def check_unit(unit: str) -> str:
    if unit not in UNITS:
        raise ExploreError(f"--unit must be pair or image, got {unit!r}")
    return unit


def define_valid_ids(con: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> None:
    """The temp table `valid_ids` (value: a uuid or url) of `--valid-uuids` files, read as
    balance reads them (`balance.inputs.valid_input`): Parquet with a uuid or url column (only
    `status = 'success'` rows when there is a status column), or text with one value a line."""
    if not files:
        raise ExploreError("no --valid-uuids file to read")
    try:
        relation = valid_input(con, list(files))
    except BalanceError as exc:
        raise ExploreError(str(exc)) from exc
    relation.create_view("valid_input")
    sqlrunner.run(con, "explore/valid_ids.sql")


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"
