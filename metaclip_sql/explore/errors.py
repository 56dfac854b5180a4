"""The explore stage's user-facing error, and how a DuckDB message becomes one line."""

from __future__ import annotations

from metaclip_sql.errors import MetaclipError


class ExploreError(MetaclipError):
    """A problem with the user's paths, query or options, told in one line."""


def one_line(exc: BaseException | str) -> str:
    """A (multi-line) message as one line, whitespace runs collapsed."""
    return " ".join(str(exc).split())
