"""One shard in, one Parquet out: the per-shard work of `metaclip-sql extract`.

Records stream from the reader; each page yields (image url, text key, text) triples; a
(uuid, text) pair is kept once per shard (by its pair_key, which the row stores); texts are
matched against the metadata, then language-identified (matching first: it is cheaper and
drops most texts). With per-language metadata (`LanguageMatchers`, MetaCLIP 2) lid runs
first, since it picks the list to match against; texts whose language has no list are counted
and dropped. Rows are written in batches to a temporary file renamed when the shard is
complete, with the shard's counts in the Parquet key-value metadata under `metaclip_sql.stats`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from metaclip_sql import __version__
from metaclip_sql.extract.classify import MATCHED, NO_METADATA, Verdicts
from metaclip_sql.extract.html import PageCounts, image_texts
from metaclip_sql.extract.lid import LanguageId
from metaclip_sql.extract.records import (
    DEFAULT_MAX_PAGE_BYTES,
    DEFAULT_MAX_RECORD_BYTES,
    ReadCounts,
    ShardReadError,
    iter_records,
)
from metaclip_sql.extract.rows import RowWriter
from metaclip_sql.extract.wat import wat_image_texts
from metaclip_sql.io import staging
from metaclip_sql.io.storage import Target, base_name, exists, join, publish
from metaclip_sql.metadata.lang import LanguageMatchers
from metaclip_sql.metadata.matching import Matcher
from metaclip_sql.runtime.heartbeat import Heartbeat
from metaclip_sql.schema import pair_key

STATS_KEY = b"metaclip_sql.stats"
VERSION_KEY = b"metaclip_sql.version"


@dataclass
class ExtractOptions:
    """What every shard of one `extract` run shares."""

    out_dir: Target  # a local folder, or a URL prefix (storage.as_target)
    langs: frozenset[str] | None = frozenset({"en"})
    keep_unmatched: bool = False
    overwrite: bool = False
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES
    page_timeout: float = 60.0


@dataclass
class ShardStats:
    """Counts of one shard, saved with its Parquet and summed in the run's summary."""

    shard: str
    status: str = "ok"  # ok | skipped (complete output exists) | failed
    records: int = 0
    html_pages: int = 0
    wat_pages: int = 0
    img_tags: int = 0
    texts: int = 0
    deduped_texts: int = 0
    matched_texts: int = 0
    no_metadata_texts: int = 0  # per-language metadata only: the text's language has no list
    rows: int = 0
    non_http_urls: int = 0
    unresolvable_urls: int = 0
    decoded_by_detection: int = 0
    stale_encodings: int = 0  # Content-Encoding over a body stored decoded: read as is
    cut_bodies: int = 0  # encoded bodies that end early: parsed as far as they go
    capped_bodies: int = 0  # bodies decoded past max_page_bytes: parsed up to the cap
    errors: int = 0  # problems reported in `messages`: each cost a record, or part of one
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def output_path(shard: Target, out_dir: Target) -> Target:
    """`<out>/<shard file name>.parquet`."""
    return join(out_dir, f"{base_name(shard)}.parquet")


def staging_dir(out_dir: Target) -> Path:
    """Where a shard's Parquet is written before it is complete: beside the output when local
    (a rename publishes it), a local temp folder when the output is remote (an upload does)."""
    if isinstance(out_dir, Path):
        return out_dir
    return Path(tempfile.gettempdir()) / "metaclip-sql-staging"


def temp_path(shard: Target, out_dir: Target, pid: int) -> Path:
    """The temporary name of the shard's output while process `pid` writes it (and holds it:
    `staging.hold`; a killed run's is removed by the next run, `staging.remove_leftovers`)."""
    return staging_dir(out_dir) / f".{base_name(shard)}.parquet.{pid}.tmp"


def image_uuid(url: str) -> str:
    """MetaCLIP's image id: the first 24 hex digits of sha224 of the URL."""
    return hashlib.sha224(url.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def extract_shard(
    shard: Target,
    options: ExtractOptions,
    matcher: Matcher | LanguageMatchers,
    lid: LanguageId,
    heartbeat: Heartbeat | None = None,
    skip_pages: Mapping[int, str] | None = None,
) -> ShardStats:
    """Extract one shard to `<out>/<name>.parquet`; never leaves a partial file behind.

    `skip_pages` maps record offsets to the reason they are skipped (set by a supervisor that
    saw the page hang or crash the parser in an earlier attempt).
    """
    started = time.monotonic()
    stats = ShardStats(shard=base_name(shard))
    final = output_path(shard, options.out_dir)
    if exists(final) and not options.overwrite:
        stats.status = "skipped"
        return stats
    staging_dir(options.out_dir).mkdir(parents=True, exist_ok=True)
    tmp = temp_path(shard, options.out_dir, os.getpid())
    lock = staging.hold(tmp)  # held while it is written: no run's cleanup removes it meanwhile
    rows: RowWriter | None = None
    try:
        rows = RowWriter(tmp)
        _fill(
            shard,
            options,
            matcher,
            lid,
            heartbeat or Heartbeat(),
            dict(skip_pages or {}),
            stats,
            rows,
        )
        stats.rows = rows.count
        stats.seconds = round(time.monotonic() - started, 3)
        rows.close({STATS_KEY: stats.to_json(), VERSION_KEY: __version__})
        publish(tmp, final)
    except ShardReadError as exc:
        stats.status = "failed"
        _note(stats, None, str(exc))
    finally:
        if tmp.exists():
            if rows is not None:
                with contextlib.suppress(Exception):
                    rows.writer.close()
            tmp.unlink()
        lock.release()
    stats.seconds = round(time.monotonic() - started, 3)
    return stats


def _note(stats: ShardStats, offset: int | None, message: str) -> None:
    stats.errors += 1
    if len(stats.messages) < 100:  # a badly damaged shard must not flood memory or the log
        where = (
            f" (record at offset {offset})"
            if offset is not None and "offset" not in message
            else ""
        )
        stats.messages.append(f"{stats.shard}{where}: {message}")


def _fill(
    shard: Target,
    options: ExtractOptions,
    matcher: Matcher | LanguageMatchers,
    lid: LanguageId,
    heartbeat: Heartbeat,
    skip: dict[int, str],
    stats: ShardStats,
    rows: RowWriter,
) -> None:
    page = PageCounts()
    read = ReadCounts()
    verdicts = Verdicts(matcher, lid, options.langs, options.keep_unmatched)
    try:
        _fill_rows(shard, options, verdicts, heartbeat, skip, stats, rows, page, read)
    finally:
        stats.matched_texts = verdicts.counts[MATCHED]
        stats.no_metadata_texts = verdicts.counts[NO_METADATA]
        stats.records = read.records
        stats.stale_encodings = read.stale_encodings
        stats.cut_bodies = read.cut_bodies
        stats.capped_bodies = read.capped_bodies
        stats.img_tags = page.img_tags
        stats.non_http_urls = page.non_http_urls
        stats.unresolvable_urls = page.unresolvable_urls
        stats.decoded_by_detection = page.decoded_by_detection


def _fill_rows(
    shard: Target,
    options: ExtractOptions,
    verdicts: Verdicts,
    heartbeat: Heartbeat,
    skip: dict[int, str],
    stats: ShardStats,
    rows: RowWriter,
    page: PageCounts,
    read: ReadCounts,
) -> None:
    """The per-shard loop: each page's (url, key, text) triples, deduplicated by pair key
    within the shard, given their verdicts, and appended column-wise."""
    seen: set[bytes] = set()
    name = stats.shard
    verdict = verdicts.verdict
    records = iter_records(
        shard,
        lambda off, msg: _note(stats, off, msg),
        read,
        options.max_record_bytes,
        options.max_page_bytes,
    )
    for record in records:
        if record.offset in skip:
            _note(stats, record.offset, f"page skipped: {skip[record.offset]}")
            continue
        heartbeat.page_started(record.offset)
        is_page = record.kind == "html"
        try:
            if is_page:
                stats.html_pages += 1
                triples = image_texts(record.body, record.target_uri, record.http_charset, page)
            else:
                triples, is_page = wat_image_texts(record.body, record.target_uri, page)
                stats.wat_pages += is_page
        except Exception as exc:  # one bad page must not cost the shard
            _note(stats, record.offset, f"page not parsed: {type(exc).__name__}: {exc}")
            heartbeat.page_done(is_page)
            continue
        heartbeat.page_done(is_page)  # a WAT's request and crawler records are not pages
        if not triples:
            continue
        stats.texts += len(triples)
        page_url, last_url, uuid = record.target_uri, None, ""
        cols = rows.columns
        deduped = 0
        for url, key, text in triples:
            if url != last_url:  # a page yields an image's texts together: one sha224 for them
                last_url, uuid = url, image_uuid(url)
            pair = pair_key(uuid, text)  # both the dedup key and the row's pair_key column
            if pair in seen:
                continue
            seen.add(pair)
            deduped += 1
            keep, lang, score, ids, _ = verdict(text)
            if keep:
                cols.uuid.append(uuid)
                cols.url.append(url)
                cols.text.append(text)
                cols.text_key.append(key)
                cols.lang.append(lang)
                cols.lang_score.append(score)
                cols.entry_ids.append(ids)
                cols.page_url.append(page_url)
                cols.shard.append(name)
                cols.pair_key.append(pair)
        stats.deduped_texts += deduped
        rows.page_done()


def read_stats(path: Path) -> dict | None:
    """The counts saved with an extract output, or None when absent."""
    meta = pq.read_metadata(path).metadata or {}
    raw = meta.get(STATS_KEY)
    return json.loads(raw) if raw else None
