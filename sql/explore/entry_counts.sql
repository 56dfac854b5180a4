-- View `entry_counts` over extract outputs: how many texts match each entry, over all shards.
-- Inputs:  matches (from matches.sql), metadata (from metadata.sql)
-- Output:  entry_counts (view: entry_id INTEGER, entry VARCHAR, count BIGINT)
-- Grain:   one row per entry matched at least once. `count` is the number of distinct
--          (uuid, text) pairs matching it, whatever the language: MetaCLIP's entry_count before
--          any language filter (`balance --lang` counts the selected languages only).
-- `entry` is NULL for an id beyond the metadata list (the pool was extracted with another list).

CREATE OR REPLACE VIEW entry_counts AS
SELECT c.entry_id, m.entry, c.count
FROM (SELECT entry_id, count(*) AS count FROM matches GROUP BY entry_id) AS c
LEFT JOIN metadata AS m USING (entry_id);
