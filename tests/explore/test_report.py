"""report: one self-contained HTML page, checked for its numbers, its escaping, its size, and in
a real browser (headless Chromium over the DevTools protocol: no console error, no network
request, a screenshot that is not blank).

The browser is driven through `--remote-debugging-pipe` (NUL-separated JSON on file
descriptors 3 and 4), so no client library is needed; the tests skip, saying why, when
Chromium is not installed (`apt-get install -y chromium`).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from metaclip_sql.balance import balance, sampling
from metaclip_sql.cli import app
from metaclip_sql.explore import build_report, render_report, write_report
from tests.helpers.pools import Pool, pair_row, write_rows, zipf_pool

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
T = 12
SECTIONS = (
    "glance",
    "distribution",
    "balance",
    "survival",
    "languages",
    "coverage",
    "samples",
    "provenance",
)


# --- a small DevTools-protocol client over a pipe ----------------------------------------------

#: Puts the pipe ends on the file descriptors Chromium reads (3) and writes (4), then runs it.
TRAMPOLINE = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
    "os.execv(sys.argv[3], sys.argv[3:])"
)


@dataclass
class PageLoad:
    """What loading one page did: its screenshot, the requests it made, the errors it logged."""

    screenshot: bytes
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Browser:
    """Headless Chromium driven through --remote-debugging-pipe (fd 3: commands in, fd 4:
    replies and events out)."""

    def __init__(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="metaclip-chromium-")
        # A file, not a pipe: a full pipe nobody reads would stall Chromium.
        self._log = open(Path(self.profile, "chromium.log"), "wb")  # noqa: SIM115
        low_in, self._w = os.pipe()
        self._r, low_out = os.pipe()
        # Above 3 and 4, so that putting one on 3 cannot overwrite the other.
        child_in, child_out = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (low_in, low_out))
        os.close(low_in)
        os.close(low_out)
        args = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--mute-audio",
            f"--user-data-dir={self.profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", TRAMPOLINE, str(child_in), str(child_out), *args],
            pass_fds=(child_in, child_out),
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        os.close(child_in)
        os.close(child_out)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        message: dict = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 60
        while True:
            reply = self._next(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _wait(self, method: str) -> None:
        deadline = time.monotonic() + 60
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._next(deadline))

    def _drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._next(deadline))
        except TimeoutError:
            return

    def _next(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no message from chromium")
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise RuntimeError(
                        "chromium exited: " + self.proc.stderr.read().decode()[-2000:]
                    )
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def load(self, path: Path, width: int = 1280, height: int = 1600) -> PageLoad:
        """Open a file, wait for its load event, and return its screenshot, requests, errors."""
        self.events = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.send("Emulation.setDeviceMetricsOverride", metrics, session=session)
        self.send("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=session)
        self._wait("Page.loadEventFired")
        self._drain(0.5)
        shot = self.send("Page.captureScreenshot", {"format": "png"}, session=session)
        self._drain(0.1)
        load = PageLoad(base64.b64decode(shot["data"]))
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                load.requests.append(params["request"]["url"])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                load.errors.append(f"console: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                load.errors.append(f"exception: {params.get('exceptionDetails')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                load.errors.append(f"log: {params['entry'].get('text')}")
        self.send("Target.closeTarget", {"targetId": target})
        return load

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
        self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium to run this test")
    b = Browser()
    yield b
    b.close()


def not_blank(png: bytes, path: Path) -> tuple[int, float]:
    """The screenshot's distinct colours and the share of pixels unlike its commonest colour."""
    path.write_bytes(png)
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 24) or []
        total = rgb.width * rgb.height
    top = max(n for n, _ in colours)
    return len(colours), 1 - top / total


# --- pools ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    folder = tmp_path_factory.mktemp("report") / "pool"
    return zipf_pool(
        folder,
        images=1500,
        entries=80,
        dup_share=0.05,
        unmatched_share=0.1,
        langs=("en", "de", "fr"),
    )


@pytest.fixture(scope="module")
def balanced(pool: Pool, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "balanced"
    balance(pool.files, t=T, out=out, lang="all", seed=3)
    return out


@pytest.fixture(scope="module")
def report_file(pool: Pool, balanced: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    write_report([pool.files[0].parent, balanced], out, ts=[T, 60], survival=0.7)
    return out


HOSTILE_TEXTS = [
    '<script>alert("text")</script> cat',
    "</td></tr></table><style>body{display:none}</style> cat",
    "cat & dog ' \" <b>bold</b>",
]
HOSTILE_URLS = [
    'https://evil.example/a.jpg"><img src=http://127.0.0.1:9/x onerror=alert(1)>',
    "javascript:alert(1)",
    "https://ok.example/b.jpg?x=1&y=<2>",
]


def hostile_pool(folder: Path) -> Path:
    """Texts, URLs and entry names that would run or load something if not escaped."""
    rows = [
        pair_row(url, text, [0])
        for url, text in zip(HOSTILE_URLS * 2, HOSTILE_TEXTS * 2, strict=True)
    ]
    rows.append(pair_row("https://ok.example/c.jpg", "<img src=x> dog", [1]))
    folder.mkdir(parents=True)
    write_rows(folder / "shard.parquet", rows)
    return folder


# --- the page ------------------------------------------------------------------------------------


def test_report_is_self_contained_and_complete(report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    assert len(html.encode()) < 5_000_000
    for section in SECTIONS:
        assert f'<section id="{section}">' in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    lowered = html.lower()
    for loader in ("<script", "<link", "<img", "<iframe", "<object", "@import", "url(", " src="):
        assert loader not in lowered, loader
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("#", "https://", "http://")), href
    assert lowered.count("<svg") >= 3  # distribution (2) and kept against pool


def test_report_numbers(pool: Pool, balanced: Path) -> None:
    report = build_report([pool.files[0].parent, balanced], ts=[T, 60])
    stats = report.stats
    matched = pool.pairs()
    assert stats.pool["pairs"] == len({(r["uuid"], r["text"]) for r in pool.rows})
    assert stats.pool["matched_pairs"] == len(matched)
    assert stats.pool["rows"] - stats.pool["pairs"] > 0  # cross-shard duplicates shown
    b = report.balance
    manifest = json.loads((balanced / "manifest.json").read_text())
    assert b["realised"] == manifest["counts"]["kept"]
    counts = pool.entry_counts()
    expected = sum(
        sampling.keep_probability(sampling.entry_prob(counts[e], T) for e in r["entry_ids"])
        for r in matched.values()
    )
    assert b["expected"] == pytest.approx(expected)
    assert abs(b["realised"] - b["expected"]) < 4 * b["sd"]
    per_entry = {p["entry_id"]: p for p in b["points"]}
    assert set(per_entry) == set(counts)  # few entries: every one is shown
    assert all(per_entry[e]["count"] == c for e, c in counts.items())
    assert sum(p["expected_kept"] for p in b["points"]) == pytest.approx(
        sum(
            len(r["entry_ids"])
            * sampling.keep_probability(sampling.entry_prob(counts[e], T) for e in r["entry_ids"])
            for r in matched.values()
        )
    )
    per_lang: dict[str, int] = {}
    for _, _, lang in {(r["uuid"], r["text"], r["lang"]) for r in pool.rows}:
        per_lang[lang] = per_lang.get(lang, 0) + 1
    assert {r["lang"]: r["pairs"] for r in report.languages["rows"]} == per_lang
    assert {r["lang"] for r in report.languages["thresholds"]} == {"en", "de", "fr"}
    kinds = [s["kind"] for s in report.samples]
    assert kinds.count("head") == 3 and kinds.count("tail") == 3
    for s in report.samples:
        assert (s["count"] > T) == (s["kind"] == "head") and 1 <= len(s["texts"]) <= 5
    assert report.provenance["manifest"]["same_inputs"] is True
    assert report.coverage["entries_matched"] == len(counts)


def test_escaping_of_texts_urls_and_entries(tmp_path: Path, metadata_file) -> None:
    pool = hostile_pool(tmp_path / "pool")
    meta = metadata_file(['<b>"cat"</b>', "dog</td>", "U.S.", ""])
    report = build_report([pool], meta, ts=[1])
    html = render_report(report)
    for raw in ("<script", "<b>bold", '<b>"cat"', "<img", "<style>body"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(&quot;text&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;&quot;cat&quot;&lt;/b&gt;" in html  # the entry's name
    assert "javascript:" not in re.findall(r'href="([^"]*)"', html).__str__()
    assert 'href="https://evil.example/a.jpg&quot;&gt;&lt;img' in html
    assert report.coverage["impossible"] == 2  # "U.S." and the empty entry


def test_page_size_is_capped(tmp_path: Path) -> None:
    big = zipf_pool(tmp_path / "pool", images=4000, entries=3000, max_entries=6)
    long_text = "cat " * 20_000
    write_rows(
        tmp_path / "pool" / "long.parquet",
        [pair_row(f"https://img.example/{i}.jpg", f"{long_text}{i}", [0, 1]) for i in range(50)],
    )
    out = tmp_path / "balanced"
    balance([tmp_path / "pool"], t=5, out=out, lang="all")
    result = write_report([tmp_path / "pool", out], tmp_path / "r.html", ts=[5], top=100)
    html = result.path.read_text()
    assert result.bytes < 1_000_000
    assert long_text[:400] not in html and html.count("<circle") <= 2 * 1000 + 2
    assert big.files


def test_cli(pool: Pool, balanced: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    args = ["report", "-d", str(pool.files[0].parent), "-d", str(balanced), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--survival", "0.5", "--t", str(T)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {out}") and out.stat().st_size > 10_000
    assert "target t=12: curate with t=" in out.read_text()
    only_balance = CliRunner().invoke(app, ["report", "-d", str(balanced), "--out", str(out)])
    assert only_balance.exit_code == 0, only_balance.output
    assert "give the extract outputs too" in out.read_text()
    bad = CliRunner().invoke(app, [*args, "--survival", "0"])
    assert bad.exit_code == 2 and "--survival" in bad.output


# --- in a browser ----------------------------------------------------------------------------


def test_report_renders_in_chromium(browser: Browser, report_file: Path, tmp_path: Path) -> None:
    load = browser.load(report_file)
    assert load.errors == []
    assert load.requests == [report_file.resolve().as_uri()]
    colours, ink = not_blank(load.screenshot, tmp_path / "shot.png")
    assert colours > 50 and ink > 0.05


def test_hostile_report_loads_nothing_in_chromium(
    browser: Browser, tmp_path: Path, metadata_file
) -> None:
    pool = hostile_pool(tmp_path / "pool")
    out = write_report([pool], tmp_path / "r.html", metadata_file(["<b>cat</b>", "dog"]), [1]).path
    load = browser.load(out)
    assert load.errors == [] and load.requests == [out.resolve().as_uri()]


def test_the_browser_check_sees_requests_and_errors(browser: Browser, tmp_path: Path) -> None:
    """The harness itself: a page that loads an image and logs an error is caught."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!doctype html><p>x</p><img src="http://127.0.0.1:9/x.png">'
        '<script>console.error("boom")</script>'
    )
    load = browser.load(page)
    assert "http://127.0.0.1:9/x.png" in load.requests
    assert any("boom" in e for e in load.errors)
