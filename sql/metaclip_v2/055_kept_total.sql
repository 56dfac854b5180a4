-- Step 6 (worldwide, --dry-run, --unit pair): how many pairs each language would keep, deciding
-- every pair but writing none.
-- Inputs:  candidates, duplicate_rows (010), prob_vectors (030), balance_params (keep_state),
--          the macros of 040_sample.sql and of sql/common/draws.sql
-- Output:  kept_counts (table: lang, entry_id -1, kept = that language's kept pairs)
-- Grain:   one row per language with a kept candidate.
--
-- Counted as (kept candidates) minus (kept duplicate rows), per language: `pairs` is the
-- candidates less duplicate_rows, and a row's decision depends on that row only (its pair_key,
-- lang and entry_ids), so the difference is the count over `pairs`, and the large side needs no
-- anti-join. A dry run skips the per-entry kept counts (060) to stay cheap; entry_counts then has
-- count and prob, and kept is NULL.

CREATE OR REPLACE TEMP TABLE kept_counts AS
WITH kept_candidates AS (
    SELECT c.lang, count(*) AS n
    FROM metaclip_with_u('candidates', (SELECT keep_state FROM balance_params)) AS c
    JOIN prob_vectors AS v USING (lang)
    WHERE metaclip_kept(c.u, c.entry_ids, v.probs)
    GROUP BY c.lang
),
kept_duplicates AS (
    SELECT d.lang, count(*) AS n
    FROM metaclip_with_u('duplicate_rows', (SELECT keep_state FROM balance_params)) AS d
    JOIN prob_vectors AS v USING (lang)
    WHERE metaclip_kept(d.u, d.entry_ids, v.probs)
    GROUP BY d.lang
)
SELECT
    k.lang,
    -1::INTEGER AS entry_id,
    (k.n - coalesce(d.n, 0))::BIGINT AS kept
FROM kept_candidates AS k
LEFT JOIN kept_duplicates AS d USING (lang);
