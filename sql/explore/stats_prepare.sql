-- Materialize entry counts once for `stats` and `plot`, which read them several times.
-- Inputs:  entry_counts (view from entry_counts.sql or entry_counts_balance.sql)
-- Output:  temp.entry_counts (temp table, same columns): it shadows the view for the rest of
--          the session, so t_to_p() and balance's 025_p_to_t.sql read it instead of recounting
--          the pool on every call.
-- Grain:   one row per entry matched at least once.

CREATE OR REPLACE TEMP TABLE entry_counts AS
SELECT *
FROM main.entry_counts;
