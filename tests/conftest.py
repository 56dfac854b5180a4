"""Shared fixtures: the shared read-only test data and an isolated automaton cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL_PAGES = SHARED_DATA / "real-pages.warc.gz"
WHIRLWIND = SHARED_DATA / "commoncrawl"


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compiled automata go to a per-session temp dir, never the user's home."""
    monkeypatch.setenv("METACLIP_SQL_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def metadata_file(tmp_path: Path):
    """Write a metadata list as MetaCLIP's JSON and return its path."""

    def write(entries: list[str], name: str = "metadata.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(entries), encoding="utf-8")
        return path

    return write


def require(path: Path) -> Path:
    """Skip (not fail) where the shared data is absent, e.g. a bare clone outside the workspace."""
    if not path.exists():
        pytest.skip(f"shared test data {path} not present")
    return path
