"""WARC records from a byte stream, whatever its gzip layout and whatever damage it carries.

The input is read forward once and decompressed one gzip member at a time (`members.py`), so
that member boundaries are known:

- Common Crawl's layout (and Wget's, warcio's, Heritrix's) is one member per record, so a
  member boundary is a record boundary: a record whose declared `Content-Length` runs into a
  member that starts a new record costs that record only; a damaged member costs its own
  record; empty members are skipped; bytes between members that are not gzip are reported and
  skipped.
- One member for the whole file, and plain WARC, are one stream: after damage the reader looks
  for the next `WARC/` header line and goes on there.

A record is handed out only when its block is complete and what follows it is where a record
may end (CRLF CRLF, the end of a member, or the next record); anything else is reported through
`on_error` with the record's offset and skipped. Offsets are those a WARC index uses: the
compressed offset of a record's gzip member, or the byte offset in a plain file; a record that
starts inside a member (one member holding several records) is named by its position in the
decompressed stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from metaclip_sql.extract.members import CHUNK, ErrorCallback, Input, WarcStream

_MAX_HEADER = 16 << 20  # a WARC header longer than this is not a header
_WARC_START = re.compile(rb"WARC/[0-9]")
_NOT_BLANK = re.compile(rb"[^\r\n]")


@dataclass(slots=True)
class WarcRecord:
    """One complete record: its offset, its header fields (lower-case names) and its block."""

    offset: int
    headers: dict[str, str]
    block: bytes


class NotWarc(Exception):
    """Input in which no WARC record could be found at all."""


def iter_warc(raw: BinaryIO, on_error: ErrorCallback, max_block: int) -> Iterator[WarcRecord]:
    """Every complete record of `raw` in order; damage goes to `on_error`. Records whose block
    is larger than `max_block` are skipped (reported) without being held in memory.

    Raises `NotWarc` when no record is found at all (an empty file, or not WARC); what was
    wrong with such a file is then the exception's message, not a call of `on_error`."""
    source = Input(raw)
    head = source.get(0, 16)
    if not head:
        raise NotWarc("empty file")
    if head.startswith(b"filedesc://"):
        raise NotWarc("an ARC file (the format before WARC); only WARC and WAT are read")
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        raise NotWarc("zstd-compressed; only gzip-compressed and plain WARC are read")
    held: list[tuple[int | None, str]] = []  # problems seen before the first record

    def hold(offset: int | None, message: str) -> None:
        held.append((offset, message))

    stream = WarcStream(source, head.startswith(b"\x1f\x8b"), hold)
    found = False
    records = _records(stream, max_block)
    for record in records:  # the first record: what was held is reported now
        found = True
        stream.on_error = on_error
        for offset, message in held:
            on_error(offset, message)
        yield record
        break
    yield from records  # the others, handed on without a Python loop
    if stream.cut_member is not None and not stream.cut_reported:
        stream.on_error(
            stream.cut_member,
            f"record at offset {stream.cut_member} truncated (the file ends inside its gzip "
            "member)",
        )
    if not found:
        raise NotWarc(held[0][1] if held else "no WARC record in it")


def _records(stream: WarcStream, max_block: int) -> Iterator[WarcRecord]:
    """The records of `stream`; problems go to `stream.on_error` (which may change on the way)."""
    pos = 0
    while True:
        on_error = stream.on_error
        stream.release_consumed(pos)
        pos = _skip_blank(stream, pos)
        if pos is None:
            return
        stream.forget_starts(pos)
        stream.release(pos)
        if not _WARC_START.match(stream.buf, pos - stream.base):
            head = stream.view(pos, pos + 6)
            if stream.done and stream.end - pos < 6 and b"WARC/0".startswith(head[:5]):
                on_error(
                    stream.record_offset(pos), f"{_where(stream, pos)} truncated in its header"
                )
                stream.cut_reported = True
                return
            pos = _resync(stream, pos, on_error, "is not a WARC record")
            if pos is None:
                return
            continue
        header_end, gap = _header_end(stream, pos)
        if header_end < 0:
            if stream.done and stream.end - pos < _MAX_HEADER:
                on_error(
                    stream.record_offset(pos), f"{_where(stream, pos)} truncated in its header"
                )
                stream.cut_reported = True
                return
            pos = _resync(stream, pos + 1, on_error, "has no end of header")
            if pos is None:
                return
            continue
        headers = _parse_headers(stream.view(pos, header_end))
        try:
            length = int(headers.get("content-length", ""))
            if length < 0:
                raise ValueError
        except ValueError:
            pos = _resync(stream, pos + 1, on_error, "has no valid Content-Length")
            if pos is None:
                return
            continue
        block_start = header_end + gap
        block_end = block_start + length
        if length > max_block:
            pos = _skip_block(stream, pos, block_start, block_end, max_block, on_error)
            if pos is None:
                return
            continue
        complete = stream.fill(block_end + 4)
        cut = _cut_inside(stream, pos, min(block_end, stream.end))
        if cut is not None:
            where, why = cut
            on_error(stream.record_offset(pos), f"{_where(stream, pos)} lost: {why}")
            pos = where
            continue
        if not complete and stream.end < block_end:
            on_error(
                stream.record_offset(pos),
                f"{_where(stream, pos)} truncated ({stream.end - block_start} of {length} bytes)",
            )
            stream.cut_reported = True
            return
        after = _record_end(stream, block_end)
        if after is None:
            on_error(
                stream.record_offset(pos),
                f"{_where(stream, pos)} lost: its Content-Length ({length}) does not end it "
                "(the bytes after it are not the next record)",
            )
            pos = _resync(stream, block_start, on_error, None)
            if pos is None:
                return
            continue
        yield WarcRecord(stream.record_offset(pos), headers, stream.view(block_start, block_end))
        pos = after


def _skip_blank(stream: WarcStream, pos: int) -> int | None:
    """The first offset at or after `pos` that is not CR/LF padding, or None at the end."""
    while True:
        stream.fill(pos + 6)
        data, i = stream.buf, pos - stream.base
        if i >= len(data):
            return None
        if data[i] not in (13, 10):  # the usual case: a record starts right there
            return pos
        found = _NOT_BLANK.search(data, i)
        if found is not None:
            pos = found.start() + stream.base
            stream.fill(pos + 6)
            return pos
        pos = stream.end


def _header_end(stream: WarcStream, pos: int) -> tuple[int, int]:
    """Offset where the WARC header starting at `pos` ends, and the blank line's length."""
    # the usual case first: the whole header is there, its lines end with CRLF
    buf, base = stream.buf, stream.base
    found = buf.find(b"\r\n\r\n", pos - base)
    if found >= 0 and buf.find(b"\n\n", pos - base, found) < 0:
        return found + base, 4
    searched = pos
    while True:
        stop = stream.end
        found = stream.find(b"\r\n\r\n", max(pos, searched - 3), stop)
        if found >= 0:
            lf = stream.find(b"\n\n", pos, found)  # writers that end lines with LF alone
            return (lf, 2) if lf >= 0 else (found, 4)
        lf = stream.find(b"\n\n", max(pos, searched - 1), stop)
        if lf >= 0:
            return lf, 2
        if stop - pos > _MAX_HEADER or (stream.done and stream.end == stop):
            return -1, 0
        searched = stop
        stream.fill(stop + (1 << 16))


def _parse_headers(head: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    name = ""
    for line in head.decode("utf-8", "replace").splitlines()[1:]:
        if line[:1] in (" ", "\t") and name:
            fields[name] = f"{fields[name]} {line.strip()}".strip()
            continue
        key, sep, value = line.partition(":")
        if sep:
            name = key.strip().lower()
            fields[name] = value.strip()
    return fields


def _cut_inside(stream: WarcStream, pos: int, stop: int) -> tuple[int, str] | None:
    """Where the record starting at `pos` is cut before `stop`: damaged data removed there, or
    a gzip member that starts a new record (the declared length was too long)."""
    if not stream.breaks and (not stream.starts or stream.starts[-1][0] <= pos):
        return None  # the usual case: no damage, and no member starts after the record's
    for brk in stream.breaks:
        if pos < brk <= stop:
            return brk, "the data after it was damaged"
    for dstart, cstart in stream.starts:
        if pos < dstart <= stop and stream.view(dstart, dstart + 5) == b"WARC/":
            return dstart, (
                f"it runs into the next record, which starts the gzip member at offset {cstart} "
                "(its Content-Length is too long, or the record was cut short)"
            )
    return None


def _record_end(stream: WarcStream, block_end: int) -> int | None:
    """Where the next record may start after a block ending at `block_end`: past the CRLF
    CRLF that closes a record (writers that drop it are tolerated when a record, a member
    boundary or the end follows); None when other bytes follow (a wrong Content-Length)."""
    if stream.buf.startswith(b"\r\n\r\n", block_end - stream.base):
        return block_end + 4
    tail = stream.view(block_end, block_end + 4)
    nxt = block_end + len(tail) - len(tail.lstrip(b"\r\n"))
    stream.fill(nxt + 5)
    if nxt >= stream.end or stream.view(nxt, nxt + 5) == b"WARC/":
        return nxt
    if stream.compressed_offset(nxt) is not None:
        return nxt
    return None


def _skip_block(
    stream: WarcStream, pos: int, block_start: int, block_end: int, max_block: int, on_error
) -> int | None:
    """Read past a block too large to hold, dropping it as it goes; the next position."""
    offset = stream.record_offset(pos)
    length = block_end - block_start
    on_error(offset, f"{_where(stream, pos)} skipped: {length} bytes > {max_block}")
    at = block_start
    while at < block_end:
        reached = stream.fill(min(block_end, at + CHUNK))
        cut = _cut_inside(stream, pos, min(block_end, stream.end))
        if cut is not None:
            return cut[0]
        at = min(block_end, stream.end)
        stream.release(at)
        if not reached:
            return None
    return _record_end(stream, block_end) or block_end


def _resync(stream: WarcStream, start: int, on_error, why: str | None) -> int | None:
    """The next offset at or after `start` where a WARC record begins (reporting what was
    skipped when `why` says what was wrong at `start`), or None at the end."""
    pos = start
    while True:
        stream.fill(pos + CHUNK)
        found = stream.find(b"WARC/", pos, stream.end)
        while found >= 0:
            if _WARC_START.match(stream.view(found, found + 6)) and _header_at(stream, found):
                if why is not None:
                    _report_skip(stream, start, found, on_error, why)
                return found
            found = stream.find(b"WARC/", found + 1, stream.end)
        if stream.done:
            if why is not None:
                _report_skip(stream, start, None, on_error, why)
            return None
        pos = max(pos, stream.end - 8)
        stream.release(pos)


def _header_at(stream: WarcStream, pos: int) -> bool:
    """Whether a whole WARC header with a Content-Length parses at `pos`."""
    stream.fill(pos + (1 << 16))
    end, _ = _header_end(stream, pos)
    if end < 0:
        return False
    return "content-length" in _parse_headers(stream.view(pos, end))


def _report_skip(stream: WarcStream, start: int, stop: int | None, on_error, why: str) -> None:
    if stream.gzipped and stream.compressed_offset(start) is not None:
        what = f"gzip member at offset {stream.member_of(start)} {why}"
    else:
        what = f"data at {stream.place(start)} {why}"
    until = "the end" if stop is None else stream.place(stop)
    on_error(stream.record_offset(start), f"{what}; skipped to {until}")


def _where(stream: WarcStream, pos: int) -> str:
    """How messages name the record starting at `pos`."""
    return f"record at {stream.place(pos)}"
