-- Step 5 (not with --dry-run): write the curated pairs.
-- Inputs:  curated (from 040_sample.sql or 041_sample_image.sql of this folder), $path (a
--          temporary file name: the caller renames it when every output is complete)
-- Output:  a zstd Parquet file: the extract columns plus caption, readable by
--          `img2dataset --input_format parquet --url_col url --caption_col caption`
-- Grain:   one row per kept pair. Row order is not meant to be relied on (the set of rows is
--          what is reproducible): preserve_insertion_order is off so the write runs in parallel.

COPY (SELECT * FROM curated) TO $path (FORMAT parquet, COMPRESSION zstd);
