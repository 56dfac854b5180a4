"""The records of one WARC or WAT shard that are worth parsing: HTML pages and WAT JSON.

`warc.iter_warc` frames the records (any gzip layout, damage survived and reported);
`http_body` undoes what crawlers keep of HTTP (chunked framing, gzip/deflate/br/zstd, headers
that no longer describe the body). A record is told apart by its own headers: a `response`
holding an HTTP response with an HTML Content-Type (or none) is a page, a `resource` record of
HTML is a page stored without HTTP, a JSON `metadata` record is WAT.

Limits per record: a stored block over `max_record_bytes` is skipped without being held in
memory; a page's decoded body is capped at `max_page_bytes` (decoding stops there, and the page
is parsed up to the cap), as is a WAT document (skipped when over, JSON cannot be cut).
Everything skipped or cut is reported through `on_error` with the record's offset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from metaclip_sql.extract.http import (
    CAPPED,
    CUT,
    STALE,
    UNSUPPORTED,
    charset_of,
    decode_body,
    parse_response,
)
from metaclip_sql.extract.warc import NotWarc, WarcRecord, iter_warc
from metaclip_sql.io.storage import as_target, open_input

#: Stored records larger than this are skipped with a message (Common Crawl truncates at 1 MiB).
DEFAULT_MAX_RECORD_BYTES = 64 << 20
#: Decoded pages (and WAT documents) are capped here: parsing costs memory in proportion.
DEFAULT_MAX_PAGE_BYTES = 8 << 20


@dataclass(slots=True)
class Record:
    """One record worth parsing: an HTML page (`kind="html"`) or a WAT JSON document."""

    offset: int
    kind: str
    target_uri: str | None
    body: bytes
    http_charset: str | None = None


@dataclass(slots=True)
class ReadCounts:
    """What the reader saw, for the shard's statistics."""

    records: int = 0  # complete records of every WARC type
    stale_encodings: int = 0  # a Content-Encoding over a body stored decoded: read as is
    cut_bodies: int = 0  # encoded bodies that end early: parsed as far as they go
    capped_bodies: int = 0  # decoded past max_page_bytes: parsed up to the cap


class ShardReadError(Exception):
    """A shard that cannot be read at all (not WARC/WAT, or unreadable from the start)."""


ErrorCallback = Callable[[int | None, str], None]


def iter_records(
    path: str | Path,  # a str with a scheme is a URL (storage.as_target)
    on_error: ErrorCallback,
    counts: ReadCounts | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
) -> Iterator[Record]:
    """Yield the HTML pages and WAT metadata records of `path`, in file order."""
    counts = counts if counts is not None else ReadCounts()
    with open_input(as_target(path)) as raw:
        try:
            for rec in iter_warc(raw, on_error, max_record_bytes):
                counts.records += 1
                record = _to_record(rec, on_error, counts, max_page_bytes)
                if record is not None:
                    yield record
        except NotWarc as exc:
            raise ShardReadError(_unreadable(str(exc))) from None


def _unreadable(reason: str) -> str:
    return reason if reason == "empty file" else f"not a readable WARC/WAT file ({reason})"


def clean_target_uri(uri: str | None) -> str | None:
    """A `WARC-Target-URI` as a URL: the angle brackets of the WARC 1.0/1.1 grammar (which
    Wget writes) removed and spaces percent-encoded, as warcio does; None when empty."""
    if uri is None:
        return None
    uri = uri.strip()
    if uri.startswith("<") and uri.endswith(">"):
        uri = uri[1:-1].strip()
    if " " in uri:
        uri = uri.replace(" ", "%20")
    return uri or None


def _to_record(
    rec: WarcRecord, on_error: ErrorCallback, counts: ReadCounts, max_page: int
) -> Record | None:
    headers = rec.headers
    record_type = headers.get("warc-type", "").lower()
    content_type = headers.get("content-type", "").lower()
    if record_type == "metadata":
        if "json" not in content_type:
            return None
        if len(rec.block) > max_page:
            on_error(
                rec.offset,
                f"record at offset {rec.offset} skipped: WAT document of {len(rec.block)} "
                f"bytes > {max_page}",
            )
            return None
        return Record(
            rec.offset, "wat", clean_target_uri(headers.get("warc-target-uri")), rec.block
        )
    if record_type == "resource" and _is_html(content_type):
        body = rec.block
        if len(body) > max_page:
            _capped(rec.offset, f"body over {max_page} bytes", on_error, counts)
            body = body[:max_page]
        uri = clean_target_uri(headers.get("warc-target-uri"))
        return Record(rec.offset, "html", uri, body, charset_of(content_type))
    if record_type != "response":
        return None
    response = parse_response(rec.block)
    if response is None:
        if content_type.startswith("application/http"):
            on_error(rec.offset, f"record at offset {rec.offset} skipped: no HTTP response in it")
        return None  # a response of another protocol (dns:, whois:, ...)
    if not _is_html(response.content_type):
        return None
    body = decode_body(response, max_page)
    if body.state == STALE:
        counts.stale_encodings += 1
    elif body.state == CUT:
        counts.cut_bodies += 1
        if "warc-truncated" not in headers:  # a crawler's own truncation is not news
            on_error(
                rec.offset,
                f"record at offset {rec.offset}: {body.detail}; page parsed as far as it goes",
            )
    elif body.state == CAPPED:
        _capped(rec.offset, body.detail, on_error, counts)
    elif body.state == UNSUPPORTED:
        on_error(rec.offset, f"record at offset {rec.offset} skipped: {body.detail}")
        return None
    uri = clean_target_uri(headers.get("warc-target-uri"))
    if uri is None:
        on_error(
            rec.offset,
            f"record at offset {rec.offset} has no WARC-Target-URI: only its absolute image "
            "URLs are kept",
        )
    return Record(rec.offset, "html", uri, body.data, charset_of(response.content_type))


def _capped(offset: int, detail: str, on_error: ErrorCallback, counts: ReadCounts) -> None:
    counts.capped_bodies += 1
    on_error(offset, f"record at offset {offset}: {detail}; page parsed up to the cap")


def _is_html(content_type: str | None) -> bool:
    """HTML or XHTML; a missing Content-Type is sniffed later by the parser as HTML."""
    return not content_type or "html" in content_type.lower()
