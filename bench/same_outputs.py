"""Same outputs: record what a checkout's CLI produces on fixed inputs, and compare two recordings.

The proof for a behaviour-preserving redesign: record the committed code, record the redesigned
code (in the same venv), compare. Every command runs through the CLI only, as a subprocess,

    PYTHONPATH=<checkout> python -m metaclip_sql <command> ...

from an empty temporary cwd (the script first checks that `metaclip_sql` is imported from the
checkout), with its own automaton cache (`METACLIP_SQL_CACHE`), writing no bytecode into the
checkout. The inputs are made here, deterministically and without the checkout's code; their
sha256 and the versions of the packages that shape outputs are recorded and compared too:

- the demo (`metaclip-sql demo`: its sample WARC, extract rows and balance outputs);
- `../shared/data/real-pages.warc.gz` extracted with `--lang all --keep-unmatched` and wordfreq's
  top 50,000 English words (locally and with `--distributor ray`), and with `--lang all` and a
  folder of per-language lists (wordfreq's top 20,000 of en de fr it ru es zh ja);
- a WAT made here from the real pages' `<img>` tags (plus Common Crawl's whirlwind WAT),
  extracted both ways;
- a generated pool of 4 Parquet shards in the extract schema (Zipf-like entries as in
  tests/helpers/pools.py, 210k rows, 8 languages, cross-shard duplicates, 10% unmatched, one shard
  without `pair_key`) and a `--valid-uuids` list.

The commands on them: `balance` v1 at two thresholds on each pool, `--dry-run` (both plans),
`--p`, `--unit image`, `--lang`, `--valid-uuids`, `--seed`, `--distributor ray` on each pool;
`balance --worldwide` (`--t-en` making heads in every language) on both pools, `--unit image`
and `--unit pair --dry-run`; `stats` (text, `--json`, `--t-en`, `--lang` with the metadata
folder, on a balance output), `plot`, `sql` (table, csv, json, parquet), `metadata build` and
`metadata info`, and `--help` of every command. `commands()` is the list.

Recorded per command (`<recording>/commands/<name>/`): argv, exit code, stdout and stderr
(`command.json`), and per output file (`files.json`): for Parquet the schema, compression, row
count, key-value metadata and every row (all columns; rows in `rows/*.jsonl.xz`, one JSON list
per row, sorted); JSON files parsed; other files (the sample WARC, the plot) by sha256. Ray's
`curated/part-N.parquet` files are one sorted row set (and their number).

Normalised, because it changes without the behaviour changing:
- paths: the temporary work folder, the checkout and ../shared/data become `<work>`,
  `<checkout>`, `<shared>`; a file inside the package (bundled metadata, a module in a
  traceback) keeps only its name, `<checkout>/metaclip_sql/.../NAME`;
- timings: `seconds` in manifests and in `metaclip_sql.stats`, "N shard-seconds, N pages/s" and
  "seconds: N" in stdout, the time in extract's per-shard progress line on stderr;
- the tool's version: `tool_version` in manifests, `metaclip_sql.version` in Parquet metadata,
  "metaclip-sql X.Y.Z" as the `tool` of a metadata sources file;
- manifests' `sql_files` (SQL file paths and sha256) and the sizes (`bytes`) of the files they
  list (an extract output's size moves with its `seconds`); every count, threshold, probability,
  plan, draw description and the metadata's sha256 are kept;
- floats in JSON outputs to 12 significant digits: DuckDB's parallel float sums differ in the
  last bits from run to run (`stats --json` expected_pairs did); row cells are kept exact;
- stderr: Ray's own log lines dropped; extract's per-shard progress lines without their `[i/n]`
  and running/failed tallies, and sorted among themselves (which shard ends first varies);
- row cells, losslessly: a float32 as the shortest decimal that reads back to it; a `uuid` equal
  to sha224(url)[:24], a `pair_key` equal to md5(uuid, U+001F, text) and a `caption` equal to
  `text` as markers (`=sha224(url)`, ...), which keeps the recording small (about 5 MB).

    python bench/same_outputs.py record --checkout DIR --out RECORDING_DIR [--keep-work]
    python bench/same_outputs.py compare RECORDING_A RECORDING_B   # exit 1 on any difference

A record takes about 1.5 minutes on an idle 2-core machine (about 70 s of CPU, three Ray
starts included; 3.5 minutes when other jobs share the cores). `compare` prints one
line per command and per output, same or DIFFERS with the first differing fields or rows (rows
only in A, only in B), and exits 1 if anything differs.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import decimal
import gzip
import hashlib
import json
import lzma
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = (REPO.parent / "shared" / "data").resolve()
REAL_PAGES = SHARED / "real-pages.warc.gz"
WHIRLWIND_WAT = SHARED / "commoncrawl" / "whirlwind.warc.wat.gz"
LANGS = ("en", "de", "fr", "it", "ru", "es", "zh", "ja")
FORMAT = "metaclip-sql same-outputs 1"
#: Manifest (and other JSON) keys dropped at any depth: they change without the behaviour
#: changing (version, SQL file paths and hashes, timings).
DROP_KEYS = frozenset({"tool_version", "sql_files", "seconds"})
SHOWN = 5  # differing fields or rows shown per output
#: Recorded with each recording and compared: outputs from two environments are not comparable.
ENV_PACKAGES = (
    "duckdb", "pyarrow", "numpy", "ray", "wordfreq", "fastwarc", "selectolax", "resiliparse",
    "fasttext-predict", "pyahocorasick", "typer", "rich",
)  # fmt: skip


# --- inputs (made without the checkout's code) -------------------------------------------------


def make_inputs(root: Path) -> dict[str, Path]:
    """Write every input into `root`; the same bytes each time (given the same venv)."""
    import wordfreq

    root.mkdir(parents=True)
    paths = {"real_pages": REAL_PAGES, "whirlwind_wat": WHIRLWIND_WAT}
    paths["en50k"] = _write_json(root / "en50k.json", wordfreq.top_n_list("en", 50_000))
    meta = root / "meta"
    meta.mkdir()
    for lang in LANGS:
        _write_json(meta / f"{lang}.json", wordfreq.top_n_list(lang, 20_000))
    paths["meta"] = meta
    paths["pages_wat"] = write_pages_wat(REAL_PAGES, root / "pages.warc.wat.gz")
    paths["pool"], paths["valid_uuids"] = write_zipf_pool(root / "pool", root / "valid.txt")
    return paths


def _write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value, ensure_ascii=False), "utf-8")
    return path


def write_pages_wat(warc: Path, out: Path) -> Path:
    """A WAT (one gzip member per `metadata` record) holding each page's `<img>` links."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from selectolax.lexbor import LexborHTMLParser

    with open(out, "wb") as f:
        for rec in ArchiveIterator(str(warc), record_types=WarcRecordType.response):
            page_url = rec.headers.get("WARC-Target-URI")
            body = rec.reader.read()
            html = body.split(b"\r\n\r\n", 1)[-1]  # the HTTP head is not HTML
            links = []
            for node in LexborHTMLParser(html).css("img"):
                attrs = node.attributes
                if not attrs.get("src"):
                    continue
                link = {"path": "IMG@/src", "url": attrs["src"]}
                link.update({k: v for k, v in attrs.items() if k in ("alt", "title") and v})
                links.append(link)
            f.write(_wat_record(page_url, links))
    return out


def _wat_record(page_url: str, links: list[dict]) -> bytes:
    doc = {
        "Envelope": {
            "WARC-Header-Metadata": {"WARC-Type": "response", "WARC-Target-URI": page_url},
            "Payload-Metadata": {
                "HTTP-Response-Metadata": {"HTML-Metadata": {"Head": {}, "Links": links}}
            },
        }
    }
    body = json.dumps(doc).encode()
    head = (
        f"WARC/1.0\r\nWARC-Type: metadata\r\nWARC-Target-URI: {page_url}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return gzip.compress(head + body + b"\r\n\r\n", mtime=0)


def write_zipf_pool(
    folder: Path,
    valid: Path,
    *,
    images: int = 100_000,
    entries: int = 3000,
    shards: int = 4,
    seed: int = 0,
) -> tuple[Path, Path]:
    """Shards in the extract schema, like tests/helpers/pools.py's zipf_pool: entry e matched with
    probability about 1 / (e + 1), 1-3 texts per image, 5% of rows repeated in another shard,
    10% unmatched, languages drawn from `LANGS` with English 3 times as likely. The last shard
    has no `pair_key` column (the schema before it existed). `valid` lists 2 of 3 images."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    langs = ("en", "en", *LANGS)
    per_shard: list[list[dict]] = [[] for _ in range(shards)]
    uuids = []
    for image in range(images):
        url = f"https://img.example.org/{seed}/{image}.jpg"
        image_id = hashlib.sha224(url.encode()).hexdigest()[:24]
        if image % 3:
            uuids.append(image_id)
        shard = image % shards
        for j in range(rng.randint(1, 3)):
            if rng.random() < 0.1:
                ids: list[int] = []
            else:
                ids = sorted({_zipf(rng, entries) for _ in range(rng.randint(1, 3))})
            row = {
                "uuid": image_id,
                "url": url,
                "text": f"picture {image} caption {j} " + " ".join(f"w{e}" for e in ids),
                "text_key": ("alt", "title")[j % 2],
                "lang": rng.choice(langs),
                "lang_score": 0.5 + (image + j) % 8 / 16,
                "entry_ids": ids,
                "page_url": f"https://site{image % 17}.example.com/page/{image}",
                "shard": f"shard-{shard:03d}",
            }
            per_shard[shard].append(row)
            if rng.random() < 0.05:
                other = (shard + rng.randint(1, shards - 1)) % shards
                copy = dict(row, shard=f"shard-{other:03d}", page_url=f"{row['page_url']}?copy")
                per_shard[other].append(copy)
    schema = pa.schema(
        [
            pa.field("uuid", pa.string()),
            pa.field("url", pa.string()),
            pa.field("text", pa.string()),
            pa.field("text_key", pa.string()),
            pa.field("lang", pa.string()),
            pa.field("lang_score", pa.float32()),
            pa.field("entry_ids", pa.list_(pa.int32())),
            pa.field("page_url", pa.string()),
            pa.field("shard", pa.string()),
            pa.field("pair_key", pa.uuid()),
        ]
    )
    folder.mkdir(parents=True)
    for index, rows in enumerate(per_shard):
        for row in rows:
            row["pair_key"] = hashlib.md5(f"{row['uuid']}\x1f{row['text']}".encode()).digest()
        table = pa.Table.from_pylist(rows, schema)
        if index == shards - 1:
            table = table.drop_columns(["pair_key"])
        pq.write_table(table, folder / f"shard-{index:03d}.parquet", compression="zstd")
    valid.write_text("".join(f"{u}\n" for u in uuids))
    return folder, valid


def _zipf(rng: random.Random, entries: int) -> int:
    return min(entries - 1, int((entries + 1) ** rng.random()) - 1)


# --- the commands ------------------------------------------------------------------------------


@dataclass
class Command:
    """One CLI run: `args` after `python -m metaclip_sql`; `out` the folder (or file) it writes."""

    name: str
    args: list[str]
    out: Path | None = None
    json_stdout: bool = False
    mkdir: bool = False  # make `out` before the run


def commands(inp: dict[str, Path], out: Path) -> list[Command]:
    """The fixed list, in run order (later ones read earlier ones' outputs)."""
    en, meta, pool, valid = (str(inp[k]) for k in ("en50k", "meta", "pool", "valid_uuids"))
    rp, rp_ww = out / "extract_rp", out / "extract_rp_worldwide"
    ray = ["--distributor", "ray", "--partitions", "2"]
    parquet, built = out / "sql_parquet" / "matches.parquet", out / "metadata_build" / "de.json"
    cmds = [Command("_".join(["help", *c.split()]), [*c.split(), "--help"]) for c in HELP]
    cmds += [
        Command("demo", ["demo", "--out", str(out / "demo")], out / "demo"),
        # extract
        _extract("extract_rp", [inp["real_pages"]], rp, en, ["--keep-unmatched"]),
        _extract(
            "extract_rp_ray",
            [inp["real_pages"]],
            out / "extract_rp_ray",
            en,
            ["--keep-unmatched", "--distributor", "ray"],
        ),
        _extract("extract_rp_worldwide", [inp["real_pages"]], rp_ww, meta, []),
        _extract(
            "extract_wat",
            [inp["pages_wat"], inp["whirlwind_wat"]],
            out / "extract_wat",
            en,
            ["--keep-unmatched", "--workers", "2"],
        ),
        _extract("extract_wat_worldwide", [inp["pages_wat"]], out / "extract_wat_ww", meta, []),
        # balance v1 on the real pages
        _balance("balance_rp_t20", rp, out, en, ["--t", "20"]),
        _balance("balance_rp_t200", rp, out, en, ["--t", "200"]),
        _balance("balance_rp_t20_dry_run", rp, out, en, ["--t", "20", "--dry-run"]),
        _balance("balance_rp_t20_image", rp, out, en, ["--t", "20", "--unit", "image"]),
        _balance("balance_rp_t20_lang_all", rp, out, en, ["--t", "20", "--lang", "all"]),
        _balance("balance_rp_t20_ray", rp, out, en, ["--t", "20", *ray]),
        _balance("balance_rp_worldwide", rp_ww, out, meta, ["--worldwide", "--t-en", "20"]),
        # balance on the generated pool
        _balance("balance_pool_t30", pool, out, en, ["--t", "30"]),
        _balance("balance_pool_t300_en_de", pool, out, en, ["--t", "300", "--lang", "en,de"]),
        _balance(
            "balance_pool_p_dry_run_streaming",
            pool,
            out,
            en,
            ["--p", "0.5", "--dry-run", "--dry-run-plan", "streaming", "--lang", "de,fr"],
        ),
        _balance(
            "balance_pool_t100_fr_valid_image",
            pool,
            out,
            en,
            [*"--t 100 --unit image --seed 7 --lang fr".split(), "--valid-uuids", valid],
        ),
        _balance("balance_pool_t30_ray", pool, out, en, ["--t", "30", *ray]),
        _balance(
            "balance_pool_worldwide",
            pool,
            out,
            meta,
            ["--worldwide", "--t-en", "500"],
        ),
        _balance(
            "balance_pool_worldwide_pair_dry_run",
            pool,
            out,
            meta,
            ["--worldwide", "--t-en", "500", "--unit", "pair", "--dry-run"],
        ),
        # explore
        Command("stats_rp", ["stats", "--data", str(rp), "-m", en, "--t", "20", "--t", "200"]),
        Command(
            "stats_pool_json",
            ["stats", "--data", str(pool), "-m", en, *"--t 30 --t 300 --p 0.5 --json".split()],
            json_stdout=True,
        ),
        Command("stats_pool_t_en", ["stats", "--data", str(pool), "--t-en", "500"]),
        Command("stats_pool_de", ["stats", "--data", str(pool), "--lang", "de", "-m", meta]),
        Command("stats_balanced", ["stats", "--data", str(out / "balance_rp_t20"), "-m", en]),
        Command(
            "plot_rp",
            ["plot", "-d", str(rp), "-m", en, "--t", "20", "-o", str(out / "plot" / "rp.png")],
            out / "plot",
            mkdir=True,
        ),
        _sql("sql_top_entries", rp, en, TOP_ENTRIES),
        _sql("sql_per_lang", pool, en, PER_LANG, ["--format", "csv"]),
        _sql("sql_curated_json", out / "balance_pool_t30", en, CURATED, ["--format", "json"]),
        Command(
            "sql_parquet",
            ["sql", "-d", str(pool), "-m", en, MATCHES, "-f", "parquet", "-o", str(parquet)],
            out / "sql_parquet",
            mkdir=True,
        ),
        # metadata lists
        Command(
            "metadata_build",
            ["metadata", "build", "--wordfreq", "--lang", "de", "--size", "3000", "-o", str(built)],
            out / "metadata_build",
        ),
        Command("metadata_info", ["metadata", "info", str(built)]),
    ]
    return cmds


HELP = (
    "",
    "extract",
    "balance",
    "sql",
    "shell",
    "stats",
    "plot",
    "demo",
    "metadata",
    "metadata build",
    "metadata info",
)
TOP_ENTRIES = (
    "SELECT entry_id, entry, count FROM entry_counts ORDER BY count DESC, entry_id LIMIT 25"
)
PER_LANG = (
    "SELECT lang, count(*) AS pairs, count(DISTINCT uuid) AS images FROM pairs "
    "GROUP BY lang ORDER BY pairs DESC, lang"
)
CURATED = (
    "SELECT lang, count(*) AS n, sum(len(entry_ids)) AS matches, min(text) AS first "
    "FROM curated GROUP BY lang ORDER BY lang"
)
MATCHES = (
    "SELECT lang, entry_id, count(*) AS matches, count(DISTINCT uuid) AS images FROM matches "
    "GROUP BY lang, entry_id"
)


def _extract(name: str, inputs: list[Path], out: Path, meta: str, extra: list[str]) -> Command:
    args = ["extract", *map(str, inputs), "--out", str(out), "--metadata", meta, "--lang", "all"]
    if "--workers" not in extra:
        extra = [*extra, "--workers", "1"]
    return Command(name, args + extra, out)


def _balance(name: str, pool: Path, root: Path, meta: str, extra: list[str]) -> Command:
    out = root / name
    return Command(name, ["balance", str(pool), "--out", str(out), "--metadata", meta, *extra], out)


def _sql(name: str, data: Path, meta: str, query: str, extra: Iterable[str] = ()) -> Command:
    return Command(name, ["sql", "--data", str(data), "-m", meta, query, *extra])


# --- record ------------------------------------------------------------------------------------


@dataclass
class Normaliser:
    """Turns paths and timings into placeholders."""

    subs: list[tuple[str, str]] = field(default_factory=list)

    def path(self, real: Path, name: str) -> None:
        for p in {str(real), str(real.resolve())}:
            self.subs.append((p, f"<{name}>"))
        self.subs.sort(key=lambda s: -len(s[0]))  # longest first: nested paths

    def text(self, s: str) -> str:
        for old, new in self.subs:
            s = s.replace(old, new)
        return IN_CHECKOUT.sub(r"<checkout>/metaclip_sql/.../\1", s)

    def lines(self, s: str) -> list[str]:
        out = []
        for line in self.text(s).replace("\r", "\n").splitlines():
            for pattern, repl in TIMINGS:
                line = pattern.sub(repl, line)
            out.append(line.rstrip())
        return out

    def json(self, value: Any) -> Any:
        if isinstance(value, dict):
            if "path" in value:  # a file the output names: its size is the writer's business
                value = {k: v for k, v in value.items() if k != "bytes"}
            return {
                k: TOOL_VERSION.sub(r"\1 <version>", v) if k == "tool" else self.json(v)
                for k, v in value.items()
                if k not in DROP_KEYS
            }
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, float) and math.isfinite(value):
            return float(f"{value:.{FLOAT_DIGITS}g}")
        return value


#: Significant digits a float keeps in JSON outputs (manifests, `stats --json`): DuckDB's
#: parallel float sums differ run to run in the last bits (seen: stats' expected_pairs).
FLOAT_DIGITS = 12
#: A file of the package (bundled metadata, a module in a traceback): named by its file name
#: only, since the redesign moves modules and may move package data; the bundled metadata's
#: content is still checked where an output hashes it.
IN_CHECKOUT = re.compile(r"<checkout>/metaclip_sql/(?:[^\s\"'/]+/)*([^\s\"'/]+)")
#: The tool's version where a JSON file records it ("tool": "metaclip-sql 0.5.0").
TOOL_VERSION = re.compile(r"^(metaclip-sql) \d+\.\d+\S*$")
TIMINGS = [
    (re.compile(r"[\d,.]+ shard-seconds, [\d,.]+ pages/s"), "<s> shard-seconds, <n> pages/s"),
    (re.compile(r"^seconds: [\d.]+"), "seconds: <s>"),
    # extract's per-shard progress line: which shard ends first, and what still runs, varies
    (re.compile(r"^\[\d+/(\d+)\] (.*errors), [\d.]+s; \d+ failed, \d+ running$"), r"[_/\1] \2"),
]
PROGRESS = re.compile(r"^\[_/\d+\] ")
#: stderr lines that are Ray's own logging, not the tool's.
RAY_NOISE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+\s+(INFO|WARNING|DEBUG)\b|\(\w+ pid=|\(raylet\)|"
    r"\[\d{4}-\d\d-\d\d|\s*$)"
)


def record(checkout: Path, dest: Path, keep_work: bool = False) -> int:
    checkout = checkout.resolve()
    if dest.exists() and any(dest.iterdir()):
        sys.exit(f"error: {dest} exists and is not empty")
    work = Path(tempfile.mkdtemp(prefix="same-outputs-"))
    norm = Normaliser()
    norm.path(checkout, "checkout")
    norm.path(work, "work")
    norm.path(SHARED, "shared")
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(checkout),
        METACLIP_SQL_CACHE=str(work / "cache"),
        COLUMNS="100",
        NO_COLOR="1",
        TERM="dumb",
        TZ="UTC",
        RAY_USAGE_STATS_ENABLED="0",
        PYTHONDONTWRITEBYTECODE="1",  # write nothing into the checkout
    )
    cwd = work / "cwd"
    cwd.mkdir()
    started = time.monotonic()
    try:
        _check_import(env, cwd, checkout)
        inputs = make_inputs(work / "inputs")
        out = work / "out"
        out.mkdir()
        dest.mkdir(parents=True, exist_ok=True)
        runs = []
        for cmd in commands(inputs, out):
            if cmd.mkdir and cmd.out is not None:
                cmd.out.mkdir(parents=True)
            t0 = time.monotonic()
            proc = subprocess.run(
                [sys.executable, "-m", "metaclip_sql", *cmd.args],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                errors="replace",
            )
            seconds = time.monotonic() - t0
            runs.append({"name": cmd.name, "exit": proc.returncode, "seconds": round(seconds, 1)})
            print(f"{cmd.name:40s} exit {proc.returncode}  {seconds:5.1f}s", flush=True)
            _record_command(cmd, proc, dest / "commands" / cmd.name, norm)
        info = {
            "format": FORMAT,
            "checkout": str(checkout),
            "commit": _git(checkout, "rev-parse", "HEAD"),
            "dirty": bool(_git(checkout, "status", "--porcelain")),
            "environment": _environment(),
            "inputs": _input_digests(inputs, norm),
            "commands": runs,
            "seconds": round(time.monotonic() - started, 1),
        }
        (dest / "recording.json").write_text(json.dumps(info, indent=1) + "\n")
        size = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file())
        print(f"recorded {len(runs)} commands in {info['seconds']}s -> {dest} ({size:,} bytes)")
    finally:
        if keep_work:
            print(f"work files kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _check_import(env: dict[str, str], cwd: Path, checkout: Path) -> None:
    code = "import metaclip_sql; print(metaclip_sql.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True
    ).stdout.strip()
    if not Path(where).resolve().is_relative_to(checkout):
        sys.exit(f"error: metaclip_sql is imported from {where!r}, not from {checkout}")
    print(f"metaclip_sql from {where}")


def _git(checkout: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(checkout), *args], capture_output=True, text=True)
    return proc.stdout.strip()


def _environment() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    env = {"python": sys.version.split()[0]}
    for pkg in ENV_PACKAGES:
        try:
            env[pkg] = version(pkg)
        except PackageNotFoundError:
            env[pkg] = "-"
    return env


def _input_digests(inputs: dict[str, Path], norm: Normaliser) -> dict[str, str]:
    files = []
    for path in inputs.values():
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return {norm.text(str(p)): _sha256(p) for p in files}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _record_command(
    cmd: Command, proc: subprocess.CompletedProcess, dest: Path, norm: Normaliser
) -> None:
    dest.mkdir(parents=True)
    stdout: Any = norm.lines(proc.stdout)
    if cmd.json_stdout and proc.returncode == 0:
        stdout = norm.json(json.loads(proc.stdout))
    stderr = [line for line in norm.lines(proc.stderr) if not RAY_NOISE.match(line)]
    # extract's progress lines come in the order shards end: sorted among themselves
    at = [i for i, line in enumerate(stderr) if PROGRESS.match(line)]
    for i, line in zip(at, sorted(stderr[i] for i in at), strict=True):
        stderr[i] = line
    run = {
        "args": [norm.text(a) for a in cmd.args],
        "exit": proc.returncode,
        "stdout": stdout,
        "stderr": stderr,
    }
    files: dict[str, Any] = {}
    if cmd.out is not None and cmd.out.exists():
        files = _record_files(cmd.out, dest / "rows", norm)
    _dump(dest / "command.json", run)
    _dump(dest / "files.json", files)


def _dump(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=1, ensure_ascii=False, sort_keys=False) + "\n")


PART = re.compile(r"part-\d+\.parquet$")


def _record_files(out: Path, rows_dir: Path, norm: Normaliser) -> dict[str, Any]:
    """Per output file (or group of Ray part files): what it holds, normalised."""
    groups: dict[str, list[Path]] = collections.defaultdict(list)
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        groups[PART.sub("part-*.parquet", rel)].append(path)
    files: dict[str, Any] = {}
    for rel, paths in groups.items():
        if rel.endswith(".parquet"):
            files[rel] = _record_parquet(rel, paths, rows_dir, norm)
        elif rel.endswith(".json"):
            files[rel] = {"json": norm.json(json.loads(paths[0].read_text("utf-8")))}
        else:
            files[rel] = {"sha256": _sha256(paths[0]), "bytes": paths[0].stat().st_size}
    return files


def _record_parquet(rel: str, paths: list[Path], rows_dir: Path, norm: Normaliser) -> dict:
    import pyarrow.parquet as pq

    lines: list[str] = []
    schemas, codecs, metadata = set(), set(), []
    for path in paths:
        f = pq.ParquetFile(path)
        schemas.add(f.schema_arrow.to_string(show_schema_metadata=False))
        md = f.metadata
        for g in range(md.num_row_groups):
            for c in range(md.num_columns):
                codecs.add(md.row_group(g).column(c).compression)
        metadata.append(_kv_metadata(md.metadata or {}, norm))
        lines += _row_lines(f)
    lines.sort()
    rows_file = rows_dir / (rel.replace("/", "__").replace("*", "N") + ".jsonl.xz")
    rows_file.parent.mkdir(parents=True, exist_ok=True)
    with lzma.open(rows_file, "wt", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)
    rows_digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return {
        "files": len(paths),
        "schema": sorted(schemas),
        "compression": sorted(codecs),
        "key_value_metadata": metadata if len(paths) == 1 else _sorted_json(metadata),
        "rows": len(lines),
        "rows_sha256": rows_digest,
        "rows_file": rows_file.relative_to(rows_dir.parent).as_posix(),
    }


def _sorted_json(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda x: json.dumps(x, sort_keys=True))


def _kv_metadata(kv: dict[bytes, bytes], norm: Normaliser) -> dict[str, Any]:
    """Parquet key-value metadata: the Arrow schema is recorded as the schema, the tool's
    version dropped, JSON values (metaclip_sql.stats) parsed with `seconds` dropped."""
    out: dict[str, Any] = {}
    for key, value in kv.items():
        k = key.decode("utf-8", "replace")
        if k in ("ARROW:schema", "metaclip_sql.version"):
            continue
        text = value.decode("utf-8", "replace")
        try:
            out[k] = norm.json(json.loads(text))
        except ValueError:
            out[k] = norm.text(text)
    return out


def _row_lines(f: Any) -> list[str]:
    """Each row of a Parquet file as a JSON list of its cells, in column order.

    Lossless, and compact where it can be: a float32 cell is written as the shortest decimal
    that reads back to the same float32; a cell that equals what the extract schema derives it
    from is written as a marker: `uuid` "=sha224(url)" (first 24 hex digits), `pair_key`
    "=md5(uuid,text)", `caption` "=text". A cell that does not is written as it is."""
    import numpy as np
    import pyarrow as pa

    schema = f.schema_arrow
    columns = schema.names
    f32 = {c for c in columns if schema.field(c).type == pa.float32()}
    out = []
    for batch in f.iter_batches(batch_size=65536):
        for row in batch.to_pylist():
            marked = dict(row)
            if "pair_key" in row and "uuid" in row and "text" in row:
                key = hashlib.md5(f"{row['uuid']}\x1f{row['text']}".encode(errors="surrogatepass"))
                if getattr(row["pair_key"], "bytes", row["pair_key"]) == key.digest():
                    marked["pair_key"] = "=md5(uuid,text)"
            url = row.get("url")
            if "uuid" in row and isinstance(url, str) and row["uuid"] == _image_id(url):
                marked["uuid"] = "=sha224(url)"
            if "caption" in row and row["caption"] == row.get("text"):
                marked["caption"] = "=text"
            for c in f32:
                if marked[c] is not None:
                    marked[c] = float(str(np.float32(marked[c])))
            out.append(json.dumps([_plain(marked[c]) for c in columns], ensure_ascii=False))
    return out


def _image_id(url: str) -> str:
    return hashlib.sha224(url.encode(errors="surrogatepass")).hexdigest()[:24]


def _plain(value: Any) -> Any:
    """A cell as JSON: UUID and bytes as hex, dates and decimals as text, floats as repr."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta, decimal.Decimal)):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- compare -----------------------------------------------------------------------------------


def compare(a: Path, b: Path) -> int:
    info_a, info_b = (json.loads((r / "recording.json").read_text()) for r in (a, b))
    print(f"A: {a} (commit {info_a['commit'][:12]}{' dirty' if info_a['dirty'] else ''})")
    print(f"B: {b} (commit {info_b['commit'][:12]}{' dirty' if info_b['dirty'] else ''})")
    problems = 0
    for key in ("format", "environment", "inputs"):
        diffs = _json_diff(info_a[key], info_b[key])
        problems += _report(key, diffs)
    names_a = [r["name"] for r in info_a["commands"]]
    names_b = [r["name"] for r in info_b["commands"]]
    for name in sorted(set(names_a) ^ set(names_b)):
        problems += _report(f"command {name}", [f"only in {'A' if name in names_a else 'B'}"])
    for name in [n for n in names_a if n in names_b]:
        problems += _compare_command(a / "commands" / name, b / "commands" / name, name)
    print("no differences" if not problems else f"{problems} outputs differ")
    return 1 if problems else 0


def _compare_command(a: Path, b: Path, name: str) -> int:
    run_a, run_b = (json.loads((d / "command.json").read_text()) for d in (a, b))
    problems = _report(f"{name}: run", _json_diff(run_a, run_b))
    files_a, files_b = (json.loads((d / "files.json").read_text()) for d in (a, b))
    for rel in sorted(set(files_a) | set(files_b)):
        label = f"{name}: {rel}"
        if rel not in files_a or rel not in files_b:
            problems += _report(label, [f"only in {'A' if rel in files_a else 'B'}"])
            continue
        fa, fb = files_a[rel], files_b[rel]
        diffs = _json_diff(
            {k: v for k, v in fa.items() if k != "rows_file"},
            {k: v for k, v in fb.items() if k != "rows_file"},
        )
        if "rows_file" in fa and fa.get("rows_sha256") != fb.get("rows_sha256"):
            diffs = [d for d in diffs if not d.startswith("rows_sha256")]
            diffs += _rows_diff(a / fa["rows_file"], b / fb["rows_file"])
        problems += _report(label, diffs)
    return problems


def _rows_diff(path_a: Path, path_b: Path) -> list[str]:
    rows_a, rows_b = (collections.Counter(_read_lines(p)) for p in (path_a, path_b))
    only_a, only_b = rows_a - rows_b, rows_b - rows_a
    out = [f"rows: {sum(only_a.values())} only in A, {sum(only_b.values())} only in B"]
    for side, rows in (("A", only_a), ("B", only_b)):
        out += [f"  {side}: {_clip(r)}" for r in sorted(rows)[:SHOWN]]
    return out


def _read_lines(path: Path) -> list[str]:
    with lzma.open(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()


def _json_diff(a: Any, b: Any, where: str = "") -> list[str]:
    """Paths where two JSON values differ (key by key, item by item)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            sub = f"{where}.{k}" if where else str(k)
            if k not in a or k not in b:
                out.append(f"{sub}: only in {'A' if k in a else 'B'}")
            else:
                out += _json_diff(a[k], b[k], sub)
        return out
    if isinstance(a, list) and isinstance(b, list) and a != b:
        if len(a) != len(b) and all(isinstance(x, str) for x in a + b):
            return _lines_diff(a, b, where)
        out = [f"{where}: {len(a)} vs {len(b)} items"] if len(a) != len(b) else []
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            out += _json_diff(x, y, f"{where}[{i}]")
        return out
    if a != b or type(a) is not type(b):
        return [
            f"{where}: A={_clip(json.dumps(a, ensure_ascii=False))}"
            f" B={_clip(json.dumps(b, ensure_ascii=False))}"
        ]
    return []


def _lines_diff(a: list[str], b: list[str], where: str) -> list[str]:
    import difflib

    diff = [
        line
        for line in difflib.unified_diff(a, b, "A", "B", n=0, lineterm="")
        if line[:1] in "+-" and not line.startswith(("---", "+++"))
    ]
    return [f"{where}: {len(a)} vs {len(b)} lines"] + [f"  {_clip(d)}" for d in diff]


def _clip(text: str, width: int = 160) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _report(label: str, diffs: list[str]) -> int:
    if not diffs:
        print(f"same     {label}")
        return 0
    print(f"DIFFERS  {label}")
    for line in diffs[: SHOWN * 3]:
        print(f"    {line}")
    if len(diffs) > SHOWN * 3:
        print(f"    ... {len(diffs) - SHOWN * 3} more")
    return 1


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record", help="run the commands against a checkout, record outputs")
    rec.add_argument("--checkout", type=Path, required=True, help="the project tree to import")
    rec.add_argument("--out", type=Path, required=True, help="recording folder (new or empty)")
    rec.add_argument("--keep-work", action="store_true", help="keep the inputs and raw outputs")
    cmp_ = sub.add_parser("compare", help="compare two recordings; exit 1 on any difference")
    cmp_.add_argument("a", type=Path)
    cmp_.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "record":
        return record(args.checkout, args.out, args.keep_work)
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
