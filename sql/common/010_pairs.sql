-- Step 1b: candidate pairs, deduplicated over all shards.
-- Inputs:  shards          (view: every input row, as in 009_candidates.sql)
--          candidates      (view, from 009_candidates.sql)
--          metaclip_key_prefix (macro, common/pair_key.sql)
-- Output:  duplicate_prefixes (table: the 32-bit key prefixes seen more than once)
--          pairs           (view: the candidates, one per distinct (uuid, text) over all shards)
--          duplicate_rows  (table: the candidates dropped as cross-shard duplicates, with their
--                           lang, pair_key and entry_ids, so that counts, per entry or per
--                           (lang, entry), and a dry run's kept totals can subtract them)
-- Grain:   one row per (uuid, text).
--
-- `extract` writes one row per (uuid, text) per shard; the same pair seen in several shards is
-- kept once, from the row with the smallest `shard` (the crawl file's name), so the choice
-- depends on the data, not on the order the inputs were given in. Rows tied on shard come from
-- the same crawl file extracted twice and are identical but for their file; the first file by
-- path wins. `lang` is the language extract gave the text (with a metadata folder, the list its
-- entry_ids index); the same text gets the same language in every shard, so dedup on
-- (uuid, text) never merges two languages.
-- A pair is identified by pair_key = md5(uuid || chr(31) || text), 128 bits: two distinct pairs
-- share one with probability about n^2 / 2^129, under 1e-19 for ten billion pairs. Reading 16
-- fixed bytes instead of two strings is what makes the pass cheap.
-- Two passes: sorting the keys' first 32 bits over every row finds the prefixes seen more than
-- once (no list is read, and 4-byte values sort fast); then a window over the candidate rows
-- with those prefixes ranks them by the full key. Unrelated keys that share a prefix only add
-- rows to the second pass, about n / 2^32 of them; the second pass compares full keys, so the
-- result is exact. The second pass is a SEMI JOIN, not `prefix IN (SELECT ...)`, which plans a
-- slower mark join (docs/balance.md, "Why the SQL is written this way").

CREATE OR REPLACE TEMP TABLE duplicate_prefixes AS
SELECT DISTINCT prefix
FROM (
    SELECT prefix, lead(prefix) OVER (ORDER BY prefix) AS next_prefix
    FROM (SELECT metaclip_key_prefix(pair_key) AS prefix FROM shards)
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
    SEMI JOIN duplicate_prefixes AS d ON metaclip_key_prefix(c.pair_key) = d.prefix
)
WHERE rank_in_pair > 1;

CREATE OR REPLACE TEMP VIEW pairs AS
SELECT c.*
FROM candidates AS c
ANTI JOIN duplicate_rows AS d USING (filename, file_row_number);
