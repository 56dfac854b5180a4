-- Step 1 (worldwide): candidate pairs of every selected language.
-- Inputs:  shards          (view: the extract columns of every input shard, plus `filename` and
--                           `file_row_number`, already restricted to --valid-uuids when given)
--          balance_params  (one row: langs VARCHAR[] or NULL for every language)
-- Output:  pairs           (view: the candidate rows, one per distinct (uuid, text) over all shards)
--          duplicate_rows  (table: the rows dropped as cross-shard duplicates, with lang and
--                           entry_ids, so counts per (lang, entry) can subtract them)
-- Grain:   one row per (uuid, text).
--
-- As metaclip_v1/010_pairs.sql, with `lang` kept on the dropped rows. `lang` is the metadata
-- language extract routed the text to (its entry_ids index that language's list); the same text
-- gets the same language in every shard, so dedup on (uuid, text) never merges two languages.

CREATE OR REPLACE TEMP VIEW candidates AS
SELECT s.*
FROM shards AS s, balance_params AS b
WHERE len(s.entry_ids) > 0
  AND (b.langs IS NULL OR list_contains(b.langs, s.lang));

CREATE OR REPLACE TEMP TABLE duplicate_keys AS
SELECT hash(uuid, text) AS key
FROM candidates
GROUP BY key
HAVING count(*) > 1;

CREATE OR REPLACE TEMP TABLE duplicate_rows AS
SELECT filename, file_row_number, lang, entry_ids
FROM (
    SELECT
        filename,
        file_row_number,
        lang,
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
