"""From one HTML page to its images' candidate texts (docs/algorithm.md, section 2).

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

from resiliparse.parse.encoding import detect_encoding
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
# Absolute http(s) URLs that urljoin() returns unchanged whatever the base: lower-case scheme,
# a host, none of the characters urlsplit() treats specially, and no empty query.
_ABSOLUTE_AS_IS = re.compile(r"https?://[^/\s?#;\[\]\\][^\s#;\[\]\\]*(?<!\?)\Z")
# Root-relative paths without dot segments, params, fragments or an empty query: urljoin()
# gives `scheme://netloc` of the base followed by the path as it is.
_ROOT_RELATIVE = re.compile(r"/(?!/)[^\s#;\\]*(?<!\?)\Z")
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|\?|\Z)")


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
    if _mostly_utf8(body):
        return body.decode("utf-8", "replace"), False
    for codec in declared:
        if codec != "utf-8":
            try:
                return body.decode(codec), False
            except UnicodeDecodeError:
                continue
    return _decode_detected(body), True


def _mostly_utf8(body: bytes) -> bool:
    """UTF-8 with a few stray bytes: more valid multi-byte characters than invalid bytes.

    Text in a single-byte charset almost never forms valid UTF-8 sequences, so a page with more
    of them than errors is UTF-8 with damage, better kept as UTF-8 than garbled by detection.
    """
    text = body.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    multibyte = len(text) - bad - len(text.encode("ascii", "ignore"))
    return multibyte >= bad


def _decode_detected(body: bytes) -> str:
    """Decode with the charset uchardet detects (via resiliparse, tuned for web archives);
    cp1252 with replacement is the last resort."""
    codec = python_codec(detect_encoding(body[:_DETECT_BYTES]))
    return body.decode(codec or "cp1252", "replace")


def clean_text(value: object) -> str:
    """A text as MetaCLIP keeps it: newlines become spaces (both readers), then stripped."""
    if not value or not isinstance(value, str):
        return ""
    if "\n" in value or "\r" in value:
        value = value.replace("\r", " ").replace("\n", " ")
    return value.strip()


def url_root(base: str | None) -> str | None:
    """`scheme://netloc` of an http(s) base, the prefix root-relative paths join onto."""
    if not base:
        return None
    try:
        parts = urlsplit(base)
    except ValueError:
        return None
    if parts.scheme in _HTTP_SCHEMES and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def resolve_url(
    base: str | None, src: str, counts: PageCounts, root: str | None = None
) -> str | None:
    """`src` resolved against `base` exactly as `urljoin` does; None (and counted) when it
    cannot be resolved or is not http(s). `root` is `url_root(base)`, passed to save work."""
    src = src.strip()
    if src[:5].lower() == "data:" and src[5:6].isalnum() and (base is None or root is not None):
        # an inline image (lazy-loading placeholders: a quarter of a page's srcs on some
        # sites): urljoin() returns it as is and its scheme is not http(s). Only with a base
        # urlsplit() accepts (`root` is its proof) and no `//` after the scheme, where
        # urljoin() would raise and the src count as unresolvable instead.
        counts.non_http_urls += 1
        return None
    if src.isascii():
        # Two common shapes whose urljoin() result is known without parsing (tests check it).
        if _ABSOLUTE_AS_IS.match(src):
            return src
        if root is not None:
            if _ROOT_RELATIVE.match(src) and not _DOT_SEGMENT.search(src):
                return root + src
            if src.startswith("//") and _ABSOLUTE_AS_IS.match(
                url := root[: root.index(":") + 1] + src
            ):
                return url
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
    """The URL relative `src` values resolve against: `<base href>` in the head over the page URL.

    (A `<base>` misplaced in the body is ignored: finding it costs a walk of the whole tree.)
    """
    head = tree.head
    node = head.css_first("base[href]") if head is not None else None
    href = node.attrs.get("href") if node is not None else None
    if not href or not href.strip():
        return page_url
    try:
        return urljoin(page_url, href.strip()) if page_url else href.strip()
    except ValueError:
        return page_url


def image_texts(
    body: bytes, page_url: str | None, http_charset: str | None, counts: PageCounts
) -> list[tuple[str, str, str]]:
    """(image url, text key, text) for every `<img>` text of a page, in document order.

    Fast path: Lexbor parses the bytes as UTF-8 directly. Only when a value we keep comes out
    with U+FFFD (the bytes were not UTF-8 there) is the page decoded properly and parsed again;
    for ASCII-compatible charsets the values that have no U+FFFD are the same either way.
    """
    if _decode_first(body, http_charset):
        html, detected = decode_html(body, http_charset)
        counts.decoded_by_detection += detected
        return _collect(LexborHTMLParser(html), page_url, counts)[0]
    first = PageCounts()
    found, suspicious = _collect(LexborHTMLParser(body), page_url, first)
    if not suspicious:
        _add_counts(counts, first)
        return found
    html, detected = decode_html(body, http_charset)
    counts.decoded_by_detection += detected
    return _collect(LexborHTMLParser(html), page_url, counts)[0]


def _decode_first(body: bytes, http_charset: str | None) -> bool:
    """BOMs, non-ASCII-compatible charsets and ISO-2022 escapes cannot be parsed as UTF-8."""
    if body[:3] == codecs.BOM_UTF8 or body[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return True
    codec = python_codec(http_charset)
    return (codec is not None and codec.startswith(_NOT_ASCII_COMPATIBLE)) or b"\x1b" in body


def _add_counts(total: PageCounts, page: PageCounts) -> None:
    total.img_tags += page.img_tags
    total.non_http_urls += page.non_http_urls
    total.unresolvable_urls += page.unresolvable_urls


def _collect(
    tree: LexborHTMLParser, page_url: str | None, counts: PageCounts
) -> tuple[list[tuple[str, str, str]], bool]:
    """The page's (url, key, text) triples and whether any kept value holds U+FFFD."""
    imgs = tree.tags("img")
    if not imgs:
        return [], False
    base = page_base(tree, page_url)
    root = url_root(base)
    suspicious = base is not None and "\ufffd" in base
    found: list[tuple[str, str, str]] = []
    alt_key, title_key, data_key = TEXT_KEYS
    for node in imgs:
        counts.img_tags += 1
        attrs = node.attributes
        src = attrs.get("src")
        if src is None:
            continue
        alt = clean_text(attrs.get(alt_key))
        title = clean_text(attrs.get(title_key))
        data = clean_text(attrs.get(data_key))
        if not (alt or title or data):
            continue
        url = resolve_url(base, src, counts, root)
        if url is None:
            continue
        for key, text in ((alt_key, alt), (title_key, title), (data_key, data)):
            if text:
                found.append((url, key, text))
                suspicious = suspicious or "\ufffd" in text
        suspicious = suspicious or "\ufffd" in url
    return found, suspicious
