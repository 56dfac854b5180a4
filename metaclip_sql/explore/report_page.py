"""The report as one self-contained HTML page: inline CSS, charts as inline SVG, no script.

Nothing is loaded from anywhere: a Content-Security-Policy allows only the page's own inline
style, so even a link target or a text from the pool cannot make the browser fetch anything.
Image URLs are plain links (http and https only; nothing is loaded); every string from the
pool, the metadata or the manifest is escaped. `render_report` draws a `Report` (`report`
gathers it) with the sections of `report_pool` and `report_run`; `write_report` does both and
writes the file.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from metaclip_sql.explore.report import Report, build_report
from metaclip_sql.explore.report_pool import (
    coverage_section,
    distribution_section,
    glance_section,
    languages_section,
    samples_section,
)
from metaclip_sql.explore.report_run import (
    balance_section,
    provenance_section,
    survival_section,
)

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


@dataclass(frozen=True)
class ReportResult:
    """The page written: its path, size in bytes and the seconds it took."""

    path: Path
    bytes: int
    seconds: float


def write_report(
    data: Sequence[str | Path],
    out: str | Path = "report.html",
    metadata: str | Path | None = None,
    ts: Sequence[float] = (),
    *,
    lang: str | None = None,
    t_en: float | None = None,
    survival: float | None = None,
    unit: str | None = None,
    top: int = 20,
    samples: int = 3,
) -> ReportResult:
    """Build the report over `data` and write it as one HTML file at `out`."""
    started = time.perf_counter()
    report = build_report(
        data,
        metadata,
        ts,
        lang=lang,
        t_en=t_en,
        survival=survival,
        unit=unit,
        top=top,
        samples=samples,
    )
    html = render_report(report)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return ReportResult(path, path.stat().st_size, time.perf_counter() - started)


def render_report(report: Report) -> str:
    """The whole page as a string."""
    sections = [
        ("glance", "The pool at a glance", glance_section(report)),
        ("distribution", "Entry counts and thresholds", distribution_section(report)),
    ]
    if report.balance is not None:
        sections.append(("balance", "The balance output", balance_section(report)))
    if report.survival:
        sections.append(("survival", "Planning t before download", survival_section(report)))
    sections += [
        ("languages", "Languages", languages_section(report)),
        ("coverage", "Metadata coverage", coverage_section(report)),
        ("samples", "Sample texts", samples_section(report)),
        ("provenance", "Inputs, versions and hashes", provenance_section(report)),
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
