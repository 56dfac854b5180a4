-- The pair key, for extract outputs written without one, and the prefix dedup sorts it by.
-- Inputs:  none
-- Output:  metaclip_pair_key (macro: uuid, text -> UUID),
--          metaclip_key_prefix (macro: pair_key -> UINTEGER, its first 32 bits)
-- Grain:   one value per (uuid, text).
-- The same 16 bytes extract writes in the pair_key column (schema.pair_key): md5 of
-- uuid || chr(31) || text, held as a UUID so it sorts, hashes and stores as 16 fixed bytes.
-- Dedup (common/010_pairs.sql, metaclip_v1/015_dry_run_in_memory.sql) first sorts the keys'
-- first 32 bits to find the prefixes seen more than once, then compares full keys.

CREATE OR REPLACE TEMP MACRO metaclip_pair_key(uuid, text) AS
    md5(concat_ws(chr(31), uuid, text))::UUID;

CREATE OR REPLACE TEMP MACRO metaclip_key_prefix(pair_key) AS
    (pair_key::UHUGEINT >> 96)::UINTEGER;
