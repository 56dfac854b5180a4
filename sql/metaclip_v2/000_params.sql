-- Step 0 (worldwide): the run's parameters, as a one-row table the later views can read.
-- Inputs:  $langs (VARCHAR[] or NULL for every language), $seed (BIGINT),
--          metaclip_seed_state (macro, sql/common/draws.sql)
-- Output:  balance_params (table: langs, seed, keep_state, pick_state)
-- Grain:   one row.
-- Views cannot hold prepared parameters, so the parameters live in a table. The seed is mixed
-- here, once, into the states the draws start from, with metaclip_v1's salts (0: the keep
-- draw, 1: the pick of --unit image), so a seed draws the same u for a pair in both versions.

CREATE OR REPLACE TEMP TABLE balance_params AS
SELECT
    $langs::VARCHAR[] AS langs,
    $seed::BIGINT AS seed,
    metaclip_seed_state($seed::BIGINT, 0) AS keep_state,
    metaclip_seed_state($seed::BIGINT, 1) AS pick_state;
