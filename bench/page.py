"""Benchmark the page in headless Chromium: startup, latency, bytes, memory. Run by hand, not by the tests.

    python bench/page.py [--runs 5] [--reads 200]

Starts `serve.py` on a free loopback port, then prints a Markdown table: cold time to ready (fresh
profile, median of runs), warm time to ready (a second visit: HTTP and service-worker caches), Predict ->
result (median and p95), bytes of the first visit (raw and gzip), and the renderer's memory after 1000
reads against after 10. The figures are noisy on a shared machine: compare ratios from one run.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.pad import draw  # noqa: E402

READY = "html:not([data-state=loading])"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(site: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "serve.py"), "--dir", str(site), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("serve.py did not start")


def time_to_ready(page, url: str) -> float:
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(READY, state="attached", timeout=120_000)
    elapsed = time.perf_counter() - started
    state = page.evaluate("document.documentElement.dataset.state")
    if state != "ready":
        raise RuntimeError(f"page reached {state!r}")
    return elapsed


def cold_visit(browser, url: str) -> tuple[float, int, int]:
    """Time to ready in a fresh profile (a new context has empty caches) and the bytes fetched (raw, gzip)."""
    context = browser.new_context()
    responses: dict[str, object] = {}
    page = context.new_page()
    page.on("response", lambda response: responses.setdefault(response.url, response))
    seconds = time_to_ready(page, url)
    raw = gzipped = 0
    for response in list(responses.values()):
        try:
            body = response.body()
        except Exception:  # redirects and aborted requests have no body
            continue
        raw += len(body)
        gzipped += len(gzip.compress(body, 6))
    context.close()
    return seconds, raw, gzipped


def warm_visit(browser, url: str) -> float:
    """Second visit in the same profile: the service worker and the HTTP cache serve the runtime."""
    context = browser.new_context()
    page = context.new_page()
    time_to_ready(page, url)
    page.wait_for_function("!navigator.serviceWorker || navigator.serviceWorker.controller", timeout=30_000)
    page.close()
    page = context.new_page()
    seconds = time_to_ready(page, url)
    context.close()
    return seconds


def reads(page, count: int) -> list[float]:
    """Press Predict `count` times; each read's own timing, in ms, as the page recorded it."""
    timings = []
    for _ in range(count):
        before = int(page.locator("#result").get_attribute("data-reads") or 0)
        page.get_by_role("button", name="Predict").click()
        page.wait_for_selector(f'#result[data-reads="{before + 1}"]', state="attached")
        timings.append(float(page.locator("#result").get_attribute("data-read-ms")))
    return timings


def click_to_result(page, count: int) -> list[float]:
    """Wall time from the Predict click to the result on the page, measured in the page, in ms."""
    return page.evaluate(
        """async (count) => {
            const result = document.getElementById('result');
            const button = document.getElementById('predict');
            const times = [];
            for (let i = 0; i < count; i++) {
                const before = result.dataset.reads;
                const started = performance.now();
                await new Promise((resolve) => {
                    const watch = new MutationObserver(() => {
                        if (result.dataset.reads !== before) { watch.disconnect(); resolve(); }
                    });
                    watch.observe(result, { attributes: true });
                    button.click();
                });
                times.push(performance.now() - started);
            }
            return times;
        }""",
        count,
    )


def long_tasks_while_drawing(page, strokes: int = 10) -> list[float]:
    """Main-thread tasks over 50 ms while strokes are drawn and read live (the page must not stutter)."""
    page.evaluate(
        """() => {
            window.longTasks = [];
            new PerformanceObserver((list) => {
                for (const entry of list.getEntries()) window.longTasks.push(entry.duration);
            }).observe({ type: 'longtask' });
        }"""
    )
    for index in range(strokes):
        page.get_by_role("button", name="Clear").click()
        draw(page, "0" if index % 2 else "7", steps=12)
    page.wait_for_timeout(300)
    return page.evaluate("window.longTasks")


def renderer_rss_mb() -> float:
    """Resident memory of the largest Chromium renderer (the page's tab), from /proc."""
    largest = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes()
            if b"--type=renderer" not in command:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    largest = max(largest, int(line.split()[1]))
        except OSError:
            continue
    return largest / 1024


def js_heap_mb(page) -> float:
    client = page.context.new_cdp_session(page)
    client.send("Performance.enable")
    client.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in client.send("Performance.getMetrics")["metrics"]}
    return metrics.get("JSHeapUsedSize", 0) / 1048576


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cold and warm loads to take the median of")
    parser.add_argument("--reads", type=int, default=200, help="Predict presses for the latency figures")
    parser.add_argument("--soak", type=int, default=1000, help="reads before the second memory figure")
    args = parser.parse_args()

    import serve

    site = serve.build(Path(tempfile.mkdtemp()) / "dist")
    server, url = start_server(site)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            colds = [cold_visit(browser, url) for _ in range(args.runs)]
            warms = [warm_visit(browser, url) for _ in range(args.runs)]

            context = browser.new_context()
            page = context.new_page()
            time_to_ready(page, url)
            draw(page, "7")
            page.wait_for_selector('#result[data-value="7"]', state="attached")
            stutters = long_tasks_while_drawing(page)
            reads(page, 10)
            memory_10 = (renderer_rss_mb(), js_heap_mb(page))
            in_page = reads(page, args.reads)
            wall = click_to_result(page, args.reads)
            click_to_result(page, max(0, args.soak - 10 - 2 * args.reads))
            memory_soak = (renderer_rss_mb(), js_heap_mb(page))
            browser.close()
    finally:
        server.terminate()

    cold = statistics.median(seconds for seconds, _, _ in colds)
    raw, gzipped = colds[0][1], colds[0][2]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}"
    print(f"Machine: {machine}; headless Chromium, localhost")
    print()
    print("| figure | value | goal |")
    print("|---|---|---|")
    print(f"| cold time to ready (median of {args.runs}) | {cold:.2f} s | <= 3.0 s |")
    print(f"| warm time to ready (median of {args.runs}) | {statistics.median(warms):.2f} s | <= 1.5 s |")
    print(f"| Predict -> result, wall, median / p95 of {args.reads} | {statistics.median(wall):.1f} / "
          f"{percentile(wall, 0.95):.1f} ms | <= 10 ms median |")
    print(f"| of which the read (pixels -> pyapp -> model -> page), median / p95 | "
          f"{statistics.median(in_page):.1f} / {percentile(in_page, 0.95):.1f} ms | |")
    worst = f"{max(stutters):.0f} ms" if stutters else "none"
    print(f"| main-thread tasks over 50 ms while drawing 10 strokes | {len(stutters)} (longest: {worst}) | 0 |")
    print(f"| first visit, raw / gzip | {raw / 1e6:.1f} / {gzipped / 1e6:.1f} MB | <= 25 MB raw |")
    print(f"| renderer memory after 10 / {args.soak} reads | {memory_10[0]:.0f} / {memory_soak[0]:.0f} MB "
          f"({(memory_soak[0] / memory_10[0] - 1) * 100:+.1f}%) | within 5% |")
    print(f"| JS heap after 10 / {args.soak} reads | {memory_10[1]:.1f} / {memory_soak[1]:.1f} MB | |")
    print(f"| cold loads (s) | {', '.join(f'{s:.2f}' for s, _, _ in colds)} | |")


if __name__ == "__main__":
    main()
