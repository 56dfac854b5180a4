-- View `metadata`: the metadata list whose positions are the entry ids.
-- Inputs:  metadata_entries (entry_id INTEGER, entry VARCHAR: the list of --metadata, or the
--          bundled one; empty when no list is known), registered by explore.py
-- Output:  metadata (view: entry_id INTEGER, entry VARCHAR)
-- Grain:   one row per entry of the list, including entries that never matched.

CREATE OR REPLACE VIEW metadata AS
SELECT entry_id, entry
FROM metadata_entries;
