"""HTTP bodies as crawlers store them (issue 14): framing and codings undone, lying headers
recognised, decoding bounded. Each case is checked against the codec libraries themselves."""

from __future__ import annotations

import gzip
import random
import zlib

import brotli
import pytest
import zstandard

from metaclip_sql.extract.http import (
    CAPPED,
    CUT,
    DECODED,
    PLAIN,
    STALE,
    UNSUPPORTED,
    charset_of,
    dechunk,
    decode_body,
    parse_response,
)

PAGE = (
    b"<!doctype html><html><head><title>t</title></head><body>"
    + b"".join(
        b"<p><img src='/i/%d.jpg' alt='a photo of a dog %d'></p>\n" % (i, i) for i in range(400)
    )
    + b"</body></html>"
)
LIMIT = 1 << 20


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


ENCODERS = {
    "gzip": lambda d: gzip.compress(d, mtime=0),
    "x-gzip": lambda d: gzip.compress(d, mtime=0),
    "deflate": zlib.compress,  # the standard: a zlib stream
    "br": brotli.compress,
    "zstd": lambda d: zstandard.ZstdCompressor().compress(d),
}


def chunked(data: bytes, sizes=(7, 100, 4096)) -> bytes:
    """Real chunked framing: hex sizes, CRLFs, an extension on one chunk, the last chunk."""
    out, pos, i = [], 0, 0
    while pos < len(data):
        size = sizes[i] if i < len(sizes) else 16384
        piece = data[pos : pos + size]
        ext = b";name=value" if i == 1 else b""
        out.append(b"%x%s\r\n%s\r\n" % (len(piece), ext, piece))
        pos += len(piece)
        i += 1
    return b"".join(out) + b"0\r\n\r\n"


def response(body: bytes, *headers: str, sep: bytes = b"\r\n") -> bytes:
    head = ["HTTP/1.1 200 OK", "Content-Type: text/html; charset=utf-8", *headers]
    return sep.join(h.encode() for h in head) + sep + sep + body


def decoded(block: bytes, limit: int = LIMIT):
    parsed = parse_response(block)
    assert parsed is not None
    return decode_body(parsed, limit)


@pytest.mark.parametrize("coding", sorted(ENCODERS))
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_each_coding_alone_and_chunked(coding: str, framing: str) -> None:
    body = ENCODERS[coding](PAGE)
    headers = [f"Content-Encoding: {coding}"]
    if framing == "chunked":
        body = chunked(body)
        headers.append("Transfer-Encoding: chunked")
    result = decoded(response(body, *headers))
    assert (result.data, result.state) == (PAGE, DECODED)


def test_raw_deflate_as_many_servers_send_it() -> None:
    result = decoded(response(raw_deflate(PAGE), "Content-Encoding: deflate"))
    assert (result.data, result.state) == (PAGE, DECODED)


def test_two_codings_are_undone_in_reverse_order() -> None:
    body = brotli.compress(gzip.compress(PAGE, mtime=0))  # gzip first, then br
    result = decoded(
        response(chunked(body), "Content-Encoding: gzip, br", "Transfer-Encoding: chunked")
    )
    assert (result.data, result.state) == (PAGE, DECODED)
    repeated = response(body, "Content-Encoding: gzip", "Content-Encoding: br")
    assert decoded(repeated).data == PAGE


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_a_stale_content_encoding_reads_the_body_as_is(coding: str) -> None:
    """Old crawls kept `Content-Encoding` over a body they had already decoded."""
    result = decoded(response(PAGE, f"Content-Encoding: {coding}"))
    assert (result.data, result.state) == (PAGE, STALE)


def test_a_stale_transfer_encoding_reads_the_body_as_is() -> None:
    result = decoded(response(PAGE, "Transfer-Encoding: chunked"))
    assert (result.data, result.state) == (PAGE, PLAIN)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_a_body_cut_short_keeps_what_decodes(coding: str) -> None:
    """Crawlers truncate large payloads: the part that decodes is the page's start (a page
    of several compressed blocks, so that some decode before the cut)."""
    words = random.Random(0).choices(["dog", "cat", "tree", "house", "river", "photo"], k=60000)
    page = PAGE + " ".join(words).encode()
    body = ENCODERS[coding](page)
    result = decoded(response(body[: len(body) // 2], f"Content-Encoding: {coding}"))
    assert result.state == CUT and result.data and page.startswith(result.data)


def test_chunked_framing_cut_short() -> None:
    body = chunked(PAGE)
    result = decoded(response(body[: len(body) // 2], "Transfer-Encoding: chunked"))
    assert result.state == CUT and PAGE.startswith(result.data) and len(result.data) > 1000


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_decoding_stops_at_the_cap(coding: str) -> None:
    """A bomb: 64 MiB of zeros compressed to a few KB decode to the cap, no further."""
    zeros = bytes(64 << 20)
    body = ENCODERS[coding](zeros)
    assert len(body) < 1 << 20
    result = decoded(response(body, f"Content-Encoding: {coding}"), limit=1 << 20)
    assert result.state == CAPPED and result.data == bytes(1 << 20)


def test_a_plain_body_over_the_cap_is_cut_at_the_cap() -> None:
    result = decoded(response(PAGE), limit=1000)
    assert (result.data, result.state) == (PAGE[:1000], CAPPED)


def test_an_unknown_coding_is_reported() -> None:
    result = decoded(response(b"\x1f\x9d\x90compressed", "Content-Encoding: compress"))
    assert result.state == UNSUPPORTED and "compress" in result.detail


def test_headers_with_bare_lf_folded_and_long_lines() -> None:
    """LF line ends, a folded header and a 2 MB header line all parse; the body is intact."""
    long_line = "X-Junk: " + "a" * (2 << 20)
    block = response(gzip.compress(PAGE), long_line, "Content-Encoding:", " gzip", sep=b"\n")
    parsed = parse_response(block)
    assert parsed is not None and parsed.content_encoding == "gzip"
    assert decode_body(parsed, LIMIT).data == PAGE


def test_not_an_http_response() -> None:
    assert parse_response(b"<html>not http</html>") is None


def test_dechunk_rejects_bodies_that_are_not_chunked() -> None:
    assert dechunk(b"<html>\r\n") is None
    assert dechunk(b"") is None
    assert dechunk(chunked(b"hello world")) == (b"hello world", True)


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("text/html; charset=windows-1251", "windows-1251"),
        ('text/html; Charset="Shift_JIS"', "Shift_JIS"),
        ("text/html", None),
        (None, None),
    ],
)
def test_charset_of(content_type: str | None, charset: str | None) -> None:
    assert charset_of(content_type) == charset
