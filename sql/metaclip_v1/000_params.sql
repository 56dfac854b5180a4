-- Step 0: the run's parameters, as a one-row table the later views can read.
-- Inputs:  $langs (VARCHAR[] or NULL for every language), $seed (BIGINT),
--          $entry_modulus (BIGINT: a power of two above every |entry id| in the pool),
--          metaclip_seed_state (macro, sql/common/draws.sql)
-- Output:  balance_params (table: langs, seed, keep_state, pick_state),
--          the variables metaclip_langs (the same langs) and metaclip_entry_modulus,
--          metaclip_entry_slot (macro: entry id -> the same id, bounded by the modulus)
-- Grain:   one row.
-- Views cannot hold prepared parameters, so the parameters live in a table. The seed is mixed
-- here, once, into the states the draws start from. The languages are also a variable: a
-- filter on getvariable() is a constant that DuckDB pushes into the Parquet scan, where a join
-- with balance_params is applied after it (measured: 5.4 s against 7.8 s for the 50M-text
-- counts pass).
-- The steps that count per entry group by metaclip_entry_slot(entry_id), entry_id % modulus.
-- That is the id itself (|id| < modulus), but DuckDB can bound it by the modulus, a constant,
-- and with perfect_ht_threshold raised to match (Python does) counts into an array indexed by
-- the id instead of a hash table: 1.5 against 4.7-5.3 CPU seconds for the 128M ids of 50M
-- texts. Python takes the modulus from the Parquet footers' statistics, or 2^32 (no array)
-- when a file has none.

SET VARIABLE metaclip_langs = $langs::VARCHAR[];

SET VARIABLE metaclip_entry_modulus = $entry_modulus::BIGINT;

CREATE OR REPLACE TEMP MACRO metaclip_entry_slot(entry_id) AS
    entry_id % getvariable('metaclip_entry_modulus');

CREATE OR REPLACE TEMP TABLE balance_params AS
SELECT
    $langs::VARCHAR[] AS langs,
    $seed::BIGINT AS seed,
    metaclip_seed_state($seed::BIGINT, 0) AS keep_state,
    metaclip_seed_state($seed::BIGINT, 1) AS pick_state;
