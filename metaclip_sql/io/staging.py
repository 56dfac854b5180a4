"""Temporary files in an output folder: held by their writer, removed once a killed run left them.

A run writes under temporary names in `--out` (or extract's local staging folder) and renames
when complete. A killed run leaves those names behind, so each is held by an `flock` for as long
as its writer lives: extract's `.<shard>.parquet.<pid>.tmp` by a lock on the file itself;
balance's `.<name>.<tag>.tmp` and `.balance-spill-<tag>/` (tag: `<pid>-<time_ns>`) by a lock
on `.balance-<tag>.lock`, taken before any of them exists and given up after the last is gone.
The kernel drops a lock when its process dies, however it dies (pid reuse does not matter), so
`remove_leftovers` removes exactly what no live process holds: a concurrent run's files stay.

`OutputStaging` is a balance run's side of this: its temporary names under `--out`, its lock,
and the commit that renames every output into place, manifest last. `commit_lock` serializes
that commit (several renames) between runs on the same `--out`, so its outputs always come from
one run. Locks are `flock`s on files opened for writing (NFS
emulates them with POSIX locks, which need that); a lock file may be unlinked by whoever holds
it, so `hold` checks after locking that the name still leads to the file it locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


class OutputStaging:
    """A balance run's outputs: written under temporary names in `out`, renamed into place only
    when every output is complete (`commit`), and never left behind (`cleanup`).

    The run holds `.balance-<tag>.lock` from before its first temporary name exists until the
    last is gone: another run's cleanup leaves them alone while this one lives, and removes them
    if it was killed. `leftovers` names what killed runs had left, removed when this run started.
    A dry run's outputs get `.dry-run` in their names (`manifest.dry-run.json`), so a previous
    run's outputs stay.
    """

    def __init__(self, out: Path, dry_run: bool) -> None:
        self.out = out
        self.dry_run = dry_run
        self.created_out = not out.exists()
        self.tag = f"{os.getpid()}-{time.time_ns()}"
        self._temps: list[Path] = []
        self._held: Held | None = None
        self.leftovers: list[str] = []

    def _start(self) -> None:
        """Before the first temporary name: remove killed runs' leftovers, hold this run's lock."""
        if self._held is None:
            self.out.mkdir(parents=True, exist_ok=True)
            self.leftovers = remove_leftovers(self.out)
            self._held = hold(self.out / f".balance-{self.tag}.lock")

    def spill_dir(self) -> Path:
        """This run's folder for DuckDB's spill and intermediate files (removed by cleanup)."""
        self._start()
        path = self.out / f".balance-spill-{self.tag}"
        path.mkdir(parents=True, exist_ok=True)
        if path not in self._temps:
            self._temps.append(path)
        return path

    def temp(self, name: str) -> Path:
        """The temporary name output `name` (e.g. `curated.parquet`) is written under."""
        self._start()
        path = self.out / f".{name}.{self.tag}.tmp"
        if path not in self._temps:
            self._temps.append(path)
        return path

    def final(self, name: str) -> Path:
        """Where output `name` goes when committed."""
        if self.dry_run:
            stem, dot, suffix = name.partition(".")
            name = f"{stem}.dry-run{dot}{suffix}"
        return self.out / name

    def commit(self, manifest: dict[str, Any], curated: str = "curated.parquet") -> dict[str, str]:
        """Move outputs into place; manifest.json goes last, so its presence means complete.

        `curated` is one file (`curated.parquet`) or a directory of parts (`curated`); the other
        form, left by an earlier run with the other distributor, is removed so one remains.
        A concurrent run on the same `out` commits before or after, never in between. Returns
        the committed paths by output (`curated`, `entry_counts`, `manifest`).
        """
        with commit_lock(self.out):
            return self._commit(manifest, curated)

    def _commit(self, manifest: dict[str, Any], curated: str) -> dict[str, str]:
        names = ["entry_counts.parquet"] + ([] if self.dry_run else [curated])
        manifest_path = self.final("manifest.json")
        manifest_path.unlink(missing_ok=True)
        if not self.dry_run:
            _remove(self.final("curated" if curated == "curated.parquet" else "curated.parquet"))
        done = {}
        for name in names:
            if self.final(name).is_dir():
                shutil.rmtree(self.final(name))
            os.replace(self.temp(name), self.final(name))
            done[name.split(".")[0]] = str(self.final(name))
        self.temp("manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(self.temp("manifest.json"), manifest_path)
        done["manifest"] = str(manifest_path)
        return done

    def cleanup(self) -> None:
        """Remove every temporary name, then give the lock up (and `out`, if this run made it
        and it stayed empty)."""
        for path in self._temps:
            _remove(path)
        if self._held is not None:  # last: the temporaries are gone
            self._held.release(remove=True)
            self._held = None
        if self.created_out and self.out.is_dir() and not any(self.out.iterdir()):
            self.out.rmdir()


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
