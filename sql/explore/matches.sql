-- View `matches`: which entries each text matched, deduplicated across shards.
-- Inputs:  pairs (from pairs.sql)
-- Output:  matches (view: uuid VARCHAR, text VARCHAR, lang VARCHAR, entry_id INTEGER)
-- Grain:   one row per distinct (uuid, text, entry_id). Texts that matched nothing have no row.
-- A pair extracted from several shards has the same entries in each; grouping keeps one row.
-- Language identification is deterministic, so `lang` agrees across copies; min() picks one
-- should two extract runs with different models disagree.

CREATE OR REPLACE VIEW matches AS
SELECT uuid, text, min(lang) AS lang, entry_id
FROM (SELECT uuid, text, lang, unnest(entry_ids) AS entry_id FROM pairs)
GROUP BY uuid, text, entry_id;
