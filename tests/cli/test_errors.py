"""One error base class (issue 15): a user's mistake is one line and exit code 2; anything else
is a bug and shows its traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from metaclip_sql.cli import app
from metaclip_sql.errors import MetaclipError
from metaclip_sql.extract import run as extract_run


def test_a_users_mistake_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["extract", str(tmp_path / "missing.warc.gz")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: input {tmp_path / 'missing.warc.gz'}: no such file"
    ]


def test_a_bug_is_not_dressed_as_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a bug, not the user's input")

    monkeypatch.setattr(extract_run, "expand_inputs", broken)
    result = CliRunner().invoke(app, ["extract", str(tmp_path / "any.warc.gz")])
    assert result.exit_code == 1 and isinstance(result.exception, ValueError)
    assert not isinstance(result.exception, MetaclipError)
    assert "error:" not in result.output
