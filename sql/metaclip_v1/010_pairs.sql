-- Step 1: candidate pairs.
-- Inputs:  shards          (view: the extract columns of every input shard, plus `filename` and
--                           `file_row_number`, already restricted to --valid-uuids when given)
--          balance_params  (one row: langs VARCHAR[] or NULL for every language)
-- Output:  pairs           (view: the candidate rows, one per distinct (uuid, text) over all shards)
--          duplicate_rows  (table: the rows dropped as cross-shard duplicates, with their entry_ids)
-- Grain:   one row per (uuid, text).
--
-- A candidate is a row with at least one matched entry and a selected language. `extract` writes
-- one row per (uuid, text) per shard; the same pair seen in several shards is kept once, from the
-- row with the smallest `shard` (the crawl file's name), so the choice depends on the data, not
-- on the order the inputs were given in. Rows tied on shard come from the same crawl file
-- extracted twice and are identical but for their file; the first file by path wins.
-- Duplicates are found in two passes: sorting DuckDB's 64-bit hash(uuid, text) finds the few keys
-- seen more than once (a sort of 8-byte keys costs about a quarter less than a group-by with one
-- group per pair), then an exact window over those rows only ranks them. The hash is an
-- accelerator: a collision only adds rows to the exact pass, it never changes the result.

CREATE OR REPLACE TEMP VIEW candidates AS
SELECT s.*
FROM shards AS s, balance_params AS b
WHERE len(s.entry_ids) > 0
  AND (b.langs IS NULL OR list_contains(b.langs, s.lang));

CREATE OR REPLACE TEMP TABLE duplicate_keys AS
SELECT DISTINCT key
FROM (
    SELECT key, lead(key) OVER (ORDER BY key) AS next_key
    FROM (SELECT hash(uuid, text) AS key FROM candidates)
)
WHERE key = next_key;

CREATE OR REPLACE TEMP TABLE duplicate_rows AS
SELECT filename, file_row_number, entry_ids
FROM (
    SELECT
        filename,
        file_row_number,
        entry_ids,
        row_number() OVER (
            PARTITION BY uuid, text
            ORDER BY shard, filename, file_row_number
        ) AS rank_in_pair
    FROM candidates
    WHERE hash(uuid, text) IN (SELECT key FROM duplicate_keys)
)
WHERE rank_in_pair > 1;

CREATE OR REPLACE TEMP VIEW pairs AS
SELECT c.*
FROM candidates AS c
ANTI JOIN duplicate_rows AS d USING (filename, file_row_number);
