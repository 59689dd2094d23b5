"""The benchmark's parts that need no browser: its arithmetic and its GitHub-Pages-like server.

    python -m pytest bench/test_bench.py
"""

from __future__ import annotations

import gzip
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import page  # noqa: E402
import pages_server  # noqa: E402


def test_total_blocking_time_counts_only_what_is_over_50_ms_before_ready() -> None:
    tasks = [(0.0, 40.0), (100.0, 250.0), (400.0, 51.0), (5000.0, 900.0)]
    assert page.total_blocking_time(tasks, until_ms=1000.0) == 200.0 + 1.0
    assert page.total_blocking_time([], until_ms=1000.0) == 0.0


def test_input_delays_count_unreported_events_as_fast() -> None:
    events = [{"delay": 120.0}, {"delay": 30.0}, {"delay": 20.0}]
    delays = page.input_delays(events, event_count=40)
    assert len(delays) == 40 and max(delays) == 120.0
    assert page.percentile(delays, 0.95) == 20.0  # 3 slow events in 40: the 95th percentile is the third
    assert page.percentile(page.input_delays(events[:1], event_count=40), 0.95) == 0.0


def test_self_times_split_at_pyodide() -> None:
    frame = {"functionName": "f", "url": "http://h/vendor/ort/ort.wasm"}
    profile = {
        "nodes": [
            {"id": 1, "callFrame": {"functionName": "(root)", "url": ""}, "children": [2, 3]},
            {"id": 2, "callFrame": frame},
            {"id": 3, "callFrame": {"functionName": "boot", "url": "http://h/vendor/pyodide/pyodide.asm.js"},
             "children": [4]},
            {"id": 4, "callFrame": {"functionName": "(idle)", "url": ""}},
        ],
        "samples": [2, 2, 3, 2, 4],
        "timeDeltas": [1000, 1000, 1000, 1000, 1000],
    }
    times = page.self_times(profile)
    assert times["before"] == {"script vendor/ort/ort.wasm": 2.0, "function ort.wasm:f": 2.0}
    assert times["after"]["script vendor/pyodide/pyodide.asm.js"] == 1.0
    assert times["after"]["script vendor/ort/ort.wasm"] == 1.0


def test_pages_server_gzips_text_and_wasm_keeps_zips_and_revalidates(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    wasm = b"\0asm" + bytes(range(256)) * 64
    (tmp_path / "vendor" / "a.wasm").write_bytes(wasm)
    (tmp_path / "vendor" / "b.whl").write_bytes(b"PK" * 500)
    (tmp_path / "index.html").write_text("<p>hi</p>" * 50)
    server, url, traffic = pages_server.start(tmp_path)
    try:
        def get(path: str, **headers: str):
            request = urllib.request.Request(url + path, headers={"Accept-Encoding": "gzip", **headers})
            try:
                with urllib.request.urlopen(request) as response:
                    return response.status, response.headers, response.read()
            except urllib.error.HTTPError as answer:
                return answer.code, answer.headers, b""

        status, headers, body = get("vendor/a.wasm")
        assert (status, headers["Content-Encoding"], headers["Content-Type"]) == (200, "gzip", "application/wasm")
        assert gzip.decompress(body) == wasm and headers["Cache-Control"] == "max-age=600"
        status, headers, body = get("vendor/b.whl")
        assert headers["Content-Encoding"] is None and body == b"PK" * 500
        status, headers, body = get("")
        assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body).startswith(b"<p>hi")
        status, _, body = get("vendor/a.wasm", **{"If-None-Match": get("vendor/a.wasm")[1]["ETag"]})
        assert status == 304 and body == b""
        assert get("../etc/passwd")[0] == 404 and get(".hidden")[0] == 404
        requests, wire, decoded, paths = traffic.take()
        assert requests == 5  # the two refused requests are not counted
        assert decoded >= len(wasm) * 2 and paths[0] == "/vendor/a.wasm"
    finally:
        server.shutdown()
