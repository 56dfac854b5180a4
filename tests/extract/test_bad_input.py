"""Bad input (issue 2, "Bad input"): damaged, odd and hostile shards and pages.

Every case must end the same way: a one-line message naming the shard (and the record offset
where known); the readable records of the shard still written; other shards of the run complete;
the run fails (summary.failed, CLI exit code 1) only for a shard that could not be processed at
all; and no partial Parquet or temporary file is left in the output directory.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import subprocess
import sys
import zlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from metaclip_sql.cli import app
from metaclip_sql.extract.lid import LanguageId
from metaclip_sql.extract.run import run_extract
from metaclip_sql.extract.shard import ExtractOptions, ShardStats, extract_shard, output_path
from metaclip_sql.metadata.matching import Matcher
from metaclip_sql.sample import Response, warc_record, write_warc

ENTRIES = ["photo", "dog", "cat", "café", "gare"]


@pytest.fixture(scope="module")
def lid() -> LanguageId:
    return LanguageId()


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(ENTRIES, use_cache=False)


def page(i: int, url: str | None = None) -> Response:
    """A small good page whose one alt text matches and names the page (`dog {i}`)."""
    html = f"<html><body><img src='/img/{i}.jpg' alt='a photo of a dog {i}'></body></html>"
    return Response(url or f"https://site{i}.example.org/page.html", html.encode())


def good_texts(*indexes: int) -> list[str]:
    return sorted(f"a photo of a dog {i}" for i in indexes)


def extract(shard: Path, out: Path, matcher: Matcher, lid: LanguageId) -> ShardStats:
    return extract_shard(shard, ExtractOptions(out_dir=out, langs=None), matcher, lid)


def rows(shard: Path, out: Path) -> list[dict]:
    return pq.read_table(output_path(shard, out)).to_pylist()


def texts(shard: Path, out: Path) -> list[str]:
    return sorted(r["text"] for r in rows(shard, out))


def leftovers(out: Path) -> list[str]:
    """Partial outputs: hidden temporary files or anything named *.tmp."""
    if not out.exists():
        return []
    return sorted(
        p.name for p in out.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp")
    )


def assert_messages_name(stats: ShardStats, shard: Path, *, offset: int | None = None) -> str:
    """Every message is one line that starts with the shard's name; one names `offset`.

    Returns all messages joined, for case-specific checks."""
    assert stats.messages, "expected a message about the bad input"
    for message in stats.messages:
        assert "\n" not in message and message.startswith(shard.name), message
    joined = " | ".join(stats.messages)
    if offset is not None:
        assert f"offset {offset}" in joined, joined
    return joined


def record_offsets(path: Path, responses: list[Response], layout: str) -> list[int]:
    """Where each record starts, computed independently of the reader: the compressed offset
    of its gzip member (one record a member), else its offset in the decompressed WARC."""
    if layout != "members":
        sizes = [len(warc_record(r, i)) for i, r in enumerate(responses)]
        return [sum(sizes[:i]) for i in range(len(sizes))]
    data, offsets, pos = path.read_bytes(), [], 0
    while pos < len(data):
        offsets.append(pos)
        inflater = zlib.decompressobj(31)
        inflater.decompress(data[pos:])
        pos = len(data) - len(inflater.unused_data)
    return offsets


# --- damaged shards ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "cut"),
    [("members", 40), ("members", 200), ("single", 40), ("plain", 40), ("plain", 200)],
)
def test_truncated_at_the_end(
    tmp_path: Path, layout: str, cut: int, matcher: Matcher, lid: LanguageId
) -> None:
    """A download cut short: the records before the cut are written, the cut one is reported
    (cut in its payload, or, 200 bytes from the end, in its WARC header)."""
    responses = [page(i) for i in range(5)]
    shard = write_warc(tmp_path / f"cut.{layout}.warc.gz", responses, layout)
    last = record_offsets(shard, responses, layout)[-1]
    shard.write_bytes(shard.read_bytes()[:-cut])
    out = tmp_path / "out"
    stats = extract(shard, out, matcher, lid)
    assert stats.status == "ok"
    assert texts(shard, out) == good_texts(0, 1, 2, 3)
    assert "truncated" in assert_messages_name(stats, shard, offset=last)
    assert leftovers(out) == []


@pytest.mark.parametrize("layout", ["members", "plain"])
@pytest.mark.parametrize("damage", ["inserted", "overwritten"])
def test_garbage_in_the_middle(
    tmp_path: Path, layout: str, damage: str, matcher: Matcher, lid: LanguageId
) -> None:
    """Garbage between records costs nothing; garbage over a record costs just that record.
    The message names where the damage starts (the offset the next record had)."""
    responses = [page(i) for i in range(5)]
    shard = write_warc(tmp_path / f"garbage.{layout}.warc", responses, layout)
    data = shard.read_bytes()
    offsets = record_offsets(shard, responses, layout)
    garbage = b"garbage line\r\n" * 20 + random.Random(7).randbytes(3000)
    if damage == "inserted":
        data = data[: offsets[2]] + garbage + data[offsets[2] :]
        expected = good_texts(0, 1, 2, 3, 4)
    else:  # record 2's first 60 bytes: its WARC header (plain) or its deflate stream (members)
        where = offsets[2] + (0 if layout == "plain" else 20)
        data = data[:where] + garbage[:60] + data[where + 60 :]
        expected = good_texts(0, 1, 3, 4)
    shard.write_bytes(data)
    out = tmp_path / "out"
    stats = extract(shard, out, matcher, lid)
    assert stats.status == "ok"
    assert texts(shard, out) == expected
    assert "skipped" in assert_messages_name(stats, shard, offset=offsets[2])
    assert leftovers(out) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.warc.gz", b""),
        ("notes.warc", b"These are my notes, not a WARC file.\n" * 200),
        (
            "words.warc.gz",
            gzip.compress(
                " ".join(
                    random.Random(3).choice(["cat", "dog", "WARC", "photo"]) for _ in range(5000)
                ).encode(),
                mtime=0,
            ),
        ),
    ],
    ids=["empty", "text", "gzipped-random-text"],
)
def test_unreadable_shard_fails_alone(
    tmp_path: Path, name: str, content: bytes, matcher: Matcher, lid: LanguageId
) -> None:
    """A file with no WARC record at all is the one case that fails the shard: no output."""
    shard = tmp_path / name
    shard.write_bytes(content)
    out = tmp_path / "out"
    stats = extract(shard, out, matcher, lid)
    assert stats.status == "failed"
    joined = assert_messages_name(stats, shard)
    assert ("empty file" in joined) == (content == b"")
    assert not output_path(shard, out).exists()
    assert leftovers(out) == []


# --- odd records and pages ---------------------------------------------------------------------


def test_non_html_responses_are_skipped(tmp_path: Path, matcher: Matcher, lid: LanguageId) -> None:
    """Images and PDFs are not parsed, even when their bytes happen to contain <img alt=...>."""
    decoy = b"<html><img src='https://x.org/decoy.jpg' alt='a photo of a cat'></html>"
    responses = [
        page(0),
        Response("https://x.org/a.png", b"\x89PNG\r\n\x1a\n" + decoy * 3, "image/png"),
        Response("https://x.org/a.pdf", b"%PDF-1.4\n" + decoy, "application/pdf"),
        page(1),
    ]
    shard = write_warc(tmp_path / "mixed.warc.gz", responses)
    out = tmp_path / "out"
    stats = extract(shard, out, matcher, lid)
    assert (stats.status, stats.records, stats.html_pages, stats.errors) == ("ok", 4, 2, 0)
    assert texts(shard, out) == good_texts(0, 1)


CAFE_PAGE = (
    "<html><head><meta charset='utf-8'></head><body>"
    "<img src='/cafe.jpg' alt='Un café près de la gare'></body></html>"
)


def test_cp1252_bytes_in_a_page_declared_utf8(
    tmp_path: Path, matcher: Matcher, lid: LanguageId
) -> None:
    """A wrong charset declaration (common in Common Crawl) must not turn text into U+FFFD."""
    body = CAFE_PAGE.encode("cp1252")
    responses = [Response("https://cafe.example.fr/", body, "text/html; charset=utf-8"), page(1)]
    shard = write_warc(tmp_path / "cp1252.warc.gz", responses)
    out = tmp_path / "out"
    stats = extract(shard, out, matcher, lid)
    assert (stats.status, stats.errors) == ("ok", 0)
    cafe = [r for r in rows(shard, out) if r["page_url"] == "https://cafe.example.fr/"]
    assert [r["text"] for r in cafe] == ["Un café près de la gare"]
    assert cafe[0]["entry_ids"] == [ENTRIES.index("café"), ENTRIES.index("gare")]


def test_stray_invalid_byte_in_a_utf8_page(
    tmp_path: Path, matcher: Matcher, lid: LanguageId
) -> None:
    """The valid UTF-8 around a stray byte must survive (the byte itself may become U+FFFD)."""
    body = CAFE_PAGE.replace("café ", "café \x00").encode("utf-8").replace(b"\x00", b"\xff")
    shard = write_warc(tmp_path / "stray.warc.gz", [Response("https://cafe.example.fr/", body)])
    out = tmp_path / "out"
    extract(shard, out, matcher, lid)
    [text] = texts(shard, out)
    assert "café" in text and "près de la gare" in text


_MEASURE_PEAK = """
import json, resource, sys
from pathlib import Path
from metaclip_sql.extract.shard import ExtractOptions, extract_shard
from metaclip_sql.extract.lid import LanguageId
from metaclip_sql.metadata.matching import Matcher

matcher, lid = Matcher(json.loads(sys.argv[3]), use_cache=False), LanguageId()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
stats = extract_shard(Path(sys.argv[1]), ExtractOptions(Path(sys.argv[2]), langs=None), matcher, lid)
grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"status": stats.status, "pages": stats.html_pages, "errors": stats.errors,
                  "messages": stats.messages, "grew_bytes": grew * 1024}))
"""


def test_50mb_page_is_parsed_up_to_the_cap_in_bounded_memory(tmp_path: Path) -> None:
    """A 50 MB page is parsed up to the page cap (8 MiB by default): its first image is found,
    the ones past the cap are not, and the cut is counted and reported with the record's
    offset. Memory stays a small multiple of the cap, not of the page.

    Measured in a fresh interpreter so the peak is the extraction's own."""
    size = 50 << 20
    filler = b"<p>" + b"lorem ipsum dolor sit amet " * 36 + b"</p>\n"
    half = filler * (size // len(filler) // 2)

    def img(where: str) -> bytes:
        return f"<img src='/{where}.jpg' alt='a photo of a dog at the {where}'>".encode()

    body = b"<html><body>" + img("start") + half + img("middle") + half + img("end")
    shard = write_warc(tmp_path / "big.warc", [Response("https://big.example.org/", body)], "plain")
    del body, half
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE_PEAK, str(shard), str(out), json.dumps(ENTRIES)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout)
    assert (result["status"], result["pages"], result["errors"]) == ("ok", 1, 1)
    assert "parsed up to the cap" in result["messages"][0] and "offset 0" in result["messages"][0]
    assert texts(shard, out) == ["a photo of a dog at the start"]
    assert result["grew_bytes"] < 2 * size, f"peak grew by {result['grew_bytes'] >> 20} MB"


@pytest.mark.parametrize("tag", ["span", "div"])
def test_deeply_nested_tags(tmp_path: Path, metadata_file, tag: str) -> None:
    """100k nested elements around an <img>: parsed when Lexbor copes (inline tags), else that
    page alone is skipped at the time limit with a message naming it (Lexbor walks every open
    element at each block start tag, so 100k nested <div>s take ~50 s)."""
    depth = 100_000
    html = f"<html><body>{f'<{tag}>' * depth}<img src='/deep.jpg' alt='a deep photo of a cat'>"
    html += f"{f'</{tag}>' * depth}</body></html>"
    shard = write_warc(
        tmp_path / "deep.warc.gz", [page(0), Response("https://deep.org/", html.encode())]
    )
    out = tmp_path / "out"
    options = ExtractOptions(out_dir=out, langs=None, page_timeout=2.0)
    summary = run_extract([shard], options, metadata_file(ENTRIES), workers=1)
    [stats] = summary.shards
    assert summary.failed == [] and leftovers(out) == []
    if tag == "span":
        assert texts(shard, out) == sorted(["a deep photo of a cat", "a photo of a dog 0"])
        assert stats.errors == 0, stats.messages
    else:
        assert texts(shard, out) == ["a photo of a dog 0"]
        assert stats.errors == 1 and "parser busy over 2 s" in stats.messages[0]
        assert stats.messages[0].startswith("deep.warc.gz")


def test_img_with_a_100kb_src(tmp_path: Path, matcher: Matcher, lid: LanguageId) -> None:
    """Huge URLs (absolute and relative) are kept whole and hashed like any other."""
    long_path = "/img/" + "a" * 100_000 + ".jpg"
    html = (
        f"<img src='https://cdn.example.org{long_path}' alt='a photo of a cat, absolute'>"
        f"<img src='{long_path}?v=2' alt='a photo of a cat, relative'>"
    )
    responses = [Response("https://long.example.org/p", html.encode()), page(1)]
    shard = write_warc(tmp_path / "long.warc.gz", responses)
    out = tmp_path / "out"
    stats = extract(shard, out, matcher, lid)
    assert (stats.status, stats.errors) == ("ok", 0)
    by_text = {r["text"]: r for r in rows(shard, out)}
    expected = {
        "a photo of a cat, absolute": f"https://cdn.example.org{long_path}",
        "a photo of a cat, relative": f"https://long.example.org{long_path}?v=2",
        "a photo of a dog 1": "https://site1.example.org/img/1.jpg",
    }
    assert {text: r["url"] for text, r in by_text.items()} == expected
    for r in by_text.values():
        assert r["uuid"] == hashlib.sha224(r["url"].encode()).hexdigest()[:24]


def test_record_without_target_uri(tmp_path: Path, matcher: Matcher, lid: LanguageId) -> None:
    """No WARC-Target-URI: absolute image URLs still count (page_url NULL), relative ones
    cannot be resolved and are skipped (and counted)."""
    html = (
        "<img src='https://img.example.org/abs.jpg' alt='a photo of a cat, absolute'>"
        "<img src='/rel.jpg' alt='a photo of a cat, relative'>"
    )
    shard = write_warc(tmp_path / "nouri.warc.gz", [Response(None, html.encode()), page(1)])
    assert gzip.decompress(shard.read_bytes()).count(b"WARC-Target-URI") == 1  # page 1's
    out = tmp_path / "out"
    stats = extract(shard, out, matcher, lid)
    assert (stats.status, stats.html_pages, stats.unresolvable_urls) == ("ok", 2, 1)
    got = sorted((r["text"], r["url"], r["page_url"]) for r in rows(shard, out))
    assert got == [
        ("a photo of a cat, absolute", "https://img.example.org/abs.jpg", None),
        ("a photo of a dog 1", "https://site1.example.org/img/1.jpg", page(1).url),
    ]


@pytest.mark.parametrize("layout", ["members", "single"])
def test_page_that_keeps_the_parser_busy_is_skipped_alone(
    tmp_path: Path, metadata_file, layout: str
) -> None:
    """The supervisor kills a worker stuck in one page and reruns the shard without just that
    page. (The slow page is small but quadratic for Lexbor: deeply nested <div>s.) In a .warc.gz
    compressed as one gzip member, its neighbours must not share its offset and be skipped too."""
    slow_html = "<html><body>" + "<div>" * 100_000 + "<img src='/s.jpg' alt='a slow photo'>"
    responses = [page(0), page(1), Response("https://slow.example.org/", slow_html.encode())]
    responses += [page(3), page(4)]
    shard = write_warc(tmp_path / f"slow.{layout}.warc.gz", responses, layout)
    slow_offset = record_offsets(shard, responses, layout)[2]
    out = tmp_path / "out"
    options = ExtractOptions(out_dir=out, langs=None, page_timeout=0.05)
    summary = run_extract([shard], options, metadata_file(ENTRIES), workers=1)
    [stats] = summary.shards
    assert summary.failed == [] and stats.status == "ok"
    assert stats.messages == [
        f"{shard.name} (record at offset {slow_offset}): page skipped: parser busy over 0.05 s"
    ]
    assert texts(shard, out) == good_texts(0, 1, 3, 4)
    assert leftovers(out) == []


# --- whole runs: other shards complete, exit code ----------------------------------------------


def bad_and_good_shards(root: Path) -> dict[str, Path]:
    """One shard of each outcome: fine, damaged but readable, and unreadable (two ways)."""
    shards = {
        "good": write_warc(root / "good.warc.gz", [page(0), page(1)]),
        "damaged": write_warc(root / "damaged.warc.gz", [page(2), page(3)]),
        "empty": root / "empty.warc.gz",
        "text": root / "readme.warc",
    }
    shards["damaged"].write_bytes(shards["damaged"].read_bytes()[:-40])
    shards["empty"].write_bytes(b"")
    shards["text"].write_text("not a WARC file\n" * 50)
    return shards


def test_run_completes_other_shards_and_fails_only_unreadable_ones(
    tmp_path: Path, metadata_file
) -> None:
    """A run over many shards must not stop at a bad one; only unreadable shards fail it."""
    shards = bad_and_good_shards(tmp_path / "in")
    out = tmp_path / "out"
    summary = run_extract(
        list(shards.values()), ExtractOptions(out_dir=out, langs=None), metadata_file(ENTRIES), 2
    )
    by_name = {s.shard: s for s in summary.shards}
    assert sorted(s.shard for s in summary.failed) == ["empty.warc.gz", "readme.warc"]
    assert by_name["good.warc.gz"].status == "ok" and by_name["good.warc.gz"].errors == 0
    assert by_name["damaged.warc.gz"].status == "ok" and by_name["damaged.warc.gz"].errors == 1
    assert texts(shards["good"], out) == good_texts(0, 1)
    assert texts(shards["damaged"], out) == good_texts(2)
    for key in ("empty", "text"):
        assert_messages_name(by_name[shards[key].name], shards[key])
        assert not output_path(shards[key], out).exists()
    assert leftovers(out) == []


def test_cli_exit_code_is_1_only_when_a_shard_could_not_be_processed(
    tmp_path: Path, metadata_file
) -> None:
    """Scripts tell a run with warnings (exit 0, warning names shard and offset) from one with
    an unprocessable shard (exit 1, `failed:` line naming it)."""
    shards = bad_and_good_shards(tmp_path / "in")
    meta = str(metadata_file(ENTRIES))
    common = ["--metadata", meta, "--lang", "all", "--workers", "1"]
    runner = CliRunner()

    out = tmp_path / "readable"
    readable = [str(shards["good"]), str(shards["damaged"])]
    result = runner.invoke(app, ["extract", *readable, "--out", str(out), *common])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "damaged.warc.gz" in line]
    assert any("offset" in line and "truncated" in line for line in warnings), result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "damaged.warc.gz.parquet",
        "good.warc.gz.parquet",
    ]

    out = tmp_path / "mixed"
    mixed = [str(shards["good"]), str(shards["text"])]
    result = runner.invoke(app, ["extract", *mixed, "--out", str(out), *common])
    assert result.exit_code == 1, result.output
    assert any(line.startswith("failed: readme.warc") for line in result.output.splitlines()), (
        result.output
    )
    assert sorted(p.name for p in out.iterdir()) == ["good.warc.gz.parquet"]
