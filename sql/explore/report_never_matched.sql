-- Metadata entries that no text of the pool matched: how many, and the first few.
-- Inputs:  metadata (metadata.sql), entry_counts (materialized by stats_prepare.sql), $limit
-- Output:  entry_id, entry, never_matched (the total, on every row)
-- Grain:   one row per entry shown: at most $limit, by entry_id.

WITH never AS (
    SELECT m.entry_id, m.entry
    FROM metadata AS m
    ANTI JOIN entry_counts AS e USING (entry_id)
)
SELECT entry_id, entry, (SELECT count(*) FROM never) AS never_matched
FROM never
ORDER BY entry_id
LIMIT $limit;
