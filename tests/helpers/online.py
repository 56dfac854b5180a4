"""Helpers for the online curation tests: balance runs, pools as a loader holds them, and a
loopback image server that img2dataset downloads real JPEGs from."""

from __future__ import annotations

import io
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from metaclip_sql.schema import pair_key
from tests.helpers.pools import Pool, pair_row, write_rows


def run_balance(inputs, **options):
    """`metaclip_sql.balance.balance` (imported late: the balance package is being reshaped)."""
    from metaclip_sql.balance import balance

    return balance(inputs, **options)


def curated_keys(out: Path) -> set[bytes]:
    """The pair keys of a balance run's curated output (one file or a folder of parts)."""
    path = out / "curated.parquet"
    if not path.exists():
        path = out / "curated"
    table = pq.read_table(path, columns=["pair_key"])
    return {getattr(k, "bytes", k) for k in table.column("pair_key").to_pylist()}


@dataclass
class PoolPairs:
    """A pool's deduplicated candidate pairs, in a stable order, as columns."""

    keys: list[bytes]
    entry_ids: list[list[int]]
    uuids: list[str]
    langs: list[str]
    texts: list[str]

    def __len__(self) -> int:
        return len(self.keys)

    def arrow_keys(self) -> pa.Array:
        storage = pa.array(self.keys, pa.binary(16))
        return pa.ExtensionArray.from_storage(pa.uuid(), storage)

    def arrow_entries(self) -> pa.Array:
        return pa.array(self.entry_ids, pa.list_(pa.int32()))

    def take(self, rows) -> PoolPairs:
        rows = list(rows)
        return PoolPairs(*([col[i] for i in rows] for col in self._columns()))

    def _columns(self):
        return (self.keys, self.entry_ids, self.uuids, self.langs, self.texts)


def pool_pairs(pool: Pool, langs: set[str] | None = None) -> PoolPairs:
    rows = sorted(pool.pairs(langs).values(), key=lambda r: (r["uuid"], r["text"]))
    return PoolPairs(
        keys=[pair_key(r["uuid"], r["text"]) for r in rows],
        entry_ids=[list(r["entry_ids"]) for r in rows],
        uuids=[r["uuid"] for r in rows],
        langs=[r["lang"] for r in rows],
        texts=[r["text"] for r in rows],
    )


def local_pool(
    folder: Path,
    base_url: str,
    *,
    images: int = 120,
    entries: int = 12,
    max_texts: int = 3,
    shards: int = 2,
    seed: int = 0,
) -> Pool:
    """A pool whose image URLs are `{base_url}/img/{n}.jpg`; entry e matched about as 1 / (e + 1)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_shard: list[list[dict]] = [[] for _ in range(shards)]
    for image in range(images):
        url = f"{base_url}/img/{image}.jpg"
        for j in range(rng.randint(1, max_texts)):
            ids = sorted(
                {min(entries - 1, int((entries + 1) ** rng.random()) - 1) for _ in range(3)}
            )
            text = f"photo {image} alt {j} " + " ".join(f"w{e}" for e in ids)
            per_shard[image % shards].append(
                pair_row(url, text, ids, shard=f"shard-{image % shards:03d}")
            )
    pool = Pool(files=[])
    for index, rows in enumerate(per_shard):
        pool.files.append(write_rows(folder / f"shard-{index:03d}.parquet", rows))
        pool.rows.extend(rows)
    return pool


def jpeg(n: int) -> bytes:
    """A small real JPEG, different for each n."""
    from PIL import Image

    image = Image.new("RGB", (24, 16), ((n * 37) % 256, (n * 91) % 256, (n * 13) % 256))
    image.putpixel((n % 24, n % 16), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


@contextmanager
def image_server(missing: Callable[[int], bool] = lambda n: False) -> Iterator[str]:
    """Serve `/img/<n>.jpg` on 127.0.0.1 (404 when missing(n)); yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.rsplit("/", 1)[-1].split(".")[0]
            if not name.isdigit() or missing(int(name)):
                self.send_response(404)
                self.end_headers()
                return
            body = jpeg(int(name))
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # img2dataset's threads connect at once
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def split_rows(n: int, workers: int, seed: int = 0) -> list[np.ndarray]:
    """Rows 0..n-1 shuffled and dealt to `workers` (what a sharded loader does)."""
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(part)[::-1] for part in np.array_split(order, workers)]
