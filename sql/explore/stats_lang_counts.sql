-- Per-language entry counts, for `stats --t-en` (worldwide thresholds).
-- Inputs:  matches (from matches.sql: one row per distinct (uuid, text, entry_id), with lang)
-- Output:  lang_entry_counts (temp table: lang, entry_id, count): the input of
--          sql/metaclip_v2/025_thresholds.sql, which stats runs as balance --worldwide does
-- Grain:   one row per (lang, entry) matched at least once. A worldwide pool's entry ids index
--          each language's own list, so (lang, entry_id) is the entry.

CREATE OR REPLACE TEMP TABLE lang_entry_counts AS
SELECT lang, entry_id, count(*)::BIGINT AS count
FROM matches
GROUP BY lang, entry_id;
