-- Step 5 (not with --dry-run): write the curated pairs.
-- Inputs:  kept_pairs (view: the pairs kept, from the version's 045_keep.sql), $path (a
--          temporary file name: the caller renames it when every output is complete)
-- Output:  a zstd Parquet file: the extract columns, pair_key included, plus caption = text,
--          readable by `img2dataset --input_format parquet --url_col url --caption_col caption`
-- Grain:   one row per kept pair. Row order is not meant to be relied on (the set of rows is
--          what is reproducible): preserve_insertion_order is off so the write runs in parallel.
-- This is the one place the curated columns are listed.

COPY (
    SELECT
        uuid, url, text, text_key, lang, lang_score, entry_ids, page_url, shard, pair_key,
        text AS caption
    FROM kept_pairs
) TO $path (FORMAT parquet, COMPRESSION zstd);
