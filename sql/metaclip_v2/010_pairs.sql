-- Step 1 (worldwide): candidate pairs of every selected language.
-- Inputs:  shards          (view: the extract columns of every input shard, pair_key included,
--                           plus `filename` and `file_row_number`, already restricted to
--                           --valid-uuids when given)
--          balance_params  (one row: langs VARCHAR[] or NULL for every language)
-- Output:  candidates      (view: rows with a matched entry and a selected language)
--          pairs           (view: the candidates, one per distinct (uuid, text) over all shards)
--          duplicate_rows  (table: the candidates dropped as cross-shard duplicates, with their
--                           lang, pair_key and entry_ids, so counts per (lang, entry) and the
--                           dry run's kept counts can subtract them)
-- Grain:   one row per (uuid, text).
--
-- As metaclip_v1/010_pairs.sql, with `lang` kept on the dropped rows: the same pair seen in
-- several shards is kept once, from the row with the smallest `shard`, then the first file by
-- path; pairs are identified by pair_key = md5(uuid || chr(31) || text) (16 fixed bytes); the
-- first pass sorts the keys' first 32 bits over every row to find the prefixes seen more than
-- once, the second ranks the candidates with those prefixes only, by the full key. `lang` is
-- the metadata language extract routed the text to (its entry_ids index that language's list);
-- the same text gets the same language in every shard, so dedup on (uuid, text) never merges
-- two languages.

CREATE OR REPLACE TEMP VIEW candidates AS
SELECT s.*
FROM shards AS s, balance_params AS b
WHERE len(s.entry_ids) > 0
  AND (b.langs IS NULL OR list_contains(b.langs, s.lang));

CREATE OR REPLACE TEMP TABLE duplicate_prefixes AS
SELECT DISTINCT prefix
FROM (
    SELECT prefix, lead(prefix) OVER (ORDER BY prefix) AS next_prefix
    FROM (SELECT (pair_key::UHUGEINT >> 96)::UINTEGER AS prefix FROM shards)
)
WHERE prefix = next_prefix;

CREATE OR REPLACE TEMP TABLE duplicate_rows AS
SELECT filename, file_row_number, lang, pair_key, entry_ids
FROM (
    SELECT
        filename,
        file_row_number,
        lang,
        pair_key,
        entry_ids,
        row_number() OVER (
            PARTITION BY pair_key
            ORDER BY shard, filename, file_row_number
        ) AS rank_in_pair
    FROM candidates AS c
    SEMI JOIN duplicate_prefixes AS d ON (c.pair_key::UHUGEINT >> 96)::UINTEGER = d.prefix
)
WHERE rank_in_pair > 1;

CREATE OR REPLACE TEMP VIEW pairs AS
SELECT c.*
FROM candidates AS c
ANTI JOIN duplicate_rows AS d USING (filename, file_row_number);
