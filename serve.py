"""Build the static site and serve it: ``python serve.py [--port 8000] [--host 127.0.0.1] [--dir dist]``.

Builds the deployable folder with sitebuild.build (the pinned runtime is downloaded only when the cache
lacks it), then serves it; the new build replaces the folder whole, so a half-built folder is never served.
``python serve.py --build-only DIR`` builds and stops. Standard library only, like sitebuild.py.
"""

from __future__ import annotations

import argparse
import email.utils
import ipaddress
import shutil
import socket
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from sitebuild import REPO, BuildError, build

LOOPBACK = "127.0.0.1"

# --- Serving ---------------------------------------------------------------------------------------------

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".onnx": "application/octet-stream",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".py": "text/plain; charset=utf-8",
    ".toml": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}
NO_CACHE = "no-cache"
VENDOR_CACHE = "public, max-age=3600"


def content_type(path: Path) -> str:
    return MIME_TYPES.get(path.suffix.lower(), "application/octet-stream")


def cache_control(relative: str) -> str:
    """The pinned runtime may be kept a while; the project's own files are revalidated every time."""
    return VENDOR_CACHE if relative.startswith("vendor/") else NO_CACHE


def path_of(target: str) -> str:
    """The request target without its query and fragment (not urlsplit: "//host/x" is a path here)."""
    return target.split("?", 1)[0].split("#", 1)[0]


def safe_parts(target: str) -> list[str] | None:
    """The path's segments below the site root, or None for anything that could leave it or is hidden."""
    raw = path_of(target)
    if not raw.startswith("/"):
        return None
    parts = [unquote(p, errors="strict") for p in raw.split("/") if p]
    for part in parts:
        if part.startswith(".") or any(c in part for c in "/\\\0"):  # "..", ".git", encoded slashes
            return None
    return parts


class SiteHandler(BaseHTTPRequestHandler):
    """GET and HEAD for the files inside one folder; nothing else."""

    server_version = "digits"
    protocol_version = "HTTP/1.1"  # keep-alive, and browsers revalidate with ETags only from HTTP/1.1
    timeout = 30  # a client that sends nothing is let go
    server: SiteServer  # the one that accepted the connection; it knows the folder

    def version_string(self) -> str:
        return self.server_version

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.command not in ("GET", "HEAD"):
            self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
            self.send_header("Allow", "GET, HEAD")
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True  # its body, if any, is never read
            return False
        return True

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, body: bool) -> None:
        try:
            found = self._locate()
        except UnicodeDecodeError:
            found = None
        if isinstance(found, str):
            self._redirect(found)
        elif found is None:
            self._plain(HTTPStatus.NOT_FOUND, body)
        else:
            self._send_file(found, body)

    def _locate(self) -> Path | str | None:
        """The file to send, a URL to redirect to (a folder without its slash), or None."""
        parts = safe_parts(self.path)
        if parts is None:
            return None
        root = self.server.root.resolve()
        target = root.joinpath(*parts).resolve()
        if not target.is_relative_to(root):
            return None  # a symlink out of the folder
        if target.is_dir():
            if not (target / "index.html").is_file():
                return None  # no listings
            if not path_of(self.path).endswith("/"):
                return path_of(self.path) + "/"
            target = target / "index.html"
        return target if target.is_file() else None

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", "/" + location.lstrip("/"))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _plain(self, status: HTTPStatus, body: bool) -> None:
        text = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.send_header("Cache-Control", NO_CACHE)
        self.end_headers()
        if body:
            self.wfile.write(text)

    def _send_file(self, path: Path, body: bool) -> None:
        stat = path.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        relative = path.relative_to(self.server.root.resolve()).as_posix()
        fresh = self._unchanged(etag, int(stat.st_mtime))
        self.send_response(HTTPStatus.NOT_MODIFIED if fresh else HTTPStatus.OK)
        self.send_header("Content-Type", content_type(path))
        self.send_header("Cache-Control", cache_control(relative))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
        self.send_header("X-Content-Type-Options", "nosniff")
        if not fresh:
            self.send_header("Content-Length", str(stat.st_size))
        self.end_headers()
        if body and not fresh:
            with path.open("rb") as f:
                shutil.copyfileobj(f, self.wfile, 1 << 20)

    def _unchanged(self, etag: str, mtime: int) -> bool:
        """Whether the client's copy is current (If-None-Match, else If-Modified-Since)."""
        if "If-None-Match" in self.headers:
            return etag in (tag.strip() for tag in self.headers["If-None-Match"].split(","))
        since = self.headers.get("If-Modified-Since")
        try:
            return since is not None and mtime <= email.utils.parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if isinstance(code, HTTPStatus):
            code = code.value
        if str(code).isdigit() and int(code) >= 400:  # quiet: only what went wrong
            super().log_request(code, size)


class SiteServer(ThreadingHTTPServer):
    """Serves the files under root (not started: call serve_forever, e.g. in a thread)."""

    daemon_threads = True
    request_queue_size = 512  # many parallel connections wait instead of being refused

    def __init__(self, root: Path, host: str = LOOPBACK, port: int = 8000) -> None:
        self.root = Path(root).resolve()
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET  # read when binding
        super().__init__((host, port), SiteHandler)

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: object) -> None:
        """Clients that hang up or time out are normal; anything else is reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def url_of(server: SiteServer) -> str:
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else host
    return f"http://{shown}:{port}/"


def serve(root: Path, host: str, port: int) -> None:
    with SiteServer(root, host, port) as server:
        if not is_loopback(host):
            print(f"warning: serving on {host}, reachable from other machines", file=sys.stderr)
        print(f"serving {root} at {url_of(server)} (Ctrl+C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("\nstopped", flush=True)


# --- CLI -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Build the digit reader's static site and serve it.")
    parser.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
    parser.add_argument("--host", default=LOOPBACK, help="address to bind (default 127.0.0.1, loopback only)")
    parser.add_argument("--dir", type=Path, default=REPO / "dist", help="where to build and serve from")
    parser.add_argument("--build-only", type=Path, metavar="DIR", help="build into DIR and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        site = build(args.build_only or args.dir)
        if args.build_only is None:
            serve(site, args.host, args.port)
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
