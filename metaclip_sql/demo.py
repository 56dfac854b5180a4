"""`metaclip-sql demo`: the whole job end to end on a sample crawl the project writes itself.

It writes a small WARC (`sample.sample_pages`), extracts it with the bundled metadata, balances
the result at a threshold that suits its size and says where everything went, so a new user
sees every stage's output in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from metaclip_sql.balance.v1 import BalanceResult, balance
from metaclip_sql.extract.run import ExtractSummary, run_extract
from metaclip_sql.extract.shard import ExtractOptions
from metaclip_sql.sample import sample_pages, write_warc

#: The sample's head entries have a few hundred texts; t=20 balances them visibly.
DEMO_T = 20


@dataclass
class DemoResult:
    warc: Path
    extract: ExtractSummary
    balance: BalanceResult


def run_demo(root: Path, pages: int = 300, t: float = DEMO_T, workers: int = 1) -> DemoResult:
    """Sample WARC -> `root/matched/` -> `root/balanced/`; reruns overwrite."""
    warc = write_warc(root / "sample.warc.gz", sample_pages(pages))
    options = ExtractOptions(out_dir=root / "matched", overwrite=True)
    summary = run_extract([warc], options, None, workers=workers)
    result = balance([root / "matched"], t=t, out=root / "balanced")
    return DemoResult(warc, summary, result)
