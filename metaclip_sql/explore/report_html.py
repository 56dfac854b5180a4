"""The report page's building blocks: tables, folded details, text cells and links, and the
number formats the sections share. Every string from the pool, the metadata or the manifest goes
through `escape` here (or in the section that builds it): image URLs are plain links, http and
https only, so nothing is loaded.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any
from urllib.parse import urlsplit

#: Longest text shown (characters) and longest URL made a link.
MAX_TEXT, MAX_URL = 300, 2048


def table(
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


def details(summary: str, body: str) -> str:
    """A folded block: `summary` (escaped) shown, `body` (HTML) on a click."""
    return f"<details><summary>{escape(summary)}</summary>{body}</details>"


def text_cell(text: str | None) -> str:
    """A table cell for a text from the pool: escaped, clipped to MAX_TEXT, wrapping."""
    return f'<td class="text">{escape(clip(text, MAX_TEXT))}</td>'


def link(url: str | None) -> str:
    """An image URL as a link (http and https only, nothing loaded), else as text."""
    if not url:
        return ""
    shown = escape(clip(url, 80))
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https") or len(url) > MAX_URL:
        return shown
    return f'<a href="{escape(url, quote=True)}" rel="noopener noreferrer nofollow">{shown}</a>'


def clip(text: str | None, width: int = 40) -> str:
    """`text` cut to `width` characters with an ellipsis (`?` for None); not escaped."""
    if text is None:
        return "?"
    return text if len(text) <= width else text[: width - 1] + "…"


def pct(part: float, whole: float) -> str:
    """`part` as a percentage of `whole`, one decimal (`-` when `whole` is 0)."""
    return f"{100 * part / whole:.1f}%" if whole else "-"


def num(value: float) -> str:
    """A threshold or count: thousands separated, one decimal unless whole."""
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"


def byte_size(n: int) -> str:
    """A size in bytes as B, kB, MB or GB (powers of 1000)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def value_text(v: Any) -> str:
    """A manifest value on one line: `-` for None, floats short, lists of at most 10 (paths
    of dicts), anything else as `str`."""
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:g}" if math.isfinite(v) else str(v)
    if isinstance(v, list):
        return ", ".join(
            value_text(x.get("path") if isinstance(x, dict) else x) for x in v[:10]
        ) + (f" ... ({len(v)})" if len(v) > 10 else "")
    return str(v)
