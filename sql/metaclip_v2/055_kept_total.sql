-- Step 6 (worldwide, --dry-run, --unit pair): how many pairs each language would keep, deciding
-- every pair but writing none.
-- Inputs:  candidates, duplicate_rows (common/009, common/010), prob_vectors (030),
--          balance_params (keep_state), metaclip_with_u (common/draws.sql),
--          metaclip_v2_kept (007_keep_rule.sql)
-- Output:  kept_totals (table: lang, kept = that language's kept pairs)
--          kept_counts (table: lang, entry_id, kept, firsts as in 060_kept_counts.sql; empty)
-- Grain:   one row per language with a kept candidate.
--
-- Counted as (kept candidates) minus (kept duplicate rows), per language: `pairs` is the
-- candidates less duplicate_rows, and a row's decision depends on that row only (its pair_key,
-- lang and entry_ids), so the difference is the count over `pairs`, and the large side needs no
-- anti-join. A dry run skips the per-entry kept counts (060) to stay cheap: kept_counts stays
-- empty, and entry_counts then has count and prob, and kept is NULL.

CREATE OR REPLACE TEMP TABLE kept_totals AS
WITH kept_candidates AS (
    SELECT c.lang, count(*) AS n
    FROM metaclip_with_u('candidates', (SELECT keep_state FROM balance_params)) AS c
    JOIN prob_vectors AS v USING (lang)
    WHERE metaclip_v2_kept(c.u, c.entry_ids, v.probs)
    GROUP BY c.lang
),
kept_duplicates AS (
    SELECT d.lang, count(*) AS n
    FROM metaclip_with_u('duplicate_rows', (SELECT keep_state FROM balance_params)) AS d
    JOIN prob_vectors AS v USING (lang)
    WHERE metaclip_v2_kept(d.u, d.entry_ids, v.probs)
    GROUP BY d.lang
)
SELECT k.lang, (k.n - coalesce(d.n, 0))::BIGINT AS kept
FROM kept_candidates AS k
LEFT JOIN kept_duplicates AS d USING (lang);

CREATE OR REPLACE TEMP TABLE kept_counts (
    lang VARCHAR, entry_id INTEGER, kept BIGINT, firsts BIGINT
);
