"""A static server that answers the way GitHub Pages does, for the benchmark (standard library only).

What it copies from GitHub Pages (Fastly in front of it), as seen in its response headers:
- `Cache-Control: max-age=600`, an `Expires` ten minutes on, `ETag` and `Last-Modified` on every file, so a
  return visit within ten minutes takes everything from the HTTP cache without asking, and later revalidates.
- gzip (`Content-Encoding: gzip`, `Vary: Accept-Encoding`) for the types Fastly compresses: text, JavaScript,
  JSON, SVG, the manifest and WebAssembly (`application/wasm` is compressed on github.io; a 2023 check of a
  go-app site showed a gzip-encoded .wasm). Already compressed types (zip, wheel, PNG) and
  `application/octet-stream` (the .onnx model) go as they are.
- No COOP/COEP headers (GitHub Pages cannot send them).

It is not serve.py: serve.py is the developer's server (no compression, revalidate the project's files).
Every answered request is counted (bytes on the wire and decoded), so the bench can read what a visit cost,
including the requests a worker makes that the page's Resource Timing does not see.
"""

from __future__ import annotations

import email.utils
import gzip
import sys
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import serve  # its MIME types; bench/page.py puts the checkout on the path

MAX_AGE_S = 600  # GitHub Pages' Cache-Control
GZIP_LEVEL = 6  # Fastly's default level (the figures differ from level 9 by about 1%)

# serve.py's types, but for what GitHub Pages answers differently.
TYPES = {
    **serve.MIME_TYPES,
    ".js": "application/javascript; charset=utf-8",
    ".mjs": "application/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
}
COMPRESSED_TYPES = ("text/", "application/javascript", "application/json", "application/manifest+json",
                    "image/svg+xml", "application/wasm")


def content_type(path: Path) -> str:
    return TYPES.get(path.suffix.lower(), "application/octet-stream")


def compressible(mime: str) -> bool:
    return mime.startswith(COMPRESSED_TYPES)


@dataclass
class Traffic:
    """What the server sent since the last reset: requests, bytes on the wire (bodies) and decoded bytes."""

    requests: int = 0
    wire: int = 0
    decoded: int = 0
    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, path: str, wire: int, decoded: int) -> None:
        with self.lock:
            self.requests += 1
            self.wire += wire
            self.decoded += decoded
            self.paths.append(path)

    def take(self) -> tuple[int, int, int, list[str]]:
        """The counts so far, and start again from zero."""
        with self.lock:
            counts = (self.requests, self.wire, self.decoded, self.paths)
            self.requests = self.wire = self.decoded = 0
            self.paths = []
            return counts


class PagesHandler(BaseHTTPRequestHandler):
    server_version = "GitHub.com"
    protocol_version = "HTTP/1.1"
    timeout = 30
    root: Path
    traffic: Traffic
    gzipped: dict[tuple[Path, int], bytes]  # (file, mtime_ns) -> its gzip body, computed once
    gzip_lock: threading.Lock

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the bench prints its own tables

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _file(self) -> Path | None:
        raw = self.path.split("?", 1)[0].split("#", 1)[0]
        parts = [unquote(p) for p in raw.split("/") if p]
        if any(p.startswith(".") or "/" in p or "\\" in p for p in parts):
            return None
        target = self.root.joinpath(*parts)
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def _gzip(self, path: Path, mtime_ns: int) -> bytes:
        key = (path, mtime_ns)
        with self.gzip_lock:
            if key not in self.gzipped:
                self.gzipped[key] = gzip.compress(path.read_bytes(), GZIP_LEVEL, mtime=0)
            return self.gzipped[key]

    def _answer(self, body: bool) -> None:
        path = self._file()
        if path is None:
            self.send_response(HTTPStatus.NOT_FOUND)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        stat = path.stat()
        mime = content_type(path)
        encode = compressible(mime) and "gzip" in self.headers.get("Accept-Encoding", "")
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}{"-gz" if encode else ""}"'
        if etag in (t.strip() for t in self.headers.get("If-None-Match", "").split(",")):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self._cache_headers(etag, stat.st_mtime)
            self.end_headers()
            self.traffic.add(self.path, 0, 0)
            return
        data = self._gzip(path, stat.st_mtime_ns) if encode else path.read_bytes()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", mime)
        if encode:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self._cache_headers(etag, stat.st_mtime)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)
        self.traffic.add(self.path, len(data) if body else 0, stat.st_size if body else 0)

    def _cache_headers(self, etag: str, mtime: float) -> None:
        self.send_header("Cache-Control", f"max-age={MAX_AGE_S}")
        self.send_header("Expires", email.utils.formatdate(time.time() + MAX_AGE_S, usegmt=True))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", email.utils.formatdate(mtime, usegmt=True))


class PagesServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request: object, client_address: object) -> None:
        """A browser closing a connection (a context closed mid-load) is normal; anything else is shown."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


def start(root: Path, host: str = "127.0.0.1") -> tuple[PagesServer, str, Traffic]:
    """Serve root on a free loopback port in a background thread: (server, base URL with '/', traffic)."""
    traffic = Traffic()
    handler = type(
        "BoundPagesHandler",
        (PagesHandler,),
        {"root": Path(root).resolve(), "traffic": traffic, "gzipped": {}, "gzip_lock": threading.Lock()},
    )
    for path in sorted(handler.root.rglob("*")):  # compress up front, so no visit waits for it
        if path.is_file() and compressible(content_type(path)):
            handler._gzip(handler, path, path.stat().st_mtime_ns)
    server = PagesServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}/", traffic
