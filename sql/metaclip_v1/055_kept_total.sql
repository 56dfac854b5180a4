-- Step 6 (--dry-run, --unit pair): how many pairs would be kept, deciding every pair but writing
-- none.
-- Inputs:  candidates, duplicate_rows (from 010_pairs.sql), prob_lookup (from 030_probs.sql),
--          balance_params, metaclip_kept (007_keep_rule.sql)
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
    FROM metaclip_with_u('candidates', (SELECT keep_state FROM balance_params)) AS c,
        prob_lookup AS l
    WHERE metaclip_kept(c.u, c.entry_ids, l.t, l.heads, l.counts)
),
kept_duplicates AS (
    SELECT count(*) AS n
    FROM metaclip_with_u('duplicate_rows', (SELECT keep_state FROM balance_params)) AS d,
        prob_lookup AS l
    WHERE metaclip_kept(d.u, d.entry_ids, l.t, l.heads, l.counts)
)
SELECT -1::INTEGER AS entry_id, (kept_candidates.n - kept_duplicates.n)::BIGINT AS kept
FROM kept_candidates, kept_duplicates;
