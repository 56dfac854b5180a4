-- The hash every balancing draw comes from (metaclip_v1 and metaclip_v2).
-- Inputs:  none
-- Output:  macros metaclip_mix64 (UBIGINT -> UBIGINT), metaclip_seed_state (seed, salt ->
--          UBIGINT), metaclip_pick (pair_key, state -> UBIGINT), and the table macro
--          metaclip_with_u (relation name, state -> its rows plus u, a DOUBLE in [0, 1))
-- Grain:   one value per call.
--
-- Draws come from integer arithmetic, not from DuckDB's hash() (which changed between versions)
-- nor from md5 per row (slower than the rest of the sampling: docs/balance.md, "Why the SQL is
-- written this way"). metaclip_mix64 is the finalizer of splitmix64 (Steele, Lea and Flood
-- 2014): a bijection on 64 bits whose every output bit depends on every input bit; products
-- wrap modulo 2^64 by way of UHUGEINT.
-- A seed is mixed once per run into a state per use (salt 0: the keep draw, salt 1: the pick of
-- --unit image). A pair's keep draw u reads the low 64 bits of its pair_key (an md5, so uniform)
-- and its pick key the high 64 bits, so the two are independent.
-- metaclip_sql/balance/sampling.py states the same arithmetic in Python; tests compare the two.

CREATE OR REPLACE TEMP MACRO metaclip_mul64(z, c) AS
    ((z::UHUGEINT * c::UHUGEINT) & 18446744073709551615::UHUGEINT)::UBIGINT;

CREATE OR REPLACE TEMP MACRO metaclip_xorshift(z, k) AS xor(z, z >> k);

CREATE OR REPLACE TEMP MACRO metaclip_mix64(z) AS
    metaclip_xorshift(
        metaclip_mul64(
            metaclip_xorshift(
                metaclip_mul64(metaclip_xorshift(z, 30), 13787848793156543929),
                27
            ),
            10723151780598845931
        ),
        31
    );

CREATE OR REPLACE TEMP MACRO metaclip_seed_state(seed, salt) AS
    metaclip_mix64(
        xor(
            (seed::HUGEINT & 18446744073709551615::HUGEINT)::UBIGINT,
            metaclip_mul64(salt::UBIGINT, 11400714819323198485)
        )
    );

CREATE OR REPLACE TEMP MACRO metaclip_pick(pair_key, state) AS
    metaclip_mix64(xor((pair_key::UHUGEINT >> 64)::UBIGINT, state));

-- A pair's keep draw, added to every row of a relation: u = (metaclip_mix64(low 64 bits of
-- pair_key XOR state) >> 11) / 2^53. Written out stage by stage, not as metaclip_mix64: a scalar
-- macro is expanded in place, so it would evaluate its argument 8 times and its products 6
-- times; one projection per stage computes each once.
CREATE OR REPLACE TEMP MACRO metaclip_with_u(rel, state) AS TABLE
SELECT * EXCLUDE (z3), (metaclip_xorshift(z3, 31) >> 11)::DOUBLE / 9007199254740992.0 AS u
FROM (
    SELECT * EXCLUDE (z2), metaclip_mul64(metaclip_xorshift(z2, 27), 10723151780598845931) AS z3
    FROM (
        SELECT
            * EXCLUDE (z1),
            metaclip_mul64(metaclip_xorshift(z1, 30), 13787848793156543929) AS z2
        FROM (
            SELECT
                *,
                xor((pair_key::UHUGEINT & 18446744073709551615::UHUGEINT)::UBIGINT, state) AS z1
            FROM query_table(rel)
        )
    )
);
