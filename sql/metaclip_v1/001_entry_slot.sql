-- Step 0 (MetaCLIP 1): what the per-entry counts group by.
-- Inputs:  $entry_modulus (BIGINT: a power of two above every |entry id| in the pool)
-- Output:  the variable metaclip_entry_modulus,
--          metaclip_entry_slot (macro: entry id -> the same id, bounded by the modulus)
-- Grain:   one value per call.
-- The steps that count per entry (015, 020, 060) group by metaclip_entry_slot(entry_id),
-- entry_id % modulus. That is the id itself (|id| < modulus), but DuckDB can bound it by the
-- modulus, a constant, and with perfect_ht_threshold raised to match (entry_slots.py does)
-- counts into an array indexed by the id instead of a hash table. Python takes the modulus from
-- the Parquet footers' statistics, or 2^32 (no array) when a file has none.

SET VARIABLE metaclip_entry_modulus = $entry_modulus::BIGINT;

CREATE OR REPLACE TEMP MACRO metaclip_entry_slot(entry_id) AS
    entry_id % getvariable('metaclip_entry_modulus');
