"""WARC records from a byte stream, whatever its gzip layout and whatever damage it carries.

The input is read forward once, in chunks (a local file or a stream from a URL alike), and
decompressed here with zlib, one gzip member at a time, so that member boundaries are known:

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
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

_CHUNK = 1 << 20  # compressed (or plain) bytes read from the input at a time
_FEED = 1 << 15  # compressed bytes given to zlib at a time (bounds the copies zlib makes)
_LOOKAHEAD = 1 << 20  # decompressed bytes read past a record, so a small member's CRC is checked
_RETAIN = 64 << 20  # compressed bytes of one member kept for a resync from its start
_MAX_HEADER = 16 << 20  # a WARC header longer than this is not a header
try:  # ISA-L's inflate: the same interface as zlib's, about twice as fast
    from isal import isal_zlib as _inflate_impl
except ImportError:  # pragma: no cover - platforms without an isal wheel
    _inflate_impl = zlib

_INFLATE_ERRORS = (zlib.error, _inflate_impl.error)
_GZIP_MAGIC = re.compile(rb"\x1f\x8b\x08")
_WARC_START = re.compile(rb"WARC/[0-9]")

ErrorCallback = Callable[[int | None, str], None]


@dataclass(slots=True)
class WarcRecord:
    """One complete record: its offset, its header fields (lower-case names) and its block."""

    offset: int
    headers: dict[str, str]
    block: bytes


class NotWarc(Exception):
    """Input in which no WARC record could be found at all."""


class _Input:
    """A forward-only window over the raw input, with absolute offsets."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.buf = bytearray()
        self.base = 0  # offset of buf[0] in the input
        self.eof = False

    @property
    def end(self) -> int:
        return self.base + len(self.buf)

    def fill(self, upto: int) -> bool:
        """Read until the window reaches offset `upto`; False when the input ends first."""
        while self.end < upto and not self.eof:
            data = self._raw.read(max(_CHUNK, upto - self.end))
            if not data:
                self.eof = True
            self.buf += data
        return self.end >= upto

    def get(self, start: int, size: int) -> bytes:
        """Up to `size` bytes at `start` (fewer at the end of the input)."""
        self.fill(start + size)
        return bytes(self.buf[start - self.base : start - self.base + size])

    def release(self, before: int) -> None:
        """Forget the bytes before offset `before`."""
        drop = min(before, self.end) - self.base
        if drop > 0:
            del self.buf[:drop]
            self.base += drop


class _Stream:
    """The input's WARC bytes, decompressed, in one coordinate space, with where each gzip
    member began (`starts`, in decompressed offsets, with its compressed offset) and where
    damaged data was cut out (`breaks`)."""

    def __init__(self, source: _Input, gzipped: bool, on_error: ErrorCallback) -> None:
        self.source = source
        self.gzipped = gzipped
        self.on_error = on_error
        self.buf = bytearray()
        self.base = 0
        self.starts: list[tuple[int, int]] = [] if gzipped else [(0, 0)]
        self.breaks: list[int] = []
        self.done = False
        self.cut_member: int | None = None  # the member the input ends inside, if it does
        self.cut_reported = False
        self._cpos = 0  # compressed offset where the next member begins (or the current one)
        self._feed = 0  # compressed offset of the next byte to give zlib
        self._member: tuple[int, int] | None = None  # (compressed, decompressed) start
        self._inflater = None
        self._step = _FEED

    @property
    def end(self) -> int:
        return self.base + len(self.buf)

    def fill(self, upto: int) -> bool:
        """Decompress until the stream reaches `upto` and, for a small member, its end (so its
        CRC has been checked); False when the input ends before `upto`."""
        while not self.done and (
            self.end < upto or (self._inflater is not None and self.end < upto + _LOOKAHEAD)
        ):
            if self.gzipped:
                self._inflate()
            else:
                data = self.source.get(self._feed, _CHUNK)
                if not data:
                    self.done = True
                self.buf += data
                self._feed += len(data)
                self.source.release(self._feed)
        return self.end >= upto

    def view(self, start: int, stop: int) -> bytes:
        with memoryview(self.buf) as data:
            return bytes(data[start - self.base : stop - self.base])

    def find(self, needle: bytes, start: int, stop: int) -> int:
        found = self.buf.find(needle, start - self.base, stop - self.base)
        return found + self.base if found >= 0 else -1

    def release(self, before: int) -> None:
        drop = min(before, self.end) - self.base
        if drop >= _CHUNK:
            del self.buf[:drop]
            self.base += drop

    def compressed_offset(self, pos: int) -> int | None:
        """The compressed offset of the member that starts exactly at `pos`, if one does."""
        for dstart, cstart in reversed(self.starts):
            if dstart == pos:
                return cstart
            if dstart < pos:
                return None
        return None

    def member_of(self, pos: int) -> int | None:
        """The compressed offset of the member holding decompressed offset `pos`."""
        for dstart, cstart in reversed(self.starts):
            if dstart <= pos:
                return cstart
        return None

    def forget_starts(self, before: int) -> None:
        """Drop member starts no record can need again (keeps the lists short)."""
        keep = 0
        while keep + 1 < len(self.starts) and self.starts[keep + 1][0] <= before:
            keep += 1
        if keep:
            del self.starts[:keep]
        while self.breaks and self.breaks[0] <= before:
            self.breaks.pop(0)

    # --- gzip members ----------------------------------------------------------------------

    def _inflate(self) -> None:
        """One step: start a member, or give the current one more input."""
        if self._inflater is None:
            self._start_member()
            return
        inflater = self._inflater
        if inflater.unconsumed_tail:
            data = inflater.unconsumed_tail
        else:
            data = self.source.get(self._feed, self._step)
            self._feed += len(data)
            self._step = min(self._step * 2, _CHUNK)
        if not data:
            self._truncated_member()
            return
        try:
            out = inflater.decompress(data, _CHUNK)
        except _INFLATE_ERRORS as exc:
            self._damaged_member(str(exc))
            return
        self.buf += out
        if inflater.eof:
            self._cpos = self._feed - len(inflater.unused_data)
            self._feed = self._cpos
            self._inflater = None
            self.source.release(self._cpos)
        elif self._feed - self._member[0] > _RETAIN:
            self.source.release(self._feed - _FEED)

    def _start_member(self) -> None:
        head = self.source.get(self._cpos, 3)
        if not head:
            self.done = True
            return
        if bytes(head) != b"\x1f\x8b\x08":
            nxt = self._next_member(self._cpos)
            self.on_error(
                self._cpos,
                f"bytes at offset {self._cpos}..{'end' if nxt is None else nxt} are not gzip "
                "data (junk between members); skipped",
            )
            if nxt is None:
                self.done = True
                return
            self._cpos = nxt
        self._member = (self._cpos, self.end)
        self.starts.append(self._member[::-1])
        self._feed = self._cpos
        self._step = _FEED
        self._inflater = _inflate_impl.decompressobj(31)

    def _damaged_member(self, error: str) -> None:
        cstart, dstart = self._member
        nxt = self._next_member(cstart + 1)
        skipped = f"bytes {cstart}..{'end' if nxt is None else nxt} skipped"
        if dstart >= self.base and self.end - dstart <= _LOOKAHEAD + _CHUNK:
            # a member of ordinary size holds one record or a few: all its output is suspect
            del self.buf[dstart - self.base :]
            message = f"gzip member at offset {cstart} is damaged ({error}); {skipped}"
        else:
            # one member for much of the file: what came out before the damage is kept
            message = (
                f"gzip member at offset {cstart} is damaged after {self.end - dstart} "
                f"decompressed bytes ({error}); {skipped}"
            )
        self.breaks.append(self.end)
        self.on_error(cstart, message)
        self._inflater = None
        if nxt is None:
            self.done = True
        else:
            self._cpos = nxt

    def _truncated_member(self) -> None:
        """The input ends inside a member: what it decompressed to is kept (a record cut short
        there is reported by the record reader, else `iter_warc` reports the member), and the
        stream ends."""
        self.cut_member = self._member[0]
        self._inflater = None
        self.done = True

    def _next_member(self, start: int) -> int | None:
        """The offset of the next gzip member at or after `start` that holds WARC data (or
        nothing: an empty member), or None."""
        pos = max(start, self.source.base)
        while True:
            window = self.source.get(pos, _CHUNK + 2)
            if len(window) < 3:
                return None
            for match in _GZIP_MAGIC.finditer(window):
                candidate = pos + match.start()
                if self._member_looks_right(candidate):
                    return candidate
            if len(window) <= _CHUNK + 2:
                return None
            pos += _CHUNK
            self.source.release(pos)

    def _member_looks_right(self, offset: int) -> bool:
        inflater = _inflate_impl.decompressobj(31)
        try:
            out = inflater.decompress(self.source.get(offset, 1 << 14), 8)
            while len(out) < 5 and not inflater.eof and inflater.unconsumed_tail:
                out += inflater.decompress(inflater.unconsumed_tail, 8)
        except _INFLATE_ERRORS:
            return False
        return out.startswith(b"WARC/") or (inflater.eof and not out)


def iter_warc(raw: BinaryIO, on_error: ErrorCallback, max_block: int) -> Iterator[WarcRecord]:
    """Every complete record of `raw` in order; damage goes to `on_error`. Records whose block
    is larger than `max_block` are skipped (reported) without being held in memory.

    Raises `NotWarc` when no record is found at all (an empty file, or not WARC); what was
    wrong with such a file is then the exception's message, not a call of `on_error`."""
    source = _Input(raw)
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

    stream = _Stream(source, head.startswith(b"\x1f\x8b"), hold)
    found = False
    for record in _records(stream, max_block):
        if not found:
            found = True
            stream.on_error = on_error
            for offset, message in held:
                on_error(offset, message)
        yield record
    if stream.cut_member is not None and not stream.cut_reported:
        stream.on_error(
            stream.cut_member,
            f"record at offset {stream.cut_member} truncated (the file ends inside its gzip "
            "member)",
        )
    if not found:
        raise NotWarc(held[0][1] if held else "no WARC record in it")


def _records(stream: _Stream, max_block: int) -> Iterator[WarcRecord]:
    """The records of `stream`; problems go to `stream.on_error` (which may change on the way)."""
    pos = 0
    while True:
        on_error = stream.on_error
        pos = _skip_blank(stream, pos)
        if pos is None:
            return
        stream.forget_starts(pos)
        stream.release(pos)
        head = stream.view(pos, pos + 6)
        if not _WARC_START.match(head):
            if stream.done and stream.end - pos < 6 and b"WARC/0".startswith(head[:5]):
                on_error(_offset(stream, pos), f"{_where(stream, pos)} truncated in its header")
                stream.cut_reported = True
                return
            pos = _resync(stream, pos, on_error, "is not a WARC record")
            if pos is None:
                return
            continue
        header_end, gap = _header_end(stream, pos)
        if header_end < 0:
            if stream.done and stream.end - pos < _MAX_HEADER:
                on_error(_offset(stream, pos), f"{_where(stream, pos)} truncated in its header")
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
            on_error(_offset(stream, pos), f"{_where(stream, pos)} lost: {why}")
            pos = where
            continue
        if not complete and stream.end < block_end:
            on_error(
                _offset(stream, pos),
                f"{_where(stream, pos)} truncated ({stream.end - block_start} of {length} bytes)",
            )
            stream.cut_reported = True
            return
        after = _record_end(stream, block_end)
        if after is None:
            on_error(
                _offset(stream, pos),
                f"{_where(stream, pos)} lost: its Content-Length ({length}) does not end it "
                "(the bytes after it are not the next record)",
            )
            pos = _resync(stream, block_start, on_error, None)
            if pos is None:
                return
            continue
        yield WarcRecord(_offset(stream, pos), headers, stream.view(block_start, block_end))
        pos = after


def _skip_blank(stream: _Stream, pos: int) -> int | None:
    """The first offset at or after `pos` that is not CR/LF padding, or None at the end."""
    while True:
        stream.fill(pos + 6)
        if stream.end <= pos:
            return None
        data, i = stream.buf, pos - stream.base
        while i < len(data) and data[i] in (13, 10):
            i += 1
        pos = i + stream.base
        if i < len(data):
            stream.fill(pos + 6)
            return pos


def _header_end(stream: _Stream, pos: int) -> tuple[int, int]:
    """Offset where the WARC header starting at `pos` ends, and the blank line's length."""
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


def _cut_inside(stream: _Stream, pos: int, stop: int) -> tuple[int, str] | None:
    """Where the record starting at `pos` is cut before `stop`: damaged data removed there, or
    a gzip member that starts a new record (the declared length was too long)."""
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


def _record_end(stream: _Stream, block_end: int) -> int | None:
    """Where the next record may start after a block ending at `block_end`: past the CRLF
    CRLF that closes a record (writers that drop it are tolerated when a record, a member
    boundary or the end follows); None when other bytes follow (a wrong Content-Length)."""
    tail = stream.view(block_end, block_end + 4)
    if tail == b"\r\n\r\n":
        return block_end + 4
    nxt = block_end + len(tail) - len(tail.lstrip(b"\r\n"))
    stream.fill(nxt + 5)
    if nxt >= stream.end or stream.view(nxt, nxt + 5) == b"WARC/":
        return nxt
    if stream.compressed_offset(nxt) is not None:
        return nxt
    return None


def _skip_block(
    stream: _Stream, pos: int, block_start: int, block_end: int, max_block: int, on_error
) -> int | None:
    """Read past a block too large to hold, dropping it as it goes; the next position."""
    offset = _offset(stream, pos)
    length = block_end - block_start
    on_error(offset, f"{_where(stream, pos)} skipped: {length} bytes > {max_block}")
    at = block_start
    while at < block_end:
        reached = stream.fill(min(block_end, at + _CHUNK))
        cut = _cut_inside(stream, pos, min(block_end, stream.end))
        if cut is not None:
            return cut[0]
        at = min(block_end, stream.end)
        stream.release(at)
        if not reached:
            return None
    return _record_end(stream, block_end) or block_end


def _resync(stream: _Stream, start: int, on_error, why: str | None) -> int | None:
    """The next offset at or after `start` where a WARC record begins (reporting what was
    skipped when `why` says what was wrong at `start`), or None at the end."""
    pos = start
    while True:
        stream.fill(pos + _CHUNK)
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


def _header_at(stream: _Stream, pos: int) -> bool:
    """Whether a whole WARC header with a Content-Length parses at `pos`."""
    stream.fill(pos + (1 << 16))
    end, _ = _header_end(stream, pos)
    if end < 0:
        return False
    return "content-length" in _parse_headers(stream.view(pos, end))


def _report_skip(stream: _Stream, start: int, stop: int | None, on_error, why: str) -> None:
    if stream.gzipped and stream.compressed_offset(start) is not None:
        what = f"gzip member at offset {stream.member_of(start)} {why}"
    else:
        what = f"data at {_place(stream, start)} {why}"
    until = "the end" if stop is None else _place(stream, stop)
    on_error(_offset(stream, start), f"{what}; skipped to {until}")


def _offset(stream: _Stream, pos: int) -> int:
    """A record's offset: its member's compressed offset when it starts one, else its
    position in the (decompressed) stream."""
    compressed = stream.compressed_offset(pos)
    return compressed if compressed is not None else pos


def _place(stream: _Stream, pos: int) -> str:
    """How messages name the position `pos`: an offset in the file where it has one."""
    compressed = stream.compressed_offset(pos)
    if compressed is not None or not stream.gzipped:
        return f"offset {_offset(stream, pos)}"
    member = stream.member_of(pos)
    inside = f" (inside the gzip member at offset {member})" if member is not None else ""
    return f"decompressed offset {pos}{inside}"


def _where(stream: _Stream, pos: int) -> str:
    """How messages name the record starting at `pos`."""
    return f"record at {_place(stream, pos)}"
