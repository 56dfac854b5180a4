"""Fault injection for record-chunked WARC files (issue 14, "Fault injection").

A clean `.warc.gz` in Common Crawl's layout (one gzip member per record) is damaged in one place
by a seeded mutant generator, extracted, and the output judged against the clean file's own
extraction. The helper is shared by `tests/extract/test_faults.py` (a small seeded set, asserted) and
`bench/faults.py` (a sweep, tabulated).

Three parts, kept independent of the reader under test (`metaclip_sql.extract.records`, FastWARC):

- the clean file is parsed here with a zlib member walk and a strict WARC record parser, which
  give each record's compressed offset, type and `WARC-Target-URI`;
- `make_mutant` builds a mutant and `check_mutant` verifies, with the same independent parser,
  that it is exactly the damage it claims (the damaged member no longer inflates, the re-gzipped
  record is valid WARC with correct digests, the rest of the file is byte-identical...), so a
  generator bug cannot pass for a reader bug;
- `judge` compares the mutant's rows with the clean rows by `page_url` and decides what was lost
  beyond the damage and whether each loss was reported with its record offset.

The kinds (`KINDS`), each seeded by (kind, seed) alone; "a page" is an HTML response record drawn
among those with rows in the clean output:

- flipped-bytes: 1-4 bytes of a page's member, inside its deflate data (after the gzip header,
  before the CRC trailer), XORed with a random non-zero value; redrawn until the member no
  longer inflates to its record (a flip in the last byte's padding bits changes nothing);
- junk-between: 1-8192 random bytes (a quarter of them starting like a gzip header, to tempt a
  resync) inserted before a random member other than the first;
- truncated: the file cut at a random point strictly inside a page's member (not the first
  member: a file with no complete record may rightly fail as unreadable);
- length-larger / length-smaller: a page's WARC Content-Length raised (by 1 byte up to twice
  the block + 64 KiB) or lowered (by 1 byte up to the block less one), log-uniform so small and
  large errors are alike; its member re-gzipped, digests untouched;
- stale-encoding: `Content-Encoding: gzip` added at a random place among the HTTP headers of a
  page whose body is plain; the WARC Content-Length and block digest fixed, member re-gzipped;
- no-target-uri: a page's `WARC-Target-URI` line removed, member re-gzipped;
- huge-header: an `X-Junk: aaa...` line of 2 MiB added among a page's HTTP headers,
  Content-Length and digest fixed;
- wrong-charset: the HTTP Content-Type's charset of a valid UTF-8 page with non-ASCII bytes
  set to an ASCII-compatible wrong one (shift_jis, iso-8859-1, windows-1251, ...), fixed up;
- empty-member: `gzip.compress(b"")` inserted before a random member other than the first;
- duplicated-member: a page's member repeated right after itself.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

KINDS = (
    "flipped-bytes",  # 1-4 random bytes XORed inside one member's deflate data
    "junk-between",  # junk bytes inserted between two members
    "truncated",  # the file cut at a random point inside one member
    "length-larger",  # one record's WARC Content-Length larger than its block
    "length-smaller",  # ... smaller than its block
    "stale-encoding",  # `Content-Encoding: gzip` on a plain HTML body (valid WARC)
    "no-target-uri",  # one response without WARC-Target-URI (valid WARC)
    "huge-header",  # a 2 MiB HTTP header line in one response (valid WARC)
    "wrong-charset",  # HTTP charset changed to a wrong one on a UTF-8 page (valid WARC)
    "empty-member",  # gzip.compress(b"") between two members
    "duplicated-member",  # one member repeated right after itself
)

#: Kinds that leave every page body intact: nothing at all may be lost.
NO_LOSS_KINDS = frozenset(
    {
        "junk-between",
        "stale-encoding",
        "huge-header",
        "wrong-charset",
        "empty-member",
        "duplicated-member",
    }
)
#: Kinds whose mutant is a valid WARC file (every member a complete gzip member holding one
#: well-formed record with correct digests); checked for each such mutant.
VALID_WARC_KINDS = frozenset(
    {"stale-encoding", "huge-header", "wrong-charset", "empty-member", "duplicated-member"}
)
#: Also checked well-formed (same checks), though the WARC standard makes WARC-Target-URI
#: mandatory in a response record: that missing field is the damage.
WELL_FORMED_KINDS = VALID_WARC_KINDS | {"no-target-uri"}

#: Charsets declared on a UTF-8 page by `wrong-charset`: ASCII-compatible (a page declared
#: UTF-16 would rightly be read as UTF-16) and all wrong for non-ASCII UTF-8 bytes.
WRONG_CHARSETS = ("shift_jis", "iso-8859-1", "windows-1251", "euc-kr", "gb2312", "koi8-r")
HUGE_HEADER_BYTES = 2 << 20
#: Metadata entries used for extraction; `keep_unmatched` keeps every text anyway.
ENTRIES = ["photo", "dog", "cat", "image", "logo"]

_CRLF2 = b"\r\n\r\n"
_VERSION = re.compile(rb"WARC/1\.[01]\Z")
_OFFSET_IN_MESSAGE = re.compile(r"offset (\d+)")


class MutantError(Exception):
    """The mutant generator could not build, or built something other than, the damage it
    names: a bug or an unsuitable input, never to be blamed on the reader."""


class NotRecordChunked(ValueError):
    """The file is not one complete gzip member per WARC record."""


# --- independent parsing: gzip members and WARC records ---------------------------------------


@dataclass(frozen=True)
class GzipMember:
    """One complete gzip member found by the walk: where it is and what it inflates to."""

    offset: int
    end: int
    data: bytes


def walk_members(data: bytes, start: int = 0) -> list[GzipMember]:
    """Every gzip member of `data` from `start`, inflated by zlib (CRC and length checked).

    Raises `NotRecordChunked` naming the offset of the first member that is not complete and
    valid, or of bytes that are not gzip at all."""
    view = memoryview(data)
    members: list[GzipMember] = []
    pos = start
    while pos < len(data):
        inflater = zlib.decompressobj(31)
        chunks, fed = [], pos
        try:
            while not inflater.eof:
                if fed >= len(data):
                    raise NotRecordChunked(f"gzip member at offset {pos} is truncated")
                chunk = view[fed : fed + (1 << 16)]
                fed += len(chunk)
                chunks.append(inflater.decompress(chunk))
        except zlib.error as exc:
            raise NotRecordChunked(f"bad gzip data in member at offset {pos}: {exc}") from exc
        end = fed - len(inflater.unused_data)
        members.append(GzipMember(pos, end, b"".join(chunks)))
        pos = end
    return members


def deflate_span(member: bytes) -> tuple[int, int]:
    """(start, end) of the deflate data inside one gzip member: after the header (and its
    optional fields), before the 8-byte CRC32 + ISIZE trailer."""
    if member[:3] != b"\x1f\x8b\x08":
        raise MutantError("not a gzip member")
    flags, pos = member[3], 10
    if flags & 4:  # FEXTRA
        pos += 2 + int.from_bytes(member[pos : pos + 2], "little")
    if flags & 8:  # FNAME
        pos = member.index(b"\0", pos) + 1
    if flags & 16:  # FCOMMENT
        pos = member.index(b"\0", pos) + 1
    if flags & 2:  # FHCRC
        pos += 2
    return pos, len(member) - 8


@dataclass(frozen=True)
class WarcRecord:
    """A WARC record split into its version line, raw header lines and block."""

    version: bytes
    headers: tuple[bytes, ...]
    block: bytes

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        for line in self.headers:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode("utf-8", "surrogateescape")
        return None

    def to_bytes(self) -> bytes:
        head = b"\r\n".join((self.version, *self.headers))
        return head + _CRLF2 + self.block + _CRLF2


def parse_record(raw: bytes, *, strict: bool = True) -> WarcRecord:
    """Parse one WARC record. Strict: exactly one record, whose block is its declared
    Content-Length followed by CRLF CRLF. Not strict: the block is whatever follows the header
    (less a final CRLF CRLF), for records whose Content-Length is wrong on purpose."""
    end = raw.find(_CRLF2)
    if end < 0:
        raise NotRecordChunked("no end of WARC header")
    version, *headers = raw[:end].split(b"\r\n")
    if not _VERSION.match(version):
        raise NotRecordChunked(f"not a WARC record (starts {raw[:20]!r})")
    record = WarcRecord(version, tuple(headers), b"")
    body = raw[end + 4 :]
    if not strict:
        block = body[:-4] if body.endswith(_CRLF2) else body
        return WarcRecord(version, tuple(headers), block)
    length = record.header("Content-Length")
    if length is None or not length.isdigit():
        raise NotRecordChunked(f"WARC Content-Length missing or bad: {length!r}")
    size = int(length)
    if len(body) != size + 4 or body[size:] != _CRLF2:
        raise NotRecordChunked(f"block is not Content-Length {size} + CRLF CRLF")
    return WarcRecord(version, tuple(headers), body[:size])


def split_records(data: bytes) -> list[bytes]:
    """Uncompressed WARC bytes cut into records by their Content-Length (strictly)."""
    records, pos = [], 0
    while pos < len(data):
        end = data.find(_CRLF2, pos)
        if end < 0:
            raise NotRecordChunked(f"no end of WARC header at {pos}")
        head = parse_record(data[pos : end + 4], strict=False)
        size = int(head.header("Content-Length") or "-1")
        stop = end + 4 + size + 4
        if size < 0 or data[stop - 4 : stop] != _CRLF2:
            raise NotRecordChunked(f"record at {pos} does not end where its length says")
        records.append(data[pos:stop])
        pos = stop
    return records


def _set_header(headers: tuple[bytes, ...], name: str, value: str) -> tuple[bytes, ...]:
    """`headers` with the value of `name` replaced (it must be there)."""
    out, key = list(headers), name.lower().encode()
    for i, line in enumerate(out):
        if line.partition(b":")[0].strip().lower() == key:
            out[i] = f"{line.partition(b':')[0].decode()}: {value}".encode()
            return tuple(out)
    raise MutantError(f"no {name} header to change")


def _without_header(headers: tuple[bytes, ...], name: str) -> tuple[bytes, ...]:
    key = name.lower().encode()
    return tuple(h for h in headers if h.partition(b":")[0].strip().lower() != key)


def _digest(algorithm_and_value: str, data: bytes) -> str:
    """`data`'s digest in the same algorithm and encoding (base32 or hex) as the given one."""
    algorithm, _, value = algorithm_and_value.partition(":")
    digest = hashlib.new(algorithm.lower(), data).digest()
    if re.fullmatch(r"[0-9a-fA-F]+", value) and len(value) == 2 * len(digest):
        return f"{algorithm}:{digest.hex()}"
    return f"{algorithm}:{base64.b32encode(digest).decode()}"


def split_http(block: bytes) -> tuple[bytes, list[bytes], bytes]:
    """(status line, header lines, body) of an HTTP response block."""
    head, sep, body = block.partition(_CRLF2)
    if not sep:
        raise MutantError("HTTP block without end of headers")
    status, *lines = head.split(b"\r\n")
    return status, lines, body


def http_header(lines: list[bytes], name: str) -> bytes | None:
    key = name.lower().encode()
    for line in lines:
        k, _, v = line.partition(b":")
        if k.strip().lower() == key:
            return v.strip()
    return None


def with_block(record: WarcRecord, block: bytes) -> WarcRecord:
    """`record` holding `block`: Content-Length and the digests made right again, so the
    record stays valid WARC."""
    headers = _set_header(record.headers, "Content-Length", str(len(block)))
    block_digest = record.header("WARC-Block-Digest")
    if block_digest:
        headers = _set_header(headers, "WARC-Block-Digest", _digest(block_digest, block))
    payload_digest = record.header("WARC-Payload-Digest")
    if payload_digest and block.startswith(b"HTTP/"):
        payload = split_http(block)[2]
        headers = _set_header(headers, "WARC-Payload-Digest", _digest(payload_digest, payload))
    return WarcRecord(record.version, headers, block)


def digests_hold(record: WarcRecord) -> bool:
    """Whether the record's block digest (if any) is right for its block."""
    declared = record.header("WARC-Block-Digest")
    return declared is None or _digest(declared, record.block) == declared


# --- the clean file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One gzip member of the clean file and the WARC record it holds."""

    index: int
    offset: int
    raw: bytes
    record: bytes
    warc_type: str | None
    target_uri: str | None

    @property
    def end(self) -> int:
        return self.offset + len(self.raw)

    def http(self) -> tuple[bytes, list[bytes], bytes] | None:
        """(status, header lines, body) when this is an HTTP response record, else None."""
        if self.warc_type != "response":
            return None
        block = parse_record(self.record).block
        if not block.startswith(b"HTTP/") or _CRLF2 not in block:
            return None
        return split_http(block)

    def is_html(self) -> bool:
        """An HTTP response the reader parses: HTML Content-Type, or none."""
        http = self.http()
        if http is None:
            return False
        ctype = http_header(http[1], "Content-Type")
        return ctype is None or b"html" in ctype.lower()


@dataclass(frozen=True)
class CleanWarc:
    """A record-chunked WARC file parsed independently of the reader under test."""

    path: Path
    data: bytes
    members: tuple[Member, ...]
    digests_hold: bool  # every record's block digest (where given) right for its block
    pages: tuple[int, ...]  # indexes of the members holding HTML responses

    @classmethod
    def load(cls, path: Path) -> CleanWarc:
        """Parse `path`; raises `NotRecordChunked` unless it is one gzip member per record."""
        data = path.read_bytes()
        members, digests = [], True
        for i, m in enumerate(walk_members(data)):
            record = parse_record(m.data)  # exactly one record a member, or NotRecordChunked
            digests = digests and digests_hold(record)
            members.append(
                Member(
                    i,
                    m.offset,
                    data[m.offset : m.end],
                    m.data,
                    record.header("WARC-Type"),
                    record.header("WARC-Target-URI"),
                )
            )
        if not members:
            raise NotRecordChunked("no records")
        pages = tuple(m.index for m in members if m.is_html())
        return cls(path, data, tuple(members), digests, pages)

    def index_of_url(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for m in self.members:
            if m.warc_type == "response" and m.target_uri is not None:
                out.setdefault(m.target_uri, []).append(m.index)
        return out


def load_record_chunked(path: Path, workdir: Path) -> CleanWarc:
    """`path` parsed as a `CleanWarc`; a file in another layout (one gzip member for the whole
    file, several records a member, plain WARC) is first rewritten to `workdir` with one gzip
    member per record, Common Crawl's layout."""
    with contextlib.suppress(NotRecordChunked):
        return CleanWarc.load(path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = b"".join(m.data for m in walk_members(data))
    dest = workdir / f"{path.name.removesuffix('.gz').removesuffix('.warc')}.chunked.warc.gz"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(b"".join(gzip.compress(r, mtime=0) for r in split_records(data)))
    return CleanWarc.load(dest)


# --- mutants ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    """A clean file damaged in one place.

    `record` is the clean index of the damaged (or duplicated) record; `gap` the clean index
    of the member that inserted bytes precede. `offsets[i]` is where clean member `i` starts in
    the mutant (None when cut off). `place` is the mutant offset of the damage."""

    kind: str
    seed: int
    data: bytes
    record: int | None
    gap: int | None
    offsets: tuple[int | None, ...]
    place: int
    what: str
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.seed}.warc.gz"


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    """An int in [low, high], log-uniform: small and large values equally represented."""
    if high <= low:
        return low
    return min(high, max(low, round(math.exp(rng.uniform(math.log(low), math.log(high))))))


def _shifted(clean: CleanWarc, after: int, by: int) -> tuple[int, ...]:
    """Clean offsets, those of members at index >= `after` moved by `by` bytes."""
    return tuple(m.offset + (by if m.index >= after else 0) for m in clean.members)


def _replace_member(clean: CleanWarc, k: int, record: bytes) -> tuple[bytes, tuple[int, ...]]:
    """The clean file with member `k` re-gzipped from `record`, and the new offsets."""
    m = clean.members[k]
    raw = gzip.compress(record, mtime=0)
    data = clean.data[: m.offset] + raw + clean.data[m.end :]
    return data, _shifted(clean, k + 1, len(raw) - len(m.raw))


def _pick(rng: random.Random, candidates: list[int], what: str) -> int:
    if not candidates:
        raise MutantError(f"no record of the input fits: {what}")
    return rng.choice(candidates)


def make_mutant(
    clean: CleanWarc, kind: str, seed: int, with_rows: Collection[int] | None = None
) -> Mutant:
    """Mutant `seed` of `kind`, checked (`check_mutant`) before it is returned.

    The damaged record is drawn among the HTML pages, preferring those in `with_rows` (clean
    indexes of pages that have rows in the clean output), so that a loss is visible; the same
    (file, kind, seed) always gives the same mutant."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    rng = random.Random(f"{kind}:{seed}")
    pages = list(clean.pages)
    preferred = [i for i in pages if with_rows is None or i in with_rows] or pages
    mutant = _MAKERS[kind](clean, kind, seed, rng, preferred)
    check_mutant(clean, mutant)
    return mutant


def _flipped_bytes(clean, kind, seed, rng, pages) -> Mutant:
    """Bytes XORed inside one page member's deflate data (module docstring: the kinds)."""
    k = _pick(rng, pages, "a page")
    m = clean.members[k]
    start, end = deflate_span(m.raw)
    for _ in range(100):  # a flip in the final byte's padding bits changes nothing: redraw
        raw = bytearray(m.raw)
        spots = sorted(rng.sample(range(start, end), min(end - start, rng.randint(1, 4))))
        for pos in spots:
            raw[pos] ^= rng.randint(1, 255)
        if _member_damaged(bytes(raw), m.record):
            break
    else:
        raise MutantError(f"no flip damaged member {k}")
    data = clean.data[: m.offset] + bytes(raw) + clean.data[m.end :]
    where = ", ".join(str(p) for p in spots)
    return Mutant(
        kind,
        seed,
        data,
        k,
        None,
        _shifted(clean, 0, 0),
        m.offset + spots[0],
        f"record {k} ({m.target_uri}): {len(spots)} byte(s) flipped at member offsets {where}",
        {"spots": spots},
    )


def _member_damaged(raw: bytes, record: bytes) -> bool:
    """Whether `raw` no longer inflates, as one complete gzip member, to `record`."""
    inflater = zlib.decompressobj(31)
    try:
        out = inflater.decompress(raw)
    except zlib.error:
        return True
    return not inflater.eof or inflater.unused_data != b"" or out != record


def _junk_between(clean, kind, seed, rng, pages) -> Mutant:
    """Random bytes (sometimes opening like a gzip header) between two members."""
    if len(clean.members) < 2:
        raise MutantError("needs two members")
    gap = rng.randrange(1, len(clean.members))
    size = _log_uniform(rng, 1, 8192)
    junk = rng.randbytes(size)
    if rng.random() < 0.25:  # looks like the start of a gzip member, to tempt a resync
        junk = (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + junk)[:size]
    at = clean.members[gap].offset
    data = clean.data[:at] + junk + clean.data[at:]
    return Mutant(
        kind,
        seed,
        data,
        None,
        gap,
        _shifted(clean, gap, len(junk)),
        at,
        f"{len(junk)} junk bytes before member {gap}",
        {"junk": junk},
    )


def _truncated(clean, kind, seed, rng, pages) -> Mutant:
    """The file cut strictly inside one page's member (never the first member)."""
    # Not the first member: a file cut inside its first record holds no record and may rightly
    # fail as unreadable.
    k = _pick(rng, [i for i in pages if i > 0], "a page after the first record")
    m = clean.members[k]
    cut = m.offset + rng.randint(1, len(m.raw) - 1)
    offsets = tuple(x.offset if x.index <= k else None for x in clean.members)
    return Mutant(
        kind,
        seed,
        clean.data[:cut],
        k,
        None,
        offsets,
        cut,
        f"cut at {cut}, {cut - m.offset} of the {len(m.raw)} bytes of record {k}'s member",
    )


def _wrong_length(clean, kind, seed, rng, pages) -> Mutant:
    """One page's WARC Content-Length made larger or smaller than its block."""
    k = _pick(rng, pages, "a page")
    record = parse_record(clean.members[k].record)
    true = len(record.block)
    if kind == "length-larger":
        declared = true + _log_uniform(rng, 1, 2 * true + 65536)
    else:
        declared = true - _log_uniform(rng, 1, true - 1)
    headers = _set_header(record.headers, "Content-Length", str(declared))
    wrong = WarcRecord(record.version, headers, record.block).to_bytes()
    change = f"Content-Length {true} -> {declared}"
    return _record_replaced(clean, kind, seed, k, wrong, change, declared=declared)


def _edit_http(clean: CleanWarc, k: int, edit: Callable[[list[bytes]], list[bytes]]) -> bytes:
    """Record `k` with its HTTP header lines edited, kept a valid record."""
    record = parse_record(clean.members[k].record)
    status, lines, body = split_http(record.block)
    block = b"\r\n".join([status, *edit(list(lines))]) + _CRLF2 + body
    return with_block(record, block).to_bytes()


def _record_replaced(
    clean: CleanWarc, kind: str, seed: int, k: int, new: bytes, change: str, **extra: object
) -> Mutant:
    """The mutant whose member `k` holds `new` instead (re-gzipped); `change` says how."""
    data, offsets = _replace_member(clean, k, new)
    what = f"record {k} ({clean.members[k].target_uri}): {change}"
    return Mutant(kind, seed, data, k, None, offsets, offsets[k], what, {"record": new, **extra})


def _stale_encoding(clean, kind, seed, rng, pages) -> Mutant:
    """`Content-Encoding: gzip` on a page whose body is plain (valid WARC)."""

    def plain(i: int) -> bool:
        _, lines, body = clean.members[i].http()
        return http_header(lines, "Content-Encoding") is None and body[:2] != b"\x1f\x8b"

    k = _pick(rng, [i for i in pages if plain(i)], "a plain (not encoded) page")
    at = rng.randint(0, len(clean.members[k].http()[1]))
    new = _edit_http(clean, k, lambda lines: [*lines[:at], b"Content-Encoding: gzip", *lines[at:]])
    return _record_replaced(clean, kind, seed, k, new, "Content-Encoding: gzip added")


def _huge_header(clean, kind, seed, rng, pages) -> Mutant:
    """A 2 MiB HTTP header line in one page (valid WARC: the page must be read whole)."""
    k = _pick(rng, pages, "a page")
    at = rng.randint(0, len(clean.members[k].http()[1]))
    line = b"X-Junk: " + b"a" * HUGE_HEADER_BYTES
    new = _edit_http(clean, k, lambda lines: [*lines[:at], line, *lines[at:]])
    return _record_replaced(clean, kind, seed, k, new, f"2 MiB X-Junk header as line {at + 1}")


_CHARSET_PARAM = re.compile(rb"""charset\s*=\s*["']?[^;"'\s]*["']?""", re.IGNORECASE)


def _wrong_charset(clean, kind, seed, rng, pages) -> Mutant:
    """A wrong charset declared in the HTTP Content-Type of a UTF-8 page (valid WARC)."""

    def utf8(i: int, non_ascii: bool) -> bool:
        body = clean.members[i].http()[2]
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return not non_ascii or not body.isascii()

    candidates = [i for i in pages if utf8(i, True)] or [i for i in pages if utf8(i, False)]
    k = _pick(rng, candidates, "a UTF-8 page")
    charset = rng.choice(WRONG_CHARSETS).encode()

    def edit(lines: list[bytes]) -> list[bytes]:
        for j, line in enumerate(lines):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-type":
                value = value.strip()
                if _CHARSET_PARAM.search(value):
                    value = _CHARSET_PARAM.sub(b"charset=" + charset, value, count=1)
                else:
                    value += b"; charset=" + charset
                lines[j] = name + b": " + value
                return lines
        return [*lines, b"Content-Type: text/html; charset=" + charset]

    new = _edit_http(clean, k, edit)
    change = f"charset={charset.decode()} on UTF-8"
    return _record_replaced(clean, kind, seed, k, new, change, charset=charset.decode())


def _no_target_uri(clean, kind, seed, rng, pages) -> Mutant:
    """One page's WARC-Target-URI line removed."""
    k = _pick(rng, [i for i in pages if clean.members[i].target_uri], "a page with a URI")
    record = parse_record(clean.members[k].record)
    headers = _without_header(record.headers, "WARC-Target-URI")
    new = WarcRecord(record.version, headers, record.block).to_bytes()
    return _record_replaced(clean, kind, seed, k, new, "WARC-Target-URI removed")


EMPTY_MEMBER = gzip.compress(b"", mtime=0)


def _empty_member(clean, kind, seed, rng, pages) -> Mutant:
    """`gzip.compress(b"")` between two members (valid WARC)."""
    if len(clean.members) < 2:
        raise MutantError("needs two members")
    gap = rng.randrange(1, len(clean.members))
    at = clean.members[gap].offset
    data = clean.data[:at] + EMPTY_MEMBER + clean.data[at:]
    return Mutant(
        kind,
        seed,
        data,
        None,
        gap,
        _shifted(clean, gap, len(EMPTY_MEMBER)),
        at,
        f"empty gzip member before member {gap}",
    )


def _duplicated_member(clean, kind, seed, rng, pages) -> Mutant:
    """One page's member repeated right after itself (valid WARC)."""
    k = _pick(rng, pages, "a page")
    m = clean.members[k]
    data = clean.data[: m.end] + m.raw + clean.data[m.end :]
    return Mutant(
        kind,
        seed,
        data,
        k,
        None,
        _shifted(clean, k + 1, len(m.raw)),
        m.end,
        f"record {k} ({m.target_uri}) repeated at {m.end}",
    )


_MAKERS = {
    "flipped-bytes": _flipped_bytes,
    "junk-between": _junk_between,
    "truncated": _truncated,
    "length-larger": _wrong_length,
    "length-smaller": _wrong_length,
    "stale-encoding": _stale_encoding,
    "no-target-uri": _no_target_uri,
    "huge-header": _huge_header,
    "wrong-charset": _wrong_charset,
    "empty-member": _empty_member,
    "duplicated-member": _duplicated_member,
}


def check_mutant(clean: CleanWarc, mutant: Mutant) -> None:
    """Raise `MutantError` unless `mutant` is exactly the damage its kind names, verified on
    its bytes with the independent parser (not with the reader under test)."""
    try:
        spliced = _CHECKS[mutant.kind](clean, mutant)
        if mutant.kind in WELL_FORMED_KINDS:
            # The rest of the file is the clean one's, strictly parsed on loading.
            _require(clean.digests_hold, mutant, "the input's own digests are wrong")
            check_valid_warc(*spliced)  # the new bytes: valid records, right digests
    except MutantError:
        raise
    except Exception as exc:  # a parse error here means the mutant is not what it claims
        raise MutantError(f"{mutant.kind} seed {mutant.seed}: {type(exc).__name__}: {exc}") from exc


def _require(ok: bool, mutant: Mutant, why: str) -> None:
    if not ok:
        raise MutantError(f"{mutant.kind} seed {mutant.seed} is not as intended: {why}")


def _check_flipped(clean: CleanWarc, mutant: Mutant) -> None:
    m = clean.members[mutant.record]
    start, end = deflate_span(m.raw)
    data = mutant.data
    _require(len(data) == len(clean.data), mutant, "file length changed")
    _require(data[: m.offset + start] == clean.data[: m.offset + start], mutant, "head changed")
    _require(data[m.offset + end :] == clean.data[m.offset + end :], mutant, "tail changed")
    _require(data[m.offset : m.end] != m.raw, mutant, "nothing flipped")
    _require(_member_damaged(data[m.offset : m.end], m.record), mutant, "member still inflates")


def _check_junk(clean: CleanWarc, mutant: Mutant) -> None:
    at, junk = clean.members[mutant.gap].offset, mutant.extra["junk"]
    _require(mutant.data == clean.data[:at] + junk + clean.data[at:], mutant, "not an insertion")
    _require(bool(junk), mutant, "no junk")
    with contextlib.suppress(NotRecordChunked):
        walk_members(junk)
        raise MutantError(f"{mutant.kind} seed {mutant.seed}: the junk is valid gzip")


def _check_truncated(clean: CleanWarc, mutant: Mutant) -> None:
    m = clean.members[mutant.record]
    _require(clean.data.startswith(mutant.data), mutant, "not a prefix")
    _require(m.offset < len(mutant.data) < m.end, mutant, "cut not inside the record's member")


def _spliced(
    clean: CleanWarc, mutant: Mutant, start: int, stop: int, expected: list[bytes]
) -> tuple[bytes, list[GzipMember]]:
    """The mutant is the clean file with its bytes `start:stop` (member boundaries) replaced
    by complete gzip members holding the records `expected`; every other byte is the clean
    file's (whose members were all walked and strictly parsed on loading), and the clean
    members sit at `mutant.offsets`. Returns the new bytes and their walk."""
    data = mutant.data
    size = len(data) - len(clean.data) + (stop - start)
    _require(size >= 0 and data[:start] == clean.data[:start], mutant, "head changed")
    _require(data[start + size :] == clean.data[stop:], mutant, "tail changed")
    middle = data[start : start + size]
    members = walk_members(middle)
    _require([m.data for m in members] == expected, mutant, "members hold other records")
    shift = size - (stop - start)
    offsets = tuple(
        m.offset if m.end <= start else m.offset + shift if m.offset >= stop else start
        for m in clean.members
    )
    _require(offsets == mutant.offsets, mutant, "offsets do not match the file")
    return middle, members


def _check_replaced(clean: CleanWarc, mutant: Mutant) -> tuple[bytes, list[GzipMember]]:
    """Kinds that re-gzip one record: only that record changed, and as its kind says."""
    k = mutant.record
    new = mutant.extra["record"]
    m = clean.members[k]
    spliced = _spliced(clean, mutant, m.offset, m.end, [new])
    old = parse_record(clean.members[k].record)
    if mutant.kind in ("length-larger", "length-smaller"):
        rec = parse_record(new, strict=False)
        declared = int(rec.header("Content-Length"))
        _require(rec.block == old.block, mutant, "block changed")
        _require(declared == mutant.extra["declared"] != len(old.block), mutant, "length right")
        _require((declared > len(old.block)) == (mutant.kind == "length-larger"), mutant, "sign")
        others = _without_header(rec.headers, "Content-Length")
        _require(others == _without_header(old.headers, "Content-Length"), mutant, "headers")
        return spliced
    rec = parse_record(new)  # strict: a valid record
    _require(digests_hold(rec), mutant, "block digest wrong")
    if mutant.kind == "no-target-uri":
        _require(rec.header("WARC-Target-URI") is None, mutant, "URI still there")
        _require(rec.block == old.block, mutant, "block changed")
        _require(
            rec.headers == _without_header(old.headers, "WARC-Target-URI"),
            mutant,
            "other WARC headers changed",
        )
        return spliced
    _, old_lines, old_body = split_http(old.block)
    _, lines, body = split_http(rec.block)
    _require(body == old_body, mutant, "HTTP body changed")
    _require(
        rec.header("WARC-Payload-Digest") == old.header("WARC-Payload-Digest"),
        mutant,
        "payload digest changed",
    )
    added = [line for line in lines if line not in old_lines]
    if mutant.kind == "stale-encoding":
        _require(added == [b"Content-Encoding: gzip"], mutant, f"added {added!r}")
        _require(len(lines) == len(old_lines) + 1, mutant, "header lines lost")
        _require(body[:2] != b"\x1f\x8b", mutant, "body is gzip after all")
    elif mutant.kind == "huge-header":
        _require(len(added) == 1 and len(added[0]) >= HUGE_HEADER_BYTES, mutant, "no 2 MiB line")
        _require(len(lines) == len(old_lines) + 1, mutant, "header lines lost")
    elif mutant.kind == "wrong-charset":
        charset = mutant.extra["charset"]
        ctype = (http_header(lines, "Content-Type") or b"").decode("latin-1").lower()
        _require(f"charset={charset}" in ctype, mutant, f"Content-Type is {ctype!r}")
        _require(len(lines) in (len(old_lines), len(old_lines) + 1), mutant, "lines lost")
        utf8 = body.decode("utf-8")  # the page is UTF-8 ...
        _require(body.decode(charset, "replace") != utf8 or body.isascii(), mutant, "not wrong")
    return spliced


def _check_empty(clean: CleanWarc, mutant: Mutant) -> tuple[bytes, list[GzipMember]]:
    at = clean.members[mutant.gap].offset
    spliced = _spliced(clean, mutant, at, at, [b""])
    _require(spliced[0] == EMPTY_MEMBER, mutant, "not gzip.compress(b'')")
    return spliced


def _check_duplicated(clean: CleanWarc, mutant: Mutant) -> tuple[bytes, list[GzipMember]]:
    m = clean.members[mutant.record]
    spliced = _spliced(clean, mutant, m.end, m.end, [m.record])
    _require(spliced[0] == m.raw and mutant.place == m.end, mutant, "not the member's copy")
    return spliced


_CHECKS: dict[str, Callable[[CleanWarc, Mutant], tuple[bytes, list[GzipMember]] | None]] = {
    "flipped-bytes": _check_flipped,
    "junk-between": _check_junk,
    "truncated": _check_truncated,
    "length-larger": _check_replaced,
    "length-smaller": _check_replaced,
    "stale-encoding": _check_replaced,
    "no-target-uri": _check_replaced,
    "huge-header": _check_replaced,
    "wrong-charset": _check_replaced,
    "empty-member": _check_empty,
    "duplicated-member": _check_duplicated,
}


def check_valid_warc(data: bytes, members: list[GzipMember] | None = None) -> int:
    """Every gzip member of `data` complete and holding one strictly valid WARC record with a
    right block digest (an empty member holds none); returns the number of records.
    `members`: the walk of `data` when already done."""
    count = 0
    for m in walk_members(data) if members is None else members:
        if not m.data:
            continue
        record = parse_record(m.data)
        if not digests_hold(record):
            raise NotRecordChunked(f"member at {m.offset}: block digest wrong")
        count += 1
    return count


# --- the oracle -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """One extraction's rows: pair keys by `page_url`, and the image URL of each pair."""

    by_page: dict[str | None, frozenset]
    image_url: dict[tuple[str | None, object], str]

    @classmethod
    def read(cls, parquet: Path | None) -> Rows:
        if parquet is None or not parquet.exists():
            return cls({}, {})
        table = pq.read_table(parquet, columns=["page_url", "pair_key", "url"])
        by_page: dict[str | None, set] = {}
        image_url = {}
        for page, key, url in zip(
            table.column("page_url").to_pylist(),
            table.column("pair_key").to_pylist(),
            table.column("url").to_pylist(),
            strict=True,
        ):
            by_page.setdefault(page, set()).add(key)
            image_url[page, key] = url
        return cls({p: frozenset(k) for p, k in by_page.items()}, image_url)


@dataclass(frozen=True)
class Loss:
    """Rows of one page missing from the mutant's output."""

    url: str
    record: int  # clean member index of the page
    offset: int | None  # its offset in the mutant
    rows: int  # its clean rows not found anywhere in the mutant's output
    whole_page: bool  # no row at all under its page_url
    beyond: bool  # beyond the damage (not the damaged record's own, forgivable loss)
    reported: bool  # its offset named in a message


@dataclass
class Verdict:
    """What one mutant cost and whether it was said."""

    kind: str
    seed: int
    place: int
    what: str
    failed: bool
    partial: list[str]
    losses: list[Loss]
    cut_reported: bool | None  # truncated only: the cut record named in a message
    errors: int
    messages: list[str]
    cut: tuple[int, int | None] | None = None  # truncated only: (clean index, mutant offset)
    via: str = "api"
    exit_code: int | None = None

    @property
    def pages_lost(self) -> int:
        """Whole pages lost beyond the damage."""
        return sum(1 for loss in self.losses if loss.beyond and loss.whole_page)

    @property
    def rows_lost(self) -> int:
        """Rows lost beyond the damage (those of whole lost pages included)."""
        return sum(loss.rows for loss in self.losses if loss.beyond)

    @property
    def beyond(self) -> list[Loss]:
        return [loss for loss in self.losses if loss.beyond]

    @property
    def silent(self) -> list[str]:
        """Losses (the damaged page's own included) not reported with their record offset,
        and an unreported cut record."""
        out = [f"{loss.url} @ {loss.offset}" for loss in self.losses if not loss.reported]
        cut_loss = self.cut is not None and any(loss.record == self.cut[0] for loss in self.losses)
        if self.cut is not None and self.cut_reported is False and not cut_loss:
            out.append(f"cut record @ {self.cut[1]}")
        return out

    @property
    def ok(self) -> bool:
        return not (self.failed or self.partial or self.beyond or self.silent)

    def summary(self) -> str:
        """One line: which mutant, what it cost, and the first messages."""
        parts = [f"{self.kind} seed {self.seed} @ {self.place} [{self.via}]: {self.what}"]
        if self.failed:
            parts.append(f"FAILED (exit {self.exit_code})" if self.via == "cli" else "FAILED")
        if self.partial:
            parts.append(f"partial files {self.partial}")
        if self.beyond:
            parts.append(
                f"lost beyond the damage: {self.pages_lost} page(s), {self.rows_lost} row(s) in "
                f"{len(self.beyond)} page(s) at {[loss.offset for loss in self.beyond][:6]}"
            )
        own = [loss for loss in self.losses if not loss.beyond]
        if own:
            parts.append(
                "damaged page lost "
                + ", ".join(
                    f"{'all ' if loss.whole_page else ''}{loss.rows} row(s)"
                    f"{'' if loss.reported else ' unreported'}"
                    for loss in own
                )
            )
        if self.silent:
            parts.append(f"{len(self.silent)} silent: {self.silent[:3]}")
        shown = [m if len(m) < 160 else m[:157] + "..." for m in self.messages[:3]]
        parts.append(f"errors={self.errors} messages={shown}")
        return "; ".join(parts)


def reported_offsets(errors: int, messages: list[str]) -> set[int]:
    """Offsets named in messages ("record at offset N", "... offset N ...")."""
    if errors == 0:
        return set()
    return {int(n) for message in messages for n in _OFFSET_IN_MESSAGE.findall(message)}


def image_srcs(html: bytes) -> set[str]:
    """The `src` attributes of a page's `<img>` tags, stripped: an image URL found among them
    verbatim was absolute in the page (a relative `src` never equals an http(s) URL)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    return {(node.attributes.get("src") or "").strip() for node in tree.css("img")}


def judge(
    clean: CleanWarc,
    mutant: Mutant,
    clean_rows: Rows,
    rows: Rows,
    *,
    failed: bool,
    errors: int,
    messages: list[str],
    partial: list[str],
) -> Verdict:
    """The oracle. A page (`page_url` with rows in the clean output) is lost when it has no
    row in the mutant's output; its rows are lost when their pair keys are not under its
    page_url there. (Strict on purpose: a pair only moves to another page when the page that
    had it lost it, or when an earlier page swallowed it, say a record whose Content-Length
    runs into the next records: both are losses of that page. Rows the mutant has in excess
    are not judged.)

    Forgiven (not "beyond the damage"): the damaged record's own page for the kinds that damage
    its bytes (flipped bytes, wrong Content-Length, truncation), and every page after the cut;
    for `no-target-uri` only the page's pairs whose image URL was relative. Nothing is forgiven
    for the `NO_LOSS_KINDS`. Every loss, forgiven or not, must be reported with the offset of
    its record in the mutant, and a truncation must report the cut record."""
    reported = reported_offsets(errors, messages)
    after = rows.by_page
    damaged_url = clean.members[mutant.record].target_uri if mutant.record is not None else None
    if mutant.kind == "no-target-uri" and damaged_url is not None:
        after = dict(after)
        after[damaged_url] = after.get(damaged_url, frozenset()) | after.get(None, frozenset())
    index_of = clean.index_of_url()
    losses = []
    for url, keys in clean_rows.by_page.items():
        if url is None or url not in index_of:
            continue
        records = index_of[url]
        k = records[0]
        if mutant.kind == "truncated" and any(i > mutant.record for i in records):
            continue  # not in the file any more
        damaged = mutant.record in records
        kept = after.get(url, frozenset())
        lost = keys - kept
        whole = not kept
        if damaged and mutant.kind == "no-target-uri":
            srcs = image_srcs(clean.members[mutant.record].http()[2])
            lost = {key for key in lost if clean_rows.image_url[url, key] in srcs}
            whole = whole and bool(lost)
        if not lost and not whole:
            continue
        offset = mutant.offsets[k]
        beyond = not damaged or mutant.kind in NO_LOSS_KINDS or mutant.kind == "no-target-uri"
        losses.append(Loss(url, k, offset, len(lost), whole, beyond, offset in reported))
    cut_reported, cut = None, None
    if mutant.kind == "truncated":
        cut = (mutant.record, mutant.offsets[mutant.record])
        cut_reported = cut[1] in reported
    return Verdict(
        mutant.kind,
        mutant.seed,
        mutant.place,
        mutant.what,
        failed,
        partial,
        sorted(losses, key=lambda loss: loss.record),
        cut_reported,
        errors,
        list(messages),
        cut,
    )


# --- running mutants --------------------------------------------------------------------------


def leftovers(out: Path) -> list[str]:
    """Partial outputs: hidden temporary files or anything named *.tmp."""
    if not out.exists():
        return []
    return sorted(
        p.name for p in out.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp")
    )


@contextlib.contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise TimeoutError in the main thread after `seconds` (a reader stuck on a mutant must
    not hang the suite or the sweep); a no-op elsewhere."""
    usable = threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM")
    if not seconds or not usable:
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class FaultRun:
    """One clean WARC, its clean extraction, and the means to extract and judge mutants of it
    (one `Matcher` and `LanguageId` shared by all)."""

    def __init__(self, clean: CleanWarc, workdir: Path, timeout: float | None = 120.0) -> None:
        from metaclip_sql.extract.lid import LanguageId
        from metaclip_sql.extract.shard import ExtractOptions, extract_shard, output_path
        from metaclip_sql.metadata.matching import Matcher

        self.clean = clean
        self.workdir = workdir
        self.timeout = timeout
        self.matcher = Matcher(ENTRIES, use_cache=False)
        self.lid = LanguageId()
        self._options = lambda out: ExtractOptions(out_dir=out, langs=None, keep_unmatched=True)
        self._extract_shard, self._output_path = extract_shard, output_path
        workdir.mkdir(parents=True, exist_ok=True)
        out = workdir / "out-clean"
        shutil.rmtree(out, ignore_errors=True)
        stats = extract_shard(clean.path, self._options(out), self.matcher, self.lid)
        if stats.status != "ok" or stats.errors:
            raise MutantError(f"the clean file does not read cleanly: {stats.messages[:3]}")
        self.clean_stats = stats
        self.clean_rows = Rows.read(output_path(clean.path, out))
        shutil.rmtree(out, ignore_errors=True)
        index_of = clean.index_of_url()
        self.with_rows = frozenset(
            i for url in self.clean_rows.by_page if url in index_of for i in index_of[url]
        )

    def mutant(self, kind: str, seed: int) -> Mutant:
        return make_mutant(self.clean, kind, seed, self.with_rows)

    def run(self, mutant: Mutant, keep: bool = False) -> Verdict:
        """Extract `mutant` with `extract_shard` and judge its output."""
        shard = self.workdir / mutant.name
        out = self.workdir / f"out-{mutant.name}"
        shutil.rmtree(out, ignore_errors=True)
        shard.write_bytes(mutant.data)
        try:
            try:
                with deadline(self.timeout):
                    stats = self._extract_shard(shard, self._options(out), self.matcher, self.lid)
                failed, errors, messages = stats.status == "failed", stats.errors, stats.messages
            except Exception as exc:  # the reader raising out of extract_shard fails the shard
                failed, errors, messages = True, 1, [f"raised {type(exc).__name__}: {exc}"]
            rows = Rows.read(self._output_path(shard, out))
            return judge(
                self.clean,
                mutant,
                self.clean_rows,
                rows,
                failed=failed,
                errors=errors,
                messages=messages,
                partial=leftovers(out),
            )
        finally:
            if not keep:
                shard.unlink(missing_ok=True)
                shutil.rmtree(out, ignore_errors=True)

    def run_cli(self, mutant: Mutant, timeout: float = 300.0) -> Verdict:
        """Extract `mutant` with the `metaclip-sql extract` command (supervised worker) and
        judge its exit code, leftovers and output (stats from the Parquet footer)."""
        from metaclip_sql.extract.shard import read_stats

        shard = self.workdir / mutant.name
        out = self.workdir / f"cli-{mutant.name}"
        meta = self.workdir / "metadata.json"
        meta.write_text(json.dumps(ENTRIES), encoding="utf-8")
        shutil.rmtree(out, ignore_errors=True)
        shard.write_bytes(mutant.data)
        try:
            done = run_cli([shard], out, meta, timeout)
            parquet = self._output_path(shard, out)
            stats = read_stats(parquet) if parquet.exists() else None
            messages = stats["messages"] if stats else [done.stdout[-500:] + done.stderr[-500:]]
            verdict = judge(
                self.clean,
                mutant,
                self.clean_rows,
                Rows.read(parquet),
                failed=done.returncode != 0 or stats is None or stats["status"] == "failed",
                errors=stats["errors"] if stats else 1,
                messages=messages,
                partial=leftovers(out),
            )
            verdict.via, verdict.exit_code = "cli", done.returncode
            return verdict
        finally:
            shard.unlink(missing_ok=True)
            shutil.rmtree(out, ignore_errors=True)


def run_cli(
    shards: list[Path], out: Path, metadata: Path, timeout: float = 300.0
) -> subprocess.CompletedProcess:
    """`metaclip-sql extract SHARDS --out OUT` in a fresh interpreter, every text kept, with
    the same `metaclip_sql` package as this process (a checkout other than the installed one
    included)."""
    import metaclip_sql

    package_root = str(Path(metaclip_sql.__file__).resolve().parents[1])
    env = {**os.environ}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    command = [
        sys.executable,
        "-c",
        "import sys; from metaclip_sql.cli import app; sys.argv[0] = 'metaclip-sql'; app()",
        "extract",
        *map(str, shards),
        "--out",
        str(out),
        "--metadata",
        str(metadata),
        "--lang",
        "all",
        "--keep-unmatched",
        "--workers",
        "1",
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
