"""Write WARC files: the demo's sample shard, the benchmark's replicated shard, test fixtures.

`write_warc` takes (target URI, HTTP headers, body) responses and writes them in any of the
layouts `extract` must read: one gzip member per record (Common Crawl's), one gzip member for the
whole file, or plain. `sample_pages` makes a small synthetic crawl whose alt texts follow a
Zipf-like word popularity, so balancing has head and tail entries to work on.
"""

from __future__ import annotations

import gzip
import io
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

LAYOUTS = ("members", "single", "plain")
_DATE = "2024-05-18T00:00:00Z"


@dataclass(frozen=True)
class Response:
    """One HTTP response to store as a WARC `response` record."""

    url: str | None
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: str = "200 OK"
    headers: tuple[str, ...] = ()  # more HTTP header lines, e.g. "Content-Encoding: gzip"


def warc_record(resp: Response, index: int) -> bytes:
    """The bytes of one WARC/1.0 response record (headers, HTTP block, trailing CRLFs)."""
    extra = "".join(f"{line}\r\n" for line in resp.headers)
    http = (
        f"HTTP/1.1 {resp.status}\r\nContent-Type: {resp.content_type}\r\n{extra}"
        f"Content-Length: {len(resp.body)}\r\n\r\n"
    ).encode("latin-1") + resp.body
    record_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{index}:{resp.url}")
    head = ["WARC/1.0", "WARC-Type: response", f"WARC-Date: {_DATE}"]
    head.append(f"WARC-Record-ID: <urn:uuid:{record_id}>")
    if resp.url is not None:
        head.append(f"WARC-Target-URI: {resp.url}")
    head += ["Content-Type: application/http; msgtype=response", f"Content-Length: {len(http)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("utf-8") + http + b"\r\n\r\n"


def write_warc(path: Path, responses: Iterable[Response], layout: str = "members") -> Path:
    """Write `responses` to `path` in one of `LAYOUTS`; gzip output is byte-reproducible."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as out:
        if layout == "single":
            with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
                for i, resp in enumerate(responses):
                    gz.write(warc_record(resp, i))
        else:
            for i, resp in enumerate(responses):
                raw = warc_record(resp, i)
                out.write(_gzip(raw) if layout == "members" else raw)
    tmp.replace(path)
    return path


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


_SUBJECTS = (
    "dog cat bird horse car bicycle house tree flower mountain beach river city bridge "
    "train boat guitar piano coffee pizza book chair table computer phone camera castle "
    "lighthouse tiger elephant penguin owl butterfly sunflower volcano glacier desert"
).split()
_STYLES = ["photo", "picture", "illustration", "painting", "close-up", "drawing", "view"]
_PLACES = ["in the snow", "at sunset", "on the beach", "in Paris", "in the garden", "at night"]
_OTHER_LANGS = [
    "Ein Hund spielt im Park",
    "Une photo de la tour Eiffel au coucher du soleil",
    "Un gato durmiendo en el sofá",
    "夕暮れの富士山の写真",
]


def _alt_text(rng: random.Random) -> str:
    subject = _SUBJECTS[min(int(rng.paretovariate(1.2)) - 1, len(_SUBJECTS) - 1)]
    parts = [f"A {rng.choice(_STYLES)} of a {subject}"]
    if rng.random() < 0.6:
        parts.append(rng.choice(_PLACES))
    if rng.random() < 0.3:
        parts.append(f"with a {rng.choice(_SUBJECTS)}")
    return " ".join(parts)


def sample_pages(pages: int = 200, seed: int = 0) -> list[Response]:
    """A small reproducible crawl: English and other-language alt texts, relative and absolute
    URLs, `<base href>`, a `data:` image, titles, duplicates, and one Latin-1 page."""
    rng = random.Random(seed)
    out: list[Response] = []
    for p in range(pages):
        host = f"https://site{p % 17}.example.org"
        imgs = []
        for i in range(rng.randint(2, 9)):
            text = _alt_text(rng) if rng.random() > 0.08 else rng.choice(_OTHER_LANGS)
            src = f"/img/{p}-{i}.jpg" if i % 2 else f"{host}/media/{rng.randint(0, 5000)}.jpg"
            title = f' title="{_alt_text(rng)}"' if rng.random() < 0.2 else ""
            imgs.append(f'<img src="{src}" alt="{text}"{title}>')
        imgs.append('<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="a photo of a dog">')
        base = f'<base href="{host}/static/">' if p % 10 == 0 else ""
        html = (
            f"<!doctype html><html><head><meta charset='utf-8'>{base}<title>Page {p}</title>"
            f"</head><body><h1>Page {p}</h1>{''.join(imgs)}</body></html>"
        )
        out.append(Response(f"{host}/page/{p}.html", html.encode("utf-8")))
    latin = "<html><body><img src='/caf\xe9.jpg' alt='A photo of a caf\xe9 in Paris'></body></html>"
    out.append(Response("https://latin1.example.org/", latin.encode("latin-1"), "text/html"))
    return out
