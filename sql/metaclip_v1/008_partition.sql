-- Step 1a (only with --distributor ray): route a group of shards' candidate rows to partitions.
-- Inputs:  shards          (view: as in 010_pairs.sql, for one group of input shards)
--          balance_params  (one row: langs VARCHAR[] or NULL for every language)
--          $partitions     (INTEGER >= 1), $path (a directory, written once, renamed when done)
-- Output:  zstd Parquet files $path/part=K/*.parquet: the rows of `shards` that are candidates,
--          with filename and file_row_number, for K in [0, $partitions)
-- Grain:   one row per input row that is a candidate.
--
-- K is DuckDB's hash of the uuid modulo $partitions, so every copy of a (uuid, text), and every
-- text of an image (--unit image picks one per image), lands in the same partition, where
-- 010_pairs.sql dedups it as it would over the whole pool. hash() is about fifty times cheaper
-- than md5_number() here; it is only the same across the cluster when every map task runs the
-- same DuckDB version, which the driver checks. The WHERE is candidates' own filter (010_pairs.sql
-- applies it again), run here so that rows no step reads are not moved at all. The files are
-- temporary: zstd level 1 writes faster than the default level and smaller than snappy.

COPY (
    SELECT s.*, (hash(s.uuid) % $partitions)::INTEGER AS part
    FROM shards AS s, balance_params AS b
    WHERE len(s.entry_ids) > 0
      AND (b.langs IS NULL OR list_contains(b.langs, s.lang))
) TO $path (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, PARTITION_BY (part));
