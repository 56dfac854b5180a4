"""The one base class of the errors a user can cause.

A `MetaclipError` says what was wrong with what the user gave (a path, an option, an input
file, a metadata list): the CLI prints it as one line and exits with code 2. Any other exception
is a bug, and shows its traceback. Each stage subclasses it (`BalanceError`, `MetadataError`,
...); it stays a `ValueError` for library callers that catch that.
"""

from __future__ import annotations


class MetaclipError(ValueError):
    """A problem with the user's input or options, described in one line."""
