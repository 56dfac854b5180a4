"""Worldwide balancing (MetaCLIP 2): per-language thresholds from English's tail proportion."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from metaclip_sql.balance import sampling
from metaclip_sql.balance.sampling import p_to_t, t_to_p
from metaclip_sql.balance.v1 import BalanceError
from metaclip_sql.balance.v2 import WorldwideResult, balance_worldwide
from metaclip_sql.cli import app
from metaclip_sql.duck import sql as sqlrunner
from metaclip_sql.schema import pair_key
from tests.helpers.pools import Pool, copies_half_without_pair_key, uuid_of, write_rows, zipf_pool

LANGS = ("en", "de", "ja")
T_EN = 25


def _counts_pool(folder: Path, counts: dict[str, list[int]]) -> Path:
    """One Parquet file where entry e of language l is matched by exactly counts[l][e] texts."""
    rows = []
    for lang, per_entry in counts.items():
        for entry_id, n in enumerate(per_entry):
            for k in range(n):
                url = f"https://img.example.org/{lang}/{entry_id}/{k}.jpg"
                rows.append(
                    {
                        "uuid": uuid_of(url),
                        "url": url,
                        "text": f"{lang} {entry_id} {k}",
                        "text_key": "alt",
                        "lang": lang,
                        "lang_score": 0.9,
                        "entry_ids": [entry_id],
                        "page_url": "https://example.org/",
                        "shard": "s",
                    }
                )
    folder.mkdir(parents=True, exist_ok=True)
    return write_rows(folder / "pool.parquet", rows)


HAND = {
    "en": [1, 2, 3, 4, 10],  # t_en = 4: p = (1 + 2 + 3) / 20 = 0.3
    "de": [1, 4, 10, 15, 70],  # shares .01 .05 .15 .30 1: closest to .3 is 15
    "ja": [3, 3, 3, 3],  # shares .25 .5 .75 1: closest is .25, t = 3
    "fr": [50, 50],  # shares .5 1: t = 50
}


def test_t_to_p_and_p_to_t_by_hand() -> None:
    assert t_to_p(HAND["en"], 4) == pytest.approx(0.3)
    assert p_to_t(HAND["de"], 0.3) == 15
    assert p_to_t(HAND["ja"], 0.3) == 3
    assert p_to_t(HAND["fr"], 0.3) == 50
    assert t_to_p(HAND["de"], 15) == pytest.approx(0.15)  # the entry at t is not in the tail


def test_sql_thresholds_equal_hand_values(tmp_path: Path) -> None:
    pool = _counts_pool(tmp_path / "pool", HAND)
    result = balance_worldwide([pool], t_en=4, out=tmp_path / "out", dry_run=True, unit="pair")
    assert result.p == pytest.approx(0.3)
    assert {lang: s["t"] for lang, s in result.languages.items()} == {
        "en": 4.0,
        "de": 15.0,
        "ja": 3.0,
        "fr": 50.0,
    }
    assert {lang: s["pairs"] for lang, s in result.languages.items()} == {
        lang: sum(c) for lang, c in HAND.items()
    }
    assert result.languages["de"]["tail_proportion"] == pytest.approx(0.15)
    assert result.languages["ja"]["head_entries"] == 0  # prob = 3 / 3 = 1 for every entry
    manifest = json.loads((tmp_path / "out" / "manifest.dry-run.json").read_text())
    assert manifest["sql_version"] == "metaclip_v2" and manifest["languages"]["de"]["t"] == 15


def _tail_bound(counts: list[int], t: float) -> float:
    """How far a language's tail proportion at t = p_to_t(counts, p) can be from p.

    With counts sorted and S_i their cumulative shares, p_to_t picks the position k whose S_k is
    closest to p, so p lies in [S_(k-1), S_(k+1)]; the tail proportion at t = c_k is S_m, m the
    last position with a count below t. Both lie in [S_m, S_(k+1)]: the gap is at most the share
    of the entries with count exactly t plus that of the next larger count.
    """
    total = sum(counts)
    at_t = sum(c for c in counts if c == t)
    above = [c for c in counts if c > t]
    return (at_t + (min(above) if above else 0)) / total


def test_two_language_pool_has_equal_tail_proportions(tmp_path: Path) -> None:
    en = zipf_pool(tmp_path / "en", images=6000, entries=300, langs=("en",), seed=1)
    de = zipf_pool(tmp_path / "de", images=2500, entries=120, langs=("de",), seed=2)
    t_en = 60
    result = balance_worldwide([tmp_path], t_en=t_en, out=tmp_path / "out", unit="pair")
    en_counts = list(en.entry_counts().values())
    de_counts = list(de.entry_counts().values())
    p = t_to_p(en_counts, t_en)
    assert result.p == pytest.approx(p)
    de_t = result.languages["de"]["t"]
    assert de_t == p_to_t(de_counts, p)
    assert result.languages["en"]["tail_proportion"] == pytest.approx(p)
    gap = abs(result.languages["de"]["tail_proportion"] - p)
    assert gap <= _tail_bound(de_counts, de_t)
    assert gap < 0.05, (gap, p, de_t)  # the bound is a few percent at these pool sizes
    assert result.counts["pairs"] == len(en.pairs()) + len(de.pairs())
    # Per entry: tail entries keep everything, head entries about t each.
    table = pq.read_table(tmp_path / "out" / "entry_counts.parquet").to_pylist()
    for row in table:
        t = result.languages[row["lang"]]["t"]
        if row["count"] < t:
            assert row["kept"] == row["count"]
    curated = pq.read_table(tmp_path / "out" / "curated.parquet")
    assert set(curated.column("lang").to_pylist()) == {"en", "de"}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    for lang in ("en", "de"):
        record = manifest["languages"][lang]
        assert set(record) >= {"t", "pairs", "kept", "tail_proportion"}
        assert record["kept"] == curated.column("lang").to_pylist().count(lang)


# --- the sample is the Python definition, per language -----------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    """Three languages mixed within images, up to 6 entries a text (long products of head
    probabilities), a tenth of the texts repeated in another shard."""
    return zipf_pool(
        tmp_path_factory.mktemp("world"),
        images=3000,
        entries=60,
        max_entries=6,
        dup_share=0.1,
        langs=LANGS,
        seed=4,
    )


@pytest.fixture(scope="module")
def world_pairs(world: Pool, tmp_path_factory: pytest.TempPathFactory) -> WorldwideResult:
    out = tmp_path_factory.mktemp("world_pairs")
    return balance_worldwide(world.files, t_en=T_EN, out=out, seed=7, unit="pair")


def lang_probs(pool: Pool, result: WorldwideResult) -> dict[str, list[float]]:
    """Per language, probs[entry_id] = least(1, t_lang / count), counts over deduped pairs."""
    probs = {}
    for lang in LANGS:
        counts = pool.entry_counts({lang})
        t = result.languages[lang]["t"]
        probs[lang] = [1.0] * (max(counts) + 1)
        for e, c in counts.items():
            probs[lang][e] = sampling.entry_prob(c, t)
    return probs


def test_thresholds_are_pythons(world: Pool, world_pairs: WorldwideResult) -> None:
    p = t_to_p(world.entry_counts({"en"}).values(), T_EN)
    assert world_pairs.p == pytest.approx(p)
    for lang in ("de", "ja"):
        assert world_pairs.languages[lang]["t"] == p_to_t(world.entry_counts({lang}).values(), p)


def test_curated_equals_the_python_definition_row_for_row(
    world: Pool, world_pairs: WorldwideResult
) -> None:
    """sampling.kept with the pair's own language's probabilities, to the bit."""
    probs = lang_probs(world, world_pairs)
    pairs = world.pairs().values()
    expected = {
        (r["uuid"], r["text"], r["shard"])
        for r in pairs
        if sampling.kept(7, pair_key(r["uuid"], r["text"]), r["entry_ids"], probs[r["lang"]])
    }
    curated = pq.read_table(world_pairs.files["curated"]).to_pylist()
    assert {(r["uuid"], r["text"], r["shard"]) for r in curated} == expected
    assert len(curated) == len(expected) == world_pairs.counts["kept"]
    assert all(_key_bytes(r["pair_key"]) == pair_key(r["uuid"], r["text"]) for r in curated)
    assert all(r["caption"] == r["text"] for r in curated)
    # The pool exercises the product: pairs whose entries are all head, of several entries,
    # both kept and dropped, in every language.
    kept = {(r["uuid"], r["text"]) for r in curated}
    for lang in LANGS:
        all_head = [
            r
            for r in pairs
            if r["lang"] == lang
            and len(r["entry_ids"]) > 1
            and all(probs[lang][e] < 1.0 for e in r["entry_ids"])
        ]
        decided = {(r["uuid"], r["text"]) in kept for r in all_head}
        assert decided == {True, False}, lang


def _key_bytes(value) -> bytes:
    """pyarrow reads the pair_key column as uuid.UUID or as its 16 bytes, by version."""
    return value.bytes if hasattr(value, "bytes") else value


def test_sql_keep_rule_is_pythons_to_the_bit() -> None:
    """metaclip_v2_kept against sampling's threshold 1 - prod(1 - prob) at the threshold itself and
    one ulp either side: any other product order or formula flips some of these."""
    con = duckdb.connect()
    sqlrunner.run(con, "metaclip_v2/007_keep_rule.sql")
    rng = random.Random(3)
    cases: dict[str, list] = {"u": [], "ids": [], "probs": [], "expected": []}
    for _ in range(3000):
        probs = [rng.choice([1.0, rng.random(), rng.random() ** 4]) for _ in range(12)]
        ids = sorted(rng.sample(range(12), rng.randint(1, 10)))
        if rng.random() < 0.8:  # mostly all-head lists: the product branch
            probs = [min(p, 0.999) for p in probs]
        threshold = sampling.keep_probability(probs[e] for e in ids)
        for u in (threshold, math.nextafter(threshold, 0.0), math.nextafter(threshold, 1.0)):
            if 0.0 <= u < 1.0:
                for column, value in zip(cases, (u, ids, probs, u < threshold), strict=True):
                    cases[column].append(value)
    con.register("cases", pa.table(cases))
    wrong = con.execute(
        "SELECT count(*) FROM cases WHERE metaclip_v2_kept(u, ids, probs) IS DISTINCT FROM expected"
    ).fetchone()[0]
    assert wrong == 0 and len(cases["u"]) > 6000


def test_kept_per_lang_entry_within_binomial_bounds(
    world: Pool, world_pairs: WorldwideResult
) -> None:
    """Each (lang, entry)'s kept count vs its exact expectation sum(1 - prod(1 - prob)); tail
    entries keep every text, and head entries (per-row draws, not one coin) only a share."""
    probs = lang_probs(world, world_pairs)
    rows = pq.read_table(world_pairs.files["entry_counts"]).to_pylist()
    kept = {(r["lang"], r["entry_id"]): r["kept"] for r in rows}
    mean: dict[tuple[str, int], float] = {}
    var: dict[tuple[str, int], float] = {}
    for r in world.pairs().values():
        keep = sampling.keep_probability(probs[r["lang"]][e] for e in r["entry_ids"])
        for e in r["entry_ids"]:
            mean[r["lang"], e] = mean.get((r["lang"], e), 0.0) + keep
            var[r["lang"], e] = var.get((r["lang"], e), 0.0) + keep * (1.0 - keep)
    assert set(mean) == set(kept)
    for key, expected in mean.items():
        bound = 5.0 * math.sqrt(var[key]) + 1.0
        assert abs(kept[key] - expected) <= bound, (key, kept[key], expected)
    heads = 0
    for r in rows:
        t = world_pairs.languages[r["lang"]]["t"]
        assert r["prob"] == pytest.approx(min(1.0, t / r["count"]))
        if r["count"] <= t:
            assert r["kept"] == r["count"], "a tail entry keeps every text"
        elif r["count"] > 3 * t:
            heads += 1
            assert 0 < r["kept"] < r["count"], "a head entry keeps a share of its texts"
    assert heads >= 5


def test_unit_image_equals_the_python_definition(world: Pool, tmp_path: Path) -> None:
    """One text per image, the smallest sampling.pick_key over its texts of every language,
    kept by sampling.kept under that text's language."""
    result = balance_worldwide(world.files, t_en=T_EN, out=tmp_path / "out", seed=3)
    assert result.unit == "image"
    probs = lang_probs(world, result)
    texts: dict[str, list[dict]] = {}
    for r in world.pairs().values():
        texts.setdefault(r["uuid"], []).append(r)
    assert any(len({r["lang"] for r in rows}) > 1 for rows in texts.values())
    expected = set()
    for uuid, rows in texts.items():
        pick = min(rows, key=lambda r: sampling.pick_key(3, pair_key(uuid, r["text"])))
        if sampling.kept(3, pair_key(uuid, pick["text"]), pick["entry_ids"], probs[pick["lang"]]):
            expected.add((uuid, pick["text"]))
    curated = pq.read_table(result.files["curated"]).to_pylist()
    assert {(r["uuid"], r["text"]) for r in curated} == expected
    assert len(curated) == len(expected)


@pytest.mark.parametrize("unit", ["pair", "image"])
def test_dry_run_counts_per_language_what_a_run_keeps(
    world: Pool, world_pairs: WorldwideResult, tmp_path: Path, unit: str
) -> None:
    if unit == "pair":
        run = world_pairs
    else:
        run = balance_worldwide(world.files, t_en=T_EN, out=tmp_path / "run", seed=7, unit=unit)
    dry = balance_worldwide(
        world.files, t_en=T_EN, out=tmp_path / "dry", seed=7, unit=unit, dry_run=True
    )
    assert {lang: s["kept"] for lang, s in dry.languages.items()} == {
        lang: s["kept"] for lang, s in run.languages.items()
    }
    assert all(s["kept"] > 0 for s in dry.languages.values())
    assert dry.counts == run.counts
    assert not (tmp_path / "dry" / "curated.parquet").exists()


def test_files_without_pair_key_balance_the_same(
    world: Pool, world_pairs: WorldwideResult, tmp_path: Path
) -> None:
    """Outputs from before pair_key get it computed in SQL, to the same value and sample."""
    mixed = copies_half_without_pair_key(world.files, tmp_path / "in")
    assert "pair_key" not in pq.read_schema(mixed[0]).names
    result = balance_worldwide(mixed, t_en=T_EN, out=tmp_path / "out", seed=7, unit="pair")
    unkeyed = sum("pair_key" not in pq.read_schema(f).names for f in mixed)
    assert result.counts == {**world_pairs.counts, "files_without_pair_key": unkeyed}
    assert result.languages == world_pairs.languages
    assert _curated_rows(result) == _curated_rows(world_pairs)
    assert "no pair_key column" in result.summary()


def _curated_rows(result: WorldwideResult) -> set[tuple[str, str, str, bytes]]:
    rows = pq.read_table(result.files["curated"], columns=["uuid", "text", "shard", "pair_key"])
    return {(r["uuid"], r["text"], r["shard"], _key_bytes(r["pair_key"])) for r in rows.to_pylist()}


def test_manifest_records_the_sql_and_the_draw(world_pairs: WorldwideResult) -> None:
    manifest = json.loads(Path(world_pairs.files["manifest"]).read_text())
    for f in [*sqlrunner.version_files("metaclip_v2"), *sqlrunner.version_files("common")]:
        assert manifest["sql_files"][f.name] == f.sha256
    assert "pair_key" in manifest["draw"] and "t_lang" in manifest["draw"]
    assert manifest["seed"] == 7 and manifest["unit"] == "pair"


def test_no_volatile_randomness_in_the_sql() -> None:
    """Every draw is a hash of the row: random() could be pushed to the per-entry side."""
    for f in sqlrunner.version_files("metaclip_v2"):
        code = "\n".join(line.split("--", 1)[0] for line in f.text.splitlines()).lower()
        assert "random(" not in code and "setseed" not in code, f.name


def test_unit_image_keeps_one_text_per_image_and_names_entries(tmp_path: Path) -> None:
    zipf_pool(tmp_path / "pool", images=1500, entries=50, langs=("en", "de"), max_texts=3)
    meta = tmp_path / "meta"
    meta.mkdir()
    for lang in ("en", "de"):
        names = [f"{lang}-{i}" for i in range(50)]
        (meta / f"{lang}.json").write_text(json.dumps(names))
    result = balance_worldwide([tmp_path / "pool"], t_en=20, out=tmp_path / "out", metadata=meta)
    assert result.unit == "image"
    curated = pq.read_table(tmp_path / "out" / "curated.parquet").to_pylist()
    assert len({r["uuid"] for r in curated}) == len(curated)
    rows = pq.read_table(tmp_path / "out" / "entry_counts.parquet").to_pylist()
    assert all(r["entry"] == f"{r['lang']}-{r['entry_id']}" for r in rows)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["metadata"]["languages"]["de"]["entries"] == 50


def test_errors(tmp_path: Path) -> None:
    pool = _counts_pool(tmp_path / "pool", {"de": [3, 4]})
    with pytest.raises(BalanceError, match="no en pairs"):
        balance_worldwide([pool], t_en=4, out=tmp_path / "out")
    with pytest.raises(BalanceError, match="must include en"):
        balance_worldwide([pool], t_en=4, out=tmp_path / "out", lang="de")
    pool = _counts_pool(tmp_path / "pool2", {"en": [3, 4], "de": [1, 1, 1]})
    meta = tmp_path / "meta"
    meta.mkdir()
    (meta / "en.json").write_text(json.dumps(["a", "b"]))
    (meta / "de.json").write_text(json.dumps(["x"]))
    with pytest.raises(BalanceError, match="de entry ids reach 2"):
        balance_worldwide([pool], t_en=4, out=tmp_path / "out", metadata=meta)
    assert not (tmp_path / "out").exists()


def test_cli_worldwide(tmp_path: Path) -> None:
    pool = _counts_pool(tmp_path / "pool", HAND)
    runner = CliRunner()
    args = ["balance", str(pool), "--worldwide", "--t-en", "4", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "tail proportion p=0.3000" in result.output and "de" in result.output
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["unit"] == "image" and manifest["languages"]["ja"]["t"] == 3
    bad = runner.invoke(app, ["balance", str(pool), "--worldwide", "--t", "4"])
    assert bad.exit_code == 2 and "--t-en" in bad.output
    bad = runner.invoke(app, ["balance", str(pool), "--t-en", "4"])
    assert bad.exit_code == 2 and "--worldwide" in bad.output


@settings(max_examples=150, deadline=None)
@given(
    en=st.lists(st.integers(1, 60), min_size=1, max_size=30),
    other=st.lists(st.integers(1, 60), min_size=1, max_size=30),
    t_en=st.integers(1, 70),
)
def test_sql_thresholds_equal_python_on_random_counts(
    en: list[int], other: list[int], t_en: int
) -> None:
    con = duckdb.connect()
    table = pa.table(
        {
            "lang": ["en"] * len(en) + ["xx"] * len(other),
            "entry_id": pa.array([*range(len(en)), *range(len(other))], pa.int32()),
            "count": pa.array(en + other, pa.int64()),
        }
    )
    con.register("lang_entry_counts", table)
    sqlrunner.run(con, "metaclip_v2/025_thresholds.sql", {"t_en": float(t_en), "anchor": "en"})
    got = dict(con.table("lang_thresholds").select("lang, t").fetchall())
    p = t_to_p(en, t_en)
    assert got == {"en": float(t_en), "xx": float(p_to_t(other, p))}
