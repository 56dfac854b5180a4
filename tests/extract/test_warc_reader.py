"""`iter_warc` on the layouts its fast paths are about: records come out the same whatever
sizes the input is read in, and a damaged member costs its own record only, also when the
member takes more than one read of compressed input."""

from __future__ import annotations

import gzip
import io
import random

import pytest

from metaclip_sql.extract.warc import iter_warc
from metaclip_sql.sample import Response, warc_record


class ShortReads(io.RawIOBase):
    """A stream that hands out at most `top` bytes a read (random sizes, seeded)."""

    def __init__(self, data: bytes, top: int) -> None:
        self.data, self.pos, self.rng, self.top = data, 0, random.Random(top), top

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        n = self.rng.randint(1, self.top)
        if size is not None and size >= 0:
            n = min(n, size)
        out = self.data[self.pos : self.pos + n]
        self.pos += len(out)
        return out


def records(n: int, body_size: int = 200) -> list[bytes]:
    rng = random.Random(n)
    out = []
    for i in range(n):
        # random text compresses poorly: a big body makes a member of several reads
        body = "".join(rng.choice("abcdefghij <>/") for _ in range(body_size))
        out.append(warc_record(Response(f"https://x{i}.example.org/", body.encode()), i))
    return out


def read(raw) -> tuple[list[tuple[int, dict[str, str], bytes]], list[tuple[int | None, str]]]:
    errors: list[tuple[int | None, str]] = []
    got = [
        (r.offset, r.headers, r.block)
        for r in iter_warc(raw, lambda o, m: errors.append((o, m)), 64 << 20)
    ]
    return got, errors


def odd_layout(recs: list[bytes]) -> bytes:
    """One member per record, with an empty member, CRLF padding, an LF-only header and
    records sharing a member."""
    header, _, rest = recs[1].partition(b"\r\n\r\n")
    lf_only = header.replace(b"\r\n", b"\n") + b"\n\n" + rest
    parts = [
        gzip.compress(recs[0], mtime=0),
        gzip.compress(b"", mtime=0),
        gzip.compress(b"\r\n\r\n" + lf_only, mtime=0),
        gzip.compress(recs[2] + recs[3], mtime=0),
        gzip.compress(recs[4] + b"\r\n", mtime=0),
    ]
    return b"".join(parts)


@pytest.mark.parametrize("layout", ["members", "odd", "single", "plain"])
def test_same_records_whatever_the_read_sizes(layout: str) -> None:
    recs = records(5, body_size=5000)
    data = {
        "members": b"".join(gzip.compress(r, mtime=0) for r in recs),
        "odd": odd_layout(recs),
        "single": gzip.compress(b"".join(recs), mtime=0),
        "plain": b"".join(recs),
    }[layout]
    whole = read(io.BytesIO(data))
    assert len(whole[0]) == 5
    assert [block for _, _, block in whole[0]] == [r.split(b"\r\n\r\n", 1)[1][:-4] for r in recs]
    for top in (1, 7, 4096, 70000):
        assert read(ShortReads(data, top)) == whole


def test_damaged_member_of_several_reads_costs_its_record() -> None:
    """A member larger than the first read of compressed input (32 KiB), damaged near its
    end: its record is reported and skipped, the others come out."""
    recs = records(3, body_size=120_000)
    members = [gzip.compress(r, mtime=0) for r in recs]
    assert len(members[1]) > 1 << 15
    damaged = bytearray(members[1])
    damaged[-100] ^= 0xFF
    data = members[0] + bytes(damaged) + members[2]
    offsets = [0, len(members[0]), len(members[0]) + len(damaged)]
    for raw in (io.BytesIO(data), ShortReads(data, 5000)):
        got, errors = read(raw)
        assert [offset for offset, _, _ in got] == [offsets[0], offsets[2]]
        assert len(errors) == 1
        assert errors[0][0] == offsets[1]
        assert errors[0][1].startswith(f"gzip member at offset {offsets[1]} is damaged (")
        assert errors[0][1].endswith(f"; bytes {offsets[1]}..{offsets[2]} skipped")
