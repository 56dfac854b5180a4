-- Step 4a (--unit pair, MetaCLIP 1's unit): every pair is decided on its own.
-- Inputs:  pairs (from 010_pairs.sql)
-- Output:  sampled_pairs (view: the pairs the keep rule decides; here all of them)
-- Grain:   one row per (uuid, text).
-- The version's 045_keep.sql then keeps each with probability 1 - prod(1 - prob) over its
-- entries. --unit image runs 041_sample_images.sql instead.

CREATE OR REPLACE TEMP VIEW sampled_pairs AS
SELECT *
FROM pairs;
