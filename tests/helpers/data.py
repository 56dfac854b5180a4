"""The shared read-only test data, where it is present (a bare clone outside the workspace
has none: tests that need it skip)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
REAL_PAGES = SHARED_DATA / "real-pages.warc.gz"
WHIRLWIND = SHARED_DATA / "commoncrawl"


def require(path: Path) -> Path:
    """Skip (not fail) where the shared data is absent, e.g. a bare clone outside the workspace."""
    if not path.exists():
        pytest.skip(f"shared test data {path} not present")
    return path
