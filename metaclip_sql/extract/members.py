"""The decompressed bytes of a WARC input, read forward once, with its gzip members' places.

The input is read in chunks (a local file or a stream from a URL alike) and inflated here one
gzip member at a time (ISA-L's inflate, zlib's interface), so that `WarcStream` knows where each
member began (in decompressed and in compressed offsets) and where damaged data was cut out.
`warc.py` frames records on top of it. A damaged member of ordinary size loses all of its
output (it is one record, or a few); in a file that is one member, what came out before the
damage is kept. Bytes between members that are not gzip are skipped, and reported.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from typing import BinaryIO

try:  # ISA-L's inflate, with zlib's interface
    from isal import isal_zlib as _inflate_impl
except ImportError:  # pragma: no cover - platforms without an isal wheel
    _inflate_impl = zlib

CHUNK = 1 << 20  # compressed (or plain) bytes read from the input at a time
_FEED = 1 << 15  # compressed bytes given to the inflater at a time (bounds the copies it makes)
_LOOKAHEAD = 1 << 20  # decompressed bytes read past a record, so a small member's CRC is checked
_RETAIN = 64 << 20  # compressed bytes of one member kept for a resync from its start
_INFLATE_ERRORS = (zlib.error, _inflate_impl.error)
_GZIP_MAGIC = re.compile(rb"\x1f\x8b\x08")

ErrorCallback = Callable[[int | None, str], None]


class Input:
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
        while self.base + len(self.buf) < upto and not self.eof:
            data = self._raw.read(max(CHUNK, upto - self.end))
            if not data:
                self.eof = True
            self.buf += data
        return self.base + len(self.buf) >= upto

    def get(self, start: int, size: int) -> bytes:
        """Up to `size` bytes at `start` (fewer at the end of the input)."""
        self.fill(start + size)
        with memoryview(self.buf) as data:
            return bytes(data[start - self.base : start - self.base + size])

    def release(self, before: int) -> None:
        """Forget the bytes before offset `before`."""
        drop = min(before, self.end) - self.base
        if drop > 0:
            del self.buf[:drop]
            self.base += drop

    def release_some(self, before: int) -> None:
        """`release`, once the bytes before `before` make a CHUNK: cutting the window's front
        after every small member costs copies. (The window then starts at or before where
        `release` would have put it, and nothing reads it before the member being read.)"""
        if before - self.base >= CHUNK:
            self.release(before)


class WarcStream:
    """The input's WARC bytes, decompressed, in one coordinate space, with where each gzip
    member began (`starts`, in decompressed offsets, with its compressed offset) and where
    damaged data was cut out (`breaks`)."""

    def __init__(self, source: Input, gzipped: bool, on_error: ErrorCallback) -> None:
        self.source = source
        self.gzipped = gzipped
        self.on_error = on_error
        # the output not yet forgotten: a bytearray, or bytes as the inflater gave them (a
        # member's output, not copied: the usual record is a member); `_append`, `_drop_front`
        # and `_drop_from` change either
        self.buf: bytes | bytearray = b""
        self.base = 0  # offset of buf[0]
        # where `release` (by the megabyte) has forgotten up to: `_damaged_member` tells by it
        # whether a member's output is all held; `release_consumed` may empty buf beyond it
        self.released = 0
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
        while not self.done:
            end = self.base + len(self.buf)  # `self.end`, spelled out: this runs a lot
            if end >= upto and (self._inflater is None or end >= upto + _LOOKAHEAD):
                break
            if self.gzipped:
                self._inflate()
            else:
                data = self.source.get(self._feed, CHUNK)
                if not data:
                    self.done = True
                self._append(data)
                self._feed += len(data)
                self.source.release(self._feed)
        return self.base + len(self.buf) >= upto

    def view(self, start: int, stop: int) -> bytes:
        if type(self.buf) is bytes:  # slicing copies once
            return self.buf[start - self.base : stop - self.base]
        with memoryview(self.buf) as data:
            return bytes(data[start - self.base : stop - self.base])

    def find(self, needle: bytes, start: int, stop: int) -> int:
        found = self.buf.find(needle, start - self.base, stop - self.base)
        return found + self.base if found >= 0 else -1

    def release(self, before: int) -> None:
        """Forget the bytes before `before`, by the megabyte (a small cut costs a copy)."""
        upto = min(before, self.end)
        if upto - self.released >= CHUNK:
            self.released = upto
            if upto > self.base:
                self._drop_front(upto - self.base)
                self.base = upto

    def release_consumed(self, pos: int) -> None:
        """Forget everything when `pos` is the end of what was decompressed and no member is
        half read (a record just ended with its member): the next member's output then goes
        into an empty buffer, rather than one that is copied as it grows past what is spent."""
        if pos == self.base + len(self.buf) and self._inflater is None and self.buf:
            self.buf = b""
            self.base = pos

    def _append(self, data: bytes) -> None:
        if not self.buf:
            self.buf = data  # held as is: a member's output is often all a record needs
            return
        if type(self.buf) is bytes:  # now a bytearray, made at its size (one copy of each)
            self.buf = bytearray().join((self.buf, data))
        else:
            self.buf += data

    def _drop_front(self, size: int) -> None:
        if type(self.buf) is bytes:
            self.buf = self.buf[size:]
        else:
            del self.buf[:size]

    def _drop_from(self, index: int) -> None:
        if type(self.buf) is bytes:
            self.buf = self.buf[:index]
        else:
            del self.buf[index:]

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

    def record_offset(self, pos: int) -> int:
        """A record's offset: its member's compressed offset when it starts one, else its
        position in the (decompressed) stream."""
        compressed = self.compressed_offset(pos)
        return compressed if compressed is not None else pos

    def place(self, pos: int) -> str:
        """How messages name the position `pos`: an offset in the file where it has one."""
        compressed = self.compressed_offset(pos)
        if compressed is not None or not self.gzipped:
            return f"offset {self.record_offset(pos)}"
        member = self.member_of(pos)
        inside = f" (inside the gzip member at offset {member})" if member is not None else ""
        return f"decompressed offset {pos}{inside}"

    # --- gzip members ----------------------------------------------------------------------

    def _inflate(self) -> None:
        """One step: start a member (and give it its first input), or give the current one more
        input."""
        if self._inflater is None:
            self._start_member()
            if self._inflater is None:  # the input ended (or only junk was left)
                return
            # `fill` would call again at once (nothing came out yet): go on here instead
        inflater = self._inflater
        try:
            if inflater.unconsumed_tail:
                out = inflater.decompress(inflater.unconsumed_tail, CHUNK)
            else:
                # the next `_step` compressed bytes, given as a view of the input's window
                # (no copy); the view is let go before the window changes again
                source = self.source
                start = self._feed
                source.fill(start + self._step)
                at = start - source.base
                with memoryview(source.buf) as window, window[at : at + self._step] as data:
                    if not data:
                        self._truncated_member()
                        return
                    self._feed = start + len(data)
                    self._step = min(self._step * 2, CHUNK)
                    out = inflater.decompress(data, CHUNK)
        except _INFLATE_ERRORS as exc:
            self._damaged_member(str(exc))
            return
        self._append(out)
        if inflater.eof:
            self._cpos = self._feed - len(inflater.unused_data)
            self._feed = self._cpos
            self._inflater = None
            self.source.release_some(self._cpos)
        elif self._feed - self._member[0] > _RETAIN:
            self.source.release(self._feed - _FEED)

    def _start_member(self) -> None:
        source = self.source
        source.fill(self._cpos + 3)
        at = self._cpos - source.base
        if at >= len(source.buf):  # nothing left
            self.done = True
            return
        if not source.buf.startswith(b"\x1f\x8b\x08", at):
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
        if dstart >= self.released and self.end - dstart <= _LOOKAHEAD + CHUNK:
            # a member of ordinary size holds one record or a few: all its output is suspect
            self._drop_from(dstart - self.base)
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
            window = self.source.get(pos, CHUNK + 2)
            if len(window) < 3:
                return None
            for match in _GZIP_MAGIC.finditer(window):
                candidate = pos + match.start()
                if self._member_looks_right(candidate):
                    return candidate
            if len(window) <= CHUNK + 2:
                return None
            pos += CHUNK
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
