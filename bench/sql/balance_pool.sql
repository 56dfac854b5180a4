-- One shard of a synthetic pool in the extract schema, for bench/balance.py.
-- Inputs:  metaclip_pair_key (macro, sql/common/pair_key.sql),
--          $lo, $hi (text ids of this shard's own pairs), $dup_lo, $dup_hi (text ids of the
--          previous shard, a share of which is repeated here), $dup_permille, $entries,
--          $shard (shard name), $path (output file)
-- Output:  a zstd Parquet file
-- Grain:   one row per (uuid, text) of the shard.
-- Text id j belongs to image j * 2 // 3 (about 1.5 texts an image). Entries: 1 to 10 a text
-- (mean about 2.5), the r-th most popular drawn with P ~ 1 / r over $entries entries (Zipf-like)
-- and given id r * 7919 mod $entries, so popularity is not in id order (as in real metadata;
-- 7919 is prime, so this is a permutation when $entries has no factor 7919).
-- Pseudo-random numbers come from hash(j * 1024 + salt), one murmur-style hash of a distinct
-- integer per (text, salt) (hash(j, salt) would combine two hashes and make the salts
-- correlated): fixed for a DuckDB version, which is all a benchmark needs. uuid is md5 of the
-- url here (extract uses sha224): same shape, cheaper.

CREATE OR REPLACE TEMP MACRO bench_hash(j, salt) AS hash(j * 1024 + salt);

COPY (
    WITH ids AS (
        SELECT range AS j, false AS dup FROM range($lo, $hi)
        UNION ALL
        SELECT range AS j, true AS dup FROM range($dup_lo, $dup_hi)
        WHERE bench_hash(range, 77) % 1000 < $dup_permille
    ),
    drawn AS (
        SELECT
            j,
            dup,
            j * 2 // 3 AS image,
            1 + least(9, floor(-ln(1.0 - bench_hash(j, 1) / 18446744073709551616.0) * 2.0)::INTEGER)
                AS n_entries,
            ['red', 'blue', 'vintage', 'photo', 'of', 'a', 'the', 'with', 'and', 'man', 'woman',
             'dog', 'cat', 'house', 'car', 'tree', 'city', 'beach', 'logo', 'icon', 'black',
             'white', 'wooden', 'table', 'chair', 'kitchen', 'garden', 'mountain', 'river',
             'sunset', 'wedding', 'dress', 'shoes', 'book', 'cover', 'poster', 'art', 'design',
             'modern', 'old', 'new', 'small', 'large', 'family', 'child', 'food', 'pizza',
             'coffee', 'flowers', 'map'] AS words
        FROM ids
    ),
    pairs AS (
        SELECT
            substr(md5('https://cdn' || (image % 997) || '.example.com/img/' || image || '.jpg'), 1, 24)
                AS uuid,
            'https://cdn' || (image % 997) || '.example.com/img/' || image || '.jpg' AS url,
            array_to_string(
                [
                    words[(1 + bench_hash(j, 100 + k) % 50)::BIGINT]
                    FOR k IN range((3 + bench_hash(j, 2) % 6)::BIGINT)
                ],
                ' '
            ) || ' ' || j AS text,
            CASE WHEN bench_hash(j, 3) % 10 < 8 THEN 'alt' ELSE 'title' END AS text_key,
            'en' AS lang,
            (0.5 + (bench_hash(j, 4) % 500) / 1000.0)::FLOAT AS lang_score,
            list_sort(list_distinct([
                ((floor(exp(bench_hash(j, 10 + k) / 18446744073709551616.0 * ln($entries + 1.0))) - 1)
                    * 7919 % $entries)::INTEGER
                FOR k IN range(n_entries)
            ])) AS entry_ids,
            'https://www.site' || (image % 200003) || '.com/' || (CASE WHEN dup THEN 'also/' ELSE '' END)
                || 'page/' || (j // 7) AS page_url,
            $shard AS shard
        FROM drawn
    )
    SELECT *, metaclip_pair_key(uuid, text) AS pair_key FROM pairs
) TO $path (FORMAT parquet, COMPRESSION zstd);
