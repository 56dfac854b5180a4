"""Real crawlers' WARCs for issue 14: a loopback site, the crawlers, and a reference reader.

`extract` must lose nothing on WARCs that real crawlers write, and those keep the HTTP
encodings as received: chunked framing, gzip, deflate (zlib or raw), brotli, zstd. This module
builds such WARCs with real tools instead of hand-made bytes:

- `CrawlServer` serves a site on 127.0.0.1 (real pages from the shared test data, or the
  synthetic sample pages) the way real servers answer: each page is sent in one of `VARIANTS`
  (content encodings, chunked transfer written by hand, redirects, a custom 404 page), plus pages
  in legacy charsets and a few JPEG images. It logs every response it sends.
- `wget_crawl` crawls it with GNU Wget's `--warc-file`; `warcio_capture` fetches it with
  `requests` under warcio's `capture_http`.
- `reference_pairs` reads a WARC slowly and obviously correctly with warcio, for the tests to
  compare `extract` with.

No tests live here; `tests/extract/test_real_writers.py` uses it.
"""

from __future__ import annotations

import base64
import email.message
import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import zstandard
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader

from metaclip_sql.extract.html import PageCounts, image_texts
from metaclip_sql.extract.shard import image_uuid
from metaclip_sql.metadata.matching import naive_match
from metaclip_sql.sample import sample_pages
from tests.helpers.data import REAL_PAGES

#: How each page is answered, assigned by page index in this order (cycling). Encoded bodies
#: are sent with Content-Length unless the name says chunked; `redirect-*` sends the page's
#: path to `/m/<i>.html` (which serves it plainly) with a small HTML body as nginx does;
#: `not-found` sends the page itself as a site's custom 404 page.
VARIANTS = (
    "identity",
    "gzip",
    "gzip-chunked",
    "chunked",
    "deflate-zlib",
    "deflate-raw",
    "br",
    "br-chunked",
    "zstd",
    "zstd-chunked",
    "redirect-301",
    "redirect-302",
    "not-found",
)
#: Real pages served by default: enough for every variant many times, few enough to stay fast.
DEFAULT_PAGES = 200
#: What the crawlers ask for: every coding the site may send.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
#: The site's own paths: a crawler that follows only these fetches the site and nothing of the
#: many relative links inside real pages (which would all be 404s). POSIX ERE, as wget takes it.
SITE_PATHS_REGEX = (
    r"^http://127\.0\.0\.1:[0-9]+/"
    r"((p|m)/[0-9]+\.html|c/[a-z0-9_-]+\.html|img/s[0-9]+\.jpg|gone\.html)?$"
)

_CODINGS = {  # variant -> (Content-Encoding, chunked)
    "identity": (None, False),
    "gzip": ("gzip", False),
    "gzip-chunked": ("gzip", True),
    "chunked": (None, True),
    "deflate-zlib": ("deflate", False),
    "deflate-raw": ("deflate", False),
    "br": ("br", False),
    "br-chunked": ("br", True),
    "zstd": ("zstd", False),
    "zstd-chunked": ("zstd", True),
}
_HTML = "text/html"
_HTML_UTF8 = "text/html; charset=utf-8"
# A 1x1 grey baseline JPEG, the image the site serves.
_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABsSFBcUERsXFhceHBsgKEIrKCUlKFE6PTBCYFVlZF9VXVtqeJmBanGQc1td"
    "hbWGkJ6jq62rZ4C8ybqmx5moq6T/wAALCAABAAEBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QA"
    "tRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0"
    "NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2"
    "t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/ACv/2Q=="
)
# Chunk sizes of a chunked body, then the last size repeated: small first chunks as a server
# flushing its head early sends, then buffer-sized ones.
_CHUNK_SIZES = (7, 100, 4096, 16384)


@dataclass(frozen=True)
class Route:
    """One path of the site: what it answers and how."""

    status: int
    content_type: str
    body: bytes  # as meant, before any encoding: what a reader must get back
    variant: str = "identity"
    location: str | None = None  # redirects: the path sent as an absolute Location
    wire: bytes = b""  # the body as sent (Content-Encoding applied; chunking is done on send)


@dataclass
class Site:
    """The routes, the paths the index links to, and the texts written into the site's own
    pages (which any correct reader must find, whatever else it reads)."""

    routes: dict[str, Route]
    links: list[str]
    own_texts: set[str]


@dataclass(frozen=True)
class Served:
    """One response the server sent (logged once it is fully written)."""

    path: str
    status: int
    content_type: str
    variant: str
    body_sha256: str  # of Route.body: what a reader must decode the response to
    wire_sha256: str  # of the body bytes as sent (encoded, in chunked framing where chunked)


def site_pages(limit: int = DEFAULT_PAGES) -> list[bytes]:
    """HTML bodies to serve: the first `limit` real pages of the shared data when present (the
    real web's variety of markup and charsets), else the synthetic sample pages."""
    if not REAL_PAGES.exists():
        return [resp.body for resp in sample_pages(limit - 1)]  # and its Latin-1 page
    bodies: list[bytes] = []
    with REAL_PAGES.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                bodies.append(record.content_stream().read())
                if len(bodies) == limit:
                    break
    return bodies


def make_site(pages: Sequence[bytes]) -> Site:
    """The site: `/` links to every page `/p/<i>.html` (answered as `VARIANTS[i % n]`), the
    charset pages under `/c/`, a missing page; the index and charset pages show JPEGs under
    `/img/`. Encoded bodies are made here, once, so serving costs no CPU."""
    routes: dict[str, Route] = {}
    page_paths: list[str] = []
    for i, body in enumerate(pages):
        path = f"/p/{i}.html"
        page_paths.append(path)
        variant = VARIANTS[i % len(VARIANTS)]
        if variant.startswith("redirect-"):
            status = int(variant.removeprefix("redirect-"))
            target = f"/m/{i}.html"
            routes[path] = Route(status, _HTML, _nginx_page(status), variant, target)
            routes[target] = Route(200, _HTML_UTF8, body)
        elif variant == "not-found":
            routes[path] = Route(404, _HTML_UTF8, body, variant)
        else:
            routes[path] = Route(200, _HTML_UTF8, body, variant)
    own_texts: set[str] = set()
    for path, (content_type, body, variant, texts) in _charset_pages().items():
        routes[path] = Route(200, content_type, body, variant)
        own_texts |= texts
    index_images = [
        ("/img/s0.jpg", "A lighthouse on the rocks at sunset"),
        ("/img/s1.jpg", "Two dogs playing in the snow"),
        ("/img/s2.jpg", "A red bicycle leaning against a brick wall"),
    ]
    own_texts |= {text for _, text in index_images}
    for k in range(4):
        routes[f"/img/s{k}.jpg"] = Route(
            200, "image/jpeg", _JPEG, "chunked" if k % 2 else "identity"
        )
    links = [*page_paths, *(p for p in routes if p.startswith("/c/")), "/gone.html"]
    index = "".join(
        [
            '<!doctype html><html><head><meta charset="utf-8"><title>Crawl test site</title>',
            "</head><body><h1>Crawl test site</h1>",
            *(f'<img src="{src}" alt="{alt}">' for src, alt in index_images),
            "<ul>",
            *(f'<li><a href="{path}">{path}</a></li>' for path in links),
            "</ul></body></html>",
        ]
    )
    routes["/"] = Route(200, _HTML_UTF8, index.encode("utf-8"))
    routes = {path: _encoded(route) for path, route in routes.items()}
    return Site(routes, ["/", *links], own_texts)


def _charset_pages() -> dict[str, tuple[str, bytes, str, set[str]]]:
    """Pages in legacy charsets, declared only in `<meta>` (Content-Type has no charset):
    path -> (Content-Type, body, variant, alt texts)."""
    ru_texts = [
        "Собака играет в парке",
        "Красная площадь в Москве ночью",
        "Ёлка и снег: зимний пейзаж",
    ]
    ja_texts = ["夕暮れの富士山の写真", "桜の木の下で遊ぶ子供たち", "東京タワーの夜景"]
    ru = (
        '<!DOCTYPE html><html lang="ru"><head><meta charset="windows-1251">'
        "<title>Фотографии</title></head><body><h1>Фотографии</h1>"
        f'<img src="/img/s3.jpg" alt="{ru_texts[0]}">'
        f'<p>Площадь</p><img src="photo-2.jpg" alt="{ru_texts[1]}">'
        f'<img src="images/elka.jpg" title="{ru_texts[2]}"></body></html>'
    )
    ja = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
        "<title>写真集</title></head><body><h1>写真集</h1>"
        f'<img src="/img/s3.jpg" alt="{ja_texts[0]}">'
        f'<img src="sakura.jpg" alt="{ja_texts[1]}">'
        f'<img src="../tower.jpg" alt="{ja_texts[2]}"></body></html>'
    )
    return {
        "/c/windows-1251.html": (_HTML, ru.encode("cp1251"), "gzip-chunked", set(ru_texts)),
        "/c/shift_jis.html": (_HTML, ja.encode("shift_jis"), "identity", set(ja_texts)),
    }


def _nginx_page(status: int) -> bytes:
    """The small HTML body nginx sends with an error or redirect status."""
    title = f"{status} {HTTPStatus(status).phrase}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    ).encode("ascii")


def _encoded(route: Route) -> Route:
    """The route with its body encoded as its variant says."""
    coding = _CODINGS.get(route.variant, (None, False))[0]
    body = route.body
    if coding is None:
        wire = body
    elif coding == "gzip":
        wire = gzip.compress(body, mtime=0)
    elif route.variant == "deflate-raw":  # raw RFC 1951 data, as some servers wrongly send
        compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        wire = compressor.compress(body) + compressor.flush()
    elif coding == "deflate":  # the zlib stream RFC 9110 means by deflate
        wire = zlib.compress(body, 6)
    elif coding == "br":
        wire = brotli.compress(body, quality=5)
    else:  # zstd as a streaming server writes it: a frame that does not declare its size
        compressor = zstandard.ZstdCompressor(level=3).compressobj()
        wire = compressor.compress(body) + compressor.flush()
    return Route(route.status, route.content_type, body, route.variant, route.location, wire)


def _chunks(data: bytes) -> Iterator[bytes]:
    """`data` in HTTP/1.1 chunked framing: hex-size lines, several chunks, the final 0 chunk."""
    pos, k = 0, 0
    while pos < len(data):
        size = _CHUNK_SIZES[min(k, len(_CHUNK_SIZES) - 1)]
        piece = data[pos : pos + size]
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
        pos, k = pos + size, k + 1
    yield b"0\r\n\r\n"


class _Handler(BaseHTTPRequestHandler):
    """Answers GET from the site's routes; anything else is an nginx-style 404 page.

    A route's variant is sent whatever the request's Accept-Encoding, as servers behind caches
    that ignore Vary do; the crawlers here ask for every coding anyway.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY, as servers set it: no stall between writes
    server_version = "nginx"
    sys_version = ""
    server: _SiteHTTPServer

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        route = self.server.site.routes.get(path) or _encoded(
            Route(404, _HTML, _nginx_page(404), "missing")
        )
        coding, chunked = _CODINGS.get(route.variant, (None, False))
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        if route.location is not None:
            self.send_header("Location", f"http://{self.headers['Host']}{route.location}")
        if coding is not None:
            self.send_header("Content-Encoding", coding)
            self.send_header("Vary", "Accept-Encoding")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(route.wire)))
        self.end_headers()
        sent = hashlib.sha256()
        for piece in _chunks(route.wire) if chunked else (route.wire,):
            self.wfile.write(piece)
            sent.update(piece)
        self.server.log_response(
            Served(
                path,
                route.status,
                route.content_type,
                route.variant,
                hashlib.sha256(route.body).hexdigest(),
                sent.hexdigest(),
            )
        )

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads the server's own log instead."""


class _SiteHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: Site) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.site = site
        self.served: list[Served] = []
        self._lock = threading.Lock()

    def log_response(self, served: Served) -> None:
        with self._lock:
            self.served.append(served)


class CrawlServer:
    """The site on an HTTP/1.1 server on 127.0.0.1 (a free port), in a thread, while in `with`.

    `url` has no trailing slash; `served` lists every response sent, in order.
    """

    def __init__(self, site: Site) -> None:
        self.site = site
        self._httpd = _SiteHTTPServer(site)
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def served(self) -> list[Served]:
        with self._httpd._lock:
            return list(self._httpd.served)

    def __enter__(self) -> CrawlServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)


def wget_command(server_url: str, out_dir: Path, work_dir: Path, compress: bool) -> list[str]:
    """GNU Wget's command line for a recursive crawl of the site into `<out_dir>/crawl.warc[.gz]`.

    Two levels reach the pages (1) and their images (2); `--accept-regex` keeps wget on the site's
    own paths. Wget's default `--compression=none` leaves bodies as the server sent them, which
    is what a crawl archives.
    """
    command = [
        "wget",
        "--recursive",
        "--level=2",
        "-e",
        "robots=off",
        "--no-verbose",
        "--tries=1",
        "--timeout=30",
        f"--header=Accept-Encoding: {ACCEPT_ENCODING}",
        f"--accept-regex={SITE_PATHS_REGEX}",
        f"--warc-file={out_dir / 'crawl'}",
        f"--warc-tempdir={work_dir}",
        f"--directory-prefix={work_dir}",
    ]
    if not compress:
        command.append("--no-warc-compression")
    return [*command, f"{server_url}/"]


def wget_crawl(server_url: str, out_dir: Path, *, compress: bool = True) -> Path:
    """Crawl the site with wget into a WARC (`crawl.warc.gz`, one gzip member per record, or plain
    `crawl.warc`) and return its path. Wget exits 8 when some response was an HTTP error, which
    the site's 404s are; any other failure raises with wget's output."""
    wget = shutil.which("wget")
    if wget is None:
        raise FileNotFoundError("wget is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    work_dir = out_dir / "wget-files"
    work_dir.mkdir(exist_ok=True)
    command = wget_command(server_url, out_dir, work_dir, compress)
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    warc = out_dir / ("crawl.warc.gz" if compress else "crawl.warc")
    if done.returncode not in (0, 8) or not warc.exists():
        raise RuntimeError(
            f"wget exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    shutil.rmtree(work_dir)
    return warc


# Run in a fresh interpreter: capture_http records by replacing http.client.HTTPConnection,
# which only takes for urllib3 (and so requests) when imported first; a test session may have
# imported requests long before.
_CAPTURE_SCRIPT = """
import json, sys
from warcio.capture_http import capture_http
import requests

base, out, paths, accept = json.loads(sys.stdin.read())
with capture_http(out), requests.Session() as session:
    for path in paths:
        session.get(base + path, headers={"Accept-Encoding": accept}, timeout=30).content
"""


def warcio_capture(server_url: str, paths: Sequence[str], out_file: Path) -> Path:
    """Fetch `paths` with `requests` under warcio's `capture_http`, writing `out_file` (gzip per
    record when it ends in `.gz`). warcio records the bytes read from the socket, before
    `requests` undoes chunking and content encodings, so the WARC keeps them as received;
    redirects are followed and both responses recorded."""
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.unlink(missing_ok=True)  # capture_http appends
    payload = json.dumps([server_url, str(out_file), list(paths), ACCEPT_ENCODING])
    done = subprocess.run(
        [sys.executable, "-c", _CAPTURE_SCRIPT],
        input=payload,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 or not out_file.exists():
        raise RuntimeError(f"capture exited {done.returncode}:\n{done.stderr[-4000:]}")
    return out_file


@dataclass(frozen=True)
class ReadPage:
    """One HTML response record as the reference read it."""

    url: str | None
    status: int
    content_encoding: str | None
    chunked: bool
    payload_sha256: str  # of the HTTP body as stored in the record
    body_sha256: str  # of the body with transfer and content encodings undone
    pairs: frozenset[tuple[str, str, tuple[int, ...]]]


@dataclass
class ReferenceRead:
    """What the reference found in a WARC: the distinct (uuid, text, entry ids), each HTML
    response page it read (in file order), and the image URL of each uuid."""

    pairs: set[tuple[str, str, tuple[int, ...]]] = field(default_factory=set)
    pages: list[ReadPage] = field(default_factory=list)
    image_urls: dict[str, str] = field(default_factory=dict)  # uuid -> image URL


def reference_pairs(warc_path: Path, entries: Sequence[str]) -> ReferenceRead:
    """Read `warc_path` the slow, obviously correct way, for comparison with `extract`.

    warcio's `ArchiveIterator` visits every record (any gzip layout or plain); `response`
    records with an HTTP message whose Content-Type is HTML or missing are pages, whatever
    their status. The stored HTTP body is read once (its digest lets a test check that the WARC
    holds the bytes as sent), then decoded: `content_stream()` undoes chunked framing and gzip
    or deflate (zlib or raw); br and zstd are decoded here after warcio's `ChunkedDataReader`
    undid the chunking, because warcio's br decoder fails with brotli >= 1.2 and it has no
    zstd. The page
    URL is `WARC-Target-URI` as warcio gives it: it strips the angle brackets wget writes
    around it. The texts are `html.image_texts` (the project's parser: it is not what is under
    test here), the ids `matching.naive_match` (the oracle the automaton is tested against),
    and the image id `extract.image_uuid`; pairs are distinct (uuid, text).
    """
    read = ReferenceRead()
    matches: dict[str, tuple[int, ...]] = {}
    with warc_path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            headers = record.http_headers
            content_type = headers.get_header("Content-Type")
            if content_type is not None and "html" not in content_type.lower():
                continue
            coding = (headers.get_header("Content-Encoding") or "").strip().lower() or None
            chunked = (headers.get_header("Transfer-Encoding") or "").lower() == "chunked"
            payload = record.raw_stream.read()
            record.raw_stream = io.BytesIO(payload)  # what content_stream() decodes
            body = _decoded_body(record, coding, chunked)
            url = record.rec_headers.get_header("WARC-Target-URI")
            page_pairs = set()
            for image_url, _key, text in image_texts(
                body, url, _charset(content_type), PageCounts()
            ):
                if text not in matches:
                    matches[text] = tuple(naive_match(text, entries))
                uuid = image_uuid(image_url)
                read.image_urls[uuid] = image_url
                page_pairs.add((uuid, text, matches[text]))
            read.pairs |= page_pairs
            read.pages.append(
                ReadPage(
                    url,
                    int(headers.get_statuscode()),
                    coding,
                    chunked,
                    hashlib.sha256(payload).hexdigest(),
                    hashlib.sha256(body).hexdigest(),
                    frozenset(page_pairs),
                )
            )
    return read


def _decoded_body(record, coding: str | None, chunked: bool) -> bytes:
    """The HTTP body with chunking and content encoding undone: by warcio's `content_stream()`
    for gzip and deflate; for br and zstd warcio's `ChunkedDataReader` undoes only the chunking
    (as `content_stream()` would) and the coding is undone here."""
    if coding in (None, "identity", "gzip", "deflate"):
        return record.content_stream().read()
    if coding not in _DECODERS:
        raise ValueError(f"reference reader: unknown Content-Encoding {coding!r}")
    stream = ChunkedDataReader(record.raw_stream) if chunked else record.raw_stream
    return _DECODERS[coding](stream.read())


_DECODERS = {
    # warcio's own br decoder fails with brotli >= 1.2 (it sets an attribute the new
    # Decompressor does not have), so brotli is called directly.
    "br": brotli.decompress,
    # A frame without a declared size needs the streaming decoder.
    "zstd": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
}


def _charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type, parsed as the email/HTTP header grammar says."""
    if not content_type:
        return None
    message = email.message.Message()
    message["Content-Type"] = content_type
    return message.get_content_charset()
