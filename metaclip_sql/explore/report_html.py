"""The report as one self-contained HTML page: inline CSS, charts as inline SVG, no script.

Nothing is loaded from anywhere: a Content-Security-Policy allows only the page's own inline
style, so even a link target or a text from the pool cannot make the browser fetch anything.
Image URLs are plain links (http and https only; nothing is loaded); every string from the
pool, the metadata or the manifest is escaped.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any
from urllib.parse import urlsplit

from metaclip_sql.explore.report import Report
from metaclip_sql.explore.report_svg import PALETTE, RefLine, Series, loglog_chart

#: Longest text shown (characters) and longest URL made a link.
MAX_TEXT, MAX_URL = 300, 2048

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: #1d2330; background: #f4f5f7; }
header { background: #1d2330; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 2px 0; color: #c9cfdb; }
nav { margin-top: 10px; }
nav a { color: #9cc3ff; margin-right: 14px; text-decoration: none; }
main { max-width: 1200px; margin: 0 auto; padding: 8px 20px 40px; }
section { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 16px 20px;
          margin: 16px 0; }
h2 { margin: 0 0 10px; font-size: 18px; }
h3 { margin: 14px 0 6px; font-size: 15px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid #dde1e8; border-radius: 6px; padding: 8px 12px; min-width: 150px; }
.card b { display: block; font-size: 20px; }
.card span { color: #5b6475; font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
table { border-collapse: collapse; margin: 6px 0 10px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eceef2; text-align: right;
         vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.l, th.l { text-align: left; }
td.text { text-align: left; max-width: 640px; overflow-wrap: anywhere; }
.muted { color: #5b6475; }
.note { background: #fff8e1; border-left: 3px solid #f0b400; padding: 6px 10px; margin: 8px 0; }
.ok { color: #1a7f37; } .bad { color: #c62828; }
code { background: #f0f2f5; padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere; }
details summary { cursor: pointer; color: #34496e; }
"""


def render_report(report: Report) -> str:
    """The whole page as a string."""
    sections = [
        ("glance", "The pool at a glance", _glance(report)),
        ("distribution", "Entry counts and thresholds", _distribution(report)),
    ]
    if report.balance is not None:
        sections.append(("balance", "The balance output", _balance(report)))
    if report.survival:
        sections.append(("survival", "Planning t before download", _survival(report)))
    sections += [
        ("languages", "Languages", _languages(report)),
        ("coverage", "Metadata coverage", _coverage(report)),
        ("samples", "Sample texts", _samples(report)),
        ("provenance", "Inputs, versions and hashes", _provenance(report)),
    ]
    nav = "".join(f'<a href="#{key}">{escape(title)}</a>' for key, title, _ in sections)
    body = "".join(
        f'<section id="{key}"><h2>{escape(title)}</h2>{html}</section>'
        for key, title, html in sections
    )
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in report.notes)
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>metaclip-sql report: {escape(report.title)}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>metaclip-sql pool report</h1><p>{escape(report.title)}</p>"
        f"<p>generated {escape(report.generated)} by metaclip-sql "
        f"{escape(report.tool['metaclip-sql'])} (DuckDB {escape(report.tool['duckdb'])})</p>"
        f"<nav>{nav}</nav></header><main>{notes}{body}</main></body></html>\n"
    )


# --- sections ----------------------------------------------------------------------------------


def _glance(report: Report) -> str:
    pool, e = report.stats.pool, report.stats.entries
    cards = []
    if pool is not None:
        dup = pool["rows"] - pool["pairs"]
        cards += [
            (f"{pool['pairs']:,}", "pairs: distinct (uuid, text)"),
            (f"{pool['images']:,}", "images"),
            (f"{pool['languages']:,}", "languages"),
            (_pct(pool["matched_pairs"], pool["pairs"]), f"matched ({pool['matched_pairs']:,})"),
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
        html += "<h3>Pairs by number of matched entries</h3>" + _table(
            ["entries", *[c[0] for c in cells]],
            [["pairs", *[f"{c[1]:,}" for c in cells]]],
            left=(0,),
        )
    return html


def _distribution(report: Report) -> str:
    refs = [
        RefLine("y", t, f"t={_num(t)}", PALETTE[(i + 1) % len(PALETTE)])
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
                _num(th.t),
                f"{th.head_entries:,}",
                f"{th.head_matches:,}",
                f"{th.tail_proportion:.4f}",
                "-" if th.expected_pairs is None else f"{th.expected_pairs:,.0f}",
                "-"
                if th.expected_pairs is None or not matched
                else _pct(th.expected_pairs, matched),
            ]
        )
    html += _table(
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


def _balance(report: Report) -> str:
    b = report.balance
    assert b is not None
    html = f"<p>{escape(b['settings'])}</p>"
    if b["dry_run"]:
        html += '<p class="note">a dry run: nothing was kept, only counted</p>'
    if b.get("note"):
        html += f'<p class="note">{escape(b["note"])}</p>'
    realised, expected, sd = b["realised"], b["expected"], b["sd"]
    rows = []
    if realised is not None:
        rows.append(["kept (curated.parquet)", f"{realised:,}"])
    if expected is not None:
        rows.append(["expected from the pool and the run's counts", f"{expected:,.1f}"])
        rows.append(["standard deviation", f"{sd:,.1f}"])
        if realised is not None and sd:
            z = (realised - expected) / sd
            verdict = "ok" if abs(z) <= 4 else "bad"
            rows.append(
                [
                    "kept - expected, in standard deviations",
                    f'<span class="{verdict}">{z:+.2f}</span>',
                ]
            )
        rows.append(["candidate pairs", f"{b['candidates']:,}"])
    elif b.get("pairs") is not None:
        rows.append(["pairs (manifest)", f"{b['pairs']:,}"])
    html += _table(["", "pairs"], rows, left=(0,), raw=True)
    points = b["points"]
    if points and b["t"]:
        kept = [(p["count"], p["kept"]) for p in points if p["kept"]]
        exp = [
            (p["count"], p["expected_kept"])
            for p in points
            if p["expected_kept"] is not None and p["expected_kept"] > 0
        ]
        top = max(p["count"] for p in points)
        series = [Series("kept = count", [(1, 1), (top, top)], "#c8ccd4", "line")]
        if exp:
            series.append(Series("expected", sorted(exp), PALETTE[1], "dots"))
        series.append(Series("kept", kept, PALETTE[0], "dots"))
        chart = loglog_chart(
            series,
            [RefLine("y", b["t"], f"t={_num(b['t'])}")],
            title="Kept against pool, per entry",
            xlabel="count in the pool",
            ylabel="texts kept",
            width=700,
            height=380,
        )
        html += f'<div class="charts">{chart}</div>'
        html += (
            f'<p class="muted">{len(points):,} entries shown: the {min(len(points), 200)} '
            "largest and a fixed pseudo-random choice of the others.</p>"
        )
        rows = [
            [
                p["entry_id"],
                _clip(p["entry"]),
                f"{p['count']:,}",
                f"{p['prob']:.4f}" if p["prob"] is not None else "-",
                "-" if p["kept"] is None else f"{p['kept']:,}",
                "-" if p["expected_kept"] is None else f"{p['expected_kept']:,.1f}",
            ]
            for p in points[:20]
        ]
        html += "<h3>The largest entries</h3>" + _table(
            ["entry_id", "entry", "count", "prob", "kept", "expected kept"], rows
        )
    return html


def _survival(report: Report) -> str:
    plans = report.survival or []
    first = plans[0]
    html = (
        f"<p>If a share S={first.survival:g} of the images survives download and filtering: "
        "curate with <code>t_before</code> now, download, then "
        "<code>balance --valid-uuids &lt;survivors&gt; --t t</code> (same seed, unit "
        f"{escape(first.unit)}). A head entry (S &times; count &gt; t) is short when the final "
        "run is expected to keep under 99% of what it would keep had every image been "
        "downloaded.</p>"
    )
    for plan in plans:
        html += (
            f"<h3>target t={_num(plan.t)}: curate with t={_num(plan.t_before)} now</h3>"
            f"<p>{plan.head_entries:,} head entries to fill; every image downloaded would "
            f"give {plan.expected_pairs_ideal:,.0f} pairs.</p>"
        )
        rows = [
            [
                _num(r.t_before),
                escape(r.label),
                f"{r.expected_pairs_before:,.0f}",
                f"{r.expected_images_before:,.0f}",
                f"{r.expected_images_after:,.0f}",
                f"{r.expected_pairs_after:,.0f}",
                f'<span class="{"bad" if r.head_short else "ok"}">{r.head_short:,}</span>',
                "-" if r.min_head_ratio is None else f"{r.min_head_ratio:.1%}",
            ]
            for r in plan.rows
        ]
        html += _table(
            [
                "t_before",
                "",
                "pairs kept now",
                "images to download",
                "images surviving",
                "pairs after",
                "heads short",
                "worst head",
            ],
            rows,
            left=(1,),
            raw=True,
        )
    return html


def _languages(report: Report) -> str:
    section = report.languages
    rows = section["rows"]
    if not rows:
        return '<p class="muted">no extract outputs given: no languages to show</p>'
    total = section.get("total") or 0
    html = ""
    if section.get("languages", 0) > len(rows):
        html += f'<p class="muted">the {len(rows)} most frequent of {section["languages"]:,}</p>'
    html += _table(
        ["lang", "pairs", "share of texts", "matched", "matched share"],
        [
            [
                escape(str(r["lang"])),
                f"{r['pairs']:,}",
                _pct(r["pairs"], total),
                f"{r['matched_pairs']:,}",
                _pct(r["matched_pairs"], r["pairs"]),
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
            f"{_num(section['t_en'])}</code> (English tail proportion p={p:.4f})</h3>"
        )
        html += _table(
            ["lang", "matches", "entries", "t", "tail proportion", "head entries"],
            [
                [
                    escape(str(r["lang"])),
                    f"{r['matches']:,}",
                    f"{r['entries']:,}",
                    _num(r["t"]),
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


def _coverage(report: Report) -> str:
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
    html = _table(["", ""], rows, left=(0, 1), raw=True, show_header=False)
    if c["top"]:
        html += "<h3>Top entries</h3>" + _table(
            ["entry_id", "entry", "count", "share", "cumulative"],
            [
                [
                    r["entry_id"],
                    _clip(r["entry"]),
                    f"{r['count']:,}",
                    _pct(r["share"], 1),
                    _pct(r["cumulative_share"], 1),
                ]
                for r in c["top"]
            ],
        )
    if c["never_examples"]:
        html += _details(
            f"First {len(c['never_examples'])} entries never matched",
            _table(["entry_id", "entry"], [[i, _clip(entry)] for i, entry in c["never_examples"]]),
        )
    if c["impossible_examples"]:
        html += _details(
            f"First {len(c['impossible_examples'])} entries that can never match",
            _table(
                ["entry_id", "entry", "why"],
                [[i, _clip(repr(entry)), reason] for i, entry, reason in c["impossible_examples"]],
            ),
        )
    return html


def _samples(report: Report) -> str:
    if not report.samples:
        return '<p class="muted">no extract outputs given: no texts to show</p>'
    html = (
        f'<p class="muted">From the pool\'s first rows (up to 200,000). Head: count &gt; '
        f"t={_num(report.main_t)}. Links go to the image URLs; nothing is loaded here.</p>"
    )
    for s in report.samples:
        html += (
            f"<h3>{escape(s['kind'])} entry {s['entry_id']}: {escape(_clip(s['entry']))} "
            f'<span class="muted">({s["count"]:,} texts)</span></h3>'
        )
        rows = [
            [_text_cell(x["text"]), escape(str(x["lang"])), _link(x["url"])] for x in s["texts"]
        ]
        html += _table(["text", "lang", "image"], rows, left=(0, 1, 2), raw=True)
    return html


def _provenance(report: Report) -> str:
    p = report.provenance
    rows = [
        ["metaclip-sql", escape(report.tool["metaclip-sql"])],
        ["DuckDB", escape(report.tool["duckdb"])],
        ["Python", escape(report.tool["python"])],
        ["extract files", f"{p['extract_files']:,} ({_bytes(p['extract_bytes'])})"],
        ["metadata", escape(p["metadata"] or "none")],
        ["metadata sha256", f"<code>{escape(p['metadata_sha256'] or '-')}</code>"],
        ["balance output", escape(p["balance_output"] or "none")],
        [
            "report sections (seconds)",
            escape(", ".join(f"{k} {v:g}" for k, v in report.seconds.items())),
        ],
    ]
    html = _table(["", ""], rows, left=(0, 1), raw=True, show_header=False)
    if p["listed_files"]:
        more = p["extract_files"] - len(p["listed_files"])
        html += _details(
            f"Extract files ({p['extract_files']:,})",
            _table(
                ["path", "bytes"],
                [[escape(f), f"{n:,}"] for f, n in p["listed_files"]],
                left=(0,),
                raw=True,
            )
            + (f'<p class="muted">... and {more:,} more</p>' if more > 0 else ""),
        )
    m = p["manifest"]
    if m:
        fields = [[escape(k), escape(_value(v))] for k, v in m["fields"].items()]
        fields += [[f"counts.{escape(k)}", escape(_value(v))] for k, v in m["counts"].items()]
        if m["seconds_total"] is not None:
            fields.append(["seconds", escape(_value(m["seconds_total"]))])
        meta = m["metadata"] or {}
        if isinstance(meta, dict) and meta.get("sha256"):
            fields.append(["metadata sha256", f"<code>{escape(str(meta['sha256']))}</code>"])
        fields.append(["inputs", f"{m['inputs']:,} ({_bytes(m['input_bytes'])})"])
        if m["same_inputs"] is not None:
            same = (
                '<span class="ok">yes</span>'
                if m["same_inputs"]
                else '<span class="bad">no: the pool given is not the one balanced</span>'
            )
            fields.append(["the extract files given are its inputs", same])
        if m["valid_uuids"]:
            fields.append(["--valid-uuids", escape(_value(m["valid_uuids"]))])
        html += "<h3>Balance manifest</h3>" + _table(
            ["", ""], fields, left=(0, 1), raw=True, show_header=False
        )
        if m["draw"]:
            html += f'<p class="muted">draw: {escape(str(m["draw"]))}</p>'
        if m["sql_files"]:
            html += _details(
                f"SQL files ({len(m['sql_files'])}) and their sha256",
                _table(
                    ["file", "sha256"],
                    [
                        [escape(k), f"<code>{escape(str(v))}</code>"]
                        for k, v in m["sql_files"].items()
                    ],
                    left=(0, 1),
                    raw=True,
                ),
            )
    return html


# --- helpers -----------------------------------------------------------------------------------


def _table(
    header: list[str],
    rows: list[list[Any]],
    left: tuple[int, ...] = (1,),
    *,
    raw: bool = False,
    raw_header: bool = False,
    show_header: bool = True,
) -> str:
    """Rows as an HTML table; cells are escaped unless `raw` (already HTML)."""

    def cls(i: int) -> str:
        return ' class="l"' if i in left else ""

    out = ["<table>"]
    if show_header:
        out.append(
            "<tr>"
            + "".join(
                f"<th{cls(i)}>{h if raw_header else escape(h)}</th>" for i, h in enumerate(header)
            )
            + "</tr>"
        )
    for row in rows:
        cells = []
        for i, c in enumerate(row):
            text = str(c) if raw else escape(str(c))
            if text.startswith('<td class="text">'):
                cells.append(text)
            else:
                cells.append(f"<td{cls(i)}>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{escape(summary)}</summary>{body}</details>"


def _text_cell(text: str | None) -> str:
    return f'<td class="text">{escape(_clip(text, MAX_TEXT))}</td>'


def _link(url: str | None) -> str:
    """An image URL as a link (http and https only, nothing loaded), else as text."""
    if not url:
        return ""
    shown = escape(_clip(url, 80))
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https") or len(url) > MAX_URL:
        return shown
    return f'<a href="{escape(url, quote=True)}" rel="noopener noreferrer nofollow">{shown}</a>'


def _clip(text: str | None, width: int = 40) -> str:
    if text is None:
        return "?"
    return text if len(text) <= width else text[: width - 1] + "…"


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _num(value: float) -> str:
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"


def _bytes(n: int) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def _value(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:g}" if math.isfinite(v) else str(v)
    if isinstance(v, list):
        return ", ".join(_value(x.get("path") if isinstance(x, dict) else x) for x in v[:10]) + (
            f" ... ({len(v)})" if len(v) > 10 else ""
        )
    return str(v)
