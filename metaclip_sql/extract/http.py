"""An HTTP response as crawlers store it in a WARC record, read back into the page's bytes.

Crawlers other than Common Crawl keep the response as it came over the wire: chunked transfer
framing, and a body compressed with gzip, deflate (zlib or raw), brotli or zstd, one coding or
several. Old crawls also keep headers that no longer describe the body (a `Content-Encoding:
gzip` over a body already decoded). Here the framing and codings are undone in the order the
server applied them, and a header that lies is recognised: when a decoder rejects the body from
its first byte, the body is read as it is.

Decoding is bounded: output stops at `limit` bytes (a small gzip body can inflate to gigabytes),
and what was decoded up to the cap is kept, with the fact reported.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import brotli
import zstandard

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_STEP = 1 << 16  # bytes of input given to a decoder at a time
_IDENTITY = ("", "identity", "none", "binary", "8bit", "7bit")

#: What became of a body: read as stored, fully decoded, or with a reason it is not whole.
PLAIN, DECODED, STALE, CAPPED, CUT, UNSUPPORTED = (
    "plain",
    "decoded",
    "stale",
    "capped",
    "cut",
    "unsupported",
)


@dataclass(slots=True)
class HttpResponse:
    """The parts of a stored response that reading a page needs."""

    status: int
    content_type: str | None
    content_encoding: str | None
    transfer_encoding: str | None
    body: memoryview


@dataclass(slots=True)
class Body:
    """A decoded body and what happened on the way (`state` is one of the constants above)."""

    data: bytes
    state: str
    detail: str = ""


def parse_response(block: bytes) -> HttpResponse | None:
    """Status line and headers of an HTTP response block; None when it is not one.

    Header lines may end in CRLF or a bare LF, may be folded, and may be as long as the block;
    repeated `Content-Encoding`/`Transfer-Encoding` headers are joined, as HTTP says they mean.
    """
    if not block.startswith(b"HTTP/"):
        return None
    end, gap = _header_end(block)
    head = block[:end] if end >= 0 else block
    body_start = end + gap if end >= 0 else len(block)
    lines = head.decode("latin-1").splitlines()
    try:
        status = int(lines[0].split(None, 2)[1])
    except (IndexError, ValueError):
        status = 0
    fields: dict[str, str] = {}
    name = ""
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and name:
            fields[name] = f"{fields[name]} {line.strip()}".strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        name = key.strip().lower()
        value = value.strip()
        if name in fields and name in ("content-encoding", "transfer-encoding"):
            fields[name] += ", " + value
        else:
            fields[name] = value
    return HttpResponse(
        status,
        fields.get("content-type"),
        fields.get("content-encoding"),
        fields.get("transfer-encoding"),
        memoryview(block)[body_start:],
    )


def _header_end(block: bytes) -> tuple[int, int]:
    """Where the header block ends and how long its blank line is (CRLF CRLF, or LF LF)."""
    crlf = block.find(b"\r\n\r\n")
    lf = block.find(b"\n\n", 0, crlf if crlf >= 0 else len(block))
    if lf >= 0:
        return lf, 2
    return crlf, 4


def charset_of(content_type: str | None) -> str | None:
    """The `charset=` parameter of a Content-Type, if any."""
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def decode_body(response: HttpResponse, limit: int) -> Body:
    """The page bytes: chunked framing removed, content codings undone, at most `limit` bytes."""
    data: bytes | memoryview = response.body
    state = PLAIN
    if response.transfer_encoding and "chunked" in response.transfer_encoding.lower():
        unchunked = dechunk(data)
        if unchunked is not None:
            data, complete = unchunked
            state = DECODED if complete else CUT
    codings = [c.strip().lower() for c in (response.content_encoding or "").split(",") if c.strip()]
    detail = "chunked framing ends early" if state == CUT else ""
    for coding in reversed(codings):
        if coding in _IDENTITY:
            continue
        decoder = _DECODERS.get(coding)
        if decoder is None:
            return Body(bytes(data[:limit]), UNSUPPORTED, f"unknown Content-Encoding {coding!r}")
        out, error = decoder(data, limit)
        if error is not None and _stored_decoded(coding, data):
            return Body(bytes(data[:limit]), STALE if state != CUT else CUT, detail)
        data = out
        if error is not None:
            state, detail = CUT, f"{coding} body cut short ({error})"
        elif len(out) > limit:
            return Body(out[:limit], CAPPED, f"{coding} body over {limit} bytes decoded")
        elif state == PLAIN:
            state = DECODED
    if len(data) > limit:
        return Body(bytes(data[:limit]), CAPPED, f"body over {limit} bytes")
    return Body(bytes(data), state, detail)


def dechunk(data: bytes | memoryview) -> tuple[bytes, bool] | None:
    """Chunked transfer framing removed: (payload, whether the last chunk was seen).

    None when `data` does not start with a chunk-size line, i.e. the header is stale and the
    body is stored without framing."""
    raw = bytes(data)
    out = []
    pos = 0
    while True:
        eol = raw.find(b"\n", pos, pos + 1024)
        if eol < 0:
            return (b"".join(out), False) if pos else None
        size_field = raw[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            return (b"".join(out), False) if pos else None
        if size < 0 or (pos == 0 and not size_field.isalnum()):
            return None
        pos = eol + 1
        if size == 0:
            return b"".join(out), True
        chunk = raw[pos : pos + size]
        out.append(chunk)
        if len(chunk) < size:
            return b"".join(out), False
        pos += size
        if raw[pos : pos + 2] == b"\r\n":
            pos += 2
        elif raw[pos : pos + 1] == b"\n":
            pos += 1


def _stored_decoded(coding: str, data: bytes | memoryview) -> bool:
    """Whether a body its decoder rejects was stored decoded (a stale header) rather than
    encoded and damaged: it lacks the coding's magic bytes, or, for codings without any
    (raw deflate, brotli), it starts like markup."""
    head = bytes(data[:4])
    if coding in ("gzip", "x-gzip"):
        return not head.startswith(_GZIP_MAGIC) and not _is_zlib_header(head)
    if coding == "zstd":
        return not head.startswith(_ZSTD_MAGIC)
    return not head or _looks_like_markup(data)


def _looks_like_markup(data: bytes | memoryview) -> bool:
    """A body that starts like HTML (after whitespace or a UTF-8 BOM) is not compressed."""
    head = bytes(data[:64]).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] == b"<"


def _zlib(data: bytes | memoryview, limit: int, wbits: int) -> tuple[bytes, str | None]:
    """Inflate up to `limit` + 1 bytes (one more tells the caller the cap was passed);
    concatenated gzip members are read on. The error text is None when the stream was whole."""
    out: list[bytes] = []
    total = 0
    view = memoryview(data)
    inflater = zlib.decompressobj(wbits)
    pos = 0
    try:
        while total <= limit:
            chunk = inflater.unconsumed_tail or view[pos : pos + _STEP]
            if not inflater.unconsumed_tail:
                pos += len(chunk)
            if not chunk:
                break
            piece = inflater.decompress(chunk, limit + 1 - total)
            out.append(piece)
            total += len(piece)
            if inflater.eof:
                rest = inflater.unused_data + bytes(view[pos:])
                if wbits & 16 and rest.startswith(_GZIP_MAGIC):  # another gzip member
                    view, pos = memoryview(rest), 0
                    inflater = zlib.decompressobj(wbits)
                    continue
                return b"".join(out), None
    except zlib.error as exc:
        return b"".join(out), str(exc)
    if total > limit:
        return b"".join(out), None
    return b"".join(out), "incomplete stream"


def _gzip(data: bytes | memoryview, limit: int) -> tuple[bytes, str | None]:
    if bytes(data[:2]) != _GZIP_MAGIC:
        # some servers label a zlib stream gzip; anything else is a stale header
        return _zlib(data, limit, 15) if _is_zlib_header(data) else (b"", "no gzip header")
    return _zlib(data, limit, 31)


def _deflate(data: bytes | memoryview, limit: int) -> tuple[bytes, str | None]:
    """`deflate` is a zlib stream by the standard and raw deflate on many servers."""
    if _is_zlib_header(data):
        out, error = _zlib(data, limit, 15)
        if error is None or out:
            return out, error
    if bytes(data[:2]) == _GZIP_MAGIC:
        return _zlib(data, limit, 31)
    return _zlib(data, limit, -15)


def _is_zlib_header(data: bytes | memoryview) -> bool:
    head = bytes(data[:2])
    return len(head) == 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0


def _brotli(data: bytes | memoryview, limit: int) -> tuple[bytes, str | None]:
    decoder = brotli.Decompressor()
    try:
        out = decoder.process(bytes(data), output_buffer_limit=limit + 1)
    except brotli.error as exc:
        return b"", str(exc) or "brotli data error"
    if len(out) > limit or decoder.is_finished():
        return out, None
    return out, "incomplete stream"


def _zstd(data: bytes | memoryview, limit: int) -> tuple[bytes, str | None]:
    """A reader bounds the output; a frame that ends early is told by a second pass, which
    costs at most `limit` bytes of output since the first stayed under it."""
    if bytes(data[:4]) != _ZSTD_MAGIC:
        return b"", "no zstd frame header"
    raw = bytes(data)
    context = zstandard.ZstdDecompressor()
    reader = context.stream_reader(raw, read_across_frames=True)
    out: list[bytes] = []
    total = 0
    try:
        while total <= limit:
            piece = reader.read(min(_STEP * 16, limit + 1 - total))
            if not piece:
                break
            out.append(piece)
            total += len(piece)
        if total <= limit:
            whole = context.decompressobj()
            whole.decompress(raw)
            if not whole.eof:
                return b"".join(out), "incomplete stream"
    except zstandard.ZstdError as exc:
        return b"".join(out), str(exc)
    return b"".join(out), None


_DECODERS = {
    "gzip": _gzip,
    "x-gzip": _gzip,
    "deflate": _deflate,
    "x-deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}
