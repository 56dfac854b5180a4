"""The report's sections about a run: the balance output (kept against expected), the survival
plan, and the inputs, versions and hashes (provenance), each a function of the `Report`
returning its HTML."""

from __future__ import annotations

from html import escape

from metaclip_sql.explore.report import Report
from metaclip_sql.explore.report_html import byte_size, clip, details, num, table, value_text
from metaclip_sql.explore.report_svg import PALETTE, RefLine, Series, loglog_chart


def balance_section(report: Report) -> str:
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
    html += table(["", "pairs"], rows, left=(0,), raw=True)
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
            [RefLine("y", b["t"], f"t={num(b['t'])}")],
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
                clip(p["entry"]),
                f"{p['count']:,}",
                f"{p['prob']:.4f}" if p["prob"] is not None else "-",
                "-" if p["kept"] is None else f"{p['kept']:,}",
                "-" if p["expected_kept"] is None else f"{p['expected_kept']:,.1f}",
            ]
            for p in points[:20]
        ]
        html += "<h3>The largest entries</h3>" + table(
            ["entry_id", "entry", "count", "prob", "kept", "expected kept"], rows
        )
    return html


def survival_section(report: Report) -> str:
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
            f"<h3>target t={num(plan.t)}: curate with t={num(plan.t_before)} now</h3>"
            f"<p>{plan.head_entries:,} head entries to fill; every image downloaded would "
            f"give {plan.expected_pairs_ideal:,.0f} pairs.</p>"
        )
        rows = [
            [
                num(r.t_before),
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
        html += table(
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


def provenance_section(report: Report) -> str:
    p = report.provenance
    rows = [
        ["metaclip-sql", escape(report.tool["metaclip-sql"])],
        ["DuckDB", escape(report.tool["duckdb"])],
        ["Python", escape(report.tool["python"])],
        ["extract files", f"{p['extract_files']:,} ({byte_size(p['extract_bytes'])})"],
        ["metadata", escape(p["metadata"] or "none")],
        ["metadata sha256", f"<code>{escape(p['metadata_sha256'] or '-')}</code>"],
        ["balance output", escape(p["balance_output"] or "none")],
        [
            "report sections (seconds)",
            escape(", ".join(f"{k} {v:g}" for k, v in report.seconds.items())),
        ],
    ]
    html = table(["", ""], rows, left=(0, 1), raw=True, show_header=False)
    if p["listed_files"]:
        more = p["extract_files"] - len(p["listed_files"])
        html += details(
            f"Extract files ({p['extract_files']:,})",
            table(
                ["path", "bytes"],
                [[escape(f), f"{n:,}"] for f, n in p["listed_files"]],
                left=(0,),
                raw=True,
            )
            + (f'<p class="muted">... and {more:,} more</p>' if more > 0 else ""),
        )
    m = p["manifest"]
    if m:
        fields = [[escape(k), escape(value_text(v))] for k, v in m["fields"].items()]
        fields += [[f"counts.{escape(k)}", escape(value_text(v))] for k, v in m["counts"].items()]
        if m["seconds_total"] is not None:
            fields.append(["seconds", escape(value_text(m["seconds_total"]))])
        meta = m["metadata"] or {}
        if isinstance(meta, dict) and meta.get("sha256"):
            fields.append(["metadata sha256", f"<code>{escape(str(meta['sha256']))}</code>"])
        fields.append(["inputs", f"{m['inputs']:,} ({byte_size(m['input_bytes'])})"])
        if m["same_inputs"] is not None:
            same = (
                '<span class="ok">yes</span>'
                if m["same_inputs"]
                else '<span class="bad">no: the pool given is not the one balanced</span>'
            )
            fields.append(["the extract files given are its inputs", same])
        if m["valid_uuids"]:
            fields.append(["--valid-uuids", escape(value_text(m["valid_uuids"]))])
        html += "<h3>Balance manifest</h3>" + table(
            ["", ""], fields, left=(0, 1), raw=True, show_header=False
        )
        if m["draw"]:
            html += f'<p class="muted">draw: {escape(str(m["draw"]))}</p>'
        if m["sql_files"]:
            html += details(
                f"SQL files ({len(m['sql_files'])}) and their sha256",
                table(
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
