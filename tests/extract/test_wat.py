"""WAT records to image texts: the fast reader against a slow, obviously-right restatement."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metaclip_sql.extract.html import PageCounts
from metaclip_sql.extract.lid import LanguageId
from metaclip_sql.extract.shard import ExtractOptions, extract_shard
from metaclip_sql.extract.wat import wat_image_texts
from metaclip_sql.metadata.matching import Matcher
from tests.helpers.oracles import slow_resolve
from tests.helpers.wat import wat_member


def _clean(value: object) -> str:
    if not isinstance(value, str):
        return ""
    return value.replace("\r", " ").replace("\n", " ").strip()


def _slow(body: bytes, page_url: str | None) -> tuple[list[tuple[str, str, str]], bool]:
    """docs/algorithm.md section 2, with `json` and no shortcut."""
    envelope = json.loads(body).get("Envelope") or {}
    response = (envelope.get("Payload-Metadata") or {}).get("HTTP-Response-Metadata")
    if not isinstance(response, dict):
        return [], False
    html = response.get("HTML-Metadata") or {}
    page_url = page_url or (envelope.get("WARC-Header-Metadata") or {}).get("WARC-Target-URI")
    base = (html.get("Head") or {}).get("Base") or page_url
    if base and page_url and base != page_url:
        base = slow_resolve(page_url, base) or page_url
    found = []
    for link in html.get("Links") or ():
        if not str(link.get("path", "")).startswith("IMG@/src") or not link.get("url"):
            continue
        texts = [(k, _clean(link.get(k))) for k in ("alt", "title", "data-image-title")]
        texts = [(k, t) for k, t in texts if t]
        url = slow_resolve(base, link["url"]) if texts else None
        if url is not None:
            found.extend((url, k, t) for k, t in texts)
    return found, True


_text = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["a dog\nrunning", "  ", 7]))
_src = st.one_of(
    st.sampled_from(
        ["/i/a.jpg", "b.png", "../c.gif", "//cdn.ex.org/d.jpg", "https://x.org/e.jpg",
         "data:image/gif;base64,AA", "javascript:void(0)", " /sp ace.jpg ", "http://[bad/",
         "/./dot/../seg.jpg", "", "ünï.jpg"]
    ),
    st.text(max_size=10),
)  # fmt: skip
_link = st.fixed_dictionaries(
    {"path": st.sampled_from(["IMG@/src", "A@/href", "IMG@/srcset", "LINK@/href", 3])},
    optional={"url": _src, "alt": _text, "title": _text, "data-image-title": _text},
)
_doc = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["response", "request", "metadata"]),
        "page": st.sampled_from(["https://ex.org/a/p.html", "http://ex.org/", None]),
        "base": st.sampled_from([None, "/static/", "https://cdn.ex.org/b/", "ftp://x/", ""]),
        "links": st.lists(_link, max_size=8),
    }
)


def _body(doc: dict) -> bytes:
    head = {"Base": doc["base"]} if doc["base"] is not None else {}
    meta = {"HTML-Metadata": {"Head": head, "Links": doc["links"]}}
    payload = {
        "response": {"HTTP-Response-Metadata": meta},
        "request": {"HTTP-Request-Metadata": {"Headers": {}}},
        "metadata": {"WARC-Metadata-Metadata": {}},
    }[doc["kind"]]
    header = {"WARC-Type": doc["kind"], "WARC-Target-URI": doc["page"]}
    return json.dumps({"Envelope": {"WARC-Header-Metadata": header, "Payload-Metadata": payload}})


@settings(max_examples=400, deadline=None)
@given(_doc, st.booleans())
def test_equals_the_slow_reader(doc: dict, from_header: bool) -> None:
    body = _body(doc).encode()
    page_url = doc["page"] if from_header else None
    assert wat_image_texts(body, page_url, PageCounts()) == _slow(body, page_url)


def test_what_is_not_json_raises_as_json_does() -> None:
    """Damaged records are reported (extract's "page not parsed"), whatever their kind."""
    with pytest.raises(json.JSONDecodeError):
        wat_image_texts(b'{"Envelope": {not json', None, PageCounts())


def _response(extra: str = "", alt: str = "cat") -> str:
    doc = {"kind": "response", "page": "https://ex.org/p", "base": None,
           "links": [{"path": "IMG@/src", "url": "/a.jpg", "alt": "ALT"}]}  # fmt: skip
    body = _body(doc).replace('"ALT"', json.dumps(alt))
    return body[:-1] + extra + "}"


@pytest.mark.parametrize(
    "body",
    [
        _response(', "z": NaN').encode(),  # json reads these; orjson does not
        _response(', "z": -Infinity').encode(),
        _response(', "z": 1e400').encode(),
        b"\xef\xbb\xbf" + _response().encode(),  # a UTF-8 BOM
        _response().encode("utf-16"),
        _response(', "title": "a \\udc80 b"').encode(),  # a surrogate where no text is kept
        _response().replace("HTTP-Response-Metadata", "HTTP-Response\\u002dMetadata").encode(),
    ],
)
def test_what_json_reads_gives_the_same_rows(body: bytes) -> None:
    assert wat_image_texts(body, None, PageCounts()) == _slow(body, None) != ([], False)


def test_lone_surrogate_in_a_kept_text_fails_the_record_not_the_shard() -> None:
    """`json` would give a str that cannot be written to Parquet (the whole shard would fail);
    the record is refused instead, and extract reports it as not parsed."""
    body = _response(alt="bad \udc80 text").encode()
    assert "\\udc80" in body.decode()
    with pytest.raises(UnicodeEncodeError):
        wat_image_texts(body, None, PageCounts())


def test_a_refused_record_is_reported_and_the_shard_goes_on(tmp_path) -> None:
    def page(url: str, alt: str) -> str:
        links = [{"path": "IMG@/src", "url": "/a.jpg", "alt": "PLACEHOLDER"}]
        doc = {"kind": "response", "page": url, "base": None, "links": links}
        return _body(doc).replace("PLACEHOLDER", alt)

    bad = wat_member("https://ex.org/1", page("https://ex.org/1", "a cat \\udc80").encode())
    good = wat_member("https://ex.org/2", page("https://ex.org/2", "a cat on a sofa").encode())
    request_doc = {"kind": "request", "page": "https://ex.org/2", "base": None, "links": []}
    request = wat_member("https://ex.org/2", _body(request_doc).encode())
    shard = tmp_path / "s.warc.wat.gz"
    shard.write_bytes(bad + request + good)
    options = ExtractOptions(out_dir=tmp_path / "out", langs=None)
    stats = extract_shard(shard, options, Matcher(["cat", "sofa"], use_cache=False), LanguageId())
    assert (stats.status, stats.records, stats.wat_pages, stats.rows) == ("ok", 3, 1, 1)
    assert stats.errors == 1 and "offset 0" in stats.messages[0]
    assert "page not parsed: UnicodeEncodeError" in stats.messages[0]
    row = pq.read_table(tmp_path / "out" / f"{shard.name}.parquet").to_pylist()[0]
    assert (row["url"], row["text"], row["entry_ids"]) == (
        "https://ex.org/a.jpg",
        "a cat on a sofa",
        [0, 1],
    )
