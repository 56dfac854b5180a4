"""balance: the sample matches Algorithm 1 exactly and statistically, is reproducible, and fails clearly."""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from metaclip_sql.balance import sampling
from metaclip_sql.balance.v1 import BalanceError, balance
from metaclip_sql.cli import app
from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.errors import MetaclipError
from metaclip_sql.schema import pair_key
from tests.helpers.pools import (
    Pool,
    copies_half_without_pair_key,
    pair_row,
    uuid_of,
    write_rows,
    zipf_pool,
)

T = 60
#: sampling.draw(0, pair_key("0123456789abcdef01234567", "a red car")), computed once: a change
#: to the draw changes every sample, so it must be deliberate.
DRAW_PINNED = 0.9039456486383772


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    """About 12k pairs over 120 entries: a few dozen head entries at t=60, the rest tail."""
    return zipf_pool(tmp_path_factory.mktemp("pool"), images=6000, entries=120, shards=4)


@pytest.fixture(scope="module")
def balanced(pool: Pool, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("balanced")
    return balance(pool.files, t=T, out=out, seed=7)


def read_curated(path: str | Path) -> set[tuple]:
    """The output as a set of rows: reproducibility is about which rows, not their order."""
    table = pq.read_table(path)
    return {tuple(map(_freeze, row.values())) for row in table.to_pylist()}


def _freeze(value):
    return tuple(value) if isinstance(value, list) else value


def expected_probs(counts: dict[int, int], t: float) -> dict[int, float]:
    return {e: sampling.entry_prob(c, t) for e, c in counts.items()}


def assert_kept_within_bounds(
    kept: dict[int, int], pairs: dict, probs: dict[int, float], sigmas: float = 5.0
) -> None:
    """Per entry, kept texts vs the exact expectation sum(1 - prod(1 - prob)).

    Texts are kept independently, so an entry's kept count is Poisson-binomial with mean
    sum(P) and variance sum(P (1 - P)); allow `sigmas` standard deviations plus one.
    """
    mean: dict[int, float] = {}
    var: dict[int, float] = {}
    for row in pairs.values():
        keep = sampling.keep_probability(probs[e] for e in row["entry_ids"])
        for e in row["entry_ids"]:
            mean[e] = mean.get(e, 0.0) + keep
            var[e] = var.get(e, 0.0) + keep * (1.0 - keep)
    for e in mean:
        bound = sigmas * math.sqrt(var[e]) + 1.0
        got = kept.get(e, 0)
        assert abs(got - mean[e]) <= bound, f"entry {e}: kept {got}, expected {mean[e]:.1f}"


# --- the sample is Algorithm 1 -----------------------------------------------------------------


def test_counts_are_over_distinct_pairs_across_shards(pool: Pool, balanced) -> None:
    counts = {
        r["entry_id"]: r["count"] for r in pq.read_table(balanced.files["entry_counts"]).to_pylist()
    }
    assert counts == pool.entry_counts()
    assert balanced.counts["duplicates"] > 0
    assert balanced.counts["pairs"] == len(pool.pairs())
    assert balanced.counts["rows_in"] == len(pool.rows)


def test_curated_equals_the_reference_definition_row_for_row(pool: Pool, balanced) -> None:
    probs_by_id = expected_probs(pool.entry_counts(), T)
    probs = [probs_by_id.get(e, 1.0) for e in range(max(probs_by_id) + 1)]
    expected = {
        (row["uuid"], row["text"], row["shard"])
        for row in pool.pairs().values()
        if sampling.kept(7, pair_key(row["uuid"], row["text"]), row["entry_ids"], probs)
    }
    curated = pq.read_table(balanced.files["curated"]).to_pylist()
    assert {(r["uuid"], r["text"], r["shard"]) for r in curated} == expected
    assert all(r["caption"] == r["text"] for r in curated)
    assert len(curated) == balanced.kept


def test_long_entry_lists_match_the_reference_too(tmp_path: Path) -> None:
    """Pairs with up to 10 entries, nearly all head: every branch, long products included."""
    pool = zipf_pool(tmp_path / "in", images=1500, entries=12, max_entries=10, shards=2)
    result = balance(pool.files, t=40, out=tmp_path / "out", seed=11)
    probs_by_id = expected_probs(pool.entry_counts(), 40)
    probs = [probs_by_id.get(e, 1.0) for e in range(max(probs_by_id) + 1)]
    pairs = pool.pairs().values()
    assert max(len(r["entry_ids"]) for r in pairs) > 8
    expected = {
        (r["uuid"], r["text"])
        for r in pairs
        if sampling.kept(11, pair_key(r["uuid"], r["text"]), r["entry_ids"], probs)
    }
    curated = pq.read_table(result.files["curated"]).to_pylist()
    assert {(r["uuid"], r["text"]) for r in curated} == expected
    assert 0 < len(expected) < len(pairs)


def test_kept_per_entry_within_binomial_bounds(pool: Pool, balanced) -> None:
    table = pq.read_table(balanced.files["entry_counts"]).to_pylist()
    kept = {r["entry_id"]: r["kept"] for r in table}
    probs = expected_probs(pool.entry_counts(), T)
    assert_kept_within_bounds(kept, pool.pairs(), probs)
    for row in table:
        assert row["prob"] == pytest.approx(min(1.0, T / row["count"]))
        if row["count"] <= T:
            assert row["kept"] == row["count"], "a tail entry keeps every text"
        else:
            assert row["kept"] >= T - 5 * math.sqrt(T), "a head entry keeps at least about t"


def test_a_head_entry_is_sampled_per_row_not_by_one_coin(pool: Pool, balanced) -> None:
    """The trap: `random() < t / cnt` next to a join can flip one coin per entry.

    Then a head entry keeps all or none of its texts; per-row draws keep a share near t / count.
    """
    heads = [
        r for r in pq.read_table(balanced.files["entry_counts"]).to_pylist() if r["count"] > 3 * T
    ]
    assert len(heads) >= 5
    for row in heads:
        assert 0 < row["kept"] < row["count"]


def test_no_volatile_randomness_in_the_sql() -> None:
    """Every draw is a hash of the row: random() could be pushed to the per-entry side."""
    for f in [*sqlrunner.version_files("metaclip_v1"), *sqlrunner.version_files("common")]:
        code = "\n".join(line.split("--", 1)[0] for line in f.text.splitlines()).lower()
        assert "random(" not in code and "setseed" not in code, f.name


def test_the_bounds_check_catches_a_per_entry_coin(pool: Pool) -> None:
    """The statistical check above fails on what the pushed-down random() filter produces."""
    counts = pool.entry_counts()
    probs = expected_probs(counts, T)
    coin = random.Random(1)
    per_entry_coin = {e: (c if coin.random() < probs[e] else 0) for e, c in counts.items()}
    with pytest.raises(AssertionError):
        assert_kept_within_bounds(per_entry_coin, pool.pairs(), probs)


def test_sql_draws_are_the_python_reference_to_the_bit() -> None:
    """The draw is integer arithmetic on pair_key, so it is the same on every machine and DuckDB
    version; sampling.py states it, and both must agree on every bit (seeds negative and huge)."""
    con = duckdb.connect()
    sqlrunner.run(con, "common/draws.sql")
    sqlrunner.run(con, "common/pair_key.sql")
    one_key = "CREATE OR REPLACE TEMP TABLE one AS SELECT metaclip_pair_key($1, $2) AS pair_key"
    query = (
        "SELECT u, metaclip_pick(pair_key, metaclip_seed_state($1::BIGINT, 1)), pair_key "
        "FROM metaclip_with_u('one', metaclip_seed_state($1::BIGINT, 0))"
    )
    rng = random.Random(5)
    texts = ["a red car", "ünïcode ✓", "", "x" * 300] + [str(rng.random()) for _ in range(50)]
    seeds = [0, 1, 7, -1, -(2**63), 2**63 - 1] + [rng.randrange(-(2**63), 2**63) for _ in range(20)]
    for i, text in enumerate(texts):
        seed, uuid = seeds[i % len(seeds)], f"{rng.getrandbits(96):024x}"
        con.execute(one_key, [uuid, text])
        u, pick, key = con.execute(query, [seed]).fetchone()
        assert key.bytes == pair_key(uuid, text)
        assert u == sampling.draw(seed, pair_key(uuid, text))
        assert pick == sampling.pick_key(seed, pair_key(uuid, text))
    assert sampling.draw(0, pair_key("0123456789abcdef01234567", "a red car")) == DRAW_PINNED
    # The table macro the sampling passes use computes the same u, staged.
    keys = [pair_key(f"{rng.getrandbits(96):024x}", t) for t in texts]
    con.execute("CREATE TABLE keys AS SELECT unnest($1::BLOB[])::UUID AS pair_key", [keys])
    for seed in seeds[:8]:
        got = con.execute(
            "SELECT pair_key, u FROM metaclip_with_u('keys', metaclip_seed_state($1::BIGINT, 0))",
            [seed],
        ).fetchall()
        assert {k.bytes: u for k, u in got} == {k: sampling.draw(seed, k) for k in keys}


def test_draws_are_uniform_and_seeds_independent() -> None:
    """u is uniform, and the samples of two seeds overlap as independent ones would."""
    keys = [pair_key(f"{i:024x}", "text") for i in range(20000)]
    a = [sampling.draw(1, k) for k in keys]
    b = [sampling.draw(2, k) for k in keys]
    for lo in (0.0, 0.25, 0.5, 0.75):
        share = sum(lo <= u < lo + 0.25 for u in a) / len(a)
        assert abs(share - 0.25) < 5 * math.sqrt(0.25 * 0.75 / len(a))
    both = sum(x < 0.3 and y < 0.3 for x, y in zip(a, b, strict=True))
    assert abs(both - 0.09 * len(keys)) < 5 * math.sqrt(0.09 * 0.91 * len(keys))


# --- reproducible ------------------------------------------------------------------------------


def test_same_seed_same_rows_whatever_threads_and_shard_order(
    pool: Pool, balanced, tmp_path: Path
) -> None:
    moved = tmp_path / "moved"
    moved.mkdir()
    shuffled = list(reversed(pool.files))
    for f in shuffled:
        shutil.copy(f, moved / f"x-{f.name}")
    a = balance(shuffled, t=T, out=tmp_path / "a", seed=7, threads=1)
    b = balance([moved], t=T, out=tmp_path / "b", seed=7, threads=2, memory_limit="200MB")
    reference = read_curated(balanced.files["curated"])
    assert read_curated(a.files["curated"]) == reference
    assert read_curated(b.files["curated"]) == reference


def test_other_seed_other_sample_of_similar_size(pool: Pool, balanced, tmp_path: Path) -> None:
    other = balance(pool.files, t=T, out=tmp_path, seed=8)
    first, second = read_curated(balanced.files["curated"]), read_curated(other.files["curated"])
    assert first != second
    assert abs(len(first) - len(second)) <= 5 * math.sqrt(2 * len(first) * 0.25) + 1


def test_larger_t_keeps_a_superset(pool: Pool, balanced, tmp_path: Path) -> None:
    larger = balance(pool.files, t=2 * T, out=tmp_path, seed=7)
    assert read_curated(balanced.files["curated"]) < read_curated(larger.files["curated"])


def test_dry_run_counts_what_a_run_keeps_and_writes_no_rows(
    pool: Pool, balanced, tmp_path: Path
) -> None:
    dry = balance(pool.files, t=T, out=tmp_path, seed=7, dry_run=True)
    assert dry.kept == balanced.kept
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "entry_counts.dry-run.parquet",
        "manifest.dry-run.json",
    ]
    assert (
        json.loads((tmp_path / "manifest.dry-run.json").read_text())["counts"]["kept"] == dry.kept
    )
    rows = pq.read_table(tmp_path / "entry_counts.dry-run.parquet").to_pylist()
    assert {r["entry_id"]: r["count"] for r in rows} == pool.entry_counts()
    assert all(r["kept"] is None for r in rows), "a dry run does not count kept pairs per entry"


def test_dry_run_of_unit_image_counts_what_a_run_keeps(pool: Pool, tmp_path: Path) -> None:
    run = balance(pool.files, t=T, out=tmp_path / "run", seed=3, unit="image")
    dry = balance(pool.files, t=T, out=tmp_path / "dry", seed=3, unit="image", dry_run=True)
    assert dry.kept == run.kept > 0


def test_files_without_pair_key_balance_the_same(pool: Pool, balanced, tmp_path: Path) -> None:
    """Outputs written before pair_key existed (or by other writers) get it computed in SQL, to
    the same value: a pool mixing both kinds keeps exactly the rows of the keyed pool."""
    mixed = copies_half_without_pair_key(pool.files, tmp_path / "in")
    assert "pair_key" not in pq.read_schema(mixed[0]).names
    result = balance(mixed, t=T, out=tmp_path / "out", seed=7)
    assert result.counts == {**balanced.counts, "files_without_pair_key": len(mixed) // 2}
    assert "no pair_key column" in result.summary()
    assert read_curated(result.files["curated"]) == read_curated(balanced.files["curated"])


def test_a_stored_pair_key_with_nulls_is_computed_instead(
    pool: Pool, balanced, tmp_path: Path
) -> None:
    """A writer that left some keys NULL: that file's keys are computed (its footer counts the
    NULLs), so its rows are deduplicated and drawn like the rest."""
    files = []
    for index, f in enumerate(pool.files):
        table = pq.read_table(f)
        if index == 0:
            keys = table.column("pair_key").to_pylist()
            keys[::2] = [None] * len(keys[::2])
            column = pa.array(keys, table.schema.field("pair_key").type)
            table = table.set_column(table.schema.get_field_index("pair_key"), "pair_key", column)
        pq.write_table(table, tmp_path / f.name)
        files.append(tmp_path / f.name)
    result = balance(files, t=T, out=tmp_path / "out", seed=7)
    assert result.counts == {**balanced.counts, "files_without_pair_key": 1}
    assert read_curated(result.files["curated"]) == read_curated(balanced.files["curated"])


def test_pair_key_without_the_uuid_annotation_balances_the_same(
    pool: Pool, balanced, tmp_path: Path
) -> None:
    """Other writers (and pyarrow before 21) store pair_key as plain 16 bytes, read as BLOB."""
    plain = []
    for f in pool.files:
        table = pq.read_table(f)
        keys = pa.array([k.bytes for k in table.column("pair_key").to_pylist()], pa.binary(16))
        table = table.set_column(table.schema.get_field_index("pair_key"), "pair_key", keys)
        pq.write_table(table, tmp_path / f.name)
        plain.append(tmp_path / f.name)
    con = duckdb.connect()
    assert con.execute(f"SELECT typeof(pair_key) FROM '{plain[0]}' LIMIT 1").fetchone() == ("BLOB",)
    result = balance(plain, t=T, out=tmp_path / "out", seed=7)
    assert read_curated(result.files["curated"]) == read_curated(balanced.files["curated"])


def test_manifest_records_the_run(pool: Pool, balanced) -> None:
    manifest = json.loads(Path(balanced.files["manifest"]).read_text())
    assert manifest["sql_version"] == "metaclip_v1"
    for f in [*sqlrunner.version_files("metaclip_v1"), *sqlrunner.version_files("common")]:
        assert manifest["sql_files"][f.name] == f.sha256
    assert [i["path"] for i in manifest["inputs"]] == sorted(str(f.resolve()) for f in pool.files)
    assert all(i["bytes"] > 0 for i in manifest["inputs"])
    assert manifest["t"] == T and manifest["seed"] == 7 and manifest["unit"] == "pair"
    assert manifest["tail_proportion"] == pytest.approx(
        sampling.t_to_p(pool.entry_counts().values(), T)
    )
    assert manifest["counts"]["kept"] == balanced.kept
    assert {"010_pairs.sql", "050_write_curated.sql", "total"} <= manifest["seconds"].keys()
    assert manifest["tool_version"]


def test_p_picks_t_like_the_reference(pool: Pool, tmp_path: Path) -> None:
    result = balance(pool.files, p=0.3, out=tmp_path, dry_run=True)
    counts = pool.entry_counts().values()
    assert result.t == sampling.p_to_t(counts, 0.3)
    assert result.tail_proportion == pytest.approx(sampling.t_to_p(counts, result.t))
    assert result.manifest["p"] == 0.3


# --- options -----------------------------------------------------------------------------------


def test_lang_filter(tmp_path: Path) -> None:
    pool = zipf_pool(
        tmp_path / "in", images=400, entries=30, langs=("en", "de", "fr"), unmatched_share=0.2
    )
    for lang, langs in (("en", {"en"}), ("de,fr", {"de", "fr"}), ("all", None)):
        result = balance(pool.files, t=1000, out=tmp_path / lang, lang=lang)
        assert result.counts["pairs"] == len(pool.pairs(langs))
        assert result.kept == result.counts["pairs"], "t above every count keeps everything"
        assert {r["lang"] for r in pq.read_table(result.files["curated"]).to_pylist()} == (
            langs or {"en", "de", "fr"}
        )


def test_valid_uuids_from_text_and_img2dataset_parquet(tmp_path: Path) -> None:
    pool = zipf_pool(tmp_path / "in", images=300, entries=20)
    images = sorted({(r["uuid"], r["url"]) for r in pool.rows})
    by_uuid, by_url, failed = images[:40], images[40:70], images[70:90]
    listing = tmp_path / "valid.txt"
    listing.write_text("".join(f"{u}\n" for u, _ in by_uuid) + "\n")
    downloads = tmp_path / "img2dataset.parquet"
    pq.write_table(
        pa.table(
            {
                "url": [url for _, url in by_url + failed],
                "status": ["success"] * len(by_url) + ["failed_to_download"] * len(failed),
            }
        ),
        downloads,
    )
    result = balance(pool.files, t=1000, out=tmp_path / "out", valid_uuids=[listing, downloads])
    kept = {r["uuid"] for r in pq.read_table(result.files["curated"]).to_pylist()}
    assert kept == {u for u, _ in by_uuid + by_url}


def test_unit_image_picks_one_text_per_image(pool: Pool, tmp_path: Path) -> None:
    result = balance(pool.files, t=T, out=tmp_path, seed=3, unit="image")
    rows = pq.read_table(result.files["curated"]).to_pylist()
    assert len(rows) == len({r["uuid"] for r in rows}) == result.kept
    probs_by_id = expected_probs(pool.entry_counts(), T)
    probs = [probs_by_id.get(e, 1.0) for e in range(max(probs_by_id) + 1)]
    texts: dict[str, list[dict]] = {}
    for row in pool.pairs().values():
        texts.setdefault(row["uuid"], []).append(row)
    expected = set()
    for uuid, candidates in texts.items():
        pick = min(candidates, key=lambda r: sampling.pick_key(3, pair_key(uuid, r["text"])))
        if sampling.kept(3, pair_key(uuid, pick["text"]), pick["entry_ids"], probs):
            expected.add((uuid, pick["text"]))
    assert {(r["uuid"], r["text"]) for r in rows} == expected


def test_metadata_names_the_entries(tmp_path: Path, metadata_file) -> None:
    pool = zipf_pool(tmp_path / "in", images=100, entries=10)
    names = [f"entry {i}" for i in range(10)]
    result = balance(pool.files, t=5, out=tmp_path / "out", metadata=metadata_file(names))
    for row in pq.read_table(result.files["entry_counts"]).to_pylist():
        assert row["entry"] == names[row["entry_id"]]
    with pytest.raises(BalanceError, match="metadata has 3 entries"):
        balance(
            pool.files, t=5, out=tmp_path / "bad", metadata=metadata_file(names[:3], "short.json")
        )


# --- errors ------------------------------------------------------------------------------------


def _one_file_pool(tmp_path: Path) -> Path:
    return zipf_pool(tmp_path / "in", images=50, entries=5, shards=1).files[0]


def test_shards_that_disagree_on_a_pairs_entries_are_named(tmp_path: Path) -> None:
    """The same (uuid, text) with an extra entry id in a later shard (matched against another
    metadata list): a clear error in both modes, not an index error in the sample step."""
    row = pair_row("https://a.example/x.jpg", "red car", [0, 1], page_url="https://a.example/")
    other = {**row, "uuid": uuid_of("https://a.example/y.jpg"), "url": "https://a.example/y.jpg"}
    first = write_rows(tmp_path / "a.parquet", [row, other])
    second = write_rows(
        tmp_path / "b.parquet", [{**row, "shard": "shard-001", "entry_ids": [0, 7]}]
    )
    for dry_run in (True, False):
        with pytest.raises(BalanceError, match="different --metadata"):
            balance([first, second], t=1, out=tmp_path / "out", dry_run=dry_run, metadata=None)
    assert not (tmp_path / "out").exists()


def test_unreadable_parquet_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    good = _one_file_pool(tmp_path)
    bad = tmp_path / "in" / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(BalanceError, match=r"broken\.parquet") as info:
        balance([good, bad], t=10, out=tmp_path / "out")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()


def test_schema_mismatch_is_named(tmp_path: Path) -> None:
    good = _one_file_pool(tmp_path)
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"uuid": ["a"], "entry_ids": [["x"]]}), other)
    with pytest.raises(
        BalanceError, match=r"other.parquet: not an extract output: column url missing"
    ):
        balance([good, other], t=10, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("t", "p"), [(0, None), (-5, None), (None, None), (10, 0.1), (None, 1.5)])
def test_bad_threshold(tmp_path: Path, t, p) -> None:
    with pytest.raises(BalanceError, match=r"--t|--p"):
        balance([_one_file_pool(tmp_path)], t=t, p=p, out=tmp_path / "out")


def test_empty_input(tmp_path: Path) -> None:
    empty = write_rows(tmp_path / "empty.parquet", [])
    with pytest.raises(BalanceError, match="empty input"):
        balance([empty], t=10, out=tmp_path / "out")
    (tmp_path / "none").mkdir()
    with pytest.raises(MetaclipError, match="no Parquet file in this folder"):
        balance([tmp_path / "none"], t=10, out=tmp_path / "out")


def test_valid_uuids_matching_nothing(tmp_path: Path) -> None:
    listing = tmp_path / "valid.txt"
    listing.write_text(uuid_of("https://elsewhere.example/x.jpg") + "\n")
    with pytest.raises(BalanceError, match="--valid-uuids: none of its 1 uuids/urls"):
        balance([_one_file_pool(tmp_path)], t=10, out=tmp_path / "out", valid_uuids=[listing])
    assert not (tmp_path / "out").exists()


# --- command line ------------------------------------------------------------------------------


def test_cli_balance(tmp_path: Path) -> None:
    pool = zipf_pool(tmp_path / "in", images=200, entries=20)
    runner = CliRunner()
    ok = runner.invoke(
        app, ["balance", str(tmp_path / "in"), "--t", "20", "--out", str(tmp_path / "out")]
    )
    assert ok.exit_code == 0, ok.output
    assert "kept" in ok.output and (tmp_path / "out" / "curated.parquet").exists()
    assert len(pool.files) == 3
    bad = runner.invoke(app, ["balance", str(tmp_path / "in"), "--t", "0"])
    assert bad.exit_code != 0
    assert "--t must be > 0" in bad.output
