"""serve.py's server: content types, caching headers, what it refuses, and how it holds up."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import serve
from sitebuild import REPO as ROOT

BIG = bytes(range(256)) * 400  # 100 KB


@pytest.fixture(scope="module")
def _root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small site with one file of each kind, and a secret next to it that must stay out of reach."""
    base = tmp_path_factory.mktemp("served")
    (base / "secret.txt").write_text("outside the site")
    site = base / "site"
    files = {
        "index.html": b"<!doctype html><title>home</title>",
        "sw.js": b"// worker",
        "app.js": b"// app",
        "manifest.webmanifest": b"{}",
        "version.json": b"{}",
        "model/digits.onnx": b"onnx",
        "vendor/pyodide/pyodide.mjs": b"export {}",
        "vendor/pyodide/pyodide.asm.wasm": b"\0asm\1\0\0\0",
        "vendor/pyodide/numpy.whl": b"PK",
        "vendor/pyodide/python_stdlib.zip": b"PK",
        "vendor/pyodide/pyodide-lock.json": b"{}",
        "pyapp/config.py": b"X = 1",
        "icons/icon-192.png": b"\x89PNG",
        "nested/index.html": b"<p>nested</p>",
        "big.bin": BIG,
        ".env": b"SECRET=1",
    }
    for name, data in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(data)
    (site / "empty").mkdir()
    (site / "escape").symlink_to(base / "secret.txt")
    return site


@pytest.fixture(scope="module")
def _server(_root: Path) -> Iterator[tuple[str, int]]:
    running = serve.SiteServer(_root, port=0)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running.server_address[:2]
    running.shutdown()
    running.server_close()


def _request(address: tuple[str, int], path: str, method: str = "GET", headers: dict | None = None):
    connection = http.client.HTTPConnection(*address, timeout=30)
    try:
        connection.request(method, path, headers=headers or {})  # sent as is: no normalising
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/index.html", "text/html"),
        ("/app.js", "text/javascript"),
        ("/vendor/pyodide/pyodide.mjs", "text/javascript"),
        ("/vendor/pyodide/pyodide.asm.wasm", "application/wasm"),
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/model/digits.onnx", "application/octet-stream"),
        ("/vendor/pyodide/numpy.whl", "application/zip"),
        ("/vendor/pyodide/python_stdlib.zip", "application/zip"),
        ("/vendor/pyodide/pyodide-lock.json", "application/json"),
        ("/icons/icon-192.png", "image/png"),
    ],
)
def test_content_types(_server, path: str, expected: str) -> None:
    status, headers, _ = _request(_server, path)
    assert status == 200
    assert headers["Content-Type"].split(";")[0] == expected
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_page_and_worker_are_revalidated_the_runtime_may_be_cached(_server) -> None:
    for path in ("/", "/index.html", "/sw.js", "/version.json", "/app.js"):
        assert _request(_server, path)[1]["Cache-Control"] == "no-cache", path
    assert "max-age" in _request(_server, "/vendor/pyodide/pyodide.asm.wasm")[1]["Cache-Control"]


def test_head_sends_headers_only_and_etag_gives_304(_server) -> None:
    status, headers, body = _request(_server, "/big.bin", "HEAD")
    assert status == 200 and body == b"" and headers["Content-Length"] == str(len(BIG))
    status, _, body = _request(_server, "/big.bin", headers={"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""
    status, _, body = _request(_server, "/big.bin", headers={"If-Modified-Since": headers["Last-Modified"]})
    assert status == 304 and body == b""
    assert _request(_server, "/big.bin", headers={"If-None-Match": '"other"'})[0] == 200


def test_keep_alive_serves_several_requests_on_one_connection(_server) -> None:
    connection = http.client.HTTPConnection(*_server, timeout=30)
    try:
        for path in ("/index.html", "/app.js", "/missing", "/big.bin"):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            assert response.status == (404 if path == "/missing" else 200)
    finally:
        connection.close()


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/..%2Fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/nested/../../secret.txt",
        "/..\\secret.txt",
        "/..%5csecret.txt",
        "/.env",
        "/%2eenv",
        "/.git/config",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/nested%2findex.html",
        "/escape",
        "/%00",
        "/%ff",
        "/missing.js",
    ],
)
def test_nothing_outside_hidden_or_missing_is_served(_server, path: str) -> None:
    status, _, body = _request(_server, path)
    assert status == 404, path
    assert b"outside" not in body and b"SECRET" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_and_head(_server, method: str) -> None:
    status, headers, _ = _request(_server, "/index.html", method)
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"


def test_folders_serve_their_index_never_a_listing(_server) -> None:
    assert _request(_server, "/")[2] == b"<!doctype html><title>home</title>"
    assert _request(_server, "/nested/")[2] == b"<p>nested</p>"
    status, headers, _ = _request(_server, "/nested")
    assert status == 301 and headers["Location"] == "/nested/"  # relative URLs need the slash
    for folder in ("/empty/", "/empty", "/vendor/", "/vendor/pyodide/", "/icons"):
        assert _request(_server, folder)[0] == 404, folder


def test_query_strings_are_ignored(_server) -> None:
    assert _request(_server, "/index.html?v=1#x")[0] == 200


def test_two_hundred_parallel_requests_are_all_answered(_server) -> None:
    def fetch(i: int) -> tuple[int, bytes]:
        status, _, body = _request(_server, f"/big.bin?n={i}")
        return status, body

    with ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(fetch, range(200)))
    assert all(status == 200 and body == BIG for status, body in results)
    assert _request(_server, "/index.html")[0] == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_each_server_serves_its_own_folder(_server, tmp_path: Path, host: str) -> None:
    (tmp_path / "index.html").write_bytes(b"<p>another site</p>")
    try:
        other = serve.SiteServer(tmp_path, host, 0)
    except OSError as e:
        pytest.skip(f"cannot bind {host}: {e}")
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        assert serve.url_of(other).startswith(f"http://{'[::1]' if ':' in host else host}:")
        assert _request(other.server_address[:2], "/")[2] == b"<p>another site</p>"
        assert _request(other.server_address[:2], "/big.bin")[0] == 404
        assert _request(_server, "/")[2] == b"<!doctype html><title>home</title>"
    finally:
        other.shutdown()
        other.server_close()


def test_loopback_is_the_default(_root: Path) -> None:
    assert serve.parse_args([]).host == "127.0.0.1"
    assert serve.parse_args([]).port == 8000
    running = serve.SiteServer(_root, port=0)
    try:
        assert running.server_address[0] == "127.0.0.1"
    finally:
        running.server_close()
    assert serve.is_loopback("127.0.0.1") and serve.is_loopback("::1") and serve.is_loopback("localhost")
    assert not serve.is_loopback("0.0.0.0")


def test_importing_serve_starts_nothing() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import serve, threading; print(threading.active_count())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0 and done.stdout.strip() == "1" and done.stderr == ""


def test_the_cli_prints_its_url_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "serve.py"), "--port", "0", "--dir", str(tmp_path / "dist")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # A shell's background job (`pytest &`) ignores SIGINT, and so would the server: give it Ctrl+C back.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        url = ""
        for line in process.stdout:
            if match := re.search(r"http://127\.0\.0\.1:(\d+)/", line):
                url = match.group(0)
                break
        assert url, "no URL printed"
        status, headers, _ = _request(("127.0.0.1", int(url.rsplit(":", 1)[1].strip("/"))), "/sw.js")
        assert status == 200 and headers["Content-Type"] == "text/javascript"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "Traceback" not in err and "stopped" in out
