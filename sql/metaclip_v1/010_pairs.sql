-- Step 1: candidate pairs.
-- Inputs:  shards          (view: the extract columns of every input shard, pair_key included,
--                           plus `filename` and `file_row_number`, already restricted to
--                           --valid-uuids when given)
--          metaclip_langs  (variable: VARCHAR[], or NULL for every language)
-- Output:  candidates      (view: rows with a matched entry and a selected language)
--          pairs           (view: the candidates, one per distinct (uuid, text) over all shards)
--          duplicate_rows  (table: the candidates dropped as cross-shard duplicates, with their
--                           pair_key and entry_ids)
-- Grain:   one row per (uuid, text).
--
-- `extract` writes one row per (uuid, text) per shard; the same pair seen in several shards is
-- kept once, from the row with the smallest `shard` (the crawl file's name), so the choice
-- depends on the data, not on the order the inputs were given in. Rows tied on shard come from
-- the same crawl file extracted twice and are identical but for their file; the first file by
-- path wins.
-- A pair is identified by pair_key = md5(uuid || chr(31) || text), 128 bits: two distinct pairs
-- share one with probability about n^2 / 2^129, under 1e-19 for ten billion pairs. Reading 16
-- fixed bytes instead of two strings is what makes the pass cheap.
-- Two passes: sorting the keys' first 64 bits finds the few seen more than once (a sort of
-- 8-byte keys costs less than a group-by with one group per pair); then a window over the rows
-- with those keys only ranks them. The first pass looks at every row, not only candidates, so it
-- reads no list; the second ranks candidates only, so non-candidate copies never count.

CREATE OR REPLACE TEMP VIEW candidates AS
SELECT s.*
FROM shards AS s
WHERE len(s.entry_ids) > 0
  AND (
    getvariable('metaclip_langs') IS NULL
    OR list_contains(getvariable('metaclip_langs'), s.lang)
  );

CREATE OR REPLACE TEMP TABLE duplicate_prefixes AS
SELECT DISTINCT prefix
FROM (
    SELECT prefix, lead(prefix) OVER (ORDER BY prefix) AS next_prefix
    FROM (SELECT (pair_key::UHUGEINT >> 64)::UBIGINT AS prefix FROM shards)
)
WHERE prefix = next_prefix;

CREATE OR REPLACE TEMP TABLE duplicate_rows AS
SELECT filename, file_row_number, pair_key, entry_ids
FROM (
    SELECT
        filename,
        file_row_number,
        pair_key,
        entry_ids,
        row_number() OVER (
            PARTITION BY pair_key
            ORDER BY shard, filename, file_row_number
        ) AS rank_in_pair
    FROM candidates
    WHERE (pair_key::UHUGEINT >> 64)::UBIGINT IN (SELECT prefix FROM duplicate_prefixes)
)
WHERE rank_in_pair > 1;

CREATE OR REPLACE TEMP VIEW pairs AS
SELECT c.*
FROM candidates AS c
ANTI JOIN duplicate_rows AS d USING (filename, file_row_number);
