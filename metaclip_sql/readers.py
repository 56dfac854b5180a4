"""Stream the records of one WARC or WAT shard, whatever its compression layout.

FastWARC reads record-chunked `.warc.gz` (Common Crawl's layout), a single gzip member, plain
WARC and other codecs by content, not by file name. A record is told apart by its own headers:
an HTTP `response` is a page to parse, a JSON `metadata` record is WAT. Damage is survived: on
a read error the reader looks for the next gzip member (or `WARC/` line in plain files) past
the last good record and carries on, reporting what it skipped through `on_error`.

Offsets name records: the compressed offset of a record's gzip member (Common Crawl's layout,
what its index points at) or the byte offset in a plain file. Where gzip members hold several
records (a `.warc.gz` compressed as one member), compressed offsets are shared, so those files
are decompressed here and offsets are positions in the decompressed WARC; damage in such a
member ends the readable part of the shard.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fastwarc.warc import ArchiveIterator, WarcRecordType

from metaclip_sql.storage import as_target, can_seek, open_input

_RESYNC_CHUNK = 1 << 20
_KEEP_HEAD = 8 << 20  # bytes of an unseekable stream kept for the layout checks
_GZIP_MAGIC = re.compile(rb"\x1f\x8b\x08")
# Not anchored to a line start: inserted garbage rarely ends with a newline. A match is only
# taken when a whole WARC header parses there.
_WARC_LINE = re.compile(rb"WARC/1\.[01]\r?\n")
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*([0-9]+)[ \t]*\r?$")

_WANTED = (WarcRecordType.response, WarcRecordType.metadata)

#: Records larger than this are skipped with a message (Common Crawl truncates at 1 MiB).
DEFAULT_MAX_RECORD_BYTES = 64 << 20


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
    """Records read (of every WARC type), for the shard's statistics."""

    records: int = 0


class ShardReadError(Exception):
    """A shard that cannot be read at all (not WARC/WAT, or unreadable from the start)."""


ErrorCallback = Callable[[int | None, str], None]


def iter_records(
    path: str | Path,  # a str with a scheme is a URL (storage.as_target)
    on_error: ErrorCallback,
    counts: ReadCounts | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Iterator[Record]:
    """Yield the HTML responses and WAT metadata records of `path`, in file order."""
    counts = counts if counts is not None else ReadCounts()
    with open_input(as_target(path)) as raw:
        seekable = can_seek(raw)
        stream = raw if seekable else _ForwardStream(raw)
        magic = stream.read(2)
        compressed = magic == b"\x1f\x8b"
        if compressed and _member_holds_many_records(stream):
            yield from _iter_decompressed(magic, stream, on_error, counts, max_record_bytes)
            return
        stream.seek(0)
        start, any_record = 0, False
        while True:
            last_ok, failure = None, None
            try:
                for item in _iter_from(stream, start, on_error, max_record_bytes):
                    if isinstance(item, int):
                        last_ok = item
                        any_record = True
                        counts.records += 1
                        continue
                    yield item
            except OSError as exc:
                failure = str(exc)
            if failure is None:
                if not any_record and not magic:
                    raise ShardReadError("empty file")
                return
            if not any_record and last_ok is None and start == 0:
                raise ShardReadError(_describe_unreadable(magic, failure))
            where = last_ok if last_ok is not None else start
            if not seekable:
                on_error(
                    where,
                    f"damaged data after record at offset {where} ({failure}); the rest of the "
                    "shard is unreadable (its stream cannot seek to resync)",
                )
                return
            nxt = _resync(stream, where + 1, compressed)
            skipped = f"bytes {where}..{nxt if nxt is not None else 'end'} skipped"
            on_error(where, f"damaged data after record at offset {where} ({failure}); {skipped}")
            if nxt is None:
                return
            start = nxt


def _iter_from(
    stream: BinaryIO,
    start: int,
    on_error: ErrorCallback,
    max_record_bytes: int,
    seek: bool = True,
) -> Iterator[Record | int]:
    """Records from byte `start`; a plain int (the offset) comes first for every record read."""
    if seek:
        stream.seek(start)
    iterator = ArchiveIterator(stream, parse_http=False, fsspec_args=False, stream_detect=seek)
    for rec in iterator:
        offset = rec.stream_pos
        if "Content-Length" not in rec.headers:
            # FastWARC hands out a record whose header was cut off (at the end of a truncated
            # file) with no Content-Length, which every WARC record has.
            on_error(offset, f"record at offset {offset} truncated (incomplete WARC header)")
            continue
        record = _to_record(rec, offset, on_error, max_record_bytes)
        yield offset
        if record is not None:
            yield record


def _iter_decompressed(
    magic: bytes,
    stream: BinaryIO,
    on_error: ErrorCallback,
    counts: ReadCounts,
    max_record_bytes: int,
) -> Iterator[Record]:
    """Records of a file whose gzip members hold several records, at decompressed offsets."""
    stream.seek(0)
    source = _GzipUntilError(stream)
    last_ok = None
    for item in _iter_from(source, 0, on_error, max_record_bytes, seek=False):
        if isinstance(item, int):
            last_ok = item
            counts.records += 1
            continue
        yield item
    if source.error is None:
        return
    failure = f"{type(source.error).__name__}: {source.error}"
    if last_ok is None:
        raise ShardReadError(_describe_unreadable(magic, failure))
    on_error(
        last_ok,
        f"damaged gzip data after record at decompressed offset {last_ok} ({failure}); "
        "nothing after it is readable",
    )


class _GzipUntilError(io.RawIOBase):
    """Decompressed bytes up to the first error, which is kept rather than raised: what was
    decompressed before it still reaches the WARC parser (a buffered read would drop it)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._gz = gzip.GzipFile(fileobj=raw, mode="rb")
        self.error: Exception | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._gz.seek(offset, whence)  # FastWARC asks where it is; gzip can seek

    def tell(self) -> int:
        return self._gz.tell()

    def read(self, size: int = -1) -> bytes:
        if self.error is not None:
            return b""
        try:
            return self._gz.read1(size if size is not None and size > 0 else io.DEFAULT_BUFFER_SIZE)
        except (EOFError, OSError, zlib.error) as exc:
            self.error = exc
            return b""

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _member_holds_many_records(stream: BinaryIO) -> bool:
    """True when the first gzip member decompresses to more than its first WARC record (a file
    compressed as one member, say), so compressed offsets cannot tell its records apart."""
    stream.seek(0)
    inflater = zlib.decompressobj(31)
    head, total, record_end = b"", 0, None
    try:
        while not inflater.eof:
            data = inflater.unconsumed_tail or stream.read(1 << 16)
            if not data:
                return False
            out = inflater.decompress(data, 1 << 16)
            total += len(out)
            if record_end is None and len(head) < 1 << 16:
                head += out
                end = head.find(b"\r\n\r\n")
                length = _CONTENT_LENGTH.search(head, 0, end) if end >= 0 else None
                if length is not None:
                    # header, blank line, block, and the two CRLFs that close a record
                    record_end = end + 4 + int(length.group(1)) + 4
            if record_end is not None and total > record_end + 8:
                return True
    except zlib.error:
        return False
    return False


def _to_record(rec, offset: int, on_error: ErrorCallback, max_bytes: int) -> Record | None:
    uri = rec.headers.get("WARC-Target-URI")
    record_type = rec.record_type
    if record_type not in _WANTED:
        return None
    content_type = (rec.headers.get("Content-Type") or "").lower()
    if record_type == WarcRecordType.metadata:
        if "json" not in content_type:
            return None
        body = _read_body(rec, offset, on_error, max_bytes)
        return None if body is None else Record(offset, "wat", uri, body)
    if not content_type.startswith("application/http"):
        return None
    rec.parse_http(auto_decode="all")  # undo Content-/Transfer-Encoding where a crawler kept it
    if not _is_html(rec.http_content_type):
        return None
    encoded = _is_encoded(rec.http_headers)
    body = _read_body(rec, offset, on_error, max_bytes, check_length=not encoded)
    if body is None:
        return None
    return Record(offset, "html", uri, body, rec.http_charset)


def _is_encoded(headers) -> bool:
    """Whether the stored payload was compressed or chunked (so its length differs when read)."""
    if headers is None:
        return False
    coding = (headers.get("Content-Encoding") or "identity").strip().lower()
    return coding not in ("identity", "") or headers.get("Transfer-Encoding") is not None


def _is_html(content_type: str | None) -> bool:
    """HTML or XHTML; a missing Content-Type is sniffed later by the parser as HTML."""
    if not content_type:
        return True
    ct = content_type.lower()
    return "html" in ct


def _read_body(
    rec, offset: int, on_error: ErrorCallback, max_bytes: int, check_length: bool = True
) -> bytes | None:
    declared = rec.content_length
    if declared > max_bytes:
        rec.consume()
        on_error(offset, f"record at offset {offset} skipped: {declared} bytes > {max_bytes}")
        return None
    body = rec.reader.read()
    if check_length and len(body) < declared:
        on_error(offset, f"record at offset {offset} truncated ({len(body)} of {declared} bytes)")
        return None
    return body


def _resync(stream: BinaryIO, start: int, compressed: bool) -> int | None:
    """Offset of the next place a record may start at or after `start`, or None at the end."""
    pattern = _GZIP_MAGIC if compressed else _WARC_LINE
    pos = start
    while True:
        stream.seek(pos)
        chunk = stream.read(_RESYNC_CHUNK + 16)
        if not chunk:
            return None
        for match in pattern.finditer(chunk):
            candidate = pos + match.start()
            if _record_starts_at(stream, candidate):
                return candidate
        if len(chunk) <= _RESYNC_CHUNK:
            return None
        pos += _RESYNC_CHUNK


def _record_starts_at(stream: BinaryIO, offset: int) -> bool:
    """True when a whole WARC record header can be read at `offset` (a real resync point)."""
    stream.seek(offset)
    try:
        for _ in ArchiveIterator(stream, parse_http=False, fsspec_args=False):
            return True
    except OSError:
        return False
    return False


def _describe_unreadable(magic: bytes, failure: str) -> str:
    if not magic:
        return "empty file"
    return f"not a readable WARC/WAT file ({failure})"


class _ForwardStream(io.RawIOBase):
    """A stream that cannot seek (HTTP without ranges), made to look seekable enough: its first
    bytes are kept so the layout checks can go back to the start, and a forward seek reads and
    drops. Going back past what is kept raises `io.UnsupportedOperation`."""

    def __init__(self, raw: BinaryIO, keep: int = _KEEP_HEAD) -> None:
        self._raw = raw
        self._head: bytearray | None = bytearray()
        self._keep = keep
        self._pos = 0
        self._raw_pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True  # within the limits above; iter_records knows the source cannot

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset + (self._pos if whence == io.SEEK_CUR else 0)
        if whence == io.SEEK_END:
            raise io.UnsupportedOperation("cannot seek from the end of a stream")
        if target < self._pos and (self._head is None or target > len(self._head)):
            raise io.UnsupportedOperation("cannot seek back in a stream")
        if target > self._raw_pos:
            self._pos = self._raw_pos
            while self._pos < target and self.read(min(target - self._pos, 1 << 20)):
                pass
        self._pos = target
        return target

    def read(self, size: int = -1) -> bytes:
        size = size if size is not None and size >= 0 else 1 << 30
        if self._head is not None and self._pos < self._raw_pos:
            data = bytes(self._head[self._pos : self._pos + size])
            self._pos += len(data)
            return data
        data = self._raw.read(size)
        if self._head is not None:
            if self._raw_pos + len(data) <= self._keep:
                self._head += data
            else:
                self._head = None  # past the layout checks: stop keeping
        self._raw_pos += len(data)
        self._pos = self._raw_pos
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
