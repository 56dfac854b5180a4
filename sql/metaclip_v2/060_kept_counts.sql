-- Step 6 (worldwide): how many kept pairs match each (lang, entry).
-- Inputs:  kept_rows (view over the curated.parquet just written)
-- Output:  kept_counts (table: lang, entry_id INTEGER, kept BIGINT, firsts BIGINT: the kept
--                       pairs whose first entry is this one, as in 020_entry_counts.sql)
--          kept_totals (table: lang, kept = the language's kept pairs, the sum of its firsts)
-- Grain:   kept_counts one row per (lang, entry); kept_totals one row per language.

CREATE OR REPLACE TEMP TABLE kept_counts AS
SELECT
    lang,
    entry_id::INTEGER AS entry_id,
    count(*)::BIGINT AS kept,
    count(*) FILTER (WHERE entry_id = first_id)::BIGINT AS firsts
FROM (SELECT lang, unnest(entry_ids) AS entry_id, entry_ids[1] AS first_id FROM kept_rows)
GROUP BY lang, entry_id;

CREATE OR REPLACE TEMP TABLE kept_totals AS
SELECT lang, sum(firsts)::BIGINT AS kept
FROM kept_counts
GROUP BY lang;
