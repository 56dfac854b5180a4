-- Per-language entry counts for the report's worldwide thresholds, without another pass over
-- the pool.
-- Inputs:  stats_pairs (stats_pairs.sql: one row per distinct pair, its lang and entry_ids)
-- Output:  lang_entry_counts (temp table: lang, entry_id, count), the input of
--          sql/metaclip_v2/025_thresholds.sql, as stats_lang_counts.sql writes it
-- Grain:   one row per (lang, entry) matched at least once.
-- The same counts as stats_lang_counts.sql (distinct (uuid, text, entry_id) per language),
-- taken from the per-pair table stats already built instead of from `matches`.

CREATE OR REPLACE TEMP TABLE lang_entry_counts AS
SELECT lang, entry_id, count(*)::BIGINT AS count
FROM (SELECT lang, unnest(entry_ids) AS entry_id FROM stats_pairs)
GROUP BY lang, entry_id;
