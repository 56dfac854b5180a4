"""explain: balance's decision for one pair, redone, must be balance's (curated.parquet).

Pools come from `tests/helpers/pools.py` (Zipf-like entries, cross-shard duplicates, unmatched texts,
two or three languages); each balance run is compared pair by pair with what `explain` decides,
for --unit pair and image, --lang en with --valid-uuids, a worldwide run, and without a balance
output (the options and counts from the pool).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from metaclip_sql.balance import balance, balance_worldwide, sampling
from metaclip_sql.cli import app
from metaclip_sql.explore import ExploreError, explain, explanation_json, format_explanation
from metaclip_sql.schema import pair_key
from tests.helpers.pools import Pool, copies_half_without_pair_key, zipf_pool

T = 12


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    folder = tmp_path_factory.mktemp("explain") / "pool"
    return zipf_pool(
        folder, images=900, entries=60, dup_share=0.08, unmatched_share=0.05, langs=("en", "de")
    )


def _balanced(pool: Pool, out: Path, **options) -> Path:
    balance(pool.files, out=out, **options)
    return out


def _curated(out: Path) -> set[tuple[str, str]]:
    return set(duckdb.sql(f"SELECT uuid, text FROM '{out}/curated.parquet'").fetchall())


def _all_pairs(pool: Pool) -> set[tuple[str, str]]:
    return {(r["uuid"], r["text"]) for r in pool.rows}


def _explain_all(data: list, **options):
    """Every pair of the pool at once: a LIKE pattern matching every text."""
    return explain(data, text_like="%", limit=100_000, **options)


@pytest.mark.parametrize("unit", ["pair", "image"])
def test_explain_agrees_with_curated_on_every_pair(pool: Pool, tmp_path: Path, unit: str) -> None:
    out = _balanced(pool, tmp_path / "out", t=T, lang="all", unit=unit, seed=5)
    curated = _curated(out)
    result = _explain_all([pool.files[0].parent, out])
    assert not result.truncated and not result.notes
    assert {(x.uuid, x.text) for x in result.pairs} == _all_pairs(pool)
    kept = {(x.uuid, x.text) for x in result.pairs if x.kept}
    assert kept == curated
    assert all(x.in_curated == x.kept for x in result.pairs)
    assert 0 < len(kept) < len(result.pairs)
    for x in result.pairs:
        key = pair_key(x.uuid, x.text)
        assert x.u == sampling.draw(5, key) and x.pair_key == key.hex()
        assert x.seed == 5 and x.unit == unit and x.t == T
        if x.candidate:
            probs = [sampling.entry_prob(e.count, T) for e in x.entries]
            assert [e.prob for e in x.entries] == probs
            assert x.p == sampling.keep_probability(probs)
            if unit == "pair":
                assert x.kept == (x.u < x.p)
        else:
            assert not x.entries and "no matched entry" in x.reason
    if unit == "image":
        picked = [x for x in result.pairs if x.picked]
        assert len({x.uuid for x in picked}) == len(picked)  # one decided text per image
        assert all(x.kept == (x.u < x.p) for x in picked)
        assert not any(x.kept for x in result.pairs if not x.picked)


def test_random_lookups_by_uuid_and_url(pool: Pool, tmp_path: Path) -> None:
    out = _balanced(pool, tmp_path / "out", t=T, lang="all", unit="image", seed=1)
    curated = _curated(out)
    rows = random.Random(3).sample(pool.rows, 12)
    data = [pool.files[0].parent, out]
    for row in rows:
        by_uuid = explain(data, uuid=row["uuid"])
        by_url = explain(data, url=row["url"])
        image_pairs = {(r["uuid"], r["text"]) for r in pool.rows if r["uuid"] == row["uuid"]}
        assert {(x.uuid, x.text) for x in by_uuid.pairs} == image_pairs
        assert [dataclass_tuple(x) for x in by_url.pairs] == [
            dataclass_tuple(x) for x in by_uuid.pairs
        ]
        for x in by_uuid.pairs:
            assert x.kept == ((x.uuid, x.text) in curated)
        assert sum(1 for x in by_uuid.pairs if x.picked) == (
            1 if any(x.candidate for x in by_uuid.pairs) else 0
        )


def dataclass_tuple(x) -> tuple:
    return (x.uuid, x.text, x.kept, x.p, x.u, x.picked)


def test_lang_and_valid_uuids_of_the_run(pool: Pool, tmp_path: Path) -> None:
    images = sorted({r["uuid"] for r in pool.rows})
    valid = tmp_path / "valid.txt"
    valid.write_text("\n".join(images[::3]) + "\n")
    out = _balanced(pool, tmp_path / "out", t=T, seed=2, valid_uuids=[valid])  # --lang en
    curated = _curated(out)
    result = _explain_all([pool.files[0].parent, out])
    assert {(x.uuid, x.text) for x in result.pairs if x.kept} == curated
    admitted = set(images[::3])
    for x in result.pairs:
        if x.lang != "en" and x.entries:
            assert not x.candidate and "not selected" in x.reason
        elif x.entries and x.uuid not in admitted:
            assert not x.candidate and "--valid-uuids" in x.reason
        elif x.entries:
            assert x.candidate


def test_worldwide_run(tmp_path: Path) -> None:
    world = zipf_pool(tmp_path / "pool", images=600, entries=40, langs=("en", "de", "ja"))
    for unit in ("pair", "image"):
        out = tmp_path / f"out-{unit}"
        result = balance_worldwide(world.files, t_en=15, out=out, seed=4, unit=unit)
        explained = _explain_all([tmp_path / "pool", out])
        assert {(x.uuid, x.text) for x in explained.pairs if x.kept} == _curated(out)
        ts = {x.lang: x.t for x in explained.pairs if x.candidate}
        assert ts == {lang: s["t"] for lang, s in result.languages.items()}


def test_without_a_balance_output_the_options_decide(pool: Pool, tmp_path: Path) -> None:
    out = _balanced(pool, tmp_path / "out", t=T, lang="all", unit="pair", seed=9)
    with_output = _explain_all([pool.files[0].parent, out])
    from_options = _explain_all([pool.files[0].parent], t=T, seed=9, lang="all")
    assert [dataclass_tuple(x) for x in from_options.pairs] == [
        dataclass_tuple(x) for x in with_output.pairs
    ]
    counts = dict(
        duckdb.sql(f"SELECT entry_id, count FROM '{out}/entry_counts.parquet'").fetchall()
    )
    for x in from_options.pairs:
        assert all(e.count == counts[e.entry_id] for e in x.entries)
        assert x.in_curated is None


def test_files_without_pair_key_explain_the_same(pool: Pool, tmp_path: Path) -> None:
    mixed = copies_half_without_pair_key(pool.files, tmp_path / "mixed")
    out = _balanced(pool, tmp_path / "out", t=T, lang="all", seed=5)
    a = _explain_all([pool.files[0].parent], t=T, seed=5, lang="all")
    b = _explain_all([mixed[0].parent], t=T, seed=5, lang="all")
    assert [dataclass_tuple(x) for x in a.pairs] == [dataclass_tuple(x) for x in b.pairs]
    assert {(x.uuid, x.text) for x in b.pairs if x.kept} == _curated(out)


def test_options_that_contradict_the_run_are_refused(pool: Pool, tmp_path: Path) -> None:
    out = _balanced(pool, tmp_path / "out", t=T, lang="all", seed=5)
    data = [pool.files[0].parent, out]
    uuid = pool.rows[0]["uuid"]
    assert explain(data, uuid=uuid, t=T, seed=5, lang="all", unit="pair").pairs
    for option in ({"t": T + 1}, {"seed": 6}, {"unit": "image"}, {"lang": "en"}):
        with pytest.raises(ExploreError, match="differs from the balance output"):
            explain(data, uuid=uuid, **option)
    with pytest.raises(ExploreError, match="exactly one"):
        explain(data)
    with pytest.raises(ExploreError, match="exactly one"):
        explain(data, uuid=uuid, url="https://x")
    with pytest.raises(ExploreError, match="--t"):
        explain([pool.files[0].parent], uuid=uuid)
    with pytest.raises(ExploreError, match="extract outputs"):
        explain([out], uuid=uuid)
    assert explain(data, uuid="no-such-uuid").pairs == []


def test_limit_and_formats(pool: Pool, tmp_path: Path) -> None:
    out = _balanced(pool, tmp_path / "out", t=T, lang="all", seed=5)
    result = explain([pool.files[0].parent, out], text_like="picture 1%", limit=3)
    assert len(result.pairs) == 3 and result.truncated
    text = format_explanation(result)
    assert "settings: t=12, seed 5, unit pair, lang all" in text and "--limit" in text
    assert any(word in text for word in ("KEPT", "DROPPED"))
    objects = json.loads(explanation_json(result))
    assert isinstance(objects, list) and len(objects) == 3
    for o in objects:
        assert {"uuid", "text", "kept", "p", "u", "entries"} <= set(o)
        for e in o["entries"]:
            assert set(e) == {"entry_id", "entry", "count", "prob"}


def test_cli(pool: Pool, tmp_path: Path) -> None:
    out = _balanced(pool, tmp_path / "out", t=T, lang="all", seed=5)
    row = pool.rows[5]
    runner = CliRunner()
    args = ["explain", "-d", str(pool.files[0].parent), "-d", str(out)]
    result = runner.invoke(app, [*args, "--uuid", row["uuid"], "--format", "json"])
    assert result.exit_code == 0, result.output
    objects = json.loads(result.output)
    assert {o["text"] for o in objects} == {
        r["text"] for r in pool.rows if r["uuid"] == row["uuid"]
    }
    curated = _curated(out)
    assert all(o["kept"] == ((o["uuid"], o["text"]) in curated) for o in objects)
    result = runner.invoke(app, [*args, "--url", row["url"]])
    assert result.exit_code == 0 and row["uuid"] in result.output
    result = runner.invoke(app, [*args, "--uuid", row["uuid"], "--t", "99"])
    assert result.exit_code == 2 and "differs from the balance output" in result.output
    result = runner.invoke(app, [*args, "--uuid", row["uuid"], "--format", "yaml"])
    assert result.exit_code == 2 and "--format" in result.output
