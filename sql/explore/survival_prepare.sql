-- The pool as the survival plan reads it: each matched pair with its image and the counts of
-- its entries.
-- Inputs:  stats_pairs (stats_pairs.sql), entry_counts (materialized by stats_prepare.sql)
-- Output:  survival_pairs (temp table: pair_id, image_id BIGINT (a number per uuid), texts (the
--          image's pairs here), ids INTEGER[], counts BIGINT[])
-- Grain:   one row per distinct (uuid, text) with at least one counted entry (a balance
--          candidate); ids and counts in the same order.
-- Built once per pool, read once per t_before the plan tries: grouped by pair_id alone (uuid
-- rides along; grouping by both took 4x as long), images numbered so that each try groups
-- integers rather than uuid strings.

CREATE OR REPLACE TEMP TABLE survival_pairs AS
WITH counted AS MATERIALIZED (
    SELECT s.pair_id, any_value(s.uuid) AS uuid, list(e.entry_id) AS ids, list(e.count) AS counts
    FROM (SELECT pair_id, uuid, unnest(entry_ids) AS entry_id FROM stats_pairs) AS s
    JOIN entry_counts AS e USING (entry_id)
    GROUP BY s.pair_id
),
images AS (
    SELECT uuid, count(*) AS texts, row_number() OVER () AS image_id
    FROM counted
    GROUP BY uuid
)
SELECT c.pair_id, i.image_id, i.texts, c.ids, c.counts
FROM counted AS c
JOIN images AS i USING (uuid);
