"""Issue 14: `extract` loses nothing on WARCs written by real crawlers.

A loopback site (`tests/helpers/crawlsite.py`) serves real pages the ways real servers do (gzip,
deflate, br and zstd, chunked or not, redirects, a custom 404 page, legacy charsets, images);
GNU Wget and warcio + requests crawl it into WARCs that keep those encodings as received. For
each WARC the reference reader (warcio, slow and obviously correct) is first checked against
what the server sent, then `extract` must give exactly the reference's (uuid, text, entry ids).

Which responses count as pages: every response whose Content-Type is HTML, whatever its status
(200, the 301/302 redirects' small HTML bodies, the 404 pages), because `extract` reads pages by
Content-Type and never by status. Images are served and archived too, and must be skipped.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import wordfreq

from metaclip_sql.extract.run import run_extract
from metaclip_sql.extract.shard import ExtractOptions
from tests.helpers.crawlsite import (
    VARIANTS,
    CrawlServer,
    ReferenceRead,
    Served,
    Site,
    make_site,
    reference_pairs,
    site_pages,
    warcio_capture,
    wget_crawl,
)

needs_wget = pytest.mark.skipif(
    shutil.which("wget") is None,
    reason="GNU Wget is not installed (.ci/run installs it with apt-get when missing)",
)


@dataclass
class Crawl:
    """A WARC a crawler wrote, the server's URL, and every response the server sent for it."""

    warc: Path
    url: str
    served: list[Served]


@pytest.fixture(scope="module")
def site() -> Site:
    return make_site(site_pages())


@pytest.fixture(scope="module")
def entries() -> list[str]:
    """Common English words: enough entries that most texts match some and many match none."""
    return wordfreq.top_n_list("en", 5000)


@pytest.fixture(scope="module")
def metadata(entries: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("metadata") / "metadata.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


@needs_wget
@pytest.mark.parametrize("compress", [True, False], ids=["warc.gz", "plain-warc"])
def test_wget_crawl(
    compress: bool, site: Site, entries: list[str], metadata: Path, tmp_path: Path
) -> None:
    """Wget's WARC (gzip per record, or `--no-warc-compression`): extract equals the reference."""
    with CrawlServer(site) as server:
        warc = wget_crawl(server.url, tmp_path / "crawl", compress=compress)
        crawl = Crawl(warc, server.url, server.served)
    _check(crawl, site, entries, metadata, tmp_path)


def test_warcio_capture(site: Site, entries: list[str], metadata: Path, tmp_path: Path) -> None:
    """warcio's capture_http around requests (redirects followed): extract equals the reference."""
    paths = [*site.links, *(path for path in site.routes if path.startswith("/img/"))]
    with CrawlServer(site) as server:
        warc = warcio_capture(server.url, paths, tmp_path / "crawl" / "capture.warc.gz")
        crawl = Crawl(warc, server.url, server.served)
    _check(crawl, site, entries, metadata, tmp_path)


def _check(crawl: Crawl, site: Site, entries: list[str], metadata: Path, tmp_path: Path) -> None:
    reference = reference_pairs(crawl.warc, entries)
    _check_reference(crawl, site, reference)
    _check_extract(crawl, reference, metadata, tmp_path / "matched")


def _check_reference(crawl: Crawl, site: Site, reference: ReferenceRead) -> None:
    """The crawl reached the whole site, and the reference read back every HTML response the
    server sent, once, stored byte for byte as sent (encodings and chunked framing kept) and
    decoded to the body as meant."""
    requested = {served.path for served in crawl.served}
    unreached = [path for path in site.links if path not in requested]
    assert not unreached, f"the crawler never asked for {len(unreached)} pages: {unreached[:5]}"
    sent = Counter(
        (crawl.url + s.path, s.status, s.wire_sha256, s.body_sha256)
        for s in crawl.served
        if "html" in s.content_type
    )
    read = Counter(
        (page.url, page.status, page.payload_sha256, page.body_sha256) for page in reference.pages
    )
    assert read == sent, (
        f"reference read {sum(read.values())} HTML responses, server sent {sum(sent.values())}; "
        f"not read as sent: {list(sent - read)[:3]}; read but not sent: {list(read - sent)[:3]}"
    )
    variants = {s.variant for s in crawl.served if "html" in s.content_type}
    assert set(VARIANTS) <= variants
    texts = {text for _, text, _ in reference.pairs}
    assert site.own_texts <= texts, f"texts not found: {site.own_texts - texts}"
    # Relative `src`s of the served pages resolve against the loopback page URL.
    page_prefixes = (f"{crawl.url}/p/", f"{crawl.url}/m/")
    loopback_images = {
        reference.image_urls[uuid]
        for page in reference.pages
        if page.url is not None and page.url.startswith(page_prefixes)
        for uuid, _, _ in page.pairs
        if reference.image_urls[uuid].startswith(crawl.url)
    }
    assert loopback_images, "no page has a relative image URL"


def _check_extract(crawl: Crawl, reference: ReferenceRead, metadata: Path, out: Path) -> None:
    """`extract`, every language and unmatched text kept, gives exactly the reference's pairs,
    reads every page, reports no error, and stores page URLs without wget's angle brackets."""
    options = ExtractOptions(out_dir=out, langs=None, keep_unmatched=True)
    summary = run_extract([crawl.warc], options, metadata=metadata, workers=1)
    (stats,) = summary.shards
    assert stats.status == "ok", stats.messages
    rows = pq.read_table(out / f"{crawl.warc.name}.parquet").to_pylist()
    got = {(row["uuid"], row["text"], tuple(row["entry_ids"])) for row in rows}
    page_urls = {row["page_url"] for row in rows}
    variant_of = {crawl.url + s.path: s.variant for s in crawl.served}

    problems = []
    if stats.errors:
        problems.append(f"{stats.errors} errors: {stats.messages[:3]}")
    if stats.html_pages != len(reference.pages):
        message = (
            f"HTML pages: extract read {stats.html_pages}, the reference {len(reference.pages)}"
        )
        if 0 < stats.html_pages < len(reference.pages):  # where a reader that stopped stopped
            last = reference.pages[stats.html_pages - 1]
            message += (
                f"; the reference's page {stats.html_pages} in file order is "
                f"{last.url} ({variant_of.get(last.url or '', '?')})"
            )
        problems.append(message)
    missing, extra = reference.pairs - got, got - reference.pairs
    if missing or extra:
        losing = Counter(
            variant_of.get(page.url or "", "?") for page in reference.pages if page.pairs - got
        )
        problems.append(
            f"pairs: reference {len(reference.pairs)}, extract {len(got)}, "
            f"missing {len(missing)}, extra {len(extra)}; "
            f"pages with pairs missing, by variant: {dict(sorted(losing.items()))}"
        )
        problems.append(_first_loss(reference, got, variant_of))
    first_pages, seen = set(), set()  # a row's page_url is the page its pair first came from
    for page in reference.pages:
        if page.pairs - seen:
            first_pages.add(page.url)
            seen |= page.pairs
    if page_urls != first_pages:
        problems.append(
            f"page_url values: extract {len(page_urls)}, reference {len(first_pages)} "
            f"({len(first_pages - page_urls)} pages absent, {len(page_urls - first_pages)} unknown)"
        )
    bracketed = sorted(url for url in page_urls if url and ("<" in url or ">" in url))
    if bracketed:
        problems.append(f"{len(bracketed)} page_url values in angle brackets, e.g. {bracketed[0]}")
    assert not problems, "\n".join(problems)


def _first_loss(reference: ReferenceRead, got: set, variant_of: dict[str, str]) -> str:
    """Where extract first fell short, in file order: the first page missing some of its pairs,
    and the first missing all of them with the HTML page read before it (a reader that stops
    early stops after the page that threw it off)."""
    partial = whole = None
    previous = "none"
    for page in reference.pages:
        name = f"{page.url} ({variant_of.get(page.url or '', '?')})"
        lost = len(page.pairs - got)
        if lost and partial is None:
            partial = f"first page with pairs missing: {name}, {lost} of {len(page.pairs)}"
        if lost and lost == len(page.pairs) and whole is None:
            whole = f"first page with all pairs missing: {name}, after {previous}"
        previous = name
    return "; ".join(part for part in (partial, whole) if part) or "no page has pairs missing"
