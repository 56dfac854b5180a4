"""What `explain` returns, and how it is shown: the pairs found with their entries and balance's
decision (`Explanation`, `ExplainedPair`, `ExplainedEntry`), as JSON (`explanation_json`) or as
text for a terminal (`format_explanation`)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

#: The --format values of `metaclip-sql explain`.
EXPLAIN_FORMATS = ("table", "json")


@dataclass
class ExplainedEntry:
    """One entry of a pair: its count in the balanced pool and its probability at t."""

    entry_id: int
    entry: str | None
    count: int | None
    prob: float | None


@dataclass
class ExplainedPair:
    """One pair and balance's decision on it."""

    uuid: str
    text: str
    url: str
    lang: str | None
    kept: bool
    #: The pair's keep probability, 1 - prod(1 - prob) over its entries (0 when it is no
    #: candidate).
    p: float
    #: Its draw: kept when u < p.
    u: float
    entries: list[ExplainedEntry]
    t: float | None
    seed: int
    unit: str
    candidate: bool
    #: --unit image: whether this is its image's picked text (None for --unit pair).
    picked: bool | None
    #: Whether the balance output's curated set holds the pair (None without one).
    in_curated: bool | None
    reason: str
    pair_key: str
    shards: list[str] = field(default_factory=list)


@dataclass
class Explanation:
    """What `explain` found: the pairs (at most `limit`), the settings, notes."""

    pairs: list[ExplainedPair]
    settings: str
    truncated: bool
    notes: list[str] = field(default_factory=list)


def explanation_json(explanation: Explanation) -> str:
    """The pairs as one JSON list of objects (uuid, text, kept, p, u, entries, ...)."""
    return json.dumps([dataclasses.asdict(p) for p in explanation.pairs], indent=2) + "\n"


def format_explanation(explanation: Explanation) -> str:
    """The pairs as text for a terminal: per pair its entries, p, u and the decision."""
    lines = [f"settings: {explanation.settings}"]
    if not explanation.pairs:
        lines.append("no pair found")
    for x in explanation.pairs:
        lines += [
            "",
            f"uuid {x.uuid}  lang {x.lang}  {x.url}",
            f"text {_clip(x.text, 100)!r}",
        ]
        if x.entries:
            lines += _entry_table(x.entries)
        verdict = (
            "KEPT"
            if x.kept
            else "NOT A CANDIDATE"
            if not x.candidate
            else "NOT PICKED"
            if x.picked is False
            else "DROPPED"
        )
        draw = f"p = {x.p:.6f}  u = {x.u:.6f}" if x.candidate else f"u = {x.u:.6f}"
        extra = "" if x.picked is None else f"  picked for its image: {'yes' if x.picked else 'no'}"
        curated = "" if x.in_curated is None else f"  in curated: {'yes' if x.in_curated else 'no'}"
        lines.append(f"{draw}  -> {verdict} ({x.reason}){extra}{curated}")
    if explanation.truncated:
        lines.append(f"\n... more pairs match: the first {len(explanation.pairs)} shown (--limit)")
    lines += [f"note: {n}" for n in explanation.notes]
    return "\n".join(lines) + "\n"


def _entry_table(entries: list[ExplainedEntry]) -> list[str]:
    rows = [
        [
            str(e.entry_id),
            _clip(e.entry if e.entry is not None else "?", 32),
            "-" if e.count is None else f"{e.count:,}",
            "-" if e.prob is None else f"{e.prob:.6f}",
        ]
        for e in entries
    ]
    header = ["entry_id", "entry", "count", "prob"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    return [
        "  "
        + "  ".join(
            c.ljust(w) if i == 1 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [header, *rows]
    ]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
