"""Stage 1, extract: WARC/WAT shards in, one Parquet of image-text pairs per shard out.

The data's way through the modules: `members` inflates a shard's gzip members and `warc` frames
its records (damage costs the damaged record, and is reported); `http` undoes what crawlers keep
of HTTP; `records` picks the HTML pages and WAT documents; `html` and `wat` list an image's
texts with resolved URLs; `shard` matches them (`metadata.matching`), identifies their language
(`lid`), dedups and writes the shard's Parquet; `job` is that per-shard work as the runtimes
run it; `run` is the library call behind `metaclip-sql extract`.
"""

from metaclip_sql.extract.run import ExtractSummary, InputError, expand_inputs, run_extract
from metaclip_sql.extract.shard import ExtractOptions, ShardStats, extract_shard, read_stats

__all__ = [
    "ExtractOptions",
    "ExtractSummary",
    "InputError",
    "ShardStats",
    "expand_inputs",
    "extract_shard",
    "read_stats",
    "run_extract",
]
