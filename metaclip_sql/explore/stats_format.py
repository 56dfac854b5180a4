"""The `stats` report as a terminal shows it (aligned text) or a script reads it (JSON)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from metaclip_sql.explore.stats import Stats


def stats_json(stats: Stats) -> str:
    """The stats as one JSON object, for scripts."""
    return json.dumps(dataclasses.asdict(stats), indent=2, ensure_ascii=False) + "\n"


def stats_report(stats: Stats, top: int = 20) -> str:
    """The whole report `stats` prints: `format_stats`, then the per-language thresholds (their
    first `top` languages) when they were computed."""
    return format_stats(stats) + format_language_thresholds(stats.language_thresholds, top)


def format_stats(stats: Stats) -> str:
    """The stats as aligned text for a terminal."""
    lines = [f"sources    {_describe_sources(stats.sources)}"]
    pool = stats.pool
    if pool is not None:
        pairs = pool["pairs"]
        dup = pool["rows"] - pairs
        lines += [
            f"rows       {pool['rows']:,}"
            + (f" ({dup:,} cross-shard duplicate{'s' if dup > 1 else ''})" if dup else ""),
            f"pairs      {pairs:,} distinct (uuid, text)",
            f"images     {pool['images']:,}",
            f"languages  {pool['languages']:,}: "
            + ", ".join(f"{r['lang']} {r['pairs']:,}" for r in stats.languages)
            + (" ..." if pool["languages"] > len(stats.languages) else ""),
            f"matched    {pool['matched_pairs']:,} pairs ({_pct(pool['matched_pairs'], pairs)});"
            f" unmatched {pool['unmatched_pairs']:,} ({_pct(pool['unmatched_pairs'], pairs)})",
            f"matches    {pool['matches']:,}: "
            + (
                f"{pool['matches_per_matched_pair']:.2f} per matched pair, "
                f"at most {pool['max_matches_per_pair']}"
                if pool["matched_pairs"]
                else "none"
            ),
            "per pair   " + _per_pair(stats.matches_per_pair),
        ]
    e = stats.entries
    of_list = f" of {e['metadata_entries']:,} in the list" if e["metadata_entries"] else ""
    lines.append(f"entries    {e['entries_matched']:,} matched{of_list}")
    if e["entries_matched"]:
        lines.append(
            f"           the top {e['entries_for_half']:,} hold half of the "
            f"{e['matches']:,} matches, the top {e['entries_for_90']:,} hold 90%"
        )
    if stats.top_entries:
        lines += ["", f"top {len(stats.top_entries)} entries"]
        lines += _table(
            ["entry_id", "entry", "count", "share", "cumulative"],
            [
                [
                    r["entry_id"],
                    _clip(r["entry"]),
                    f"{r['count']:,}",
                    _pct(r["share"]),
                    _pct(r["cumulative_share"]),
                ]
                for r in stats.top_entries
            ],
        )
    if stats.thresholds:
        lines += ["", "thresholds (head: count > t, sampled down; tail p = t_to_p)"]
        lines += _table(
            ["t", "head entries", "head matches", "tail p", "expected pairs", "of matched"],
            [
                [
                    _num(th.t) + (f" (p={th.from_p:g})" if th.from_p is not None else ""),
                    f"{th.head_entries:,}",
                    f"{th.head_matches:,}",
                    f"{th.tail_proportion:.4f}",
                    "-" if th.expected_pairs is None else f"{th.expected_pairs:,.1f}",
                    "-"
                    if th.expected_pairs is None or pool is None
                    else _pct(th.expected_pairs, pool["matched_pairs"]),
                ]
                for th in stats.thresholds
            ],
        )
    b = stats.balanced
    if b is not None and b["curated_pairs"] is not None:
        at = f" at t={_num(b['t'])}" if isinstance(b.get("t"), int | float) else ""
        lines += ["", f"balanced   {b['curated_pairs']:,} pairs kept{at} (the balance output)"]
    lines += [f"note: {n}" for n in stats.notes]
    return "\n".join(lines) + "\n"


def _per_pair(rows: list[dict[str, Any]], cap: int = 10) -> str:
    """`0: 922, 1: 423, ..., 10+: 180`: texts by how many entries they matched."""
    shown = [f"{r['matches']}: {r['pairs']:,}" for r in rows if r["matches"] < cap]
    rest = sum(r["pairs"] for r in rows if r["matches"] >= cap)
    return ", ".join(shown + ([f"{cap}+: {rest:,}"] if rest else []))


def _describe_sources(sources: dict[str, Any]) -> str:
    parts = []
    if sources["extract_files"]:
        parts.append(f"{sources['extract_files']:,} extract file(s)")
    if sources["balance_output"]:
        parts.append(f"balance output {sources['balance_output']}")
    if sources["metadata"]:
        parts.append(f"metadata {sources['metadata']} ({sources['metadata_entries']:,} entries)")
    return "; ".join(parts)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    left = {1} if header[1] == "entry" else set()
    return [
        "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]


def _pct(part: float, whole: float = 1.0) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


def _clip(text: str | None, width: int = 32) -> str:
    if text is None:
        return "?"
    return text if len(text) <= width else text[: width - 1] + "…"


def format_language_thresholds(rows: list[dict[str, Any]], top: int = 20) -> str:
    """The per-language thresholds as an aligned table."""
    if not rows:
        return ""
    p = rows[0]["p"]
    head = f"\nper language at English's tail proportion p={p:.4f} (balance --worldwide):"
    table = _table(
        ["lang", "matches", "entries", "t", "tail p", "head entries"],
        [
            [
                r["lang"],
                f"{r['matches']:,}",
                f"{r['entries']:,}",
                _num(r["t"]),
                f"{r['tail_proportion']:.4f}",
                f"{r['head_entries']:,}",
            ]
            for r in rows[: max(top, 1)]
        ],
    )
    more = [f"... {len(rows) - top} more languages (--json lists all)"] if len(rows) > top else []
    return "\n".join([head, *table, *more]) + "\n"
