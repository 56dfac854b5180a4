-- Step 7: the per-entry table users choose t from and check the result against.
-- Inputs:  entry_probs (030_probs.sql), kept_counts (060_kept_counts.sql or 065; empty in a
--          dry run),
--          metadata_entries (view: entry_id, entry; empty when no metadata list is known),
--          $path (a temporary file name), $with_kept (false in a dry run: kept is then NULL)
-- Output:  a zstd Parquet file: entry_id, entry, count, prob, kept
-- Grain:   one row per entry matched at least once, by entry_id.

COPY (
    SELECT
        p.entry_id,
        m.entry,
        p.count,
        p.prob,
        CASE WHEN $with_kept THEN coalesce(k.kept, 0) END::BIGINT AS kept
    FROM entry_probs AS p
    LEFT JOIN metadata_entries AS m USING (entry_id)
    LEFT JOIN kept_counts AS k USING (entry_id)
    ORDER BY p.entry_id
) TO $path (FORMAT parquet, COMPRESSION zstd);
