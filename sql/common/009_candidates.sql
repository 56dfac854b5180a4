-- Step 1a: the rows balancing looks at.
-- Inputs:  shards          (view: the extract columns of every input shard, pair_key included,
--                           plus `filename` and `file_row_number`, already restricted to
--                           --valid-uuids when given)
--          metaclip_langs  (variable, common/000_params.sql: VARCHAR[], or NULL for every
--                           language)
-- Output:  candidates      (view: rows with a matched entry and a selected language)
-- Grain:   one row per input row; the same (uuid, text) may still appear in several shards.
-- The language filter reads the variable, not a table, so DuckDB pushes it into the scan.

CREATE OR REPLACE TEMP VIEW candidates AS
SELECT s.*
FROM shards AS s
WHERE len(s.entry_ids) > 0
  AND (
    getvariable('metaclip_langs') IS NULL
    OR list_contains(getvariable('metaclip_langs'), s.lang)
  );
