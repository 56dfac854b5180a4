-- Step 6 (worldwide, --dry-run, --unit image): how many images each language would keep,
-- writing none.
-- Inputs:  curated (041)
-- Output:  kept_counts (table: lang, entry_id -1, kept = the kept images whose picked text is
--          of that language)
-- Grain:   one row per language with a kept image.
-- The pick is per image over the deduplicated pairs, so this counts the curated view itself.

CREATE OR REPLACE TEMP TABLE kept_counts AS
SELECT lang, -1::INTEGER AS entry_id, count(*)::BIGINT AS kept
FROM curated
GROUP BY lang;
