"""Hostile input costs one record, in bounded memory (issue 14, "Bounded work per record").

Real bombs, made here: a page whose `Content-Encoding: gzip` body inflates to 2 GiB of zeros,
a stored record of 1 GiB, a gzip member that inflates to 1 GiB of non-WARC bytes and a WARC
header that never ends. They run through the CLI with the bundled metadata, as a user runs
it, and the peak resident memory of every process of the run (the supervisor and its shard
worker) is read from the kernel afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from isal import isal_zlib

from metaclip_sql.sample import Response, warc_record

GIB = 1 << 30
PEAK_LIMIT = 1 << 30  # what a worker may use, whatever the input

# Runs a command and prints its exit code, output and the peak RSS of all its processes.
_RUN_AND_MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"rc": done.returncode, "out": done.stdout + done.stderr, "peak": peak}))
"""


def good(i: int) -> Response:
    html = f"<html><body><img src='/img/{i}.jpg' alt='a photo of a dog number {i}'></body></html>"
    return Response(f"https://good{i}.example.org/", html.encode())


def zeros_deflated(size: int, wbits: int) -> bytes:
    """`size` zero bytes compressed as a gzip (wbits 31) or raw deflate stream, made in pieces."""
    packer = isal_zlib.compressobj(1, zlib.DEFLATED, wbits)
    piece = bytes(16 << 20)
    out = [packer.compress(piece) for _ in range(size // len(piece))]
    return b"".join(out) + packer.flush()


def member(data: bytes | Iterable[bytes]) -> bytes:
    """One gzip member of `data` (pieces are compressed as they come: no GiB in memory)."""
    packer = isal_zlib.compressobj(1, zlib.DEFLATED, 31)
    pieces = [data] if isinstance(data, bytes) else data
    return b"".join(packer.compress(p) for p in pieces) + packer.flush()


def shard(path: Path, middle: bytes) -> Path:
    """A record-chunked WARC: good page 1, the hostile member(s), good page 2."""
    path.write_bytes(member(warc_record(good(1), 1)) + middle + member(warc_record(good(2), 2)))
    return path


def stored_record_of_zeros(size: int) -> Iterable[bytes]:
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://huge.example.org/\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {size}\r\n\r\n"
    )
    yield head.encode()
    piece = bytes(16 << 20)
    for _ in range(size // len(piece)):
        yield piece
    yield b"\r\n\r\n"


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hostile")
    bomb_body = zeros_deflated(2 * GIB, 31)
    bomb = Response(
        "https://bomb.example.org/", bomb_body, "text/html", "200 OK", ("Content-Encoding: gzip",)
    )
    return {
        "gzip-bomb": shard(root / "gzip-bomb.warc.gz", member(warc_record(bomb, 0))),
        "huge-record": shard(root / "huge-record.warc.gz", member(stored_record_of_zeros(GIB))),
        "junk-member": shard(root / "junk-member.warc.gz", member(iter([bytes(16 << 20)] * 64))),
        "endless-header": shard(
            root / "endless-header.warc.gz",
            member([b"WARC/1.0\r\nX-Junk: ", b"a" * (40 << 20)]),
        ),
    }


@pytest.fixture(scope="module")
def run(shards: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("out")
    cli = [sys.executable, "-m", "metaclip_sql", "extract", *map(str, shards.values())]
    cli += ["--out", str(out), "--workers", "1", "--lang", "all"]
    done = subprocess.run(
        [sys.executable, "-c", _RUN_AND_MEASURE, *cli],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return {**json.loads(done.stdout), "dir": out}


def test_bombs_cost_one_record_each_in_bounded_memory(run: dict, shards: dict[str, Path]) -> None:
    assert run["rc"] == 0, run["out"]
    assert run["peak"] < PEAK_LIMIT, f"peak RSS {run['peak'] >> 20} MiB"
    for name, path in shards.items():
        table = pq.read_table(run["dir"] / f"{path.name}.parquet")
        texts = sorted(table.column("text").to_pylist())
        assert texts == ["a photo of a dog number 1", "a photo of a dog number 2"], name


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("gzip-bomb", "gzip body over 8388608 bytes decoded; page parsed up to the cap"),
        ("huge-record", f"skipped: {GIB} bytes > 67108864"),
        ("junk-member", "is not a WARC record; skipped to offset"),
        ("endless-header", "has no end of header; skipped to offset"),
    ],
)
def test_each_bomb_is_reported_with_its_offset(
    run: dict, shards: dict, name: str, said: str
) -> None:
    second = len(member(warc_record(good(1), 1)))  # the hostile member's offset
    lines = [line for line in run["out"].splitlines() if shards[name].name in line and said in line]
    assert lines, run["out"]
    assert f"offset {second}" in lines[0], lines[0]
