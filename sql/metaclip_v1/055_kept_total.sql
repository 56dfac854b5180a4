-- Step 6 (--dry-run, --unit pair): how many pairs would be kept, deciding every pair but writing
-- none.
-- Inputs:  candidates, duplicate_rows (from 010_pairs.sql), prob_lookup (from 030_probs.sql),
--          balance_params, the macros of 040_sample.sql
-- Output:  kept_counts (table, one row: entry_id -1, kept = the number of kept pairs)
-- Grain:   one row.
-- Counted as (kept candidates) minus (kept duplicate rows): `pairs` is the candidates less
-- duplicate_rows, and a row's decision depends on that row only (its pair_key and entry_ids), so
-- the difference is the count over `pairs`, and the large side needs no anti-join. A dry run
-- skips the per-entry kept counts (an unnest and group-by over every kept pair) to stay cheap;
-- entry_counts then has count and prob, and kept is NULL.

CREATE OR REPLACE TEMP TABLE kept_counts AS
WITH kept_candidates AS (
    SELECT count(*) AS n
    FROM candidates AS c, prob_lookup AS l, balance_params AS b
    WHERE metaclip_kept(metaclip_u(c.pair_key, b.keep_state), c.entry_ids, l.t, l.heads, l.counts)
),
kept_duplicates AS (
    SELECT count(*) AS n
    FROM duplicate_rows AS d, prob_lookup AS l, balance_params AS b
    WHERE metaclip_kept(metaclip_u(d.pair_key, b.keep_state), d.entry_ids, l.t, l.heads, l.counts)
)
SELECT -1::INTEGER AS entry_id, (kept_candidates.n - kept_duplicates.n)::BIGINT AS kept
FROM kept_candidates, kept_duplicates;
