"""Extract at scale (issue 6): the Ray distributor and inputs/outputs on object storage.

One local Ray instance with 2 CPUs and one S3-compatible server (moto) serve the whole module;
HTTP inputs come from a server on 127.0.0.1 started here, with and without Range support.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from metaclip_sql.extract.run import run_extract
from metaclip_sql.extract.shard import ExtractOptions, read_stats
from metaclip_sql.runtime.ray import Fault
from metaclip_sql.sample import sample_pages, write_warc

ray = pytest.importorskip("ray")
fsspec = pytest.importorskip("fsspec")
moto_server = pytest.importorskip("moto.server")

ENTRIES = ["photo", "dog", "cat", "mountain", "bridge", "sunset", "city", "lake", "Paris"]
BUCKET = "crawl"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """moto on loopback, AWS settings pointing at it, then Ray (its workers inherit them)."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield {}
    finally:
        ray.shutdown()
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three small shards of the sample crawl (different seeds) and one larger one."""
    root = tmp_path_factory.mktemp("shards")
    sizes = [(0, 40), (1, 60), (2, 50), (3, 1500)]
    return [
        write_warc(root / f"shard-{seed}.warc.gz", sample_pages(pages, seed))
        for seed, pages in sizes
    ]


@pytest.fixture(scope="module")
def metadata(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("metadata") / "metadata.json"
    path.write_text('["' + '", "'.join(ENTRIES) + '"]', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def local_out(tmp_path_factory, shards: list[Path], metadata: Path) -> Path:
    """The reference: the local distributor on local files."""
    out = tmp_path_factory.mktemp("local")
    summary = run_extract(shards, _options(out), metadata, workers=2)
    assert not summary.failed and summary.totals["rows"] > 0
    assert summary.totals["errors"] == 0, [m for s in summary.shards for m in s.messages]
    return out


def _options(out, overwrite: bool = False) -> ExtractOptions:
    return ExtractOptions(out_dir=out, langs=None, overwrite=overwrite)


def _same_outputs(reference: Path, names: list[str], read) -> None:
    """Each output has the reference's rows in the reference's order, and its counts."""
    for name in names:
        expected = pq.read_table(reference / f"{name}.parquet")
        got = read(f"{name}.parquet")
        assert got.to_pylist() == expected.to_pylist(), name
        keys = [(r["uuid"], r["text"]) for r in got.to_pylist()]
        assert len(keys) == len(set(keys)), name


def _counts(stats) -> dict:
    return {k: v for k, v in stats.items() if k not in ("seconds", "messages")}


# --- Ray ---------------------------------------------------------------------------------------


def test_ray_equals_local_and_resumes(
    services, shards: list[Path], metadata: Path, local_out: Path, tmp_path: Path
) -> None:
    events: list[str] = []
    summary = run_extract(
        shards[:3], _options(tmp_path), metadata, 0, lambda e, *_: events.append(e), None, "ray"
    )
    assert [s.status for s in summary.shards] == ["ok"] * 3
    assert events.count("started") == 3 and events.count("done") == 3
    _same_outputs(local_out, [s.name for s in shards[:3]], lambda n: pq.read_table(tmp_path / n))
    for shard in shards[:3]:
        name = f"{shard.name}.parquet"
        assert _counts(read_stats(tmp_path / name)) == _counts(read_stats(local_out / name))
    again = run_extract(shards[:3], _options(tmp_path), metadata, 0, None, None, "ray")
    assert [s.status for s in again.shards] == ["skipped"] * 3


def test_task_killed_mid_shard_is_retried(
    services, shards: list[Path], metadata: Path, local_out: Path, tmp_path: Path
) -> None:
    marker = tmp_path.parent / f"{tmp_path.name}-killed"
    big = shards[3]
    kill = Fault("shard", 0, "kill", marker)
    summary = run_extract(
        [big], _options(tmp_path), metadata, 0, None, None, "ray", None, 2, faults=[kill]
    )
    killed = marker.read_text()
    pages = int(re.fullmatch(r"killed after (\d+) pages", killed).group(1))
    # It died before its output was committed (under load a poll may see every page parsed
    # while the Parquet is still being written), then ran again.
    assert 0 < pages <= summary.shards[0].html_pages
    assert summary.shards[0].status == "ok"
    _same_outputs(local_out, [big.name], lambda n: pq.read_table(tmp_path / n))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{big.name}.parquet"]  # no leftovers


def test_task_failing_past_its_retries_fails_alone(
    services, shards: list[Path], metadata: Path, tmp_path: Path
) -> None:
    kill = Fault("shard", 0, "kill", tmp_path.parent / f"{tmp_path.name}-killed")
    summary = run_extract(
        [shards[3]], _options(tmp_path), metadata, 0, None, None, "ray", None, 0, faults=[kill]
    )
    (failed,) = summary.failed
    assert failed.shard == shards[3].name and "failed on Ray" in failed.messages[-1]
    assert list(tmp_path.iterdir()) == []


# --- object storage ----------------------------------------------------------------------------


def test_s3_in_and_out_with_both_distributors(
    services, shards: list[Path], metadata: Path, local_out: Path
) -> None:
    s3 = fsspec.filesystem("s3", skip_instance_cache=True)
    s3.mkdir(BUCKET)
    for shard in shards[:2]:
        s3.put_file(str(shard), f"{BUCKET}/in/{shard.name}")
    names = [s.name for s in shards[:2]]
    for distributor in ("local", "ray"):
        out = f"s3://{BUCKET}/out-{distributor}"
        summary = run_extract(
            [f"s3://{BUCKET}/in/*.warc.gz"], _options(out), metadata, 2, None, None, distributor
        )
        assert [s.status for s in summary.shards] == ["ok"] * 2, summary.shards
        s3.invalidate_cache()
        assert sorted(s3.ls(out)) == [f"{BUCKET}/out-{distributor}/{n}.parquet" for n in names]
        _same_outputs(local_out, names, lambda n, o=out: pq.read_table(f"{o}/{n}", filesystem=s3))
        again = run_extract(
            [f"s3://{BUCKET}/in/"], _options(out), metadata, 2, None, None, distributor
        )
        assert [s.status for s in again.shards] == ["skipped"] * 2


def test_upload_error_is_retried_then_reported(
    services, shards: list[Path], metadata: Path
) -> None:
    """A worker that raises (here: the output bucket does not exist) is retried by Ray, then
    the shard fails alone with the worker's own message."""
    out = "s3://no-such-bucket/out"
    summary = run_extract(shards[:1], _options(out), metadata, 0, None, None, "ray", None, 1)
    (failed,) = summary.failed
    message = failed.messages[-1]
    assert message.startswith(f"{shards[0].name}: failed: ") and "retries used up" in message


def _http_server(root: Path, ranges: bool) -> ThreadingHTTPServer:
    """Files under `root` on 127.0.0.1; with `ranges`, byte ranges as fsspec's HTTP file needs
    to seek (a HEAD with Content-Length, then `Range: bytes=a-b` answered with 206)."""

    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            path = root / self.path.lstrip("/")
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            start, end = 0, len(data)
            asked = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
            if ranges and asked:
                start = int(asked[1])
                end = min(len(data), int(asked[2]) + 1) if asked[2] else len(data)
                if start >= len(data):
                    self.send_error(416)
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Accept-Ranges", "bytes" if ranges else "none")
            self.send_header("Content-Length", str(end - start))
            self.end_headers()
            if body:
                self.wfile.write(data[start:end])

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("ranges", [True, False], ids=["ranges", "no-ranges"])
def test_http_inputs_stream(
    ranges: bool, shards: list[Path], metadata: Path, local_out: Path, tmp_path: Path
) -> None:
    server = _http_server(shards[0].parent, ranges)
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        urls = [f"{base}/{s.name}" for s in shards[:3]]
        summary = run_extract(urls, _options(tmp_path / "out"), metadata, 2)
        assert [s.status for s in summary.shards] == ["ok"] * 3
        names = [s.name for s in shards[:3]]
        _same_outputs(local_out, names, lambda n: pq.read_table(tmp_path / "out" / n))
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("ranges", [True, False], ids=["ranges", "no-ranges"])
def test_damage_over_http(ranges: bool, metadata: Path, tmp_path: Path) -> None:
    """Damage costs the same over HTTP as on disk, with or without Range support: the reader
    reads forward only, so it resyncs past the damage in a stream too."""
    clean = write_warc(tmp_path / "clean.warc.gz", sample_pages(30, 7))
    data = clean.read_bytes()
    damaged = tmp_path / "site" / "damaged.warc.gz"
    damaged.parent.mkdir()
    damaged.write_bytes(data[: len(data) // 2] + b"garbage" * 200 + data[len(data) // 2 :])
    on_disk = run_extract([damaged], _options(tmp_path / "disk"), metadata).shards[0]
    server = _http_server(damaged.parent, ranges)
    try:
        url = f"http://127.0.0.1:{server.server_port}/damaged.warc.gz"
        remote = run_extract([url], _options(tmp_path / "http"), metadata).shards[0]
    finally:
        server.shutdown()
        server.server_close()
    assert on_disk.status == remote.status == "ok" and on_disk.errors == remote.errors == 1
    disk_rows = pq.read_table(tmp_path / "disk" / "damaged.warc.gz.parquet").to_pylist()
    http_rows = pq.read_table(tmp_path / "http" / "damaged.warc.gz.parquet").to_pylist()
    assert http_rows == disk_rows and remote.messages == on_disk.messages


# --- usage ---------------------------------------------------------------------------------------


def test_cli_rejects_an_unknown_distributor_and_missing_ray(
    shards: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from metaclip_sql.cli import app

    args = ["extract", str(shards[0]), "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*args, "--distributor", "spark"])
    assert result.exit_code == 2 and "--distributor must be one of local, ray" in result.output
    monkeypatch.setitem(__import__("sys").modules, "ray", None)  # as if ray were not installed
    result = CliRunner().invoke(app, [*args, "--distributor", "ray"])
    assert result.exit_code == 2 and "pip install 'metaclip-sql[ray]'" in result.output
