"""Small generated pools in the extract schema, with known duplicates and entry popularity.

Tests build their inputs here instead of copying data: a Zipf-like entry distribution gives head
entries (count above t) and tail entries, and a share of pairs is repeated in another shard, as
the same image and alt text on two pages of different crawl files would be.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from metaclip_sql.schema import PAIRS_COLUMNS, PAIRS_SCHEMA, pair_key


@dataclass
class Pool:
    """The files written and every row in them (duplicates included), for computing expectations."""

    files: list[Path]
    rows: list[dict] = field(default_factory=list)

    def pairs(self, langs: set[str] | None = None) -> dict[tuple[str, str], dict]:
        """One row per (uuid, text) with a match, the one balance keeps (first by shard, page)."""
        best: dict[tuple[str, str], dict] = {}
        for row in self.rows:
            if not row["entry_ids"] or (langs is not None and row["lang"] not in langs):
                continue
            key = (row["uuid"], row["text"])
            if key not in best or (row["shard"], row["page_url"]) < (
                best[key]["shard"],
                best[key]["page_url"],
            ):
                best[key] = row
        return best

    def entry_counts(self, langs: set[str] | None = None) -> dict[int, int]:
        counts: dict[int, int] = {}
        for row in self.pairs(langs).values():
            for e in row["entry_ids"]:
                counts[e] = counts.get(e, 0) + 1
        return counts


def uuid_of(url: str) -> str:
    """The extract's image id: sha224 of the url, first 24 hex digits."""
    return hashlib.sha224(url.encode()).hexdigest()[:24]


def pair_row(
    url: str, text: str, entry_ids: list[int], shard: str = "shard-000", **columns
) -> dict:
    """One row in the extract columns for a hand-written pool; `columns` override the defaults."""
    return {
        "uuid": uuid_of(url),
        "url": url,
        "text": text,
        "text_key": "alt",
        "lang": "en",
        "lang_score": 0.9,
        "entry_ids": entry_ids,
        "page_url": f"{url}.html",
        "shard": shard,
        **columns,
    }


def zipf_pool(
    folder: Path,
    *,
    images: int = 2000,
    entries: int = 100,
    shards: int = 3,
    max_texts: int = 3,
    max_entries: int = 3,
    dup_share: float = 0.05,
    unmatched_share: float = 0.0,
    langs: tuple[str, ...] = ("en",),
    seed: int = 0,
) -> Pool:
    """Write `shards` Parquet files; entry e is matched with probability about 1 / (e + 1)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_shard: list[list[dict]] = [[] for _ in range(shards)]
    for image in range(images):
        url = f"https://img.example.org/{seed}/{image}.jpg"
        shard = image % shards
        for j in range(rng.randint(1, max_texts)):
            row = _row(rng, url, image, j, shard, entries, max_entries, unmatched_share, langs)
            per_shard[shard].append(row)
            if shards > 1 and rng.random() < dup_share:
                other = (shard + rng.randint(1, shards - 1)) % shards
                copy = dict(row, shard=f"shard-{other:03d}", page_url=f"{row['page_url']}?copy")
                per_shard[other].append(copy)
    pool = Pool(files=[])
    for index, rows in enumerate(per_shard):
        path = folder / f"shard-{index:03d}.parquet"
        write_rows(path, rows)
        pool.files.append(path)
        pool.rows.extend(rows)
    return pool


def write_rows(path: Path, rows: list[dict], with_pair_key: bool = True) -> Path:
    """Write rows (dicts with the extract columns) as one Parquet file in the extract schema.

    pair_key is computed when a row has none; `with_pair_key=False` writes the schema from
    before pair_key existed (balance computes the key itself then)."""
    keyed = [{**r, "pair_key": _key_bytes(r) or pair_key(r["uuid"], r["text"])} for r in rows]
    table = pa.Table.from_pylist([{c: r[c] for c in PAIRS_COLUMNS} for r in keyed], PAIRS_SCHEMA)
    if not with_pair_key:
        table = table.drop_columns(["pair_key"])
    pq.write_table(table, path)
    return path


def copies_half_without_pair_key(files: list[Path], folder: Path) -> list[Path]:
    """Copies of `files` in `folder`, every other one (the first included) without pair_key,
    as extract wrote them before the column existed."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_rows(folder / f.name, pq.read_table(f).to_pylist(), with_pair_key=i % 2 == 1)
        for i, f in enumerate(files)
    ]


def _key_bytes(row: dict) -> bytes | None:
    """A row's pair_key as bytes (pyarrow reads the column back as uuid.UUID or bytes)."""
    key = row.get("pair_key")
    return getattr(key, "bytes", key)


def _row(
    rng: random.Random,
    url: str,
    image: int,
    j: int,
    shard: int,
    entries: int,
    max_entries: int,
    unmatched_share: float,
    langs: tuple[str, ...],
) -> dict:
    if rng.random() < unmatched_share:
        entry_ids: list[int] = []
    else:
        k = rng.randint(1, max_entries)
        entry_ids = sorted({_zipf(rng, entries) for _ in range(k)})
    return {
        "uuid": uuid_of(url),
        "url": url,
        "text": f"picture {image} caption {j} " + " ".join(f"w{e}" for e in entry_ids),
        "text_key": "alt",
        "lang": rng.choice(langs),
        "lang_score": 0.9,
        "entry_ids": entry_ids,
        "page_url": f"https://site{image % 17}.example.com/page/{image}",
        "shard": f"shard-{shard:03d}",
    }


def _zipf(rng: random.Random, entries: int) -> int:
    """An entry id in [0, entries) with P(e) roughly proportional to 1 / (e + 1)."""
    return min(entries - 1, int((entries + 1) ** rng.random()) - 1)
