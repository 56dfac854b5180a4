-- One row per distinct pair, the base of the pool-level statistics (read the pool once).
-- Inputs:  pairs (from pairs.sql)
-- Output:  stats_pairs (temp table: pair_id BIGINT, uuid VARCHAR, lang VARCHAR, copies BIGINT,
--          entry_ids INTEGER[] distinct over the copies, matches BIGINT = len(entry_ids))
-- Grain:   one row per distinct (uuid, text); `copies` is how many shards held it.

CREATE OR REPLACE TEMP TABLE stats_pairs AS
SELECT
    row_number() OVER () AS pair_id,
    uuid,
    lang,
    copies,
    entry_ids,
    len(entry_ids) AS matches
FROM (
    SELECT
        uuid,
        min(lang) AS lang,
        count(*) AS copies,
        list_sort(list_distinct(flatten(list(entry_ids)))) AS entry_ids
    FROM pairs
    GROUP BY uuid, text
);
