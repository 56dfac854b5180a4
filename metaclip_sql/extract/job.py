"""Extract as a job for the runtimes: one shard in a worker process, with what it needs.

The matcher and language model are loaded once in the parent and reach the workers by fork
(copy-on-write) or, on Ray, through the object store; the per-shard function
(`shard.extract_shard`) does not know who runs it.
"""

from __future__ import annotations

import contextlib
import glob
from dataclasses import dataclass

from metaclip_sql.extract.lid import LanguageId
from metaclip_sql.extract.shard import ExtractOptions, ShardStats, extract_shard, temp_path
from metaclip_sql.io.staging import remove_if_free
from metaclip_sql.io.storage import Target, base_name
from metaclip_sql.metadata.lang import LanguageMatchers
from metaclip_sql.metadata.matching import Matcher
from metaclip_sql.runtime.heartbeat import Heartbeat


@dataclass
class ExtractJob:
    """What every shard worker needs (`runtime.local.ShardJob`)."""

    matcher: Matcher | LanguageMatchers
    lid: LanguageId | None
    options: ExtractOptions

    @property
    def page_timeout(self) -> float:
        return self.options.page_timeout

    def run(self, shard: Target, skips: dict[int, str], heartbeat: Heartbeat) -> ShardStats:
        return extract_shard(shard, self.options, self.matcher, self.lid, heartbeat, skips)

    def failed(self, shard: Target, message: str) -> ShardStats:
        stats = ShardStats(shard=base_name(shard), status="failed", errors=1)
        stats.messages.append(message)
        return stats

    def discard(self, shard: Target, pid: int | None) -> None:
        """The temporary output of attempt `pid`, or of any attempt no live process holds
        (another run's, or a stale attempt still running elsewhere, stays)."""
        if pid is not None:
            remove_if_free(temp_path(shard, self.options.out_dir, pid))
            return
        folder = temp_path(shard, self.options.out_dir, 0).parent
        for tmp in folder.glob(glob.escape(f".{base_name(shard)}") + ".parquet.*.tmp"):
            with contextlib.suppress(OSError):
                remove_if_free(tmp)

    def __getstate__(self) -> dict:
        # Where workers are spawned, not forked, the model is reloaded there (it is small).
        return {**self.__dict__, "lid": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.lid = self.lid or LanguageId()
