-- The I/O floor for bench/balance.py: read every column of the pool, write one zstd Parquet.
-- Inputs:  pool (view over the pool's shards), $path
-- Output:  a zstd Parquet file
-- Grain:   one row per input row.

COPY (SELECT * FROM pool) TO $path (FORMAT parquet, COMPRESSION zstd);
