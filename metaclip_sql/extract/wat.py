"""From one WAT metadata record to its images' candidate texts (docs/algorithm.md, section 2).

Common Crawl's WAT lists a page's links under `Envelope.Payload-Metadata.HTTP-Response-Metadata
.HTML-Metadata.Links`; a link whose `path` starts with `IMG@/src` is an image, its texts are the
link's `alt`, `title` and `data-image-title` keys. URLs resolve like the HTML reader's (against
`Head.Base` when the page had one, else the page URL).
"""

from __future__ import annotations

import json

from metaclip_sql.extract.html import PageCounts, clean_text, resolve_url
from metaclip_sql.schema import TEXT_KEYS


def wat_image_texts(
    body: bytes, page_url: str | None, counts: PageCounts
) -> tuple[list[tuple[str, str, str]], bool]:
    """(image url, text key, text) of every image link, and whether it was a response page."""
    envelope = json.loads(body).get("Envelope") or {}
    response = (envelope.get("Payload-Metadata") or {}).get("HTTP-Response-Metadata")
    if not isinstance(response, dict):
        return [], False
    html = response.get("HTML-Metadata") or {}
    page_url = page_url or (envelope.get("WARC-Header-Metadata") or {}).get("WARC-Target-URI")
    base = (html.get("Head") or {}).get("Base") or page_url
    if base and page_url and base != page_url:
        base = resolve_url(page_url, base, PageCounts()) or page_url
    found: list[tuple[str, str, str]] = []
    for link in html.get("Links") or ():
        if not str(link.get("path", "")).startswith("IMG@/src") or not link.get("url"):
            continue
        counts.img_tags += 1
        texts = [(key, clean_text(link.get(key))) for key in TEXT_KEYS]
        texts = [(key, text) for key, text in texts if text]
        if not texts:
            continue
        url = resolve_url(base, link["url"], counts)
        if url is not None:
            found.extend((url, key, text) for key, text in texts)
    return found, True
