-- View `entry_counts` over a balance output: the counts balance used, as it wrote them.
-- Inputs:  balance_entry_counts (view over <balance out>/entry_counts.parquet)
-- Output:  entry_counts (view: entry_id INTEGER, entry VARCHAR, count BIGINT, prob DOUBLE,
--          kept BIGINT)
-- Grain:   one row per entry matched at least once among the pairs balance selected (its
--          --lang and --valid-uuids applied, cross-shard duplicates counted once).

CREATE OR REPLACE VIEW entry_counts AS
SELECT *
FROM balance_entry_counts;
