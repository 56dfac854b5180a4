"""Online curation: MetaCLIP's balancing inside the data loader, a fresh sample every epoch.

    from metaclip_sql.online import OnlineCuration
    oc = OnlineCuration.from_balance("balanced/")          # entry counts + manifest's t, seed, unit
    keep = oc.keep(pair_keys, entry_ids, epoch=3)          # numpy bool, one per pair
    dataset = wds.WebDataset(urls).select(oc.webdataset_filter(epoch=3))

Epoch 0 decides exactly as the offline `balance` run with the same seed; epoch e draws anew from
(seed, epoch, pair_key) only. No DuckDB and no torch at run time (numpy and pyarrow). The flow
from a crawl to training, and the numbers: docs/online.md.
"""

from metaclip_sql.online.counts import CurationSourceError
from metaclip_sql.online.curation import UNITS, OnlineCuration
from metaclip_sql.online.filters import HFFilter, WebDatasetFilter
from metaclip_sql.online.keys import key_string
from metaclip_sql.online.pool import Pool, PoolError, img2dataset_input, read_pool
from metaclip_sql.online.summary import EpochsSummary, check_epochs, epochs_summary

__all__ = [
    "UNITS",
    "CurationSourceError",
    "EpochsSummary",
    "HFFilter",
    "OnlineCuration",
    "Pool",
    "PoolError",
    "WebDatasetFilter",
    "check_epochs",
    "epochs_summary",
    "img2dataset_input",
    "key_string",
    "read_pool",
]
