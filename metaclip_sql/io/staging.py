"""Temporary files in an output folder: held by their writer, removed once a killed run left them.

A run writes under temporary names in `--out` (or extract's local staging folder) and renames
when complete. A killed run leaves those names behind, so each is held by an `flock` for as long
as its writer lives: extract's `.<shard>.parquet.<pid>.tmp` by a lock on the file itself;
balance's `.<name>.<tag>.tmp` and `.balance-spill-<tag>/` (tag: `<pid>-<time_ns>`) by a lock
on `.balance-<tag>.lock`, taken before any of them exists and given up after the last is gone.
The kernel drops a lock when its process dies, however it dies (pid reuse does not matter), so
`remove_leftovers` removes exactly what no live process holds: a concurrent run's files stay.

`commit_lock` serializes balance's commit (several renames) between runs on the same `--out`,
so its outputs always come from one run. Locks are `flock`s on files opened for writing (NFS
emulates them with POSIX locks, which need that); a lock file may be unlinked by whoever holds
it, so `hold` checks after locking that the name still leads to the file it locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

#: Held around balance's commit; removed by its holder when done.
COMMIT_LOCK = ".metaclip-sql.lock"
_EXTRACT_TEMP = re.compile(r"\..+\.parquet\.\d+\.tmp")
_TAG = r"\d+-\d{19}"  # balance's `<pid>-<time_ns>`
_TAGGED = re.compile(
    rf"(?:tmp_)?\.(?:balance-spill-(?P<spill>{_TAG})|balance-(?P<lock>{_TAG})\.lock"
    rf"|.+\.(?P<temp>{_TAG})\.tmp)"
)
_BUSY = object()


class Held:
    """An exclusive flock on a file, held until `release`."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self, remove: bool = False) -> None:
        """Give the lock up; with `remove`, unlink the file first (while still holding it)."""
        if self._fd is None:
            return
        if remove:
            with contextlib.suppress(OSError):
                self.path.unlink()
        os.close(self._fd)
        self._fd = None


def hold(path: Path) -> Held:
    """Create `path` if needed and lock it, waiting for any other holder."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _still_named(fd, path):
                return Held(path, fd)
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # unlinked while we waited (its holder was done, or a cleanup took it)


@contextlib.contextmanager
def commit_lock(folder: Path) -> Iterator[None]:
    """Held while a run moves its outputs into `folder`: one run's commit at a time."""
    held = hold(folder / COMMIT_LOCK)
    try:
        yield
    finally:
        held.release(remove=True)


def remove_if_free(path: Path) -> bool:
    """Remove the temporary file `path` unless a live process holds it; whether it was removed."""
    held = _try_hold(path)
    if not isinstance(held, Held):
        return False
    _remove(path)
    held.release()
    return True


def remove_leftovers(folder: Path) -> list[str]:
    """Remove the temporary files and folders that runs killed earlier left in `folder` (never
    what a live run holds); returns their names, folders with a trailing `/`."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:  # no folder yet: nothing left in it
        return []
    removed: list[str] = []
    tagged: dict[str, list[Path]] = {}
    for path in entries:
        name = path.name
        if _EXTRACT_TEMP.fullmatch(name) or name == COMMIT_LOCK:
            if remove_if_free(path):
                removed.append(name)
        elif match := _TAGGED.fullmatch(name):
            tag = match["spill"] or match["lock"] or match["temp"]
            if not match["lock"]:
                tagged.setdefault(tag, []).append(path)
            else:
                tagged.setdefault(tag, [])
    for tag, paths in tagged.items():
        lock = folder / f".balance-{tag}.lock"
        held = _try_hold(lock)
        if held is _BUSY:
            continue  # a live run's
        for path in paths:
            suffix = "/" if path.is_dir() else ""
            if _remove(path):
                removed.append(path.name + suffix)
        if isinstance(held, Held):
            held.release(remove=True)
            removed.append(lock.name)
    return removed


def leftovers_note(removed: list[str], folder: Path | str, show: int = 4) -> str:
    """One line saying what `remove_leftovers` removed."""
    names = ", ".join(removed[:show])
    if len(removed) > show:
        names += f" and {len(removed) - show} more"
    what = "leftover" if len(removed) == 1 else "leftovers"
    return f"removed {len(removed)} {what} of an earlier run that was killed, in {folder}/: {names}"


def _try_hold(path: Path) -> Held | object | None:
    """A lock on the existing file `path`; `_BUSY` when a live process holds it; None when there
    is no such file (any more)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    except OSError:  # a folder, or not ours to open: not ours to judge
        return _BUSY
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return _BUSY
    if not _still_named(fd, path):
        os.close(fd)
        return None
    return Held(path, fd)


def _still_named(fd: int, path: Path) -> bool:
    """Whether `path` still names the file open as `fd` (not unlinked or replaced meanwhile)."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _remove(path: Path) -> bool:
    """Remove a file or folder; whether there was one."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        return False
    except OSError:
        shutil.rmtree(path, ignore_errors=True)
        return not path.exists()
    return True
