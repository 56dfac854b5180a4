-- View `pairs`: the extract rows of every extract output given with --data, as written.
-- Inputs:  shards (view over the extract Parquet files, defined by explore.py or the shell's
--          init script)
-- Output:  pairs (view: uuid, url, text, text_key, lang, lang_score, entry_ids, page_url, shard)
-- Grain:   one row per (uuid, text) per shard. A pair seen in two shards is two rows here;
--          `matches` and `entry_counts` count it once. A text that matched no entry has an empty
--          entry_ids (written by `extract --keep-unmatched`).

CREATE OR REPLACE VIEW pairs AS
SELECT uuid, url, text, text_key, lang, lang_score, entry_ids, page_url, shard
FROM shards;
