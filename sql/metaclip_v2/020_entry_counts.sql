-- Step 2 (worldwide): how many candidate texts match each entry of each language's list.
-- Inputs:  candidates, duplicate_rows (common/009_candidates.sql, common/010_pairs.sql)
-- Output:  match_counts (table: lang, entry_id INTEGER, count BIGINT, firsts BIGINT: the
--                        language's pairs whose first entry is this one)
--          lang_entry_counts (table: lang, entry_id INTEGER, count BIGINT; entries matched at
--                             least once)
--          lang_totals (table: lang, pairs BIGINT, the language's distinct candidate pairs)
-- Grain:   match_counts and lang_entry_counts one row per (lang, entry); lang_totals one row
--          per language with candidates.
-- Counted as (rows of every candidate) minus (rows dropped as duplicates), and the pairs from
-- the same pass (`firsts`, entry_ids being distinct), as in metaclip_v1/020_entry_counts.sql.
-- Entry ids of different languages are different entries: the key is (lang, entry_id).

CREATE OR REPLACE TEMP TABLE match_counts AS
WITH seen AS (
    SELECT
        lang,
        entry_id,
        count(*) AS n,
        count(*) FILTER (WHERE entry_id = first_id) AS firsts
    FROM (
        SELECT lang, unnest(entry_ids) AS entry_id, entry_ids[1] AS first_id FROM candidates
    )
    GROUP BY lang, entry_id
),
dropped AS (
    SELECT
        lang,
        entry_id,
        count(*) AS n,
        count(*) FILTER (WHERE entry_id = first_id) AS firsts
    FROM (
        SELECT lang, unnest(entry_ids) AS entry_id, entry_ids[1] AS first_id FROM duplicate_rows
    )
    GROUP BY lang, entry_id
)
SELECT
    seen.lang,
    seen.entry_id::INTEGER AS entry_id,
    (seen.n - coalesce(dropped.n, 0))::BIGINT AS count,
    (seen.firsts - coalesce(dropped.firsts, 0))::BIGINT AS firsts
FROM seen
LEFT JOIN dropped USING (lang, entry_id);

CREATE OR REPLACE TEMP TABLE lang_entry_counts AS
SELECT lang, entry_id, count
FROM match_counts
WHERE count > 0;

CREATE OR REPLACE TEMP TABLE lang_totals AS
SELECT lang, sum(firsts)::BIGINT AS pairs
FROM match_counts
GROUP BY lang;
