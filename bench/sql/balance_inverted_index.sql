-- The reference's input for bench/balance.py: the (entry_id, text_id) rows of the whole pool.
-- Inputs:  pool (view over the pool's shards, in file order)
-- Output:  entry_id UINTEGER, text_id UINTEGER (what MetaCLIP's *_inverted.npy holds)
-- Grain:   one row per (text, entry).

SELECT unnest(entry_ids)::UINTEGER AS entry_id, text_id::UINTEGER AS text_id
FROM (SELECT entry_ids, row_number() OVER () - 1 AS text_id FROM pool);
