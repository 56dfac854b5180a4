-- Step 7 (worldwide): the per-(lang, entry) table to check each language's result against.
-- Inputs:  entry_probs (030), kept_counts (060; empty in a dry run), metadata_entries (view:
--          lang, entry_id, entry; empty when no metadata folder is given), $path (a temporary
--          file name), $with_kept (false in a dry run: kept is then NULL)
-- Output:  a zstd Parquet file: lang, entry_id, entry, count, prob, kept
-- Grain:   one row per (lang, entry) matched at least once, by lang then entry_id.

COPY (
    SELECT
        p.lang,
        p.entry_id,
        m.entry,
        p.count,
        p.prob,
        CASE WHEN $with_kept THEN coalesce(k.kept, 0) END::BIGINT AS kept
    FROM entry_probs AS p
    LEFT JOIN metadata_entries AS m USING (lang, entry_id)
    LEFT JOIN kept_counts AS k USING (lang, entry_id)
    ORDER BY p.lang, p.entry_id
) TO $path (FORMAT parquet, COMPRESSION zstd);
