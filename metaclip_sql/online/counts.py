"""What a `balance` output tells a loader: per-entry counts, and t, seed, unit and lang.

`entry_counts.parquet` has one row per matched entry (`entry_id`, `count`, ...); only rows with
`entry_id >= 0` are entries (negative ids are reserved for totals). `manifest.json` records `t`
(after `--p` is turned into t), `seed`, `unit`, `lang`. A dry run writes
`entry_counts.dry-run.parquet` and `manifest.dry-run.json` instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from metaclip_sql.errors import MetaclipError


class CurationSourceError(MetaclipError):
    """A balance output (or counts file) that cannot describe a curation, told in one line."""


@dataclass(frozen=True)
class BalanceOutput:
    """A balance output folder as read: its manifest and where its entry counts are."""

    folder: Path
    manifest: dict[str, Any]
    entry_counts: Path
    dry_run: bool


def find_balance_output(path: str | Path, dry_run: bool | None = None) -> BalanceOutput:
    """The manifest and entry counts of a balance `--out` folder (or a manifest's path).

    `dry_run=None` takes whichever of the full run's and the dry run's outputs is there, and
    asks to choose when both are."""
    path = Path(path)
    if path.is_file():
        folder, names = path.parent, [path.name]
    else:
        folder = path
        names = {None: ["manifest.json", "manifest.dry-run.json"], False: ["manifest.json"]}.get(
            dry_run, ["manifest.dry-run.json"]
        )
    found = [folder / n for n in names if (folder / n).is_file()]
    if not found:
        raise CurationSourceError(
            f"{path}: no balance manifest ({' or '.join(names)}); give balance's --out folder"
        )
    if len(found) > 1:
        raise CurationSourceError(
            f"{folder} holds a full run's and a dry run's outputs: pass dry_run=True or False"
        )
    manifest_path = found[0]
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise CurationSourceError(f"{manifest_path}: not a readable manifest ({exc})") from exc
    is_dry = manifest_path.name == "manifest.dry-run.json"
    counts = folder / ("entry_counts.dry-run.parquet" if is_dry else "entry_counts.parquet")
    check_manifest(manifest, manifest_path)
    return BalanceOutput(folder, manifest, counts, is_dry)


def check_manifest(manifest: dict[str, Any], where: Path) -> None:
    if manifest.get("tool") != "metaclip-sql" or "t" not in manifest:
        raise CurationSourceError(f"{where}: not a metaclip-sql balance manifest")
    if manifest.get("sql_version") != "metaclip_v1" or not isinstance(manifest["t"], (int, float)):
        raise CurationSourceError(
            f"{where}: a {manifest.get('sql_version')} run (per-language thresholds, "
            "--worldwide) is not supported online yet; balance without --worldwide"
        )


def read_entry_counts(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(entry_ids int64, counts int64) of the entries (rows with entry_id >= 0) of a counts file."""
    try:
        table = pq.read_table(path, columns=["entry_id", "count"])
    except (OSError, ValueError, KeyError) as exc:
        raise CurationSourceError(f"{path}: not an entry_counts file ({exc})") from exc
    table = table.filter(pc.greater_equal(table["entry_id"], 0))
    ids = table["entry_id"].to_numpy().astype(np.int64, copy=False)
    counts = table["count"].to_numpy().astype(np.int64, copy=False)
    return ids, counts


def langs_of(lang: str | None) -> frozenset[str] | None:
    """`en` -> {'en'}; `all` or None -> None (every language); `de,fr` -> {'de', 'fr'}."""
    if lang is None:
        return None
    codes = [c.strip() for c in str(lang).split(",") if c.strip()]
    return None if not codes or codes == ["all"] else frozenset(codes)
