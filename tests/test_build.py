"""sitebuild.build: the layout of the deployable folder, the verified runtime, the service worker's version."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

import sitebuild
from pyapp.config import MODEL_FILE, SPACE_FILE
from sitebuild import REPO as ROOT

PYODIDE_FILES = [
    "pyodide.mjs",
    "pyodide.asm.js",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
]
ORT_FILES = ["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]
OWN_FILES = ["sw.js", "offline.js", "manifest.webmanifest", "favicon.svg", "icons/icon.svg", "version.json"]


def quiet(message: str) -> None:
    pass


def _files(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}


def _worker_files(site: Path) -> list[str]:
    text = (site / "sw.js").read_text()
    return json.loads(re.search(r"const FILES = (\[.*?\]);", text).group(1))


# --- Layout ----------------------------------------------------------------------------------------------


def test_layout_follows_the_architecture(built_site: Path) -> None:
    files = _files(built_site)
    for name in OWN_FILES + [f"vendor/pyodide/{n}" for n in PYODIDE_FILES] + [f"vendor/ort/{n}" for n in ORT_FILES]:
        assert name in files, name
    assert "vendor/pyscript/core.js" in files and "vendor/pyscript/core.css" in files
    assert {f for f in files if f.startswith("vendor/ort/")} == {f"vendor/ort/{n}" for n in ORT_FILES}
    assert not [f for f in files if f.endswith(".map")]
    assert not [f for f in files if any(part.startswith(".") for part in f.split("/"))]


def test_site_and_model_are_copied_whole(built_site: Path) -> None:
    files = _files(built_site)
    for path in (ROOT / "site").rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            assert path.relative_to(ROOT / "site").as_posix() in files
    shipped = [*(ROOT / "model").glob("*.onnx"), *(ROOT / "model").glob("*.space.npz")]
    assert {path.name for path in shipped} >= {MODEL_FILE, SPACE_FILE}
    for path in shipped:
        assert (built_site / "model" / path.name).read_bytes() == path.read_bytes()
    # The workers fetch both by name (the model's worker the model, the reader's the space): pyapp.config's.
    assert f'"./model/{MODEL_FILE}"' in (built_site / "model.mjs").read_text()
    assert f'"./model/{SPACE_FILE}"' in (built_site / "worker.mjs").read_text()


def test_only_the_pages_python_modules_ship(built_site: Path) -> None:
    shipped = {p.name for p in (built_site / "pyapp").glob("*.py")}
    expected = {p.name for p in (ROOT / "pyapp").glob("*.py")} - {"cli.py", "__main__.py", "model.py"}
    assert shipped == expected


def worker_config(site: Path) -> dict:
    """The PyScript configuration of index.html's worker script: inline JSON in its config attribute."""
    scripts: list[dict] = []

    class Scripts(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "script" and dict(attrs).get("type") == "py":
                scripts.append(dict(attrs))

    Scripts().feed((site / "index.html").read_text())
    assert len(scripts) == 1 and "worker" in scripts[0], scripts  # one Python entry, in a worker
    return json.loads(scripts[0]["config"])


def test_every_file_the_worker_config_maps_is_built(built_site: Path) -> None:
    config = worker_config(built_site)
    # The interpreter is the worker's own module, which hands over the self-hosted Pyodide.
    assert config["interpreter"] == "./worker.mjs"
    assert 'from "./vendor/pyodide/pyodide.mjs"' in (built_site / "worker.mjs").read_text()
    assert (built_site / "vendor" / "pyodide" / "pyodide.mjs").is_file()
    assert "packages" not in config  # it would install micropip and packaging first
    for source in config["files"]:
        assert (built_site / source).is_file(), source
    shipped = {f"./pyapp/{p.name}" for p in (built_site / "pyapp").glob("*.py")}
    assert set(config["files"]) == shipped  # every module the build ships is mapped, and only those


def test_pyscript_chunks_that_core_imports_are_there(built_site: Path) -> None:
    core = (built_site / "vendor" / "pyscript" / "core.js").read_text()
    for chunk in re.findall(r'from"\./([^"]+)"', core):
        assert (built_site / "vendor" / "pyscript" / chunk).is_file(), chunk
    assert "sourceMappingURL" not in core


def test_own_files_use_relative_urls_only(built_site: Path) -> None:
    own = ["sw.js", "offline.js", "manifest.webmanifest", "index.html", "worker.mjs", "model.mjs", "watch.mjs"]
    own += ["app.js", "pad.js", "files.js", "reader.js", "show.js", "teach.js", "startup.js", "why.js"]
    for name in own:
        path = built_site / name
        if not path.is_file():
            continue
        text = re.sub(r'xmlns(:\w+)?="http://www\.w3\.org/[^"]*"', "", path.read_text())
        assert "://" not in text, name
        assert not re.search(r'(src|href)="/', text), name
    manifest = json.loads((built_site / "manifest.webmanifest").read_text())
    assert manifest["start_url"] == "./" and manifest["scope"] == "./"
    for icon in manifest["icons"]:
        assert not icon["src"].startswith("/") and (built_site / icon["src"]).is_file()


def test_the_page_preloads_every_module_its_script_imports(built_site: Path) -> None:
    """The pad draws once app.js and all it imports have run, and module scripts run in document order, so
    PyScript's core.js waits for them too: each of those modules is named by a <link rel="modulepreload"> and
    fetched at once, not a round trip after app.js."""
    index = (built_site / "index.html").read_text()
    preloaded = set(re.findall(r'<link rel="modulepreload" href="\./([^"]+)">', index))
    imported, unread = set(), ["app.js"]
    while unread:
        text = (built_site / unread.pop()).read_text()
        for name in re.findall(r'^import .* from "\./([^"]+)";$', text, re.MULTILINE):
            if name not in imported:
                imported.add(name)
                unread.append(name)
    assert len(imported) >= 6, imported
    assert imported <= preloaded, imported - preloaded
    assert all((built_site / name).is_file() for name in preloaded)


# --- The pinned runtime, verified ------------------------------------------------------------------------


def test_wheels_match_the_lock_and_its_depends(built_site: Path) -> None:
    lock = json.loads((built_site / "vendor" / "pyodide" / "pyodide-lock.json").read_text())
    assert lock["info"]["version"] == sitebuild.PYODIDE.version
    needed = sitebuild.wheel_closure(lock, sitebuild.PYODIDE_PACKAGES)
    assert {e["name"].lower() for e in needed} >= {"numpy", "pillow"}
    wheels = {p.name for p in (built_site / "vendor" / "pyodide").glob("*.whl")}
    assert wheels == {e["file_name"] for e in needed}
    for entry in needed:
        data = (built_site / "vendor" / "pyodide" / entry["file_name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]


def test_wheel_closure_follows_depends() -> None:
    lock = {
        "packages": {
            "a": {"depends": ["B_c"], "file_name": "a.whl"},
            "b-c": {"depends": ["a"], "file_name": "b.whl"},
            "other": {"depends": [], "file_name": "o.whl"},
        }
    }
    assert [e["file_name"] for e in sitebuild.wheel_closure(lock, ["A"])] == ["a.whl", "b.whl"]
    with pytest.raises(sitebuild.BuildError, match="nope"):
        sitebuild.wheel_closure(lock, ["nope"])


def test_a_wheel_that_does_not_match_the_lock_is_refused(tmp_path: Path) -> None:
    carrier, carried = tmp_path / "carrier.whl", next(iter(sitebuild.WHEELS.members))
    with zipfile.ZipFile(carrier, "w") as z:
        z.writestr(carried + "numpy-9-wasm32.whl", b"not numpy")
        z.writestr(carried + "pillow-9-wasm32.whl", b"pillow")
    lock = {
        "packages": {
            "numpy": {"depends": [], "file_name": "numpy-9-wasm32.whl", "sha256": "0" * 64},
            "pillow": {
                "depends": [],
                "file_name": "pillow-9-wasm32.whl",
                "sha256": hashlib.sha256(b"pillow").hexdigest(),
            },
        }
    }
    with pytest.raises(sitebuild.IntegrityError, match="numpy-9-wasm32.whl"):
        sitebuild.copy_wheels(carrier, lock, tmp_path / "site")
    assert not (tmp_path / "site" / "vendor" / "pyodide" / "numpy-9-wasm32.whl").exists()


def test_a_carrier_with_another_hash_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / sitebuild.WHEELS.filename
    fake.write_bytes(b"PK not the pinned wheel")
    with pytest.raises(sitebuild.IntegrityError, match=re.escape(sitebuild.WHEELS.filename)):
        sitebuild.verify(sitebuild.WHEELS, fake)


def _tampered_cache(tmp_path: Path, name: str) -> Path:
    """A copy of the real cache (links) in which the file `name` has one byte more."""
    real, cache = sitebuild.cache_dir(), tmp_path / "cache"
    cache.mkdir()
    for path in real.iterdir():
        if path.is_file():
            (cache / path.name).symlink_to(path)
    (cache / name).unlink()
    shutil.copyfile(real / name, cache / name)
    with (cache / name).open("ab") as f:
        f.write(b"\0")
    return cache


@pytest.mark.usefixtures("built_site")  # the runtime is in the cache
def test_a_tampered_cached_tarball_is_refused_by_name(tmp_path: Path) -> None:
    name = sitebuild.PYODIDE.filename
    cache = _tampered_cache(tmp_path, name)
    with pytest.raises(sitebuild.IntegrityError, match=re.escape(name)):
        sitebuild.build(tmp_path / "dist", cache=cache, log=quiet)
    assert not (tmp_path / "dist").exists()


@pytest.mark.usefixtures("built_site")  # the runtime is in the cache
def test_the_cli_refuses_a_tampered_cache_without_a_traceback(tmp_path: Path) -> None:
    name = sitebuild.PYSCRIPT.filename
    cache = _tampered_cache(tmp_path, name)
    done = subprocess.run(
        [sys.executable, str(ROOT / "serve.py"), "--build-only", str(tmp_path / "out")],
        env={"PATH": "/usr/bin:/bin", sitebuild.CACHE_ENV: str(cache)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert name in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("pin", [*sitebuild.NPM_PINS, sitebuild.WHEELS], ids=lambda pin: pin.name)
def test_a_download_that_does_not_match_never_enters_the_cache(
    pin: sitebuild.Pin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []

    def client_from_somewhere_else(command: list[str], cwd: Path) -> str:
        commands.append(command)
        (cwd / pin.filename).write_bytes(b"a package from somewhere else")
        return ""

    monkeypatch.setattr(sitebuild, "_run", client_from_somewhere_else)
    with pytest.raises(sitebuild.IntegrityError, match=re.escape(pin.filename)):
        sitebuild.fetch(pin, tmp_path, log=quiet)
    assert [pin.spec in command for command in commands] == [True]
    assert [p.name for p in tmp_path.iterdir()] == []  # neither the file nor the download folder


@pytest.mark.usefixtures("built_site")  # the runtime is in the cache
def test_a_download_that_matches_is_cached_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pin, commands = sitebuild.PYSCRIPT, []

    def npm_pack(command: list[str], cwd: Path) -> str:
        commands.append(command)
        shutil.copyfile(sitebuild.cache_dir() / pin.filename, cwd / pin.filename)
        return ""

    monkeypatch.setattr(sitebuild, "_run", npm_pack)
    first = sitebuild.fetch(pin, tmp_path / "cache", log=quiet)
    second = sitebuild.fetch(pin, tmp_path / "cache", log=quiet)
    assert first == second == tmp_path / "cache" / pin.filename
    assert len(commands) == 1 and commands[0][:3] == ["npm", "pack", pin.spec]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [pin.filename]


@pytest.mark.usefixtures("built_site")  # the runtime is in the cache
def test_the_second_build_downloads_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(command: list[str], cwd: Path) -> str:
        raise AssertionError(f"a warm build ran {command}")

    monkeypatch.setattr(sitebuild, "_run", no_network)
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm, no pip
    lines: list[str] = []
    sitebuild.build(tmp_path / "dist", log=lines.append)
    assert not [line for line in lines if "downloading" in line]


# --- Version and atomic replacement ----------------------------------------------------------------------


def test_version_is_stamped_into_the_worker_and_version_json(built_site: Path) -> None:
    version = json.loads((built_site / "version.json").read_text())["version"]
    worker = (built_site / "sw.js").read_text()
    assert re.fullmatch(r"[0-9a-f]{12}", version)
    assert f'const VERSION = "{version}";' in worker
    assert sitebuild.VERSION_PLACEHOLDER not in worker and "__PRECACHE_FILES__" not in worker


def test_the_worker_precaches_every_built_file(built_site: Path) -> None:
    precached = _worker_files(built_site)
    assert sorted(precached) == sorted(_files(built_site) - {"sw.js", "version.json"})
    assert all(not f.startswith("/") for f in precached)


def _small_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "site", repo / "site")
    shutil.copytree(ROOT / "pyapp", repo / "pyapp", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "model").mkdir()
    (repo / "model" / "digits.onnx").write_bytes(b"model bytes")
    return repo


@pytest.mark.usefixtures("built_site")  # the runtime is in the cache
def test_a_changed_source_gives_a_new_version_and_replaces_the_folder(tmp_path: Path) -> None:
    repo, dest = _small_repo(tmp_path), tmp_path / "out" / "dist"
    first = json.loads((sitebuild.build(dest, repo=repo, log=quiet) / "version.json").read_text())["version"]
    (dest / "stale.txt").write_text("left from an older build")
    (repo / "site" / "app.js").write_text("// changed\n")
    second = json.loads((sitebuild.build(dest, repo=repo, log=quiet) / "version.json").read_text())["version"]
    assert first != second
    assert second in (dest / "sw.js").read_text()
    assert not (dest / "stale.txt").exists()
    assert (dest / "model" / "digits.onnx").read_bytes() == b"model bytes"
    assert [p.name for p in dest.parent.iterdir()] == ["dist"]  # no temporary folders left


def test_a_folder_that_is_not_a_build_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(sitebuild.BuildError, match="not a build"):
        sitebuild.build(tmp_path, log=quiet)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


@pytest.mark.usefixtures("built_site")  # the runtime is in the cache
def test_the_same_sources_give_the_same_version(tmp_path: Path) -> None:
    repo = _small_repo(tmp_path)
    first = sitebuild.build(tmp_path / "a", repo=repo, log=quiet)
    second = sitebuild.build(tmp_path / "b", repo=repo, log=quiet)
    assert (first / "version.json").read_text() == (second / "version.json").read_text()
