"""Fault injection sweep (issue 14): seeded damage to a record-chunked WARC, judged per mutant.

Every kind of `tests/helpers/faultwarc.py` (flipped bytes, junk between members, truncation, wrong WARC
Content-Length both ways, stale Content-Encoding, no WARC-Target-URI, a 2 MiB HTTP header line,
a wrong declared charset, an empty gzip member, a duplicated member) is made `--count` times,
with seeds `--seed` .. `--seed + count - 1`; each mutant damages one record or one gap between
members, is checked to be exactly that damage, extracted with `extract_shard` and compared by
`page_url` with the clean file's extraction. The first `--cli` mutants of each kind also go
through `metaclip-sql extract`, whose exit code must be 0.

Per kind and in total it prints: mutants; shards failed (status "failed", an exception, or a
CLI exit code != 0); partial files left in the output folder; pages lost beyond the damage
(pages with rows in the clean output and none in the mutant's) and rows lost beyond it; silent
losses (losses, the damaged page's own included, whose record offset no message names, and an
unreported cut record). The goal is 0 for all but the first column. Then one line per failing
mutant: kind, seed, offset of the damage, what was done, what it cost, the messages.

    python bench/faults.py [--warc PATH] [--seed 0] [--count 30] [--kind KIND ...] [--cli 1]

The input is any record-chunked `.warc.gz` (another layout is rewritten record-chunked first);
by default the shared test data's real-pages.warc.gz when present, else a sample WARC the project writes. A mutant
is rebuilt alone with `--seed SEED --count 1 --kind KIND`. Exit code 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests/

from metaclip_sql.extract import records as readers
from tests.helpers import faultwarc

REAL_PAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-pages.warc.gz"
COLUMNS = ("mutants", "failed", "partial", "pages lost", "rows lost", "silent", "cli exit!=0")


def default_input(workdir: Path) -> Path:
    """The shared real pages, else 300 sample pages written record-chunked."""
    if REAL_PAGES.exists():
        return REAL_PAGES
    from metaclip_sql.sample import sample_pages, write_warc

    return write_warc(workdir / "sample-pages.warc.gz", sample_pages(300), "members")


def tally(verdicts: list[faultwarc.Verdict]) -> dict[str, int]:
    """The table's columns for some verdicts (CLI runs only add to failed/partial/cli)."""
    api = [v for v in verdicts if v.via == "api"]
    cli = [v for v in verdicts if v.via == "cli"]
    failed_api = {(v.kind, v.seed) for v in api if v.failed}
    failed_cli = {(v.kind, v.seed) for v in cli if v.failed}
    return {
        "mutants": len(api),
        "failed": len(failed_api | failed_cli),
        "partial": sum(1 for v in verdicts if v.partial),
        "pages lost": sum(v.pages_lost for v in api),
        "rows lost": sum(v.rows_lost for v in api),
        "silent": sum(len(v.silent) for v in api),
        "cli exit!=0": sum(1 for v in cli if v.exit_code != 0),
        "cli runs": len(cli),
    }


def print_table(by_kind: dict[str, list[faultwarc.Verdict]]) -> dict[str, int]:
    widths = [max(len(c), 7) for c in COLUMNS]
    print(f"{'kind':<18} " + " ".join(f"{c:>{w}}" for c, w in zip(COLUMNS, widths, strict=True)))
    everything = []
    for kind, verdicts in by_kind.items():
        everything += verdicts
        row = tally(verdicts)
        cells = [str(row[c]) for c in COLUMNS[:-1]] + [f"{row['cli exit!=0']}/{row['cli runs']}"]
        print(f"{kind:<18} " + " ".join(f"{x:>{w}}" for x, w in zip(cells, widths, strict=True)))
    total = tally(everything)
    cells = [str(total[c]) for c in COLUMNS[:-1]] + [f"{total['cli exit!=0']}/{total['cli runs']}"]
    print(f"{'total':<18} " + " ".join(f"{x:>{w}}" for x, w in zip(cells, widths, strict=True)))
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warc", type=Path, help="a .warc.gz (default: shared real pages)")
    parser.add_argument("--seed", type=int, default=0, help="first mutant seed")
    parser.add_argument("--count", type=int, default=30, help="mutants of each kind")
    parser.add_argument("--kind", action="append", choices=faultwarc.KINDS, help="repeatable")
    parser.add_argument("--cli", type=int, default=1, help="mutants a kind also run by the CLI")
    parser.add_argument("--verbose", action="store_true", help="one line for every mutant")
    args = parser.parse_args()
    kinds = args.kind or list(faultwarc.KINDS)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        workdir = Path(tmp)
        source = args.warc or default_input(workdir)
        clean = faultwarc.load_record_chunked(source, workdir)
        run = faultwarc.FaultRun(clean, workdir)
        print(
            f"fault injection: {source} ({len(clean.members)} records, {len(clean.pages)} HTML "
            f"pages, {len(run.with_rows)} with rows; {len(clean.data) / 1e6:.1f} MB"
            f"{', rewritten record-chunked' if clean.path != source else ''}), seeds "
            f"{args.seed}..{args.seed + args.count - 1}, {args.count} mutants a kind"
        )
        print(f"reader: {Path(readers.__file__).resolve()}")
        by_kind: dict[str, list[faultwarc.Verdict]] = defaultdict(list)
        for kind in kinds:
            for seed in range(args.seed, args.seed + args.count):
                try:
                    mutant = run.mutant(kind, seed)
                except faultwarc.MutantError as exc:  # a generator problem, not the reader's
                    print(f"mutant not made: {exc}", file=sys.stderr)
                    return 2
                verdicts = [run.run(mutant)]
                if seed - args.seed < args.cli:
                    verdicts.append(run.run_cli(mutant))
                for verdict in verdicts:
                    if args.verbose:
                        print(f"  {'ok  ' if verdict.ok else 'FAIL'} {verdict.summary()}")
                by_kind[kind] += verdicts
    print()
    total = print_table(by_kind)
    failing = [v for verdicts in by_kind.values() for v in verdicts if not v.ok]
    if failing:
        print(f"\nfailing mutants ({len(failing)}):")
        for verdict in failing:
            print(f"  {verdict.summary()}")
    print(f"\n{time.monotonic() - started:.1f} s")
    goals = ("failed", "partial", "pages lost", "rows lost", "silent", "cli exit!=0")
    return 1 if any(total[g] for g in goals) else 0


if __name__ == "__main__":
    sys.exit(main())
