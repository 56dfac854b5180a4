-- Step 6 (worldwide, --dry-run, --unit image): how many images each language would keep,
-- writing none.
-- Inputs:  kept_pairs (045, over common/041_sample_images.sql's sampled_pairs)
-- Output:  kept_totals (table: lang, kept = the kept images whose picked text is of that
--          language)
--          kept_counts (table: lang, entry_id, kept, firsts as in 060_kept_counts.sql; empty)
-- Grain:   one row per language with a kept image.
-- The pick is per image over the deduplicated pairs, so this counts the kept pairs themselves.
-- A dry run skips the per-entry kept counts, as in 055_kept_total.sql.

CREATE OR REPLACE TEMP TABLE kept_totals AS
SELECT lang, count(*)::BIGINT AS kept
FROM kept_pairs
GROUP BY lang;

CREATE OR REPLACE TEMP TABLE kept_counts (
    lang VARCHAR, entry_id INTEGER, kept BIGINT, firsts BIGINT
);
