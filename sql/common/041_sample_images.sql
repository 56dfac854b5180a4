-- Step 4a (--unit image, MetaCLIP 2's unit): one text per image is decided.
-- Inputs:  pairs (from 010_pairs.sql), balance_params (pick_state, common/000_params.sql),
--          metaclip_pick (common/draws.sql)
-- Output:  image_texts   (view: uuid, pair_key of the text picked per image)
--          sampled_pairs (view: the pairs the keep rule decides, one per image)
-- Grain:   one row per image.
--
-- The picked text is the one with the smallest metaclip_pick (the high 64 bits of pair_key
-- mixed with pick_state): uniform over the image's candidate texts (of every selected language
-- together, as the reference's random.choice over an image's matched texts), fixed by the seed,
-- independent of the keep draw, which reads the other half of the key. The version's
-- 045_keep.sql then keeps it with probability 1 - prod(1 - prob) over its entries. Entry counts
-- are over all texts (step 2), as in the reference.

CREATE OR REPLACE TEMP VIEW image_texts AS
SELECT
    p.uuid,
    arg_min(p.pair_key, metaclip_pick(p.pair_key, b.pick_state)) AS pair_key
FROM pairs AS p, balance_params AS b
GROUP BY p.uuid;

CREATE OR REPLACE TEMP VIEW sampled_pairs AS
SELECT p.*
FROM pairs AS p
SEMI JOIN image_texts AS i USING (uuid, pair_key);
