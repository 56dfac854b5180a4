-- Step 6 (--dry-run, --unit pair): how many pairs would be kept, deciding every pair but writing
-- none.
-- Inputs:  candidates, duplicate_rows (common/009_candidates.sql, common/010_pairs.sql),
--          prob_lookup (030_probs.sql), balance_params, metaclip_v1_kept (007_keep_rule.sql)
-- Output:  kept_totals (table, one row: kept = the number of kept pairs)
--          kept_counts (table: entry_id, kept, firsts as in 060_kept_counts.sql; empty)
-- Grain:   one row.
-- Counted as (kept candidates) minus (kept duplicate rows): `pairs` is the candidates less
-- duplicate_rows, and a row's decision depends on that row only (its pair_key and entry_ids), so
-- the difference is the count over `pairs`, and the large side needs no anti-join. A dry run
-- skips the per-entry kept counts (an unnest and group-by over every kept pair) to stay cheap:
-- kept_counts stays empty, and entry_counts then has count and prob, and kept is NULL.

CREATE OR REPLACE TEMP TABLE kept_totals AS
WITH kept_candidates AS (
    SELECT count(*) AS n
    FROM metaclip_with_u('candidates', (SELECT keep_state FROM balance_params)) AS c,
        prob_lookup AS l
    WHERE metaclip_v1_kept(c.u, c.entry_ids, l.t, l.heads, l.counts)
),
kept_duplicates AS (
    SELECT count(*) AS n
    FROM metaclip_with_u('duplicate_rows', (SELECT keep_state FROM balance_params)) AS d,
        prob_lookup AS l
    WHERE metaclip_v1_kept(d.u, d.entry_ids, l.t, l.heads, l.counts)
)
SELECT (kept_candidates.n - kept_duplicates.n)::BIGINT AS kept
FROM kept_candidates, kept_duplicates;

CREATE OR REPLACE TEMP TABLE kept_counts (entry_id INTEGER, kept BIGINT, firsts BIGINT);
