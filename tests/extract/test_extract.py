"""Extraction end to end: real pages and Common Crawl's WARC/WAT, layouts, resume, options."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType
from typer.testing import CliRunner

from metaclip_sql.cli import app
from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.errors import MetaclipError
from metaclip_sql.extract.lid import LanguageId
from metaclip_sql.extract.run import InputError, expand_inputs, read_input_list, run_extract
from metaclip_sql.extract.shard import ExtractOptions, extract_shard, read_stats
from metaclip_sql.metadata.matching import Matcher
from metaclip_sql.sample import Response, write_warc
from metaclip_sql.schema import PAIRS_SCHEMA, pair_key
from tests.helpers.data import REAL_PAGES, WHIRLWIND, require
from tests.helpers.wat import wat_response

REAL_ENTRIES = [
    "India", "air pollution", "map", "PM2.5", "A map", "pollution",
    "Kevin Mayer", "Code Media", "conference",
]  # fmt: skip
WHIRLWIND_ENTRIES = ["Escopete", "armas", "Mancha", "Castiella-La Mancha", "d'armas", "libre"]


@pytest.fixture(scope="module")
def lid() -> LanguageId:
    return LanguageId()


def _rows(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def _uuid(url: str) -> str:
    return hashlib.sha224(url.encode()).hexdigest()[:24]


def test_real_pages_hand_checked_rows(tmp_path: Path, lid: LanguageId) -> None:
    options = ExtractOptions(out_dir=tmp_path, langs=frozenset({"en"}))
    stats = extract_shard(require(REAL_PAGES), options, Matcher(REAL_ENTRIES), lid)
    assert stats.status == "ok" and stats.html_pages == 311 and stats.errors == 0
    table = pq.read_table(tmp_path / "real-pages.warc.gz.parquet")
    assert table.schema.equals(PAIRS_SCHEMA)
    rows = {(r["page_url"], r["text"]): r for r in table.to_pylist()}

    vox = "https://www.vox.com/science-and-health/2019/11/8/20948348/delhi-india-air-pollution-quality-cause"
    row = rows[(vox, "A map of PM2.5 air pollution over India.")]
    url = (
        "https://cdn.vox-cdn.com/thumbor/CcAoMoO2mzfbhao2TNfg24pAyqw=/0x0:659x692/1200x0/"
        "filters:focal(0x0:659x692):no_upscale()/cdn.vox-cdn.com/uploads/chorus_asset/file/"
        "19355947/Screen_Shot_2019_11_07_at_12.32.11_PM.png"
    )
    assert row["url"] == url and row["uuid"] == _uuid(url)
    # "PM2.5" is split by spacing() and can never match.
    assert row["entry_ids"] == [0, 1, 2, 4, 5]
    assert row["text_key"] == "alt" and row["lang"] == "en" and 0.2 < row["lang_score"] <= 1
    assert row["shard"] == "real-pages.warc.gz"

    kevin = [r for (_, text), r in rows.items() if text.startswith("Disney’s Kevin Mayer sitting")]
    # The same alt text sits on a data: placeholder (skipped) and on the real image.
    assert [r["url"] for r in kevin] == [
        "https://cdn.vox-cdn.com/uploads/chorus_image/image/65734946/REC_CM19_TSTOLPER-20191119-152026-5412.0.0.jpeg"
    ]
    assert kevin[0]["entry_ids"] == [6, 7, 8]
    assert len({(r["uuid"], r["text"]) for r in table.to_pylist()}) == table.num_rows
    assert read_stats(tmp_path / "real-pages.warc.gz.parquet")["rows"] == table.num_rows


def _pair_keys_agree(path: Path) -> list[dict]:
    """Every row's pair_key is schema.pair_key(uuid, text) and DuckDB's SQL for it; the rows."""
    rows = _rows(path)
    for r in rows:
        assert r["pair_key"].bytes == pair_key(r["uuid"], r["text"]), r["text"]
    con = duckdb.connect()
    sqlrunner.run(con, "common/pair_key.sql")
    typ, n, same = con.execute(
        "SELECT any_value(typeof(pair_key)), count(*),"
        " count(*) FILTER (WHERE pair_key = md5(concat_ws(chr(31), uuid, text))::UUID"
        " AND pair_key = metaclip_pair_key(uuid, text)) FROM read_parquet($1)",
        [str(path)],
    ).fetchone()
    assert typ == "UUID" and same == n == len(rows)
    return rows


def test_pair_key_is_the_python_and_sql_key(tmp_path: Path, lid: LanguageId) -> None:
    """extract writes pair_key = md5(uuid U+001F text), the value balance computes in SQL for
    files without it; it is also the per-shard dedup key, so keys are unique within a shard."""
    options = ExtractOptions(out_dir=tmp_path, langs=None, keep_unmatched=True)
    stats = extract_shard(require(REAL_PAGES), options, Matcher(REAL_ENTRIES), lid)
    rows = _pair_keys_agree(tmp_path / "real-pages.warc.gz.parquet")
    assert len(rows) == stats.rows == stats.deduped_texts > 2000
    assert sum(not r["text"].isascii() for r in rows) > 100  # Chinese, Russian, Hebrew, ...
    assert len({r["pair_key"] for r in rows}) == len(rows)

    texts = ["Café au lait ☕", "東京タワーと夕焼け 🗼", "e\u0301 combining", "a\tb  c"]
    imgs = "".join(f'<img src="/i/{i % 2}.jpg" alt="{t}">' for i, t in enumerate(texts))
    html = f"<meta charset=utf-8><body>{imgs}{imgs}<img src='/i/9.jpg' alt='{texts[0]}'></body>"
    shard = write_warc(tmp_path / "u.warc.gz", [Response("https://u.org/", html.encode())])
    stats = extract_shard(shard, options, Matcher(["Café"]), lid)
    rows = _pair_keys_agree(tmp_path / "u.warc.gz.parquet")
    # The repeated <img>s are deduplicated; the same text on another image is another pair.
    assert (stats.texts, stats.deduped_texts, stats.rows) == (9, 5, 5)
    assert sorted(r["text"] for r in rows) == sorted([*texts, texts[0]])
    assert rows[0]["pair_key"] != rows[-1]["pair_key"] and rows[0]["text"] == rows[-1]["text"]


def test_whirlwind_warc_rows(tmp_path: Path, lid: LanguageId) -> None:
    options = ExtractOptions(out_dir=tmp_path, langs=None)
    shard = require(WHIRLWIND / "whirlwind.warc.gz")
    stats = extract_shard(shard, options, Matcher(WHIRLWIND_ENTRIES), lid)
    assert (stats.records, stats.html_pages, stats.img_tags) == (4, 1, 13)
    rows = {r["text"]: r for r in _rows(tmp_path / "whirlwind.warc.gz.parquet")}
    assert set(rows) == {
        "A enciclopedia libre", "Escudo d'armas", "Escopete ubicada en Castiella-La Mancha",
        "Escopete",
    }  # fmt: skip
    shield = rows["Escudo d'armas"]  # alt="Escudo d&#39;armas", src protocol-relative
    assert shield["url"] == (
        "https://upload.wikimedia.org/wikipedia/commons/thumb/0/0a/Escudo_de_Escopete_%28"
        "Guadalajara%29.svg/70px-Escudo_de_Escopete_%28Guadalajara%29.svg.png"
    )
    assert shield["uuid"] == "ba18e25851fa04df9c564c36"
    assert shield["entry_ids"] == [4]  # "d'armas", not "armas"
    assert rows["Escopete ubicada en Castiella-La Mancha"]["entry_ids"] == [0, 2, 3]
    tagline = rows["A enciclopedia libre"]  # root-relative src
    assert tagline["url"] == (
        "https://an.wikipedia.org/static/images/mobile/copyright/wikipedia-tagline-an.svg"
    )
    assert tagline["page_url"] == "https://an.wikipedia.org/wiki/Escopete"


def test_whirlwind_wat_has_no_image_links(tmp_path: Path, lid: LanguageId) -> None:
    """The shared WAT holds only the request's metadata record: read, nothing to extract."""
    options = ExtractOptions(out_dir=tmp_path, langs=None)
    shard = require(WHIRLWIND / "whirlwind.warc.wat.gz")
    stats = extract_shard(shard, options, Matcher(WHIRLWIND_ENTRIES), lid)
    assert (stats.status, stats.records, stats.rows, stats.errors) == ("ok", 2, 0, 0)
    assert pq.read_table(tmp_path / "whirlwind.warc.wat.gz.parquet").num_rows == 0


def test_wat_equals_warc_on_the_same_page(tmp_path: Path, lid: LanguageId) -> None:
    """A WAT built from the whirlwind page's <img> tags gives the WARC's rows."""
    from selectolax.lexbor import LexborHTMLParser

    shard = require(WHIRLWIND / "whirlwind.warc.gz")
    links = []
    for rec in ArchiveIterator(str(shard), record_types=WarcRecordType.response):
        page_url = rec.headers.get("WARC-Target-URI")
        for node in LexborHTMLParser(rec.reader.read()).css("img"):
            link = {"path": "IMG@/src", "url": node.attributes["src"]}
            link.update({k: v for k, v in node.attributes.items() if k in ("alt", "title")})
            links.append(link)
    links.append({"path": "A@/href", "url": "/wiki/Other", "title": "not an image"})
    wat = tmp_path / "page.warc.wat.gz"
    wat.write_bytes(wat_response(page_url, links))
    options = ExtractOptions(out_dir=tmp_path / "out", langs=None, keep_unmatched=True)
    matcher = Matcher(WHIRLWIND_ENTRIES)
    extract_shard(shard, options, matcher, lid)
    stats = extract_shard(wat, options, matcher, lid)
    assert stats.wat_pages == 1
    cols = ("uuid", "url", "text", "text_key", "entry_ids", "page_url")
    warc_rows = [
        tuple(str(r[c]) for c in cols) for r in _rows(options.out_dir / f"{shard.name}.parquet")
    ]
    wat_rows = [
        tuple(str(r[c]) for c in cols) for r in _rows(options.out_dir / f"{wat.name}.parquet")
    ]
    assert wat_rows == warc_rows and len(wat_rows) == 7


@pytest.mark.parametrize("layout", ["single", "plain"])
def test_gzip_layouts_give_identical_rows(tmp_path: Path, lid: LanguageId, layout: str) -> None:
    responses = []
    for i, rec in enumerate(
        ArchiveIterator(str(require(REAL_PAGES)), record_types=WarcRecordType.response)
    ):
        if i == 40:
            break
        responses.append(Response(rec.headers.get("WARC-Target-URI"), rec.reader.read()))
    members = write_warc(tmp_path / "a.warc.gz", responses, "members")
    other = write_warc(
        tmp_path / ("b.warc.gz" if layout == "single" else "b.warc"), responses, layout
    )
    options = ExtractOptions(out_dir=tmp_path / "out", langs=None, keep_unmatched=True)
    matcher = Matcher(REAL_ENTRIES)
    for shard in (members, other):
        assert extract_shard(shard, options, matcher, lid).html_pages == 40
    drop = ["shard"]
    a = pq.read_table(options.out_dir / "a.warc.gz.parquet").drop(drop)
    b = pq.read_table(options.out_dir / f"{other.name}.parquet").drop(drop)
    assert a.num_rows > 50 and a.equals(b)


def _sample_shards(tmp_path: Path) -> list[Path]:
    pages = [
        Response("https://a.org/1", b'<img src="/x.jpg" alt="a dog on a red car"><img src="/x.jpg" alt="a dog on a red car">'),
        Response("https://a.org/2", b'<img src="/y.jpg" alt="Ein Hund auf einem roten Auto"><img src="/z.jpg" alt="nothing here">'),
    ]  # fmt: skip
    return [write_warc(tmp_path / "in" / f"s{i}.warc.gz", pages) for i in range(2)]


def test_run_dedup_lang_filter_and_keep_unmatched(tmp_path: Path, metadata_file) -> None:
    shards = _sample_shards(tmp_path)
    meta = metadata_file(["dog", "red car", "Hund", "Auto"])
    out = tmp_path / "out"
    summary = run_extract(shards, ExtractOptions(out_dir=out), meta, workers=2)
    assert not summary.failed and summary.totals["texts"] == 8
    rows = _rows(out / "s0.warc.gz.parquet")
    assert [(r["text"], r["entry_ids"], r["lang"]) for r in rows] == [
        ("a dog on a red car", [0, 1], "en")
    ]  # the duplicate is dropped, German and unmatched texts too
    every = run_extract(
        shards, ExtractOptions(out_dir=out, langs=None, keep_unmatched=True, overwrite=True), meta
    )
    texts = {r["text"]: r for r in _rows(out / "s1.warc.gz.parquet")}
    assert texts["Ein Hund auf einem roten Auto"]["lang"] == "de"
    assert texts["Ein Hund auf einem roten Auto"]["entry_ids"] == [2, 3]
    assert texts["nothing here"]["entry_ids"] == []
    assert every.totals["rows"] == 6


def test_resume_skips_complete_outputs_unless_overwrite(tmp_path: Path, metadata_file) -> None:
    shards = _sample_shards(tmp_path)
    meta = metadata_file(["dog"])
    out = tmp_path / "out"
    run_extract(shards, ExtractOptions(out_dir=out), meta)
    mtime = (out / "s0.warc.gz.parquet").stat().st_mtime_ns
    again = run_extract(shards, ExtractOptions(out_dir=out), meta)
    assert [s.status for s in again.shards] == ["skipped", "skipped"]
    assert (out / "s0.warc.gz.parquet").stat().st_mtime_ns == mtime
    redo = run_extract(shards, ExtractOptions(out_dir=out, overwrite=True), meta)
    assert [s.status for s in redo.shards] == ["ok", "ok"]
    assert sorted(p.name for p in out.iterdir()) == ["s0.warc.gz.parquet", "s1.warc.gz.parquet"]


def test_inputs_globs_dirs_and_clashing_names(tmp_path: Path) -> None:
    shards = _sample_shards(tmp_path)
    assert expand_inputs([str(tmp_path / "in" / "*.warc.gz")]) == shards
    assert expand_inputs([tmp_path / "in"]) == shards
    with pytest.raises(MetaclipError, match="no such file"):
        expand_inputs([str(tmp_path / "nope" / "*.gz")])
    twin = write_warc(tmp_path / "other" / "s0.warc.gz", [Response("https://b.org/", b"")])
    with pytest.raises(InputError, match="share a file name"):
        expand_inputs([shards[0], twin])


def test_cli_extract_prints_summary_and_duckdb_reads_output(tmp_path: Path, metadata_file) -> None:
    shards = _sample_shards(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "extract",
            *map(str, shards),
            "--out",
            str(out),
            "--metadata",
            str(metadata_file(["dog"])),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2 shards (0 failed" in result.output
    count = duckdb.sql(f"SELECT count(*) FROM '{out}/*.parquet'").fetchall()[0][0]
    assert count == 2
    bad = CliRunner().invoke(app, ["extract", str(tmp_path / "missing.warc.gz"), "--out", str(out)])
    assert bad.exit_code == 2 and "no such file" in bad.output


def test_input_list_like_common_crawls_paths_file(tmp_path: Path, metadata_file) -> None:
    """wat.paths.gz style: gzip, relative lines, plus a comment, a blank line and an absolute
    path; the CLI runs the listed shards exactly as if they were given as arguments."""
    shards = _sample_shards(tmp_path)
    listing = tmp_path / "warc.paths.gz"
    lines = ["# sample", shards[0].name, "", str(shards[1])]
    listing.write_bytes(gzip.compress("\n".join(lines).encode()))
    base = f"{shards[0].parent}/"
    assert read_input_list(listing, base) == [str(shards[0]), str(shards[1])]
    assert read_input_list(listing) == [shards[0].name, str(shards[1])]
    out = tmp_path / "out"
    args = ["--out", str(out), "--metadata", str(metadata_file(["dog"]))]
    listed = CliRunner().invoke(
        app, ["extract", "--inputs-from", str(listing), "--inputs-base", base, *args]
    )
    assert listed.exit_code == 0, listed.output
    assert "2 shards (0 failed" in listed.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{s.name}.parquet" for s in shards)
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    with pytest.raises(MetaclipError, match="names no input"):
        read_input_list(tmp_path / "empty.txt")
    missing = CliRunner().invoke(app, ["extract", "--inputs-from", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2 and "--inputs-from" in missing.output
    nothing = CliRunner().invoke(app, ["extract", "--out", str(out)])
    assert nothing.exit_code == 2 and "--inputs-from" in nothing.output


def _raw_response(http_head: str, payload: bytes, url: str = "https://x.org/p") -> bytes:
    http = http_head.encode() + b"\r\n\r\n" + payload
    head = (
        f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(http)}\r\n\r\n"
    ).encode()
    return gzip.compress(head + http + b"\r\n\r\n", mtime=0)


def test_content_and_transfer_encodings_are_undone(tmp_path: Path, lid: LanguageId) -> None:
    """Crawlers other than Common Crawl keep gzip bodies and chunked transfers as received."""
    body = b'<img src="/a.png" alt="a dog on a red car">'
    gz = gzip.compress(body)
    chunked = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
    shard = tmp_path / "enc.warc.gz"
    shard.write_bytes(
        _raw_response(
            f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: {len(gz)}",
            gz,
        )
        + _raw_response(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked",
            chunked,
            url="https://y.org/p",
        )
    )
    options = ExtractOptions(out_dir=tmp_path / "out", langs=None)
    stats = extract_shard(shard, options, Matcher(["dog"]), lid)
    assert (stats.html_pages, stats.rows, stats.errors) == (2, 2, 0)
    urls = [r["url"] for r in _rows(options.out_dir / "enc.warc.gz.parquet")]
    assert urls == ["https://x.org/a.png", "https://y.org/a.png"]
