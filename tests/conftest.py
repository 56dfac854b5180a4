"""Fixtures for every test: an isolated automaton cache and a metadata-list writer (the shared
test data's paths are in `tests/helpers/data.py`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


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
