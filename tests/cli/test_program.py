"""The program as a process: `python -m metaclip_sql extract` ends without the interpreter's
teardown (`cli/program.py`), and its output and exit code are still all there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from metaclip_sql.sample import sample_pages, write_warc


def _run(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "metaclip_sql", "extract", *args, "--workers", "1"]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_exit_codes_and_output_survive_the_quick_exit(tmp_path: Path) -> None:
    good = write_warc(tmp_path / "good.warc.gz", sample_pages(30))
    (tmp_path / "readme.warc").write_text("not a WARC\n")
    ok = _run(str(good), "--out", str(tmp_path / "out1"))
    assert ok.returncode == 0, ok.stderr
    assert "1 shards (0 failed, 0 already complete)" in ok.stdout
    assert "pages/s per worker" in ok.stdout.splitlines()[-1]  # the last line got out
    assert (tmp_path / "out1" / "good.warc.gz.parquet").exists()
    failed = _run(str(good), str(tmp_path / "readme.warc"), "--out", str(tmp_path / "out2"))
    assert failed.returncode == 1
    assert "2 shards (1 failed" in failed.stdout
    assert "readme.warc" in failed.stderr
