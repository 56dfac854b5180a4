-- Step 2a: the largest entry id among the rows dropped as duplicates.
-- Inputs:  duplicate_rows (common/010_pairs.sql)
-- Output:  one row: top (INTEGER, NULL when no row was dropped)
-- Grain:   one row.
-- The kept copy of a pair has the same entry_ids as its dropped copies when every shard was
-- matched against the same metadata, so every dropped id is also counted. When this top is
-- above the largest counted id, shards disagree on a pair's entries; Python stops with that
-- message instead of letting the sample step index past the end of its per-entry lookups.

SELECT max(list_max(entry_ids))::INTEGER AS top
FROM duplicate_rows;
