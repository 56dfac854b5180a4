"""explore: views, stats, the sql command's formats, the shell's init script and the plot.

The pool is written by `write_pool` below; its answers are known by construction:

    metadata  0 cat, 1 dog, 2 sky, 3 sea, 4 owl (never matched)
    shard a   u1 "cat" en [0] | u1 "cat dog" en [0,1] | u2 "cat sky" en [0,2] | u3 "cat" de [0]
              u4 "dog sea" fr [1,3] | u5 "nothing" en []
    shard b   u2 "cat sky" en [0,2]  (the same pair as in shard a) | u6 "cat dog sky" en [0,1,2]
              u7 "cat" en [0] | u8 "blank" de []

10 rows, 9 distinct pairs, 8 images, 3 languages, 7 matched and 2 unmatched pairs, 12 matches;
entry counts cat 6, dog 3, sky 2, sea 1 (sorted: 1, 2, 3, 6; cumulative shares 1/12, 3/12,
6/12, 1).
"""

from __future__ import annotations

import csv
import io
import json
import struct
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from metaclip_sql import explore
from metaclip_sql.balance import sampling
from metaclip_sql.cli import app
from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.errors import MetaclipError
from metaclip_sql.explore import ExploreError, compute_stats, open_pool
from metaclip_sql.explore import pool as explore_pool
from metaclip_sql.explore import shell as explore_shell
from metaclip_sql.schema import PAIRS_SCHEMA, pair_key

ENTRIES = ["cat", "dog", "sky", "sea", "owl"]
SHARDS = {
    "a": [
        ("u1", "cat", "en", [0]),
        ("u1", "cat dog", "en", [0, 1]),
        ("u2", "cat sky", "en", [0, 2]),
        ("u3", "cat", "de", [0]),
        ("u4", "dog sea", "fr", [1, 3]),
        ("u5", "nothing", "en", []),
    ],
    "b": [
        ("u2", "cat sky", "en", [0, 2]),
        ("u6", "cat dog sky", "en", [0, 1, 2]),
        ("u7", "cat", "en", [0]),
        ("u8", "blank", "de", []),
    ],
}
COUNTS = {0: 6, 1: 3, 2: 2, 3: 1}


def write_pool(folder: Path, shards: dict[str, list[tuple]] = SHARDS) -> Path:
    """One Parquet per shard in the extract schema, as `extract` writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    for shard, rows in shards.items():
        columns = {
            "uuid": [r[0] for r in rows],
            "url": [f"https://img.example/{r[0]}.jpg" for r in rows],
            "text": [r[1] for r in rows],
            "text_key": ["alt"] * len(rows),
            "lang": [r[2] for r in rows],
            "lang_score": [0.9] * len(rows),
            "entry_ids": [r[3] for r in rows],
            "page_url": [f"https://page.example/{shard}" for _ in rows],
            "shard": [f"{shard}.warc.gz"] * len(rows),
            "pair_key": [pair_key(r[0], r[1]) for r in rows],
        }
        pq.write_table(pa.table(columns, schema=PAIRS_SCHEMA), folder / f"{shard}.warc.gz.parquet")
    (folder / ".c.warc.gz.parquet.123.tmp").write_bytes(b"in progress")  # ignored, as extract's
    return folder


def distinct_pairs() -> dict[tuple[str, str], list[int]]:
    return {(u, t): ids for rows in SHARDS.values() for u, t, _, ids in rows}


def expected_size(t: float) -> float:
    """sum over texts of 1 - prod(1 - min(1, t / count)), from the balancing definition."""
    return sum(
        sampling.keep_probability(sampling.entry_prob(COUNTS[e], t) for e in ids)
        for ids in distinct_pairs().values()
        if ids
    )


def write_balance_output(folder: Path, pool: Path) -> Path:
    """A balance output as `balance --lang en` would write it (English pairs counted only)."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = pq.read_table(pool / "a.warc.gz.parquet").slice(0, 3)
    pq.write_table(kept.append_column("caption", kept["text"]), folder / "curated.parquet")
    counts = pa.table(
        {
            "entry_id": pa.array([0, 1, 2], pa.int32()),
            "entry": ["cat", "dog", "sky"],
            "count": pa.array([5, 2, 2], pa.int64()),
            "prob": [0.4, 1.0, 1.0],
            "kept": pa.array([2, 2, 2], pa.int64()),
        }
    )
    pq.write_table(counts, folder / "entry_counts.parquet")
    (folder / "manifest.json").write_text(json.dumps({"t": 2.0, "p": None, "lang": "en"}))
    return folder


@pytest.fixture
def pool_dir(tmp_path: Path) -> Path:
    return write_pool(tmp_path / "pool")


@pytest.fixture
def meta(metadata_file) -> Path:
    return metadata_file(ENTRIES)


def invoke(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args])


# --- views -------------------------------------------------------------------------------------


def test_views_over_extract_outputs(pool_dir: Path, meta: Path) -> None:
    with open_pool([pool_dir], meta) as pool:
        assert pool.views == ["pairs", "matches", "metadata", "entry_counts"]
        con = pool.con
        assert con.sql("SELECT count(*) FROM pairs").fetchall() == [(10,)]
        assert con.sql("SELECT count(*) FROM matches").fetchall() == [(12,)]
        assert con.sql("SELECT entry_id, entry FROM metadata ORDER BY 1").fetchall() == list(
            enumerate(ENTRIES)
        )
        rows = con.sql("SELECT entry_id, entry, count FROM entry_counts ORDER BY 1").fetchall()
        assert rows == [(e, ENTRIES[e], c) for e, c in COUNTS.items()]
        # the cross-shard duplicate is two rows in pairs, one text in matches
        dup = "SELECT count(*) FROM {} WHERE uuid = 'u2' AND text = 'cat sky'"
        assert con.sql(dup.format("pairs")).fetchall() == [(2,)]
        assert con.sql(dup.format("matches")).fetchall() == [(2,)]  # entries 0 and 2, once each


def test_t_to_p_macro_and_p_to_t_by_hand(pool_dir: Path, meta: Path) -> None:
    with open_pool([pool_dir], meta) as pool:
        got = pool.con.sql("SELECT t_to_p(1), t_to_p(2), t_to_p(3), t_to_p(7)").fetchall()[0]
        assert got == pytest.approx((0.0, 1 / 12, 3 / 12, 1.0))
        for t in (1, 2, 3, 6, 7):
            assert pool.con.sql(f"SELECT t_to_p({t})").fetchall()[0][0] == pytest.approx(
                sampling.t_to_p(COUNTS.values(), t)
            )
    # p_to_t: closest cumulative share; 0.375 ties 0.25 and 0.5, the first (smaller t) wins
    with open_pool([pool_dir], meta) as pool:
        stats = compute_stats(pool, ts=(), ps=(0.25, 0.375, 0.4, 0.9))
        by_p = {
            p: sqlrunner.run(pool.con, explore.P_TO_T_SQL, {"p": p}).fetchall()[0][0]
            for p in (0.05, 0.25, 0.3, 0.375, 0.4, 0.9)
        }
    hand = {0.05: 1, 0.25: 2, 0.3: 2, 0.375: 2, 0.4: 3, 0.9: 6}
    assert by_p == hand
    assert {p: sampling.p_to_t(COUNTS.values(), p) for p in hand} == hand
    # two p giving the same t show once, labelled with the first
    assert {th.from_p: th.t for th in stats.thresholds} == {0.25: 2.0, 0.4: 3.0, 0.9: 6.0}


def test_stats_values_known_by_construction(pool_dir: Path, meta: Path) -> None:
    with open_pool([pool_dir], meta) as pool:
        stats = compute_stats(pool, ts=(1, 2, 3), top=2)
    assert stats.pool == {
        "rows": 10,
        "pairs": 9,
        "images": 8,
        "languages": 3,
        "matched_pairs": 7,
        "unmatched_pairs": 2,
        "matches": 12,
        "matches_per_matched_pair": pytest.approx(12 / 7),
        "max_matches_per_pair": 3,
    }
    assert stats.languages == [
        {"lang": "en", "pairs": 6, "matched_pairs": 5},
        {"lang": "de", "pairs": 2, "matched_pairs": 1},
    ]
    assert [(r["matches"], r["pairs"]) for r in stats.matches_per_pair] == [
        (0, 2),
        (1, 3),
        (2, 3),
        (3, 1),
    ]
    assert stats.entries == {
        "entries_matched": 4,
        "matches": 12,
        "metadata_entries": 5,
        "entries_beyond_metadata": 0,
        "entries_for_half": 1,
        "entries_for_90": 3,
    }
    assert [(r["entry"], r["count"]) for r in stats.top_entries] == [("cat", 6), ("dog", 3)]
    assert stats.top_entries[1]["share"] == pytest.approx(0.25)
    assert stats.top_entries[1]["cumulative_share"] == pytest.approx(0.75)
    by_t = {th.t: th for th in stats.thresholds}
    assert sorted(by_t) == [1.0, 2.0, 3.0]
    assert [by_t[t].head_entries for t in (1, 2, 3)] == [3, 2, 1]
    assert [by_t[t].head_matches for t in (1, 2, 3)] == [11, 9, 6]
    assert [by_t[t].capped_matches for t in (1, 2, 3)] == [4, 7, 9]
    assert [by_t[t].tail_proportion for t in (1, 2, 3)] == pytest.approx([0, 1 / 12, 3 / 12])
    # expected sizes by hand: t=1 -> 117/36, t=2 -> 43/9, t=3 -> 11/2
    hand = {1: Fraction(117, 36), 2: Fraction(43, 9), 3: Fraction(11, 2)}
    for t, value in hand.items():
        assert by_t[t].expected_pairs == pytest.approx(float(value))
        assert by_t[t].expected_pairs == pytest.approx(expected_size(t))
    assert stats.balanced is None and stats.notes == []


def test_stats_defaults_and_errors(pool_dir: Path, meta: Path) -> None:
    with open_pool([pool_dir], meta) as pool:
        stats = compute_stats(pool)
        assert [th.t for th in stats.thresholds] == [20_000.0, 170_000.0]
        assert all(th.expected_pairs == pytest.approx(7) for th in stats.thresholds)  # all tail
        with pytest.raises(ExploreError, match="--t must be > 0"):
            compute_stats(pool, ts=(0,))
        with pytest.raises(ExploreError, match="--p must be between"):
            compute_stats(pool, ps=(1.0,))
    with open_pool([], meta) as pool, pytest.raises(ExploreError, match="needs --data"):
        compute_stats(pool)


def test_stats_cli_text_and_json(pool_dir: Path, meta: Path) -> None:
    result = invoke("stats", "-d", pool_dir, "-m", meta, "--t", "2", "--p", "0.4", "--top", "3")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "rows       10 (1 cross-shard duplicate)" in out
    assert "matched    7 pairs (77.8%); unmatched 2 (22.2%)" in out
    assert "entries    4 matched of 5 in the list" in out
    assert "3 (p=0.4)" in out
    assert "4.8" in out  # expected pairs at t=2: 43/9 = 4.78 -> "4.8"
    data = json.loads(invoke("stats", "-d", pool_dir, "-m", meta, "--t", "2", "--json").output)
    assert data["pool"]["pairs"] == 9
    assert data["thresholds"][0]["expected_pairs"] == pytest.approx(43 / 9)
    assert data["sources"]["extract_files"] == 2


def test_stats_notes_a_list_that_does_not_fit(pool_dir: Path, metadata_file) -> None:
    with open_pool([pool_dir], metadata_file(ENTRIES[:2])) as pool:
        stats = compute_stats(pool, ts=(2,))
        names = pool.con.sql("SELECT entry FROM entry_counts ORDER BY entry_id").fetchall()
    assert stats.entries["entries_beyond_metadata"] == 2
    assert any("beyond the 2 entries" in n for n in stats.notes)
    assert names == [("cat",), ("dog",), (None,), (None,)]


def test_no_metadata_list_known(pool_dir: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(explore_pool, "BUNDLED_METADATA", tmp_path / "absent.json.gz")
    with open_pool([pool_dir]) as pool:
        assert pool.con.sql("SELECT count(*) FROM metadata").fetchall() == [(0,)]
        stats = compute_stats(pool, ts=(2,))
    assert stats.entries["entries_matched"] == 4
    assert any("no metadata list" in n for n in stats.notes)


# --- inputs ------------------------------------------------------------------------------------


def test_data_paths_files_globs_and_folders(pool_dir: Path, meta: Path) -> None:
    one = pool_dir / "a.warc.gz.parquet"
    for data in ([pool_dir], [str(pool_dir / "*.parquet")], [one, pool_dir / "b.warc.gz.parquet"]):
        with open_pool(data, meta) as pool:
            assert pool.con.sql("SELECT count(*) FROM pairs").fetchall() == [(10,)]
    with open_pool([one, pool_dir], meta) as pool:  # the same file twice counts once
        assert len(pool.sources.pair_files) == 2


def test_bad_data_paths(pool_dir: Path, tmp_path: Path, meta: Path) -> None:
    with pytest.raises(MetaclipError, match="no such file"):
        open_pool([tmp_path / "nope"], meta)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExploreError, match="no Parquet file"):
        open_pool([tmp_path / "empty"], meta)
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1]}), other)
    with pytest.raises(ValueError, match=r"other.parquet: not an extract output"):
        open_pool([pool_dir, other], meta)
    result = invoke("sql", "SELECT 1", "-d", other)
    assert result.exit_code == 2 and "not an extract output" in result.output


def test_balance_output_views(pool_dir: Path, tmp_path: Path, meta: Path) -> None:
    out = write_balance_output(tmp_path / "balanced", pool_dir)
    with open_pool([pool_dir, out], meta) as pool:
        assert pool.views == ["pairs", "matches", "metadata", "entry_counts", "curated"]
        assert pool.con.sql("SELECT count(*), count(caption) FROM curated").fetchall() == [(3, 3)]
        rows = pool.con.sql("SELECT entry_id, count, kept FROM entry_counts ORDER BY 1")
        assert rows.fetchall() == [(0, 5, 2), (1, 2, 2), (2, 2, 2)]  # the balance output's
        assert pool.con.sql("SELECT t_to_p(3)").fetchall()[0][0] == pytest.approx(4 / 9)
        stats = compute_stats(pool, ts=(2,))
    assert stats.balanced is not None
    assert stats.balanced["curated_pairs"] == 3 and stats.balanced["t"] == 2.0
    # expected size uses balance's counts: u1 cat 2/5, u1 cat dog 1, u2 cat sky 1, u3 cat 2/5,
    # u4 dog sea 1 (dog; sea is not counted), u6 1, u7 2/5
    assert stats.thresholds[0].expected_pairs == pytest.approx(3 * 0.4 + 4)
    assert any("balance output" in n for n in stats.notes)
    # a balance output alone: entry views, no pool
    with open_pool([out / "curated.parquet"], meta) as pool:
        assert pool.views == ["metadata", "entry_counts", "curated"]
        alone = compute_stats(pool, ts=(2,))
    assert alone.pool is None and alone.thresholds[0].expected_pairs is None
    assert alone.thresholds[0].head_entries == 1
    second = write_balance_output(tmp_path / "balanced2", pool_dir)
    with pytest.raises(ExploreError, match="one balance output at a time"):
        open_pool([out, second], meta)


# --- the sql command ---------------------------------------------------------------------------

QUERY = "SELECT entry_id, entry, count FROM entry_counts ORDER BY count DESC, entry_id"


def test_sql_table(pool_dir: Path, meta: Path) -> None:
    result = invoke("sql", QUERY, "-d", pool_dir, "-m", meta)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("┌") and lines[-1].startswith("└")
    body = [line.replace("│", " ").split() for line in lines if line.startswith("│")]
    assert body[0] == ["entry_id", "entry", "count"]
    assert body[2:] == [["0", "cat", "6"], ["1", "dog", "3"], ["2", "sky", "2"], ["3", "sea", "1"]]


def test_sql_table_shows_head_and_tail(pool_dir: Path, meta: Path) -> None:
    result = invoke("sql", "SELECT * FROM range(100)", "-d", pool_dir, "--max-rows", "6")
    assert result.exit_code == 0
    assert "100 rows" in result.output and "6 shown" in result.output


def test_sql_csv(pool_dir: Path, meta: Path, tmp_path: Path) -> None:
    result = invoke("sql", QUERY, "-d", pool_dir, "-m", meta, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["entry_id", "entry", "count"]
    assert rows[1:] == [["0", "cat", "6"], ["1", "dog", "3"], ["2", "sky", "2"], ["3", "sea", "1"]]
    path = tmp_path / "out.csv"
    assert invoke("sql", QUERY, "-d", pool_dir, "-m", meta, "-f", "csv", "-o", path).output == ""
    assert path.read_text() == result.output


def test_sql_json(pool_dir: Path, meta: Path) -> None:
    query = "SELECT uuid, text, entry_ids FROM pairs WHERE uuid = 'u6'"
    result = invoke("sql", query, "-d", pool_dir, "-m", meta, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"uuid": "u6", "text": "cat dog sky", "entry_ids": [0, 1, 2]}
    ]


def test_sql_parquet(pool_dir: Path, meta: Path, tmp_path: Path) -> None:
    path = tmp_path / "counts.parquet"
    result = invoke("sql", QUERY, "-d", pool_dir, "-m", meta, "-f", "parquet", "-o", path)
    assert result.exit_code == 0, result.output
    table = pq.read_table(path)
    assert table.column_names == ["entry_id", "entry", "count"]
    assert table.to_pydict()["count"] == [6, 3, 2, 1]
    missing = invoke("sql", QUERY, "-d", pool_dir, "-f", "parquet")
    assert missing.exit_code == 2 and "needs --output" in missing.output


def test_sql_errors_and_statements(pool_dir: Path, meta: Path) -> None:
    bad = invoke("sql", "SELECT * FROM curated", "-d", pool_dir, "-m", meta)
    assert bad.exit_code == 2
    assert "curated" in bad.output and "views here: pairs, matches, metadata" in bad.output
    assert invoke("sql", "SELECT 1", "-f", "xml").exit_code == 2
    script = "CREATE TABLE x AS SELECT 41 AS a; SELECT a + 1 AS b FROM x"
    last = invoke(
        "sql", script, "-d", pool_dir, "-f", "csv"
    )  # every statement runs, the last prints
    assert last.exit_code == 0 and last.output == "b\n42\n"


# --- shell -------------------------------------------------------------------------------------


def test_shell_init_script_runs_in_the_duckdb_cli(pool_dir: Path, meta: Path, tmp_path: Path):
    init = explore.write_init_script([pool_dir], meta, tmp_path / "init" / "explore.sql")
    text = init.read_text()
    assert "CREATE OR REPLACE VIEW entry_counts" in text and str(pool_dir) in text
    assert (tmp_path / "init" / "explore.metadata.parquet").is_file()
    try:
        argv = explore.shell_argv(init)
    except ExploreError:
        pytest.skip("DuckDB's CLI is not installed (extra: shell)")
    query = (
        "SELECT (SELECT count(*) FROM pairs) AS pairs, (SELECT count(*) FROM matches) AS m, "
        "(SELECT entry FROM entry_counts ORDER BY count DESC LIMIT 1) AS top, t_to_p(3) AS p"
    )
    run = subprocess.run(
        [*argv, "-json", "-c", query],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # the script names its inputs by absolute path
    )
    assert run.returncode == 0, run.stderr
    (row,) = json.loads(run.stdout)
    assert row == {"pairs": 10, "m": 12, "top": "cat", "p": 0.25}


def test_shell_without_a_cli(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(explore_shell.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(explore_shell.shutil, "which", lambda name: None)
    with pytest.raises(ExploreError, match=r"pip install 'metaclip-sql\[shell\]'"):
        explore.shell_argv(tmp_path / "init.sql")
    with pytest.raises(ExploreError, match="harlequin is not installed"):
        explore.shell_argv(tmp_path / "init.sql", ui="harlequin")
    result = invoke("shell", "--ui", "harlequin")
    assert result.exit_code == 2 and "harlequin is not installed" in result.output


def test_shell_write_init_cli(pool_dir: Path, meta: Path, tmp_path: Path) -> None:
    path = tmp_path / "my.sql"
    result = invoke("shell", "-d", pool_dir, "-m", meta, "--write-init", path)
    assert result.exit_code == 0, result.output
    assert f"duckdb -init {path}" in result.output and path.is_file()


# --- plot --------------------------------------------------------------------------------------


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_plot_writes_png_of_the_expected_size(pool_dir: Path, meta: Path, tmp_path: Path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "plots" / "entry_counts.png"
    result = invoke("plot", "-d", pool_dir, "-m", meta, "--t", "2", "--t", "3", "-o", path)
    assert result.exit_code == 0, result.output
    assert "1200x500 px" in result.output and "4 entries, 12 matches" in result.output
    assert path.stat().st_size > 10_000
    assert png_size(path) == (1200, 500)
    with open_pool([pool_dir], meta) as pool:
        small = explore.plot_entry_counts(pool, tmp_path / "s.png", (2,), width=8, height=4)
    assert png_size(small.path) == (800, 400)


def test_plot_without_matplotlib(pool_dir: Path, meta: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with open_pool([pool_dir], meta) as pool, pytest.raises(ExploreError, match=r"\[plot\]"):
        explore.plot_entry_counts(pool, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_plot_needs_matches(tmp_path: Path, meta: Path) -> None:
    pytest.importorskip("matplotlib")
    pool = write_pool(tmp_path / "unmatched", {"a": [("u1", "nothing", "en", [])]})
    with open_pool([pool], meta) as p, pytest.raises(ExploreError, match="nothing to plot"):
        explore.plot_entry_counts(p, tmp_path / "x.png")
