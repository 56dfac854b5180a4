"""What a balancing run returns: its numbers, its output paths and manifest, and a summary.

`BalanceResult` is MetaCLIP 1's (`balance`, local or on Ray), `WorldwideResult` MetaCLIP 2's
(`balance --worldwide`: per language, its t and its counts in and out). `summary()` is what the
CLI prints; `record()` is what the manifest records of the result (manifest.py adds the rest).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metaclip_sql.io import staging

#: The columns of metaclip_v2/080_lang_summary.sql after its `lang`, as WorldwideResult keeps them.
LANGUAGE_COLUMNS = ("t", "p", "tail_proportion", "pairs", "kept", "entries", "head_entries")


@dataclass
class BalanceResult:
    """What a balance run did: the numbers the CLI prints and the manifest records."""

    out: Path
    dry_run: bool
    t: float
    p: float | None
    tail_proportion: float
    seed: int
    lang: str
    unit: str
    counts: dict[str, int]
    seconds: dict[str, float]
    files: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    plan: str = "streaming"  # how the pool was read: streaming steps, or in-memory (dry run)
    leftovers: list[str] = field(default_factory=list)  # killed runs' temporaries, removed

    @property
    def kept(self) -> int:
        return self.counts["kept"]

    def record(self) -> dict[str, Any]:
        """The manifest's fields for this result, after its header and metadata."""
        return {
            "t": self.t,
            "p": self.p,
            "tail_proportion": self.tail_proportion,
            "seed": self.seed,
            "lang": self.lang,
            "unit": self.unit,
            "counts": self.counts,
        }

    def summary(self) -> str:
        """A few lines for the terminal."""
        c = self.counts
        share = c["kept"] / c["pairs"] if c["pairs"] else 0.0
        lines = [
            f"{'dry run: would keep' if self.dry_run else 'kept'} {c['kept']:,} of "
            f"{c['pairs']:,} pairs ({share:.1%}) at t={self.t:g} "
            f"(tail proportion {self.tail_proportion:.4f}), seed {self.seed}, unit {self.unit}",
            f"rows in {c['rows_in']:,}; candidates {c['candidates']:,}; cross-shard duplicates "
            f"{c['duplicates']:,}; entries matched {c['entries']:,}, head {c['head_entries']:,}",
            f"seconds: {self.seconds['total']:.1f}"
            + (f" ({self.plan} dry run)" if self.dry_run else ""),
        ]
        return "\n".join(lines + closing_lines(self.counts, self.leftovers, self.out, self.files))


@dataclass
class WorldwideResult:
    """What a worldwide run did: totals, and per language its t, counts in and out."""

    out: Path
    dry_run: bool
    t_en: float
    p: float
    seed: int
    lang: str
    unit: str
    counts: dict[str, int]
    languages: dict[str, dict[str, Any]]
    seconds: dict[str, float]
    files: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)  # killed runs' temporaries, removed

    def record(self) -> dict[str, Any]:
        """The manifest's fields for this result, after its header and metadata."""
        return {
            "t_en": self.t_en,
            "p": self.p,
            "seed": self.seed,
            "lang": self.lang,
            "unit": self.unit,
            "counts": self.counts,
            "languages": self.languages,
        }

    def summary(self, top: int = 15) -> str:
        """Totals, then the languages with the most pairs, for the terminal."""
        c = self.counts
        share = c["kept"] / c["pairs"] if c["pairs"] else 0.0
        verb = "dry run: would keep" if self.dry_run else "kept"
        lines = [
            f"{verb} {c['kept']:,} of {c['pairs']:,} pairs ({share:.1%}) in "
            f"{len(self.languages)} languages; t_en={self.t_en:g} gives tail proportion "
            f"p={self.p:.4f}; seed {self.seed}, unit {self.unit}",
            f"rows in {c['rows_in']:,}; cross-shard duplicates {c['duplicates']:,}",
            f"{'lang':<6} {'t':>10} {'tail':>7} {'pairs':>12} {'kept':>12} {'head/entries':>16}",
        ]
        by_size = sorted(self.languages.items(), key=lambda kv: (-kv[1]["pairs"], kv[0]))
        for lang, s in by_size[:top]:
            lines.append(
                f"{lang:<6} {s['t']:>10g} {s['tail_proportion']:>7.4f} {s['pairs']:>12,} "
                f"{s['kept']:>12,} {s['head_entries']:>7,}/{s['entries']:<8,}"
            )
        if len(by_size) > top:
            lines.append(f"... {len(by_size) - top} more languages in manifest.json")
        lines.append(f"seconds: {self.seconds['total']:.1f}")
        return "\n".join(lines + closing_lines(self.counts, self.leftovers, self.out, self.files))


def language_record(values: Sequence[Any]) -> dict[str, Any]:
    """One row of 080_lang_summary.sql (without its lang) as the manifest records it."""
    record = dict(zip(LANGUAGE_COLUMNS, values, strict=True))
    for key in ("pairs", "kept", "entries", "head_entries"):
        record[key] = int(record[key])
    for key in ("t", "p", "tail_proportion"):
        record[key] = float(record[key])
    return record


def closing_lines(
    counts: dict[str, int], leftovers: list[str], out: Path, files: dict[str, str]
) -> list[str]:
    """The summary's last lines: the slow-path note, removed leftovers, the files written."""
    lines = []
    missing = counts.get("files_without_pair_key", 0)
    if missing:
        lines.append(
            f"note: {missing:,} input file(s) have no pair_key column (written before "
            "metaclip-sql 0.2) or NULLs in it: it was computed per row, which is slower; "
            "re-extract them to store it"
        )
    if leftovers:
        lines.append(staging.leftovers_note(leftovers, out))
    return lines + [f"wrote {path}" for path in files.values()]
