-- Step 0: the run's parameters, as a one-row table and a variable the later steps read.
-- Inputs:  $langs (VARCHAR[] or NULL for every language), $seed (BIGINT),
--          metaclip_seed_state (macro, common/draws.sql)
-- Output:  balance_params (table, one row: seed, keep_state, pick_state),
--          the variable metaclip_langs (the same langs)
-- Grain:   one row.
-- Views cannot hold prepared parameters, so the parameters live in a table and a variable. The
-- seed is mixed here, once, into the states the draws start from (salt 0: the keep draw, salt
-- 1: the pick of --unit image), the same for every version, so a seed draws the same u for a
-- pair in all of them. The languages are a variable, not a column of balance_params: a filter
-- on getvariable() is a constant that DuckDB pushes into the Parquet scan, where a join with a
-- table is applied after it (common/009_candidates.sql; docs/balance.md, "Why the SQL is
-- written this way").

SET VARIABLE metaclip_langs = $langs::VARCHAR[];

CREATE OR REPLACE TEMP TABLE balance_params AS
SELECT
    $seed::BIGINT AS seed,
    metaclip_seed_state($seed::BIGINT, 0) AS keep_state,
    metaclip_seed_state($seed::BIGINT, 1) AS pick_state;
