"""Benchmark: `extract --lang en --workers 1` against its floor, WARC and WAT, in one run.

WARC: the floor is FastWARC reading every record plus selectolax's Lexbor parser visiting every
`<img>`'s attributes: no matching, no language id, no writing. WAT: the baseline is
cc2dataset's whole per-WAT loop, restated: FastWARC over the metadata records, one JSON parse
each (a simdjson binding when installed, else orjson, else json), and a walk over the
`IMG@/src` links that have an `alt`, with `urljoin` and an md5 per link.

Both are timed as whole commands (a fresh interpreter each: imports, the automaton and
language model loads, every shard), and inside the shards (the baseline's loop in-process
against the shards' own `seconds`). Runs alternate; medians are reported, with the median of
the paired ratios.

The shards are made from the pages of any WARC (`--warc`, default the shared real pages, else
the project's sample), replicated `--copies` times under distinct hosts and split into
`--shards` record-chunked files. `--image-rich K` pads every page to at least K `<img>`s, each
with an alt text and a relative `src` taken from the real pages (real pages carry 20+ each).
The WATs hold the same pages in Common Crawl's layout (`write_wat`): per page the metadata
records of the request, the response (with its `HTML-Metadata`: title, metas, head links and
every `A@/href`, `IMG@/src`, `LINK@/href`, `SCRIPT@/src` link, as Common Crawl's WAT has
them) and the crawler's metadata record, one gzip member each.

Differential check: with `--check-against REV` (default `HEAD`), the same shards are also
extracted by the code at git revision REV (`git archive`, run with PYTHONPATH) and every row
and count (but `seconds`) must be identical; the run exits 1 otherwise.

    python bench/extract.py [--mode both|warc|wat] [--warc PATH] [--copies 10] [--shards 4]
                            [--image-rich 24] [--runs 5] [--metadata PATH] [--entries 500000]
                            [--check-against REV | --no-check] [--time-against REV]

`--time-against REV` times the extract of another revision in the same runs, interleaved (a
before/after that machine noise does not skew).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin

from fastwarc.warc import ArchiveIterator, WarcRecordType
from selectolax.lexbor import LexborHTMLParser

REPO = Path(__file__).resolve().parents[1]
REAL_PAGES = REPO.parent / "shared" / "data" / "real-pages.warc.gz"
_IMG = re.compile(rb"<img\b[^>]*>", re.I)
_ALT = re.compile(rb"""\balt\s*=\s*(?:"([^"]{3,200})"|'([^']{3,200})')""", re.I)


def read_pages(src: Path | None) -> list[tuple[str, str, bytes]]:
    """(url, content type, body) of every HTML response of `src` (the sample when None)."""
    if src is None:
        from metaclip_sql.sample import sample_pages

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


def _copies(pages, copies: int) -> list[tuple[str, str, bytes]]:
    """`copies` copies of every page, each copy under its own host."""
    return [
        (url.replace("://", f"://copy{k}.", 1), ctype, body)
        for k in range(copies)
        for url, ctype, body in pages
    ]


def _chunks(items: list, n: int) -> list[list]:
    size = -(-len(items) // n)
    return [items[i * size : (i + 1) * size] for i in range(n)]


def write_shards(pages, copies: int, shards: int, root: Path) -> list[Path]:
    """WARC shards: `copies` copies of every page (each under its own host), in `shards` files."""
    from metaclip_sql.sample import Response, write_warc

    responses = [Response(url, body, ctype) for url, ctype, body in _copies(pages, copies)]
    return [
        write_warc(root / f"shard-{i}.warc.gz", chunk)
        for i, chunk in enumerate(_chunks(responses, shards))
    ]


# --- WAT in Common Crawl's layout ----------------------------------------------------------


def wat_links(body: bytes) -> tuple[dict, list[dict]]:
    """The `Head` and `Links` of a page's `HTML-Metadata`, as Common Crawl's WAT writer lists
    them (title, metas, head `<link>`s and `<script>`s, `<base>`; every link in page order)."""
    tree = LexborHTMLParser(body)
    head: dict = {}
    title = tree.css_first("title")
    if title is not None:
        head["Title"] = title.text(strip=True)
    metas = [dict(n.attributes) for n in tree.css("meta")]
    if metas:
        head["Metas"] = [{k: v or "" for k, v in m.items()} for m in metas]
    base = tree.css_first("base[href]")
    if base is not None:
        head["Base"] = base.attributes.get("href") or ""
    head_links, scripts, links = [], [], []
    for node in tree.css("a[href], img[src], link[href], script[src], iframe[src], form[action]"):
        attrs = {k: v for k, v in node.attributes.items() if v is not None}
        tag = node.tag.upper()
        if tag == "A":
            link = {"path": "A@/href", "url": attrs["href"]}
            text = node.text(strip=True)
            if text:
                link["text"] = text[:500]
            for key in ("title", "rel", "target"):
                if key in attrs:
                    link[key] = attrs[key]
            links.append(link)
        elif tag == "IMG":
            link = {"path": "IMG@/src", "url": attrs["src"]}
            for key in ("alt", "title"):
                if key in attrs:
                    link[key] = attrs[key]
            links.append(link)
        elif tag == "LINK":
            head_links.append(
                {"path": "LINK@/href", "url": attrs["href"], "rel": attrs.get("rel", "")}
            )
        elif tag == "SCRIPT":
            scripts.append({"path": "SCRIPT@/src", "url": attrs["src"]})
        elif tag == "IFRAME":
            links.append({"path": "IFRAME@/src", "url": attrs["src"]})
        else:
            links.append({"path": "FORM@/action", "url": attrs["action"], "method": "get"})
    if head_links:
        head["Link"] = head_links
    if scripts:
        head["Scripts"] = scripts
    return head, links


def _record_id(*parts: object) -> str:
    digest = hashlib.md5("/".join(map(str, parts)).encode()).hexdigest()
    return f"<urn:uuid:{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}>"


def _wat_member(url: str, refers_to: str, doc: dict) -> bytes:
    body = json.dumps(doc, separators=(",", ":")).encode()
    head = (
        f"WARC/1.0\r\nWARC-Type: metadata\r\nWARC-Target-URI: {url}\r\n"
        "WARC-Date: 2024-05-31T01:17:49Z\r\n"
        f"WARC-Record-ID: {_record_id('wat', refers_to)}\r\nWARC-Refers-To: {refers_to}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return gzip.compress(head + body + b"\r\n\r\n", compresslevel=6, mtime=0)


def wat_members(n: int, url: str, ctype: str, body: bytes, links: tuple[dict, list]) -> bytes:
    """The request, response and metadata records of one page, as Common Crawl's WAT."""
    host = url.split("/")[2]
    path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
    ids = [_record_id(url, kind) for kind in ("request", "response", "metadata")]
    container = {
        "Filename": "CC-MAIN-20240517233122-20240518023122-00000.warc.gz",
        "Compressed": True,
        "Offset": str(1000 * n),
        "Gzip-Metadata": {"Deflate-Length": "423", "Header-Length": "10",
                          "Footer-Length": "8", "Inflated-CRC": "1106529533",
                          "Inflated-Length": str(len(body))},
    }  # fmt: skip

    def warc_header(kind: str, i: int, content_type: str, length: int) -> dict:
        return {
            "WARC-Type": kind, "WARC-Date": "2024-05-18T01:58:10Z", "WARC-Record-ID": ids[i],
            "Content-Length": str(length), "Content-Type": content_type,
            "WARC-Warcinfo-ID": "<urn:uuid:668d88fc-4208-41fc-b327-1aa6cb783331>",
            "WARC-IP-Address": "208.80.154.224", "WARC-Target-URI": url,
        }  # fmt: skip

    request = {"Container": container, "Envelope": {
        "Format": "WARC", "WARC-Header-Length": "357",
        "WARC-Header-Metadata": warc_header("request", 0, "application/http; msgtype=request", 265),
        "Payload-Metadata": {
            "Actual-Content-Type": "application/http; msgtype=request",
            "HTTP-Request-Metadata": {
                "Request-Message": {"Method": "GET", "Path": path, "Version": "HTTP/1.1"},
                "Headers-Length": "263",
                "Headers": {"User-Agent": "CCBot/2.0 (https://commoncrawl.org/faq/)",
                            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9",
                            "Accept-Language": "en-US,en;q=0.5", "Accept-Encoding": "br,gzip",
                            "Host": host, "Connection": "Keep-Alive"},
                "Entity-Length": "0", "Entity-Digest": "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ",
                "Entity-Trailing-Slop-Length": "0"},
            "Actual-Content-Length": "265", "Trailing-Slop-Length": "4",
            "Block-Digest": "sha1:IE7NEN3QEJHUCYRRGVMHDDW3BEHFRQ6V"}}}  # fmt: skip
    head, page_links = links
    response = {"Container": container, "Envelope": {
        "Format": "WARC", "WARC-Header-Length": "624",
        "WARC-Header-Metadata": {
            **warc_header("response", 1, "application/http; msgtype=response", len(body)),
            "WARC-Concurrent-To": ids[0], "WARC-Identified-Payload-Type": "text/html"},
        "Payload-Metadata": {
            "Actual-Content-Type": "application/http; msgtype=response",
            "HTTP-Response-Metadata": {
                "Response-Message": {"Version": "HTTP/1.1", "Status": "200", "Reason": "OK"},
                "Headers": {"Date": "Sat, 18 May 2024 01:58:10 GMT", "Content-Type": ctype,
                            "Content-Length": str(len(body)), "Server": "nginx",
                            "Cache-Control": "max-age=300", "Vary": "Accept-Encoding"},
                "Headers-Length": "421", "Entity-Length": str(len(body)),
                "Entity-Trailing-Slop-Length": "0",
                "Entity-Digest": "sha1:4RUZFQLEBLD46HZUN3VDGDW5FRMAHDDM",
                "HTML-Metadata": {"Head": head, "Links": page_links}},
            "Actual-Content-Length": str(len(body) + 421), "Trailing-Slop-Length": "0",
            "Block-Digest": "sha1:4RUZFQLEBLD46HZUN3VDGDW5FRMAHDDM"}}}  # fmt: skip
    fields = "fetchTimeMs: 523\r\ncharset-detected: UTF-8\r\nlanguages-cld2: {}\r\n"
    metadata = {"Container": container, "Envelope": {
        "Format": "WARC", "WARC-Header-Length": "390",
        "WARC-Header-Metadata": {**warc_header("metadata", 2, "application/warc-fields",
                                               len(fields)), "WARC-Concurrent-To": ids[1]},
        "Payload-Metadata": {
            "Actual-Content-Type": "application/metadata-fields",
            "WARC-Metadata-Metadata": {"Metadata-Records": [
                {"Name": "fetchTimeMs", "Value": "523"},
                {"Name": "charset-detected", "Value": "UTF-8"},
                {"Name": "languages-cld2", "Value": "{}"}]},
            "Actual-Content-Length": str(len(fields)), "Trailing-Slop-Length": "0"}}}  # fmt: skip
    return b"".join(
        _wat_member(url, ref, doc)
        for ref, doc in zip(ids, (request, response, metadata), strict=True)
    )


def write_wat(path: Path, pages: list[tuple[str, str, bytes]], links: list) -> Path:
    """A WAT of `pages` (with their `wat_links`) in Common Crawl's layout."""
    info = b"Software-Info: metaclip-sql bench\r\nformat: WARC File Format 1.0\r\n"
    head = (
        "WARC/1.0\r\nWARC-Type: warcinfo\r\nWARC-Date: 2024-05-31T01:16:45Z\r\n"
        f"WARC-Filename: {path.name}\r\nContent-Type: application/warc-fields\r\n"
        f"Content-Length: {len(info)}\r\n\r\n"
    ).encode()
    with path.open("wb") as f:
        f.write(gzip.compress(head + info + b"\r\n\r\n", mtime=0))
        for n, ((url, ctype, body), page_links) in enumerate(zip(pages, links, strict=True)):
            f.write(wat_members(n, url, ctype, body, page_links))
    return path


def write_wat_shards(pages, copies: int, shards: int, root: Path) -> list[Path]:
    """WAT shards holding the same pages as `write_shards`' WARCs."""
    root.mkdir(parents=True, exist_ok=True)
    links = [wat_links(body) for _, _, body in pages]
    copied = _copies(pages, copies)
    copied_links = links * copies
    size = -(-len(copied) // shards)
    return [
        write_wat(
            root / f"shard-{i}.warc.wat.gz",
            copied[i * size : (i + 1) * size],
            copied_links[i * size : (i + 1) * size],
        )
        for i in range(shards)
    ]


# --- baselines -----------------------------------------------------------------------------


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


def json_parser() -> tuple[str, object]:
    """The parser cc2dataset's loop is restated with: a simdjson binding when installed
    (`simdjson.load(record.reader)` in cc2dataset, full Python objects), else orjson, else
    json."""
    try:
        import simdjson

        return "simdjson", simdjson.loads
    except ImportError:
        pass
    try:
        import orjson

        return "orjson", orjson.loads
    except ImportError:
        return "json", json.loads


def cc2dataset(paths: list[Path]) -> int:
    """cc2dataset's per-WAT work (`cc2dataset.wat_utils.extract_documents_from_wat`): every
    metadata record parsed, the response's `IMG@/src` links with an `alt`, each resolved with
    `urljoin` against the page (or its `<base>`) and hashed (md5 of alt + url); returns the
    number of links found. (cc2dataset keeps only links already absolute; resolving them all,
    as extract does, is the more work.)"""
    _, parse = json_parser()
    found = 0
    for path in paths:
        with path.open("rb") as stream:
            for record in ArchiveIterator(
                stream, record_types=WarcRecordType.metadata, parse_http=False, fsspec_args=False
            ):
                try:
                    data = parse(record.reader.read())
                except Exception:
                    continue
                envelope = data["Envelope"]
                payload = envelope["Payload-Metadata"]
                if "HTTP-Response-Metadata" not in payload:
                    continue
                response = payload["HTTP-Response-Metadata"]
                if "HTML-Metadata" not in response:
                    continue
                html = response["HTML-Metadata"]
                if "Links" not in html:
                    continue
                base = envelope["WARC-Header-Metadata"]["WARC-Target-URI"]
                if "Head" in html and "Base" in html["Head"]:
                    with contextlib.suppress(ValueError):
                        base = urljoin(base, html["Head"]["Base"])
                links = [
                    {"url": link["url"], "alt": link["alt"]}
                    for link in html["Links"]
                    if link.get("path", "") == "IMG@/src" and len(link.get("alt", "")) > 0
                ]
                for link in links:
                    link["url"] = urljoin(base, link["url"])
                    link["uid"] = str(hashlib.md5((link["alt"] + link["url"]).encode()).hexdigest())
                found += len(links)
    return found


# --- the run -------------------------------------------------------------------------------


def metadata_of_size(size: int, dest: Path) -> Path:
    """The bundled list, padded with word pairs of its own first entries up to `size`
    (MetaCLIP's list has 500k entries; the bundled one is smaller)."""
    from metaclip_sql.metadata.load import load_entries

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


def timed(command: list[str], env: dict | None = None) -> float:
    """Seconds `command` takes, run from the temp folder: `python -m` puts the working folder
    first on sys.path, so run from the repo it would import this tree whatever PYTHONPATH says."""
    started = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        cwd=tempfile.gettempdir(),
    )  # fmt: skip
    return time.perf_counter() - started


def extract_command(shards: list[Path], out: Path, metadata: Path) -> list[str]:
    command = [sys.executable, "-m", "metaclip_sql", "extract", *map(str, shards)]
    command += ["--out", str(out), "--workers", "1", "--lang", "en", "--overwrite"]
    return [*command, "--metadata", str(metadata)]


def shard_outputs(out: Path, shards: list[Path]) -> list[tuple]:
    """Every shard's schema, rows and counts but `seconds`, to compare two runs."""
    import pyarrow.parquet as pq

    found = []
    for shard in shards:
        path = out / f"{shard.name}.parquet"
        stats = json.loads(pq.read_metadata(path).metadata[b"metaclip_sql.stats"])
        stats.pop("seconds")
        table = pq.read_table(path)
        found.append((shard.name, str(table.schema), table.to_pylist(), stats))
    return found


def revision_env(rev: str, root: Path) -> dict[str, str]:
    """The environment that runs the code at git revision `rev`: its tree unpacked under `root`
    once (`git archive`; nothing in the repo changes) and put first on PYTHONPATH."""
    dest = root / f"rev-{rev.replace('/', '_')}"
    if not dest.exists():
        dest.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return {**os.environ, "PYTHONPATH": str(dest), "PYTHONDONTWRITEBYTECODE": "1"}


def check_same(rev: str, shards: list[Path], out: Path, metadata: Path, root: Path) -> bool:
    """Extract `shards` with the code at `rev` and compare with `out` (this tree's rows)."""
    ref_out = root / f"ref-{out.name}"
    timed(extract_command(shards, ref_out, metadata), revision_env(rev, root))
    mine, theirs = shard_outputs(out, shards), shard_outputs(ref_out, shards)
    rows = sum(len(s[2]) for s in mine)
    for a, b in zip(mine, theirs, strict=True):
        if a != b:
            what = [
                n
                for n, x, y in zip(("schema", "rows", "stats"), a[1:], b[1:], strict=True)
                if x != y
            ]
            print(f"  {a[0]}: DIFFERS from {rev} in {', '.join(what)}")
    same = mine == theirs
    print(f"  rows and counts identical to {rev}: {'yes' if same else 'NO'} ({rows:,} rows)")
    return same


def bench_mode(mode: str, shards: list[Path], args, root: Path, total: int) -> bool:
    out = root / f"out-{mode}"
    extract = extract_command(shards, out, args.metadata)
    which = "--floor-only" if mode == "warc" else "--cc2dataset-only"
    baseline_cmd = [sys.executable, __file__, which, *map(str, shards)]
    baseline = floor if mode == "warc" else cc2dataset
    base_name = "floor" if mode == "warc" else "cc2dataset"
    timed(extract)  # warm-up: builds the automaton cache
    rows: dict[str, list[float]] = {base_name: [], "extract": []}
    rows |= {f"{base_name} in-shard": [], "extract in-shard": []}
    other = f"extract@{args.time_against}" if args.time_against else None
    if other:  # the code at another revision, timed in the same runs
        other_env = revision_env(args.time_against, root)
        other_out = root / f"other-{out.name}"
        other_cmd = extract_command(shards, other_out, args.metadata)
        timed(other_cmd, other_env)
        rows |= {other: [], f"{other} in-shard": []}
    from metaclip_sql.extract.shard import read_stats

    def in_shard(folder: Path) -> float:
        return sum(read_stats(folder / f"{s.name}.parquet")["seconds"] for s in shards)

    for _ in range(args.runs):
        rows[base_name].append(timed(baseline_cmd))
        rows["extract"].append(timed(extract))
        rows["extract in-shard"].append(in_shard(out))
        if other:
            rows[other].append(timed(other_cmd, other_env))
            rows[f"{other} in-shard"].append(in_shard(other_out))
        started = time.perf_counter()
        baseline(shards)
        rows[f"{base_name} in-shard"].append(time.perf_counter() - started)
    for name, values in rows.items():
        m = statistics.median(values)
        print(f"  {name:24}: median {m:.3f} s  {m / total * 1e3:.3f} ms/page")
    for name in ("extract", other) if other else ("extract",):
        for kind in ("", " in-shard"):
            e, f = rows[f"{name}{kind}"], rows[f"{base_name}{kind}"]
            paired = statistics.median(x / y for x, y in zip(e, f, strict=True))
            ratio = statistics.median(e) / statistics.median(f)
            print(f"  ratio {name}/{base_name}{kind}: {ratio:.2f} of medians, {paired:.2f} paired")
    if args.check_against:
        return check_same(args.check_against, shards, out, args.metadata, root)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("both", "warc", "wat"), default="both")
    parser.add_argument("--warc", type=Path, default=REAL_PAGES if REAL_PAGES.exists() else None)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--image-rich", type=int, default=0, metavar="K")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--metadata", type=Path, default=None, help="default: bundled, padded")
    parser.add_argument("--entries", type=int, default=500_000, help="size of the padded list")
    parser.add_argument("--check-against", default="HEAD", metavar="REV")
    parser.add_argument("--no-check", dest="check_against", action="store_const", const=None)
    parser.add_argument(
        "--time-against", metavar="REV", default=None,
        help="also time the extract of git revision REV in the same runs (before/after)",
    )  # fmt: skip
    args = parser.parse_args()
    from metaclip_sql.metadata.load import load_entries

    same = True
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        root = Path(tmp)
        if args.metadata is None:
            args.metadata = metadata_of_size(args.entries, root / "metadata.json")
        pages = read_pages(args.warc)
        if args.image_rich:
            pages = pad_images(pages, args.image_rich)
        total = len(pages) * args.copies
        imgs = sum(len(_IMG.findall(body)) for _, _, body in pages) / len(pages)
        print(
            f"input: {args.warc or 'sample pages'}; {total} pages ({imgs:.1f} <img> a page), "
            f"{args.shards} shards; metadata: {len(load_entries(args.metadata)):,} entries; "
            f"WAT baseline parser: {json_parser()[0]}; runs: {args.runs}"
        )
        for mode in ("warc", "wat") if args.mode == "both" else (args.mode,):
            writer = write_shards if mode == "warc" else write_wat_shards
            shards = writer(pages, args.copies, args.shards, root / f"shards-{mode}")
            size = sum(p.stat().st_size for p in shards) / 1e6
            print(f"{mode.upper()}: {len(shards)} shards, {size:.1f} MB")
            same &= bench_mode(mode, shards, args, root, total)
    print("goals: WAT <= 1.5x cc2dataset, WARC <= 1.3x floor (whole command)")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--floor-only"]:
        floor([Path(p) for p in sys.argv[2:]])
    elif sys.argv[1:2] == ["--cc2dataset-only"]:
        cc2dataset([Path(p) for p in sys.argv[2:]])
    else:
        main()
