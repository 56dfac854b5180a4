-- View `curated`: the pairs a balance run kept.
-- Inputs:  balance_curated (view over <balance out>/curated.parquet, a file or a folder of parts)
-- Output:  curated (view: the extract columns plus caption)
-- Grain:   one row per kept (uuid, text).

CREATE OR REPLACE VIEW curated AS
SELECT *
FROM balance_curated;
