"""metadata info: the never-match analysis against brute force, and the report."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metaclip_sql.cli import app
from metaclip_sql.metadata.build import BuildResult, SourceCount, write_metadata
from metaclip_sql.metadata.info import format_info, inspect_metadata, never_match_reason
from metaclip_sql.metadata.matching import spacing


def strings(alphabet: str, max_len: int) -> list[str]:
    return ["".join(p) for n in range(max_len + 1) for p in itertools.product(alphabet, repeat=n)]


@pytest.mark.parametrize("alphabet", ["a .`\n", "b ,?\t", "a .!\r"])
def test_never_match_equals_brute_force(alphabet: str) -> None:
    """Every entry up to 5 characters: matchable iff some text up to 5 characters matches it.

    Five characters of text are enough: a matchable entry is matched by itself with each
    " mark " shrunk to "mark", which is never longer than the entry.
    """
    spaced = [spacing(t) for t in strings(alphabet, 5)]
    for entry in strings(alphabet, 5):
        padded = f" {entry} "
        matchable = any(padded in s for s in spaced)
        assert (never_match_reason(entry) is None) == matchable, repr(entry)


def test_never_match_reasons() -> None:
    assert never_match_reason("U.S.") == "'.' without a space on each side"
    assert never_match_reason("Washington, D.C.") == "',' without a space on each side"
    assert "one space apart" in never_match_reason(". .")
    assert "turns into a space" in never_match_reason("a\tb")
    for ok in ("dog", "U . S .", ",", " dog", "a  ,  b", "C++", "rock 'n' roll"):
        assert never_match_reason(ok) is None, ok


def write_list(tmp_path: Path, entries: list[str], record: bool = True) -> Path:
    path = tmp_path / "m.json.gz"
    counts = [SourceCount("numbers", {}, 0, read=2, added=2, complete=True)]
    counts.append(SourceCount("custom", {"file": "x"}, 2, read=9, added=len(entries) - 2))
    write_metadata(BuildResult(entries=entries, sources=counts, size=len(entries)), path)
    if not record:
        path.with_name("m.sources.json").unlink()
    return path


ENTRIES = ["0", "1", "dog", "U.S.", "dog", "", " cat", "a, b", "hot dog", "x\ty", "z" * 90]


def test_inspect(tmp_path: Path) -> None:
    info = inspect_metadata(write_list(tmp_path, ENTRIES))
    assert info.entries == 11
    assert info.sources is not None and info.sources_note == "from m.sources.json"
    assert info.duplicates == {"dog": [2, 4]}
    assert info.empty == [5]
    assert info.longest == (10, "z" * 90)
    assert [(i, e) for i, e, _ in info.never_match] == [(3, "U.S."), (7, "a, b"), (9, "x\ty")]
    assert info.edge_space == [(6, " cat")]
    text = format_info(info, examples=2)
    assert "entries: 11" in text
    assert "custom: 9 added, ids 2-10 (list full before the source ended)" in text
    assert "duplicates: 1 strings repeated (1 extra ids)" in text
    assert "can never match (padding rules): 3" in text
    assert "id 3 'U.S.': '.' without a space on each side" in text
    assert "'z" in text and "…" in text  # long entries are cut in the report


def test_sidecar_absent_or_stale(tmp_path: Path) -> None:
    path = write_list(tmp_path, ENTRIES, record=False)
    assert inspect_metadata(path).sources_note.startswith("not recorded")
    plain = tmp_path / "m.json"
    plain.write_text(json.dumps(ENTRIES[:-1]))
    stale = tmp_path / "m.sources.json"
    stale.write_text(json.dumps({"entries_sha256": "0" * 64, "sources": []}))
    info = inspect_metadata(plain)
    assert info.sources is None and "does not describe this list" in info.sources_note


def test_cli_info(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["metadata", "info", str(write_list(tmp_path, ENTRIES))])
    assert result.exit_code == 0, result.output
    assert "can never match (padding rules): 3" in result.output
    missing = CliRunner().invoke(app, ["metadata", "info", str(tmp_path / "none.json")])
    assert missing.exit_code == 2 and "cannot read metadata" in missing.output
