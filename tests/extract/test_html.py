"""HTML decoding, image texts and URL resolution, each against a slow obviously-right version."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from metaclip_sql.extract.html import PageCounts, decode_html, image_texts, resolve_url, url_root
from tests.helpers.data import REAL_PAGES, require
from tests.helpers.oracles import slow_kind, slow_resolve


def _texts(html: bytes, url: str | None = "https://ex.org/a/page.html", charset=None):
    return image_texts(html, url, charset, PageCounts())


def test_texts_keys_order_and_cleaning() -> None:
    html = (
        b'<img src="/x.jpg" alt=" A dog\nrunning " title="Title" data-image-title="DIT">'
        b'<img src="/empty.jpg" alt="   "><img alt="no src"><img src="/t.jpg" title="only title">'
    )
    assert _texts(html) == [
        ("https://ex.org/x.jpg", "alt", "A dog running"),
        ("https://ex.org/x.jpg", "title", "Title"),
        ("https://ex.org/x.jpg", "data-image-title", "DIT"),
        ("https://ex.org/t.jpg", "title", "only title"),
    ]


def test_entities_are_decoded() -> None:
    assert _texts(b'<img src="a.png" alt="Escudo d&#39;armas &amp; more">')[0][2] == (
        "Escudo d'armas & more"
    )


def test_base_href_and_non_http_urls() -> None:
    counts = PageCounts()
    html = (
        b'<html><head><base href="https://cdn.ex.org/static/"></head><body>'
        b'<img src="i/1.png" alt="one"><img src="data:image/gif;base64,AAAA" alt="two">'
        b'<img src="javascript:void(0)" alt="three"><img src="ed2k://|file|x|" alt="four">'
        b'<img src="//other.org/5.png" alt="five"></body></html>'
    )
    found = image_texts(html, "http://ex.org/p/", None, counts)
    assert found == [
        ("https://cdn.ex.org/static/i/1.png", "alt", "one"),
        ("https://other.org/5.png", "alt", "five"),
    ]
    assert counts.non_http_urls == 3 and counts.img_tags == 5


def test_wrongly_declared_charset_is_detected_not_replaced() -> None:
    page = "<html><body><img src='/c.jpg' alt='Un café à Paris, déjà vu'></body></html>"
    found = _texts(page.encode("cp1252"), charset="utf-8")
    assert found[0][2] == "Un café à Paris, déjà vu"


def test_meta_and_header_charsets_and_boms() -> None:
    cyrillic = "<meta charset='windows-1251'><img src='/k.jpg' alt='Кошка на диване'>"
    assert _texts(cyrillic.encode("cp1251"))[0][2] == "Кошка на диване"
    jp = "<img src='/f.jpg' alt='富士山の写真'>"
    assert _texts(jp.encode("shift_jis"), charset="shift_jis")[0][2] == "富士山の写真"
    assert _texts(jp.encode("iso2022_jp"), charset="iso-2022-jp")[0][2] == "富士山の写真"
    assert _texts(jp.encode("utf-16"))[0][2] == "富士山の写真"  # BOM
    assert _texts(b"\xef\xbb\xbf" + jp.encode("utf-8"))[0][2] == "富士山の写真"


def test_valid_utf8_wins_over_a_wrong_declaration() -> None:
    page = "<meta charset='iso-8859-1'><img src='/c.jpg' alt='naïve café'>".encode()
    assert _texts(page)[0][2] == "naïve café"
    assert decode_html(page, "iso-8859-1") == (page, False)


def test_page_without_url_keeps_absolute_images_only() -> None:
    counts = PageCounts()
    html = b'<img src="/rel.png" alt="rel"><img src="https://ex.org/abs.png" alt="abs">'
    assert image_texts(html, None, None, counts) == [("https://ex.org/abs.png", "alt", "abs")]
    assert counts.unresolvable_urls == 1


def test_fast_decoding_path_equals_decode_then_parse_on_real_pages() -> None:
    """The UTF-8 fast path must give what decoding every page first would."""
    path = str(require(REAL_PAGES))
    pages = 0
    for rec in ArchiveIterator(path, record_types=WarcRecordType.response, fsspec_args=False):
        body, url = rec.reader.read(), rec.headers.get("WARC-Target-URI")
        html, _ = decode_html(body, None)
        tree = LexborHTMLParser(html)
        slow = []
        for node in tree.css("img"):
            src = node.attributes.get("src")
            if src is None:
                continue
            for key in ("alt", "title", "data-image-title"):
                text = (node.attributes.get(key) or "").replace("\r", " ").replace("\n", " ")
                resolved = slow_resolve(_base(tree, url), src)
                if text.strip() and resolved:
                    slow.append((resolved, key, text.strip()))
        assert _texts(body, url) == slow, url
        pages += 1
    assert pages == 311


def _base(tree: LexborHTMLParser, url: str | None) -> str | None:
    head = tree.head
    node = head.css_first("base[href]") if head is not None else None
    href = (node.attributes.get("href") or "").strip() if node is not None else ""
    return urljoin(url, href) if href and url else (href or url)


def test_resolve_url_equals_urljoin_on_real_srcs() -> None:
    path = str(require(REAL_PAGES))
    checked = 0
    for rec in ArchiveIterator(path, record_types=WarcRecordType.response, fsspec_args=False):
        base = rec.headers.get("WARC-Target-URI")
        tree = LexborHTMLParser(rec.reader.read())
        for node in tree.css("img"):
            src = node.attributes.get("src")
            if src is not None:
                got = resolve_url(base, src, PageCounts(), url_root(base))
                assert got == slow_resolve(base, src), (base, src)
                checked += 1
    assert checked > 5000


_URL_CHARS = st.sampled_from(
    [
        *"/.?#;:@[]%ab0 \t\\é",
        "//",
        "..",
        "http://",
        "https://",
        "data:",
        "DaTa:",
        "data:image",
        "javascript:",
        "\n",
    ]
)


@settings(max_examples=2000, deadline=None)
@given(
    base=st.sampled_from(
        [
            "https://ex.org/a/b.html",
            "http://Ex.org:8080/a/",
            "https://ex.org",
            "ftp://x/y",
            "",
        ]
    ),
    src=st.lists(_URL_CHARS, max_size=12).map("".join),
)
def test_resolve_url_equals_urljoin_on_generated_srcs(base: str, src: str) -> None:
    base_or_none = base or None
    counts = PageCounts()
    got = resolve_url(base_or_none, src, counts, url_root(base_or_none))
    assert got == slow_resolve(base_or_none, src)
    kind = {(0, 0): "kept", (1, 0): "non_http", (0, 1): "unresolvable"}[
        (counts.non_http_urls, counts.unresolvable_urls)
    ]
    assert kind == slow_kind(base_or_none, src)


@pytest.mark.parametrize("base", ["http://[::1/x", "http://a.com]/", "https://ex.org/p", None])
@pytest.mark.parametrize("src", ["data:image/gif;base64,AA", "DATA:image/png", "data:\t//[x"])
def test_data_srcs_count_as_urljoin_would(base: str | None, src: str) -> None:
    """A `data:` src is non-http, unless urljoin() would raise (a base urlsplit() refuses, a
    `//` after the scheme): then it is unresolvable."""
    counts = PageCounts()
    assert resolve_url(base, src, counts, url_root(base)) is None
    kind = "non_http" if counts.non_http_urls else "unresolvable"
    assert kind == slow_kind(base, src)
