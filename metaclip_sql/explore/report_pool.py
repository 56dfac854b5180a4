"""The report's sections about the pool: at a glance, entry counts and thresholds, languages,
metadata coverage and sample texts, each a function of the `Report` returning its HTML."""

from __future__ import annotations

from html import escape

from metaclip_sql.explore.report import Report
from metaclip_sql.explore.report_html import clip, details, link, num, pct, table, text_cell
from metaclip_sql.explore.report_svg import PALETTE, RefLine, Series, loglog_chart


def glance_section(report: Report) -> str:
    pool, e = report.stats.pool, report.stats.entries
    cards = []
    if pool is not None:
        dup = pool["rows"] - pool["pairs"]
        cards += [
            (f"{pool['pairs']:,}", "pairs: distinct (uuid, text)"),
            (f"{pool['images']:,}", "images"),
            (f"{pool['languages']:,}", "languages"),
            (pct(pool["matched_pairs"], pool["pairs"]), f"matched ({pool['matched_pairs']:,})"),
            (f"{dup:,}", f"cross-shard duplicates of {pool['rows']:,} rows"),
            (
                f"{pool['matches_per_matched_pair']:.2f}" if pool["matched_pairs"] else "-",
                "entries per matched pair",
            ),
        ]
    cards += [
        (f"{e['entries_matched']:,}", "entries matched"),
        (f"{e['matches']:,}", "matches (pair, entry)"),
    ]
    html = '<div class="cards">' + "".join(
        f'<div class="card"><b>{escape(v)}</b><span>{escape(label)}</span></div>'
        for v, label in cards
    )
    html += "</div>"
    per_pair = report.stats.matches_per_pair
    if per_pair:
        cells = [(str(r["matches"]), r["pairs"]) for r in per_pair if r["matches"] < 10]
        rest = sum(r["pairs"] for r in per_pair if r["matches"] >= 10)
        cells += [("10+", rest)] if rest else []
        html += "<h3>Pairs by number of matched entries</h3>" + table(
            ["entries", *[c[0] for c in cells]],
            [["pairs", *[f"{c[1]:,}" for c in cells]]],
            left=(0,),
        )
    return html


def distribution_section(report: Report) -> str:
    refs = [
        RefLine("y", t, f"t={num(t)}", PALETTE[(i + 1) % len(PALETTE)])
        for i, t in enumerate(report.ts)
    ]
    rank = loglog_chart(
        [Series("", report.ranks, PALETTE[0], "line")],
        refs,
        title="Entry counts, largest first",
        xlabel="rank of the entry",
        ylabel="count (texts matching it)",
    )
    hist = loglog_chart(
        [Series("", report.histogram, "#7f8c9d", "bars")],
        [RefLine("x", r.value, r.label, r.color) for r in refs],
        title="How many entries have each count",
        xlabel="count",
        ylabel="entries",
    )
    html = f'<div class="charts">{rank}{hist}</div>'
    html += (
        '<p class="muted">Entries above a t line are head entries: balancing samples them down '
        "to about t texts each; the others (tail) keep every text.</p>"
    )
    rows = []
    matched = report.stats.pool["matched_pairs"] if report.stats.pool else None
    for th in report.stats.thresholds:
        rows.append(
            [
                num(th.t),
                f"{th.head_entries:,}",
                f"{th.head_matches:,}",
                f"{th.tail_proportion:.4f}",
                "-" if th.expected_pairs is None else f"{th.expected_pairs:,.0f}",
                "-"
                if th.expected_pairs is None or not matched
                else pct(th.expected_pairs, matched),
            ]
        )
    html += table(
        [
            "t",
            "head entries (count &gt; t)",
            "their matches",
            "tail proportion",
            "expected pairs kept",
            "of matched",
        ],
        rows,
        left=(),
        raw_header=True,
    )
    return html


def languages_section(report: Report) -> str:
    section = report.languages
    rows = section["rows"]
    if not rows:
        return '<p class="muted">no extract outputs given: no languages to show</p>'
    total = section.get("total") or 0
    html = ""
    if section.get("languages", 0) > len(rows):
        html += f'<p class="muted">the {len(rows)} most frequent of {section["languages"]:,}</p>'
    html += table(
        ["lang", "pairs", "share of texts", "matched", "matched share"],
        [
            [
                escape(str(r["lang"])),
                f"{r['pairs']:,}",
                pct(r["pairs"], total),
                f"{r['matched_pairs']:,}",
                pct(r["matched_pairs"], r["pairs"]),
            ]
            for r in rows
        ],
        left=(0,),
        raw=True,
    )
    if section["thresholds"]:
        p = section["thresholds"][0]["p"]
        html += (
            f"<h3>Per-language thresholds for <code>balance --worldwide --t-en "
            f"{num(section['t_en'])}</code> (English tail proportion p={p:.4f})</h3>"
        )
        html += table(
            ["lang", "matches", "entries", "t", "tail proportion", "head entries"],
            [
                [
                    escape(str(r["lang"])),
                    f"{r['matches']:,}",
                    f"{r['entries']:,}",
                    num(r["t"]),
                    f"{r['tail_proportion']:.4f}",
                    f"{r['head_entries']:,}",
                ]
                for r in section["thresholds"]
            ],
            left=(0,),
            raw=True,
        )
    elif section["note"]:
        html += f'<p class="muted">per-language thresholds: {escape(section["note"])}</p>'
    return html


def coverage_section(report: Report) -> str:
    c = report.coverage
    rows = [
        ["metadata list", escape(c["metadata"] or "none known")],
        ["entries in the list", f"{c['metadata_entries']:,}"],
        ["entries matched", f"{c['entries_matched']:,}"],
        ["entries never matched", f"{c['never_matched']:,}"],
        ["entries that can never match (padding rules)", f"{c['impossible']:,}"],
    ]
    if c["entries_beyond_metadata"]:
        rows.append(
            [
                "matched ids beyond the list",
                f'<span class="bad">{c["entries_beyond_metadata"]:,}</span>',
            ]
        )
    if c["entries_matched"]:
        rows.append(
            [
                "top entries holding half / 90% of the matches",
                f"{c['entries_for_half']:,} / {c['entries_for_90']:,}",
            ]
        )
    html = table(["", ""], rows, left=(0, 1), raw=True, show_header=False)
    if c["top"]:
        html += "<h3>Top entries</h3>" + table(
            ["entry_id", "entry", "count", "share", "cumulative"],
            [
                [
                    r["entry_id"],
                    clip(r["entry"]),
                    f"{r['count']:,}",
                    pct(r["share"], 1),
                    pct(r["cumulative_share"], 1),
                ]
                for r in c["top"]
            ],
        )
    if c["never_examples"]:
        html += details(
            f"First {len(c['never_examples'])} entries never matched",
            table(["entry_id", "entry"], [[i, clip(entry)] for i, entry in c["never_examples"]]),
        )
    if c["impossible_examples"]:
        html += details(
            f"First {len(c['impossible_examples'])} entries that can never match",
            table(
                ["entry_id", "entry", "why"],
                [[i, clip(repr(entry)), reason] for i, entry, reason in c["impossible_examples"]],
            ),
        )
    return html


def samples_section(report: Report) -> str:
    if not report.samples:
        return '<p class="muted">no extract outputs given: no texts to show</p>'
    html = (
        f'<p class="muted">From the pool\'s first rows (up to 200,000). Head: count &gt; '
        f"t={num(report.main_t)}. Links go to the image URLs; nothing is loaded here.</p>"
    )
    for s in report.samples:
        html += (
            f"<h3>{escape(s['kind'])} entry {s['entry_id']}: {escape(clip(s['entry']))} "
            f'<span class="muted">({s["count"]:,} texts)</span></h3>'
        )
        rows = [[text_cell(x["text"]), escape(str(x["lang"])), link(x["url"])] for x in s["texts"]]
        html += table(["text", "lang", "image"], rows, left=(0, 1, 2), raw=True)
    return html
