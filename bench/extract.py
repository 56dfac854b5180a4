"""Benchmark: `extract --lang en --workers 1` against the floor, in one run.

The floor is FastWARC reading every record plus selectolax's Lexbor parser visiting every
`<img>`'s attributes: no matching, no language id, no writing. The shard is
../shared/data/real-pages.warc.gz replicated (distinct page URLs) to about 3,000 pages, in
Common Crawl's one-gzip-member-per-record layout. Runs alternate and medians are reported.

    python bench/extract.py [--copies 10] [--runs 5] [--metadata PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecordType
from selectolax.lexbor import LexborHTMLParser

from metaclip_sql.extract import ExtractOptions
from metaclip_sql.metadata import load_entries
from metaclip_sql.run_extract import run_extract
from metaclip_sql.sample import Response, write_warc

REAL_PAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-pages.warc.gz"


def replicate(src: Path, copies: int, dest: Path) -> int:
    """Write `copies` copies of every response of `src`, each copy under its own host."""
    pages = []
    for rec in ArchiveIterator(str(src), record_types=WarcRecordType.response, fsspec_args=False):
        url = rec.headers.get("WARC-Target-URI")
        ctype = rec.http_headers.get("Content-Type") or "text/html"
        pages.append((url, ctype, rec.reader.read()))
    responses = [
        Response(url.replace("://", f"://copy{k}.", 1), body, ctype)
        for k in range(copies)
        for url, ctype, body in pages
    ]
    write_warc(dest, responses, layout="members")
    return len(responses)


def floor(path: Path) -> int:
    """FastWARC + Lexbor visiting every img's attributes; returns pages seen."""
    pages = 0
    with path.open("rb") as stream:
        for rec in ArchiveIterator(stream, record_types=WarcRecordType.response, fsspec_args=False):
            tree = LexborHTMLParser(rec.reader.read())
            for node in tree.css("img"):
                node.attributes  # noqa: B018 - visiting the attributes is the work measured
            pages += 1
    return pages


def metadata_of_size(size: int, dest: Path) -> Path:
    """The bundled list, padded with word pairs of its own first entries up to `size`
    (MetaCLIP's list has 500k entries; the bundled one is smaller)."""
    entries = load_entries(None)
    seen = set(entries)
    words = [e for e in entries[100:3000] if " " not in e]
    for a in words:
        for b in words:
            if len(entries) >= size:
                break
            if (pair := f"{a} {b}") not in seen:
                entries.append(pair)
                seen.add(pair)
    dest.write_text(json.dumps(entries[:size]), encoding="utf-8")
    return dest


def extract_once(path: Path, out: Path, metadata: Path | None) -> float:
    options = ExtractOptions(out_dir=out, langs=frozenset({"en"}), overwrite=True)
    started = time.perf_counter()
    summary = run_extract([path], options, metadata, workers=1)
    elapsed = time.perf_counter() - started
    if summary.failed:
        sys.exit(f"extract failed: {summary.failed[0].messages}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--metadata", type=Path, default=None, help="default: bundled, padded")
    parser.add_argument("--entries", type=int, default=500_000, help="size of the padded list")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        if args.metadata is None:
            args.metadata = metadata_of_size(args.entries, Path(tmp) / "metadata.json")
        entries = load_entries(args.metadata)
        shard = Path(tmp) / "replicated.warc.gz"
        pages = replicate(REAL_PAGES, args.copies, shard)
        print(
            f"shard: {pages} pages, {shard.stat().st_size / 1e6:.1f} MB; metadata: {len(entries):,} entries"
        )
        extract_once(shard, Path(tmp) / "warmup", args.metadata)  # builds the automaton cache
        floors, extracts = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            floor(shard)
            floors.append(time.perf_counter() - started)
            extracts.append(extract_once(shard, Path(tmp) / "out", args.metadata))
        f, e = statistics.median(floors), statistics.median(extracts)
        paired = statistics.median(x / y for x, y in zip(extracts, floors, strict=True))
        print(
            f"floor   : median {f:.3f} s  {pages / f:8.0f} pages/s  {f / pages * 1e3:.3f} ms/page"
        )
        print(
            f"extract : median {e:.3f} s  {pages / e:8.0f} pages/s  {e / pages * 1e3:.3f} ms/page"
        )
        print(f"ratio extract/floor: {e / f:.2f} of medians, {paired:.2f} median of paired runs")
        print(f"(goal <= 1.5); runs: {args.runs}")


if __name__ == "__main__":
    main()
