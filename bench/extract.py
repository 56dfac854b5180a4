"""Benchmark: `extract --lang en --workers 1` against the floor, whole commands, in one run.

The floor is FastWARC reading every record plus selectolax's Lexbor parser visiting every
`<img>`'s attributes: no matching, no language id, no writing. Both are timed as whole commands
(a fresh interpreter each: imports, the automaton and language model loads, every shard), and
inside the shards (the floor's loop in-process against the shards' own `seconds`). Runs
alternate; medians are reported, with the median of the paired ratios.

The shards are made from the pages of any WARC (`--warc`, default the shared real pages, else
the project's sample), replicated `--copies` times under distinct hosts and split into
`--shards` record-chunked files. `--image-rich K` pads every page to at least K `<img>`s, each
with an alt text and a relative `src` taken from the real pages (real pages carry 20+ each).

    python bench/extract.py [--warc PATH] [--copies 10] [--shards 4] [--image-rich 24]
                            [--runs 5] [--metadata PATH] [--entries 500000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecordType
from selectolax.lexbor import LexborHTMLParser

from metaclip_sql.extract.shard import read_stats
from metaclip_sql.metadata.load import load_entries
from metaclip_sql.sample import Response, sample_pages, write_warc

REAL_PAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-pages.warc.gz"
_IMG = re.compile(rb"<img\b[^>]*>", re.I)
_ALT = re.compile(rb"""\balt\s*=\s*(?:"([^"]{3,200})"|'([^']{3,200})')""", re.I)


def read_pages(src: Path | None) -> list[tuple[str, str, bytes]]:
    """(url, content type, body) of every HTML response of `src` (the sample when None)."""
    if src is None:
        return [(r.url, r.content_type, r.body) for r in sample_pages(300)]
    pages = []
    for rec in ArchiveIterator(str(src), record_types=WarcRecordType.response, fsspec_args=False):
        ctype = rec.http_headers.get("Content-Type") or "text/html"
        if "html" in ctype and (url := rec.headers.get("WARC-Target-URI")):
            pages.append((url.strip("<>"), ctype, rec.reader.read()))
    return pages


def pad_images(pages: list[tuple[str, str, bytes]], k: int) -> list[tuple[str, str, bytes]]:
    """Every page with at least `k` `<img>`s: the missing ones use alt texts of the real pages
    in turn (relative `src`s), inserted before `</body>` (or appended)."""
    alts = [a or b for _, _, body in pages for a, b in _ALT.findall(body)]
    if not alts:
        raise SystemExit("--image-rich: the pages have no alt texts to reuse")
    cycle = itertools.cycle(alts)
    padded = []
    for n, (url, ctype, body) in enumerate(pages):
        missing = k - len(_IMG.findall(body))
        tags = b"".join(
            b'<img src="/bench/%d-%d.jpg" alt="%s">' % (n, i, next(cycle)) for i in range(missing)
        )
        at = body.rfind(b"</body>")
        body = body[:at] + tags + body[at:] if at >= 0 else body + tags
        padded.append((url, ctype, body))
    return padded


def write_shards(pages, copies: int, shards: int, root: Path) -> list[Path]:
    """`copies` copies of every page (each copy under its own host), in `shards` files."""
    responses = [
        Response(url.replace("://", f"://copy{k}.", 1), body, ctype)
        for k in range(copies)
        for url, ctype, body in pages
    ]
    size = -(-len(responses) // shards)
    return [
        write_warc(root / f"shard-{i}.warc.gz", responses[i * size : (i + 1) * size])
        for i in range(shards)
    ]


def floor(paths: list[Path]) -> int:
    """FastWARC + Lexbor visiting every img's attributes; returns pages seen."""
    pages = 0
    for path in paths:
        with path.open("rb") as stream:
            records = ArchiveIterator(
                stream, record_types=WarcRecordType.response, fsspec_args=False
            )
            for rec in records:
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


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warc", type=Path, default=REAL_PAGES if REAL_PAGES.exists() else None)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--image-rich", type=int, default=0, metavar="K")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--metadata", type=Path, default=None, help="default: bundled, padded")
    parser.add_argument("--entries", type=int, default=500_000, help="size of the padded list")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        root = Path(tmp)
        if args.metadata is None:
            args.metadata = metadata_of_size(args.entries, root / "metadata.json")
        pages = read_pages(args.warc)
        if args.image_rich:
            pages = pad_images(pages, args.image_rich)
        shards = write_shards(pages, args.copies, args.shards, root / "shards")
        total = len(pages) * args.copies
        imgs = sum(len(_IMG.findall(body)) for _, _, body in pages) / len(pages)
        size = sum(p.stat().st_size for p in shards) / 1e6
        print(
            f"input: {args.warc or 'sample pages'}; {total} pages ({imgs:.1f} <img> a page) in "
            f"{len(shards)} shards, {size:.1f} MB; metadata: {len(load_entries(args.metadata)):,}"
        )
        out = root / "out"
        extract = [sys.executable, "-m", "metaclip_sql", "extract", *map(str, shards)]
        extract += ["--out", str(out), "--workers", "1", "--lang", "en", "--overwrite"]
        extract += ["--metadata", str(args.metadata)]
        floor_cmd = [sys.executable, __file__, "--floor-only", *map(str, shards)]
        timed(extract)  # warm-up: builds the automaton cache
        rows = {"floor": [], "extract": [], "floor in-shard": [], "extract in-shard": []}
        for _ in range(args.runs):
            rows["floor"].append(timed(floor_cmd))
            rows["extract"].append(timed(extract))
            started = time.perf_counter()
            floor(shards)
            rows["floor in-shard"].append(time.perf_counter() - started)
            stats = [read_stats(out / f"{s.name}.parquet") for s in shards]
            rows["extract in-shard"].append(sum(s["seconds"] for s in stats))
        for name, values in rows.items():
            m = statistics.median(values)
            print(f"{name:17}: median {m:.3f} s  {m / total * 1e3:.3f} ms/page")
        for kind in ("", " in-shard"):
            e, f = rows[f"extract{kind}"], rows[f"floor{kind}"]
            paired = statistics.median(x / y for x, y in zip(e, f, strict=True))
            ratio = statistics.median(e) / statistics.median(f)
            print(f"ratio extract/floor{kind}: {ratio:.2f} of medians, {paired:.2f} paired")
        print(f"(goal <= 1.5 whole command); runs: {args.runs}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--floor-only"]:
        floor([Path(p) for p in sys.argv[2:]])
    else:
        main()
