-- Step 1a (only with --distributor ray): route a group of shards' candidate rows to partitions.
-- Inputs:  candidates      (view, common/009_candidates.sql, over one group of input shards)
--          $partitions     (INTEGER >= 1), $path (a directory, written once, renamed when done)
-- Output:  zstd Parquet files $path/part=K/*.parquet: the candidate rows, with filename and
--          file_row_number, for K in [0, $partitions)
-- Grain:   one row per input row that is a candidate.
--
-- K is DuckDB's hash of the uuid modulo $partitions, so every copy of a (uuid, text), and every
-- text of an image (--unit image picks one per image), lands in the same partition, where
-- common/010_pairs.sql dedups it as it would over the whole pool. DuckDB's hash() is cheap, but
-- it is only the same across the cluster when every map task runs the same DuckDB version,
-- which the driver checks. Only candidates are written (the count and sample tasks apply the
-- candidates' filter again), so rows no step reads are not moved at all. The files are
-- temporary: zstd at level 1 (docs/balance.md, "Why the SQL is written this way").

COPY (
    SELECT c.*, (hash(c.uuid) % $partitions)::INTEGER AS part
    FROM candidates AS c
) TO $path (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, PARTITION_BY (part));
