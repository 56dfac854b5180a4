"""Balance extracted pairs the MetaCLIP way, with the versioned SQL of `sql/` run in DuckDB.

The public API:

- `balance(inputs, t=... | p=..., out=..., ...)`: MetaCLIP 1's Algorithm 1, one threshold for
  every entry (`sql/metaclip_v1/`), locally or with `distributor="ray"` per hash partition on a
  Ray cluster (`balance_ray`); returns a `BalanceResult`.
- `balance_worldwide(inputs, t_en=..., metadata=<folder>, ...)`: MetaCLIP 2, one threshold per
  language at English's tail proportion (`sql/metaclip_v2/`); returns a `WorldwideResult`.
- `balance_command(...)`: the `metaclip-sql balance` command, every CLI option at once, checked
  together and sent to one of the two.
- `BalanceError`: a user's problem (inputs, options), in one line; nothing is written.
- `check_pairs_files`, `resolve_parquet_inputs`, `parse_langs`: the input and option checks the
  other stages reuse; `sampling`: the balancing arithmetic in plain Python.

Modules, in the order they depend on each other: `options` (option checks, `BalanceError`),
`entry_slots`, `pool` (the pool as one relation, its totals and checks), `inputs` (paths,
footers, metadata, the input views), `results`, `steps` (the step runner and the step groups
every run shares, the staged run), `manifest`, `ray`, `v1`, `v2`, `run` (`balance_command`).
Python wires the steps; what is computed lives in the SQL files, whose headers say what each
reads and writes (docs/balance.md, docs/worldwide.md).
"""

from metaclip_sql.balance import sampling
from metaclip_sql.balance.inputs import check_pairs_files, resolve_parquet_inputs
from metaclip_sql.balance.options import BalanceError, parse_langs
from metaclip_sql.balance.ray import balance_ray
from metaclip_sql.balance.results import BalanceResult, WorldwideResult
from metaclip_sql.balance.run import balance_command
from metaclip_sql.balance.v1 import balance
from metaclip_sql.balance.v2 import balance_worldwide

__all__ = [
    "BalanceError",
    "BalanceResult",
    "WorldwideResult",
    "balance",
    "balance_command",
    "balance_ray",
    "balance_worldwide",
    "check_pairs_files",
    "parse_langs",
    "resolve_parquet_inputs",
    "sampling",
]
