"""From one WAT metadata record to its images' candidate texts (docs/algorithm.md, section 2).

Common Crawl's WAT lists a page's links under `Envelope.Payload-Metadata.HTTP-Response-Metadata
.HTML-Metadata.Links`; a link whose `path` starts with `IMG@/src` is an image, its texts are the
link's `alt`, `title` and `data-image-title` keys. URLs resolve like the HTML reader's (against
`Head.Base` when the page had one, else the page URL).

The JSON is parsed with orjson (measured: 1.9x faster than `json` on Common Crawl's layout, and
faster than simdjson's lazy parser when the links are walked). What orjson refuses and `json`
reads (NaN, numbers past a double, a BOM, UTF-16, lone surrogate escapes) is parsed again with
`json`, so a record gives what it always gave; only a kept text or URL holding a lone surrogate
(which no Parquet writer can hold) fails its record, reported, instead of the shard.
"""

from __future__ import annotations

import json

import orjson

from metaclip_sql.extract.html import PageCounts, clean_text, resolve_url, url_root
from metaclip_sql.schema import TEXT_KEYS


def wat_image_texts(
    body: bytes, page_url: str | None, counts: PageCounts
) -> tuple[list[tuple[str, str, str]], bool]:
    """(image url, text key, text) of every image link, and whether it was a response page."""
    try:
        doc = orjson.loads(body)
        checked = True  # orjson gives no lone surrogates
    except orjson.JSONDecodeError:
        doc = json.loads(body)  # raises as it always did on what is not JSON at all
        checked = False
    envelope = doc.get("Envelope") or {}
    response = (envelope.get("Payload-Metadata") or {}).get("HTTP-Response-Metadata")
    if not isinstance(response, dict):
        return [], False
    html = response.get("HTML-Metadata") or {}
    page_url = page_url or (envelope.get("WARC-Header-Metadata") or {}).get("WARC-Target-URI")
    base = (html.get("Head") or {}).get("Base") or page_url
    if base and page_url and base != page_url:
        base = resolve_url(page_url, base, PageCounts()) or page_url
    root = url_root(base) if isinstance(base, str) else None
    found: list[tuple[str, str, str]] = []
    alt_key, title_key, data_key = TEXT_KEYS
    for link in html.get("Links") or ():
        path = link.get("path", "")
        # str(path) of anything but a str never starts with "IMG@": only str paths qualify
        if path.__class__ is not str or not path.startswith("IMG@/src") or not link.get("url"):
            continue
        counts.img_tags += 1
        alt = clean_text(link.get(alt_key))
        title = clean_text(link.get(title_key))
        data = clean_text(link.get(data_key))
        if not (alt or title or data):
            continue
        url = resolve_url(base, link["url"], counts, root)
        if url is None:
            continue
        if alt:
            found.append((url, alt_key, alt))
        if title:
            found.append((url, title_key, title))
        if data:
            found.append((url, data_key, data))
    if not checked:
        for url, _, text in found:
            url.encode()  # UnicodeEncodeError on a lone surrogate: the record is reported
            text.encode()
    return found, True
