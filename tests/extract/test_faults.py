"""Fault injection (issue 14): seeded damage to a record-chunked WARC costs only what it damages.

A real record-chunked WARC (the shared test data's real-pages.warc.gz, one gzip member per record like
Common Crawl's; a sample WARC written the same way where the shared data is absent) is damaged
in one place by each kind of `faultwarc.KINDS`, three seeds each. Every mutant is first checked
to be exactly the damage it names (`faultwarc.check_mutant`), so a generator bug cannot pass for
a reader bug; then it is extracted and judged against the clean file's extraction by page_url:

- the shard does not fail, and no partial file is left in the output folder;
- no page loses rows beyond the damage (the damaged record's own page may, for flipped bytes,
  a wrong Content-Length and truncation; pages after a cut are gone; for junk or an empty member
  between members, a duplicated member, a stale Content-Encoding, a 2 MiB header line and a
  wrong charset nothing at all may be lost; without WARC-Target-URI only relative-URL pairs);
- every loss is reported: a message names its record's offset, and a truncation its cut record.

The oracle itself is tested too: it flags losses it is shown, and forgives only what it should.
"""

from __future__ import annotations

import io
import shutil

import pytest

from tests.helpers import faultwarc
from tests.helpers.data import REAL_PAGES
from tests.helpers.faultwarc import KINDS, FaultRun, Mutant, MutantError, Rows

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> FaultRun:
    """The clean file, its extraction, one Matcher and LanguageId for every mutant."""
    workdir = tmp_path_factory.mktemp("faults")
    if REAL_PAGES.exists():
        clean = faultwarc.load_record_chunked(REAL_PAGES, workdir)
        assert clean.path == REAL_PAGES, "real-pages.warc.gz is record-chunked: used as it is"
    else:
        from metaclip_sql.sample import sample_pages, write_warc

        shard = write_warc(workdir / "sample.warc.gz", sample_pages(300), "members")
        clean = faultwarc.CleanWarc.load(shard)
    run = FaultRun(clean, workdir)
    yield run
    shutil.rmtree(workdir, ignore_errors=True)  # mutants are ~10 MB each: keep no copies


def test_clean_file_reads_cleanly(faults: FaultRun) -> None:
    """The baseline the oracle compares with: every record read, no error, many pages with
    rows (so that a loss is visible)."""
    stats = faults.clean_stats
    assert (stats.status, stats.errors) == ("ok", 0)
    assert stats.records == len(faults.clean.members)
    assert len(faults.with_rows) >= len(faults.clean.pages) // 2


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("kind", KINDS)
def test_mutant_costs_only_its_damage(faults: FaultRun, kind: str, seed: int) -> None:
    """No failed shard, no partial file, nothing lost beyond the damage, nothing lost silently."""
    verdict = faults.run(faults.mutant(kind, seed))
    assert not verdict.failed, verdict.summary()
    assert verdict.partial == [], verdict.summary()
    assert verdict.beyond == [], verdict.summary()
    assert verdict.silent == [], verdict.summary()


def test_cli_exits_0_on_one_mutant_of_each_kind(faults: FaultRun) -> None:
    """`metaclip-sql extract` over one mutant of every kind at once: exit code 0 (no shard
    could not be processed), one complete output per mutant, no partial file."""
    workdir = faults.workdir / "cli"
    workdir.mkdir()
    try:
        shards = []
        for kind in KINDS:
            mutant = faults.mutant(kind, 0)
            shards.append(workdir / mutant.name)
            shards[-1].write_bytes(mutant.data)
        meta = workdir / "metadata.json"
        meta.write_text('["photo", "dog"]', encoding="utf-8")
        out = workdir / "out"
        done = faultwarc.run_cli(shards, out, meta)
        report = f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        missing = [s.name for s in shards if not (out / f"{s.name}.parquet").exists()]
        assert (done.returncode, missing) == (0, []), report
        assert faultwarc.leftovers(out) == [], report
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --- the generator: mutants are what they claim ------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_mutants_are_reproducible_and_checked(faults: FaultRun, kind: str) -> None:
    """Same seed, same bytes; every mutant passes its own check (make_mutant runs it); seeds
    give different damage; the well-formed kinds still are one valid record a gzip member."""
    clean = faults.clean
    mutants = [faults.mutant(kind, seed) for seed in range(3)]
    assert faults.mutant(kind, 2).data == mutants[2].data
    assert len({m.data for m in mutants}) > 1
    for m in mutants:
        assert m.data != clean.data
        if kind in faultwarc.WELL_FORMED_KINDS:
            records = faultwarc.check_valid_warc(m.data)
            assert records == len(clean.members) + (kind == "duplicated-member")


def _relabelled(mutant: Mutant, **changes) -> Mutant:
    fields = {**mutant.__dict__, **changes}
    return Mutant(**fields)


def test_check_rejects_a_mutant_that_is_not_its_damage(faults: FaultRun) -> None:
    """The generator's check is not a rubber stamp: clean bytes, a cut on a member boundary,
    a flip-free member, a header that was not added, or shifted offsets are all refused."""
    clean = faults.clean
    check = faultwarc.check_mutant
    for kind in ("flipped-bytes", "stale-encoding", "huge-header", "wrong-charset"):
        with pytest.raises(MutantError):
            check(clean, _relabelled(faults.mutant(kind, 0), data=clean.data))
    cut = faults.mutant("truncated", 0)
    boundary = clean.members[cut.record].offset
    with pytest.raises(MutantError):
        check(clean, _relabelled(cut, data=clean.data[:boundary]))
    empty = faults.mutant("empty-member", 0)
    with pytest.raises(MutantError):
        check(clean, _relabelled(empty, offsets=tuple(m.offset for m in clean.members)))
    duplicated = faults.mutant("duplicated-member", 0)
    with pytest.raises(MutantError):  # the right bytes, told as the copy of another record
        check(clean, _relabelled(duplicated, record=duplicated.record + 1))
    stale = faults.mutant("stale-encoding", 0)
    with pytest.raises(MutantError):  # labelled as the other kind that edits HTTP headers
        check(clean, _relabelled(stale, kind="huge-header"))


def test_mutants_read_as_valid_warc_with_warcio(faults: FaultRun) -> None:
    """A second, outside opinion (warcio, digests checked) that the kinds claimed valid are."""
    warcio = pytest.importorskip("warcio.archiveiterator")
    for kind in sorted(faultwarc.VALID_WARC_KINDS):
        mutant = faults.mutant(kind, 0)
        records = []
        for rec in warcio.ArchiveIterator(io.BytesIO(mutant.data), check_digests="raise"):
            records.append(rec)
            rec.content_stream().read()
            if kind == "huge-header" and rec.http_headers is not None:
                junk = rec.http_headers.get_header("X-Junk")
                assert junk is None or len(junk) == faultwarc.HUGE_HEADER_BYTES
        assert len(records) == len(faults.clean.members) + (kind == "duplicated-member"), kind


# --- the oracle: flags what is lost, forgives only the damage ------------------------------------


def _judge(faults: FaultRun, mutant: Mutant, rows: Rows, messages: list[str]):
    return faultwarc.judge(
        faults.clean,
        mutant,
        faults.clean_rows,
        rows,
        failed=False,
        errors=len(messages),
        messages=messages,
        partial=[],
    )


def _without(rows: Rows, *urls: str | None) -> Rows:
    by_page = {url: keys for url, keys in rows.by_page.items() if url not in urls}
    return Rows(by_page, rows.image_url)


def test_oracle_flags_a_lost_page_and_whether_it_was_reported(faults: FaultRun) -> None:
    """A page dropped beyond the damage is a loss; silent unless a message names its offset."""
    mutant = faults.mutant("flipped-bytes", 0)
    victim = next(i for i in sorted(faults.with_rows) if i != mutant.record)
    url = faults.clean.members[victim].target_uri
    rows = _without(faults.clean_rows, url)
    silent = _judge(faults, mutant, rows, [])
    assert [loss.url for loss in silent.beyond] == [url] and silent.pages_lost == 1
    assert silent.rows_lost == len(faults.clean_rows.by_page[url]) and len(silent.silent) == 1
    named = _judge(faults, mutant, rows, [f"x (record at offset {mutant.offsets[victim]}): bad"])
    assert named.pages_lost == 1 and named.silent == []
    unrelated = _judge(faults, mutant, rows, [f"x: damaged data after record at offset {1}"])
    assert len(unrelated.silent) == 1


def test_oracle_forgives_only_the_damage(faults: FaultRun) -> None:
    """The damaged page of a byte-damaging kind may go (reported); of a no-loss kind it may not;
    after a cut nothing is expected but the cut record must be reported."""
    clean_rows = faults.clean_rows
    for kind in ("flipped-bytes", "length-larger", "stale-encoding", "empty-member"):
        mutant = faults.mutant(kind, 0)
        if mutant.record is None:  # a gap: nothing of the clean output may go
            assert _judge(faults, mutant, clean_rows, []).ok, kind
            continue
        url = faults.clean.members[mutant.record].target_uri
        where = f"x (record at offset {mutant.offsets[mutant.record]}): skipped"
        verdict = _judge(faults, mutant, _without(clean_rows, url), [where])
        assert verdict.ok == (kind not in faultwarc.NO_LOSS_KINDS), kind
        assert not _judge(faults, mutant, _without(clean_rows, url), []).ok, kind
    cut = faults.mutant("truncated", 0)
    after = [faults.clean.members[i].target_uri for i in range(cut.record, len(cut.offsets))]
    rows = _without(clean_rows, *after)
    assert not _judge(faults, cut, rows, []).ok
    assert _judge(faults, cut, rows, [f"x: record at offset {cut.offsets[cut.record]} cut"]).ok


def test_oracle_forgives_only_relative_urls_without_target_uri(faults: FaultRun) -> None:
    """Without WARC-Target-URI the page's rows move to page_url NULL; its relative-URL pairs may
    go, an absolute one may not."""
    mutant = next(
        m
        for m in (faults.mutant("no-target-uri", s) for s in range(20))
        if len(faults.clean_rows.by_page[faults.clean.members[m.record].target_uri]) > 1
    )
    url = faults.clean.members[mutant.record].target_uri
    keys = faults.clean_rows.by_page[url]
    srcs = faultwarc.image_srcs(faults.clean.members[mutant.record].http()[2])
    absolute = {k for k in keys if faults.clean_rows.image_url[url, k] in srcs}
    moved = dict(_without(faults.clean_rows, url).by_page)
    moved[None] = frozenset(absolute)
    assert _judge(faults, mutant, Rows(moved, faults.clean_rows.image_url), []).ok
    if absolute:
        moved[None] = frozenset(absolute - {min(absolute)})
        verdict = _judge(faults, mutant, Rows(moved, faults.clean_rows.image_url), [])
        assert verdict.rows_lost == 1 and not verdict.ok
