-- Macro `t_to_p(t)`: the tail proportion at threshold t, as the reference's t_to_p.
-- Inputs:  entry_counts (view from entry_counts.sql or entry_counts_balance.sql; bound when the
--          macro is called, so a materialized entry_counts table is used when there is one)
-- Output:  t_to_p(t) -> DOUBLE: the share of all matches held by entries with count < t
--          (0.0 when there are no matches).
-- Grain:   one value per call.
-- Its inverse, p_to_t, is balance's sql/metaclip_v1/025_p_to_t.sql, which explore runs as is.

CREATE OR REPLACE MACRO t_to_p(t) AS (
    SELECT coalesce(sum(count) FILTER (WHERE count < t) / sum(count), 0.0)
    FROM entry_counts
);
