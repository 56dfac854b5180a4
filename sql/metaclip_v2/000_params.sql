-- Step 0 (worldwide): the run's parameters, as a one-row table the later views can read.
-- Inputs:  $langs (VARCHAR[] or NULL for every language), $seed (BIGINT)
-- Output:  balance_params (table)
-- Grain:   one row.
-- Views cannot hold prepared parameters, so the parameters live in a table.

CREATE OR REPLACE TEMP TABLE balance_params AS
SELECT $langs::VARCHAR[] AS langs, $seed::BIGINT AS seed;
