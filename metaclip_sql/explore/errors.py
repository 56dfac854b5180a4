"""The explore stage's user-facing error; `one_line` (a DuckDB message as one line) is
`duck.session`'s, re-exported for the explore modules."""

from __future__ import annotations

from metaclip_sql.duck.session import one_line
from metaclip_sql.errors import MetaclipError

__all__ = ["ExploreError", "one_line"]


class ExploreError(MetaclipError):
    """A problem with the user's paths, query or options, told in one line."""
