"""From one HTML page to its images' candidate texts (ALGORITHM.md section 1).

Decoding: a BOM wins; otherwise bytes that are valid UTF-8 are UTF-8 (the common case on the
web, and a strong signal even where a page declares otherwise); otherwise the charset from the
HTTP header or `<meta>` is tried strictly; when that fails too (real crawls have many wrong
declarations) the charset is detected, so text is not turned into U+FFFD. Parsing is
selectolax's Lexbor. Image URLs are `src` resolved against `<base href>` and the page URL;
only http(s) URLs are kept.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from metaclip_sql.schema import TEXT_KEYS

_META_CHARSET = re.compile(rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
_SNIFF_BYTES = 4096
_DETECT_BYTES = 1 << 16
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# WHATWG encoding labels whose meaning differs from Python's codec of the same name.
_WHATWG = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "euc-kr": "cp949",
    "big5": "big5hkscs",
    "x-user-defined": "cp1252",
}
_NOT_ASCII_COMPATIBLE = ("utf_16", "utf_32", "utf_7", "iso2022", "hz")
_HTTP_SCHEMES = ("http", "https")


@dataclass(slots=True)
class PageCounts:
    """What one page yielded, for the shard's statistics."""

    img_tags: int = 0
    non_http_urls: int = 0
    unresolvable_urls: int = 0
    decoded_by_detection: int = 0
    notes: list[str] = field(default_factory=list)


def python_codec(label: str | None) -> str | None:
    """Python codec name for a charset label, with WHATWG's meanings; None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _WHATWG.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def meta_charset(body: bytes) -> str | None:
    """The charset a `<meta>` tag declares in the first 4 KB, if any."""
    match = _META_CHARSET.search(body, 0, _SNIFF_BYTES)
    return match.group(1).decode("ascii", "ignore") if match else None


def decode_html(body: bytes, http_charset: str | None = None) -> tuple[bytes | str, bool]:
    """The page as UTF-8 bytes (fast path) or str, and whether detection had to decide."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, "replace"), False
    declared = [c for c in (python_codec(http_charset), python_codec(meta_charset(body))) if c]
    for codec in declared:
        if codec.startswith(_NOT_ASCII_COMPATIBLE):
            try:
                return body.decode(codec), False
            except UnicodeDecodeError:
                break
    try:
        body.decode("utf-8")
        return body, False
    except UnicodeDecodeError:
        pass
    for codec in declared:
        if codec != "utf-8":
            try:
                return body.decode(codec), False
            except UnicodeDecodeError:
                continue
    return _decode_detected(body), True


def _decode_detected(body: bytes) -> str:
    """Decode with a detected charset; cp1252 with replacement is the last resort."""
    from charset_normalizer import from_bytes  # imported lazily: rarely needed

    best = from_bytes(body[:_DETECT_BYTES]).best()
    codec = python_codec(best.encoding) if best is not None else None
    return body.decode(codec or "cp1252", "replace")


def clean_text(value: object) -> str:
    """A text as MetaCLIP keeps it: newlines become spaces (both readers), then stripped."""
    if not value or not isinstance(value, str):
        return ""
    if "\n" in value or "\r" in value:
        value = value.replace("\r", " ").replace("\n", " ")
    return value.strip()


def resolve_url(base: str | None, src: str, counts: PageCounts) -> str | None:
    """`src` resolved against `base`; None (and counted) when unresolvable or not http(s)."""
    src = src.strip()
    if not src:
        counts.unresolvable_urls += 1
        return None
    try:
        url = urljoin(base, src) if base else src
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        counts.unresolvable_urls += 1
        return None
    if scheme in _HTTP_SCHEMES:
        return url
    if scheme:
        counts.non_http_urls += 1
    else:
        counts.unresolvable_urls += 1
    return None


def page_base(tree: LexborHTMLParser, page_url: str | None) -> str | None:
    """The URL relative `src` values resolve against: `<base href>` over the page URL."""
    base = tree.css_first("base[href]")
    href = base.attrs.get("href") if base is not None else None
    if not href or not href.strip():
        return page_url
    try:
        return urljoin(page_url, href.strip()) if page_url else href.strip()
    except ValueError:
        return page_url


def image_texts(
    body: bytes, page_url: str | None, http_charset: str | None, counts: PageCounts
) -> list[tuple[str, str, str]]:
    """(image url, text key, text) for every `<img>` text of a page, in document order."""
    html, detected = decode_html(body, http_charset)
    counts.decoded_by_detection += detected
    tree = LexborHTMLParser(html)
    imgs = tree.css("img")
    if not imgs:
        return []
    base = page_base(tree, page_url)
    found: list[tuple[str, str, str]] = []
    for node in imgs:
        counts.img_tags += 1
        attrs = node.attributes
        src = attrs.get("src")
        if src is None:
            continue
        texts = [(key, clean_text(attrs.get(key))) for key in TEXT_KEYS]
        texts = [(key, text) for key, text in texts if text]
        if not texts:
            continue
        url = resolve_url(base, src, counts)
        if url is None:
            continue
        found.extend((url, key, text) for key, text in texts)
    return found
