-- Steps 1b to 6 in one statement (--dry-run, --unit pair, --t, when the candidates fit in
-- memory): dedup, per-entry counts and the number of kept pairs, reading the input once. It
-- stands for common/010, 020, 024, common/040, 045 and 055; 030 still runs after it, on its
-- entry_counts.
-- Inputs:  candidates (common/009_candidates.sql), balance_params (keep_state), $t (DOUBLE > 0),
--          metaclip_prob_lookup and metaclip_v1_kept (007_keep_rule.sql),
--          metaclip_with_u (common/draws.sql), metaclip_key_prefix (common/pair_key.sql),
--          metaclip_entry_slot (001_entry_slot.sql)
-- Output:  dry_run_counts (table, one row: entries, a list of (entry_id, count) with each
--          entry's count over distinct pairs, only entries matched at least once; pairs; kept,
--          the number of kept pairs; duplicates, the candidate rows dropped as duplicates;
--          disagreeing, the duplicated pairs whose copies disagree on entry_ids)
--          entry_counts (as 020_entry_counts.sql), pool_totals (as 020_entry_counts.sql),
--          kept_totals (as 055_kept_total.sql), kept_counts (empty, as 055_kept_total.sql)
-- Grain:   dry_run_counts one row; entry_counts one row per entry.
--
-- The same numbers as the streaming steps (tests compare the two), but DuckDB reads the Parquet
-- once: the candidates' pair_key and entry_ids are materialized in a CTE and every pass reads
-- that. A CTE lives for one statement only, hence one statement, whose one row carries the
-- per-entry counts as a list next to the totals; Python picks this plan only when the estimate
-- fits in half of DuckDB's memory limit, else the streaming steps run.
-- Dedup is counted, not ranked: copies of a pair have the same pair_key, hence the same u, and
-- the same entry_ids (checked: disagreeing), hence the same decision, so which copy is kept
-- does not change any count here. A duplicated pair seen k times adds k - 1 rows to subtract;
-- its rows are found as in common/010_pairs.sql (32-bit prefixes seen twice, then the full key).
-- When copies disagree (disagreeing > 0: shards matched against different metadata) Python
-- discards this result and runs the streaming steps, which keep the first copy by shard and
-- name it. Copies are compared by a 64-bit hash of their lists, cheaper than min/max over the
-- lists themselves (docs/balance.md, "Why the SQL is written this way"); two different lists of
-- one pair hashing alike is a 1 in 2^64 event. Until Python looks, a disagreeing pool must not
-- fail: the lookup is built over every id seen, so no bit or count is read past its end
-- whatever the subtraction left.

CREATE OR REPLACE TEMP TABLE dry_run_counts AS
WITH
candidate_rows AS MATERIALIZED (
    SELECT pair_key, entry_ids FROM candidates
),
repeated_prefixes AS MATERIALIZED (
    SELECT DISTINCT prefix
    FROM (
        SELECT prefix, lead(prefix) OVER (ORDER BY prefix) AS next_prefix
        FROM (SELECT metaclip_key_prefix(pair_key) AS prefix FROM candidate_rows)
    )
    WHERE prefix = next_prefix
),
duplicated AS MATERIALIZED (
    SELECT
        pair_key,
        any_value(entry_ids) AS entry_ids,
        count(*) - 1 AS extra,
        min(hash(entry_ids)) <> max(hash(entry_ids)) AS disagree
    FROM candidate_rows AS c
    SEMI JOIN repeated_prefixes AS d ON metaclip_key_prefix(c.pair_key) = d.prefix
    GROUP BY pair_key
    HAVING count(*) > 1
),
seen AS (
    SELECT entry_id, count(*) AS n
    FROM (SELECT metaclip_entry_slot(unnest(entry_ids)) AS entry_id FROM candidate_rows)
    GROUP BY entry_id
),
dropped AS (
    SELECT entry_id, sum(extra) AS n
    FROM (SELECT metaclip_entry_slot(unnest(entry_ids)) AS entry_id, extra FROM duplicated)
    GROUP BY entry_id
),
per_entry AS MATERIALIZED (
    SELECT seen.entry_id::INTEGER AS entry_id, (seen.n - coalesce(dropped.n, 0))::BIGINT AS count
    FROM seen
    LEFT JOIN dropped USING (entry_id)
),
lookup AS MATERIALIZED (
    SELECT * FROM metaclip_prob_lookup('per_entry', $t::DOUBLE)
),
kept_candidates AS (
    SELECT count(*) AS n
    FROM metaclip_with_u('candidate_rows', (SELECT keep_state FROM balance_params)) AS c,
        lookup AS l
    WHERE metaclip_v1_kept(c.u, c.entry_ids, l.t, l.heads, l.counts)
),
kept_extra AS (
    SELECT coalesce(sum(d.extra), 0) AS n
    FROM metaclip_with_u('duplicated', (SELECT keep_state FROM balance_params)) AS d, lookup AS l
    WHERE metaclip_v1_kept(d.u, d.entry_ids, l.t, l.heads, l.counts)
),
totals AS (
    SELECT
        (SELECT count(*) FROM candidate_rows) AS candidates,
        (SELECT coalesce(sum(extra), 0) FROM duplicated) AS duplicates,
        (SELECT count(*) FILTER (WHERE disagree) FROM duplicated) AS disagreeing,
        (SELECT n FROM kept_candidates) - (SELECT n FROM kept_extra) AS kept
)
SELECT
    (SELECT list({'entry_id': entry_id, 'count': count}) FROM per_entry WHERE count > 0) AS entries,
    (candidates - duplicates)::BIGINT AS pairs,
    kept::BIGINT AS kept,
    duplicates::BIGINT AS duplicates,
    disagreeing::BIGINT AS disagreeing
FROM totals;

CREATE OR REPLACE TEMP TABLE entry_counts AS
SELECT e.entry_id, e.count
FROM (SELECT unnest(entries) AS e FROM dry_run_counts);

CREATE OR REPLACE TEMP TABLE pool_totals AS
SELECT pairs FROM dry_run_counts;

CREATE OR REPLACE TEMP TABLE kept_totals AS
SELECT kept FROM dry_run_counts;

CREATE OR REPLACE TEMP TABLE kept_counts (entry_id INTEGER, kept BIGINT, firsts BIGINT);
