-- The pair key, for extract outputs written without one.
-- Inputs:  none
-- Output:  metaclip_pair_key (macro: uuid, text -> UUID)
-- Grain:   one value per (uuid, text).
-- The same 16 bytes extract writes in the pair_key column (schema.pair_key): md5 of
-- uuid || chr(31) || text, held as a UUID so it sorts, hashes and stores as 16 fixed bytes.

CREATE OR REPLACE TEMP MACRO metaclip_pair_key(uuid, text) AS
    md5(concat_ws(chr(31), uuid, text))::UUID;
