"""Running the SQL: one step runner, and the groups of steps the runs share.

`Steps` runs the files of one algorithm version (`sql/metaclip_v1/`, `sql/metaclip_v2/`) and
of `sql/common/` in a DuckDB connection, timing each; every run uses it: v1.py (local), v2.py
(worldwide), and ray.py on its driver and in its tasks. The groups below are written once and
run by all of those that need them:

- `start_v1`: a MetaCLIP 1 session (the draw, the parameters, the per-entry slot, the keep rule);
- `select_candidates`: --valid-uuids, then the candidate rows;
- `count_pool`: dedup and the per-entry counts (a local run over the pool, a Ray count task over
  its partition);
- `probabilities`: t from p if needed, then each entry's probability;
- `sample`: decide each pair (or one text per image), then write and count what is kept, or
  in a dry run only count it.

`run_staged` wraps a whole run: the DuckDB session spilling under `--out`, the outputs staged
under temporary names and committed with the manifest, DuckDB errors as one-line BalanceErrors.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeVar

import duckdb

from metaclip_sql.balance import entry_slots
from metaclip_sql.balance.options import BalanceError
from metaclip_sql.balance.pool import count_rows
from metaclip_sql.duck import session
from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.io.staging import OutputStaging

COMMON = "common"
V1 = "metaclip_v1"
V2 = "metaclip_v2"


class Steps:
    """Runs SQL files and times each: `name` is a file of the version's folder, or of common/
    when written `common/<file>`. The seconds are keyed by file name."""

    def __init__(self, con: duckdb.DuckDBPyConnection, version: str) -> None:
        self.con = con
        self.version = version
        self.seconds: dict[str, float] = {}

    def run(self, name: str, **params: Any) -> duckdb.DuckDBPyConnection:
        """Run every statement of the file; a final SELECT is left to read from the result."""
        started = time.perf_counter()
        path = name if name.startswith(f"{COMMON}/") else f"{self.version}/{name}"
        result = sqlrunner.run(self.con, path, params)
        self.seconds[name.rpartition("/")[2]] = time.perf_counter() - started
        return result

    def rows(self, name: str, **params: Any) -> list[tuple]:
        """Run the file and read its final SELECT's rows (none is left pending)."""
        return self.run(name, **params).fetchall()


def start(steps: Steps, langs: list[str] | None, seed: int) -> None:
    """What every version's session starts with: the draw's and the pair key's macros (not
    timed), then the run's languages and seed (common/000_params.sql)."""
    sqlrunner.run(steps.con, f"{COMMON}/draws.sql")
    sqlrunner.run(steps.con, f"{COMMON}/pair_key.sql")
    steps.run(f"{COMMON}/000_params.sql", langs=langs, seed=seed)


def start_v1(
    con: duckdb.DuckDBPyConnection, langs: list[str] | None, seed: int, entry_modulus: int
) -> Steps:
    """A MetaCLIP 1 session: `start`, the per-entry slot with DuckDB allowed to count into an
    array when it fits (entry_slots.py), and the keep rule's macros."""
    steps = Steps(con, V1)
    start(steps, langs, seed)
    steps.run("001_entry_slot.sql", entry_modulus=entry_modulus)
    entry_slots.use_entry_slots(con, entry_modulus)
    steps.run("007_keep_rule.sql")
    return steps


def select_candidates(steps: Steps, valid_uuids: bool) -> None:
    """`shards` restricted to --valid-uuids (when given), then the `candidates` view."""
    if valid_uuids:
        steps.run(f"{COMMON}/005_valid_ids.sql")
    steps.run(f"{COMMON}/009_candidates.sql")


class PoolCount(NamedTuple):
    """What counting the pool found besides the counts: the candidate rows dropped as
    duplicates, and the largest entry id on one of them (None when none was dropped)."""

    duplicates: int
    dropped_top: int | None


def count_pool(steps: Steps) -> PoolCount:
    """MetaCLIP 1's dedup and per-entry counts over the candidates (common/010, 020, 024)."""
    steps.run(f"{COMMON}/010_pairs.sql")
    steps.run("020_entry_counts.sql")
    dropped_top = steps.rows("024_dropped_ids.sql")[0][0]
    return PoolCount(count_rows(steps.con, "duplicate_rows"), dropped_top)


def probabilities(steps: Steps, t: float | None, p: float | None) -> tuple[float, float, int, int]:
    """MetaCLIP 1's t (from p when given: 025) and the entries' probabilities (030); returns
    t, the tail proportion, the head entries and the entries."""
    if p is not None:
        t = float(steps.rows("025_p_to_t.sql", p=p)[0][0])
    t, tail_proportion, head_entries, entries = steps.rows("030_probs.sql", t=t)[0]
    return float(t), float(tail_proportion), int(head_entries), int(entries)


def sample(
    steps: Steps,
    unit: str,
    curated: Path | None,
    publish: Callable[[Path], Path] = lambda path: path,
) -> None:
    """Decide every pair (`--unit pair`) or one text per image (common/040 or 041, then the
    version's 045). With `curated` (not a dry run), write the kept pairs there (common/050),
    `publish` it (returns where it now is) and count the kept per entry (060); without it, only
    count them (055 or 056). Every version has these files; each fills kept_totals and
    kept_counts (empty in a dry run)."""
    steps.run(
        f"{COMMON}/040_sample_pairs.sql" if unit == "pair" else f"{COMMON}/041_sample_images.sql"
    )
    steps.run("045_keep.sql")
    if curated is None:
        steps.run("055_kept_total.sql" if unit == "pair" else "056_kept_total_image.sql")
        return
    steps.run(f"{COMMON}/050_write_curated.sql", path=str(curated))
    steps.con.read_parquet(str(publish(curated))).create_view("kept_rows")
    steps.run("060_kept_counts.sql")


class Staged(Protocol):
    """A result run_staged can finish: it gets the leftovers, manifest and committed files."""

    leftovers: list[str]
    manifest: dict[str, Any]
    files: dict[str, str]


R = TypeVar("R", bound=Staged)


def run_staged(
    out: Path,
    dry_run: bool,
    memory_limit: str | None,
    threads: int | None,
    body: Callable[[duckdb.DuckDBPyConnection, OutputStaging], R],
    manifest: Callable[[R], dict[str, Any]],
    curated: str = "curated.parquet",
    spill: str | None = None,
) -> R:
    """Run `body` in a DuckDB session spilling under `out` (in its `spill` subfolder if given),
    then record the manifest and commit the outputs (`curated`: a file, or a folder of parts).
    DuckDB errors become one-line BalanceErrors and temporary files never stay behind,
    whatever fails."""
    staging = OutputStaging(out, dry_run)
    try:
        spill_dir = staging.spill_dir()
        try:
            con = session.connect(spill_dir / spill if spill else spill_dir, memory_limit, threads)
        except session.SessionError as exc:
            raise BalanceError(str(exc)) from exc
        try:
            result = body(con, staging)
        finally:
            con.close()
        result.leftovers = staging.leftovers
        result.manifest = manifest(result)
        result.files = staging.commit(result.manifest, curated=curated)
        return result
    except duckdb.Error as exc:
        raise BalanceError(session.one_line(exc)) from exc
    finally:
        staging.cleanup()
