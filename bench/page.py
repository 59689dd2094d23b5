"""Benchmark the page in headless Chromium, several builds side by side in one run. Run by hand, not by the tests.

    python bench/page.py [--compare d202481] [--runs 2] [--throttled-runs 1] [--profiles none,50,10]
                         [--reads 200] [--soak 300] [--snapshot] [--floors-only] [--no-cpu-profile]

About 10 minutes with the defaults on the 2-core machine (3 builds x 3 profiles x first + return visits).

Builds, each served gzip-compressed with GitHub Pages' cache headers (bench/pages_server.py):
- `after`: the current checkout, built by its own `serve.py --build-only` (or `--after REV`, built like a
  `--compare` revision);
- one build per `--compare REV` (`before` when there is one): `git archive REV` extracted to a temporary
  folder and built by that tree's own `serve.py --build-only`, so both sides are built the way they shipped;
- `floor`: a bare page, written here next to a copy of the checkout's vendor/pyodide, that loads only Pyodide
  and numpy (`loadPackage`, `import numpy`) and draws strokes on a canvas. Its "ready" is numpy imported.
  Nothing the page does can start faster than this.

Figures (tables with a column per build, and ratios taken in the same run):
- time to ready (`html[data-state=ready]`, as the page's own clock sees it) on a first visit (fresh context:
  empty HTTP cache, no service worker) and a return visit (a new tab in the same context: HTTP cache, V8
  code cache and the service worker when the page registers one), per network profile set through
  Chromium's DevTools protocol (`Network.emulateNetworkConditions`: loopback, 50 Mbit/s + 20 ms, 10 Mbit/s +
  60 ms);
- CPU time of the bench's own Chromium (every process of it) from navigation to ready: unlike wall time it
  hardly moves when other jobs share the cores, so it is the figure to compare between runs on a busy machine;
- the pages' performance marks (`performance.getEntriesByType("mark")`, main thread only: marks set inside a
  worker are not seen) and when pyodide.asm.js was first requested, median ms from navigation;
- Total Blocking Time from navigation to ready (sum over main-thread long tasks of duration - 50 ms, from a
  Long Tasks observer installed before the page's scripts) and the longest task;
- strokes drawn with Playwright's mouse from first paint until ready: each stroke's round trip (it waits for
  the page's main thread) and the Event Timing API's input delays from inside the page, against the same
  strokes on the floor page once it is ready (nothing loading);
- a waterfall of one cold load per build: every request (main thread and workers) with start, end and bytes
  on the wire, and the page's performance marks, in ms from navigation; then a sampled CPU profile of another
  cold load: the main thread's self time by script and function until Pyodide's first sample;
- Predict -> result (click to `#result[data-reads]` changing, whatever thread reads), bytes, memory.

Event Timing sees only discrete events (pointerdown/up, mousedown/up, click), and Playwright sends each event
after the page has handled the previous one, so the event that waits out a long task is usually a
pointermove, which Event Timing leaves out: the stroke round trip is the figure that shows a frozen pad.

`--snapshot` adds `floor+snapshot`, the floor page booting Pyodide from a memory snapshot (made before numpy
is loaded: snapshots cannot hold loaded packages yet) kept in the Cache API by the first visit.

The figures are noisy on a shared machine: compare columns from one run, and read `uptime` alongside.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pages_server  # noqa: E402

from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.pad import draw  # noqa: E402

DEFAULT_BEFORE = "d202481"  # the last page with Python on the main thread (issue 12's "before")
READY_TIMEOUT_MS = 240_000  # a cold load at 10 Mbit/s on a busy 2-core machine
SW_TIMEOUT_MS = 60_000  # the page registers its service worker once Python is ready, then precaches
BASELINE_STROKES = 20  # strokes drawn on the floor page once ready: the "nothing loading" figure
MAX_STROKES = 400  # a page that never gets ready still ends


@dataclass(frozen=True)
class Profile:
    """A network profile for Network.emulateNetworkConditions (None: loopback as it is)."""

    name: str
    mbit: float | None
    rtt_ms: float

    def conditions(self) -> dict | None:
        if self.mbit is None:
            return None
        rate = self.mbit * 1e6 / 8  # bytes per second
        return {"offline": False, "latency": self.rtt_ms, "downloadThroughput": rate, "uploadThroughput": rate}


PROFILES = {
    "none": Profile("loopback", None, 0),
    "50": Profile("50 Mbit/s, 20 ms RTT", 50, 20),
    "10": Profile("10 Mbit/s, 60 ms RTT", 10, 60),
}


@dataclass
class Build:
    label: str
    site: Path
    floor: bool = False
    url: str = ""
    traffic: pages_server.Traffic | None = None
    server: object = None
    pad_box: dict | None = None  # where #pad is once laid out, learnt on a first visit
    kept_when: str | None = None  # a selector that says the first visit has stored what a return visit uses

    @property
    def has_service_worker(self) -> bool:
        return (self.site / "sw.js").is_file()


@dataclass
class Visit:
    """What one page load gave: time to ready and what the page saw on the way."""

    ready_ms: float
    tasks: list[tuple[float, float]]  # main-thread long tasks: (start, duration) in ms from navigation
    events: list[dict]  # Event Timing entries (>= 16 ms)
    event_count: int  # discrete input events dispatched (performance.eventCounts)
    marks: dict[str, float]
    requests: list[dict] = field(default_factory=list)
    wire: int = 0
    decoded: int = 0
    request_count: int = 0
    strokes: list[tuple[float, float]] = field(default_factory=list)  # (start ms from navigation, round trip)
    page: object = None  # the tab, left open for the caller (a return visit waits for the service worker)
    cpu_s: float = float("nan")  # CPU time Chromium's processes used from navigation to ready

    @property
    def tbt_ms(self) -> float:
        return total_blocking_time(self.tasks, self.ready_ms)

    @property
    def longest_task_ms(self) -> float:
        return max((d for s, d in self.tasks if s < self.ready_ms), default=0.0)


# ---- numbers (no browser) ----


def total_blocking_time(tasks: list[tuple[float, float]], until_ms: float) -> float:
    """Lighthouse's TBT, from navigation rather than first paint: what each task over 50 ms blocked."""
    return sum(max(0.0, duration - 50.0) for start, duration in tasks if start < until_ms)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def input_delays(events: list[dict], event_count: int) -> list[float]:
    """Input delay (processingStart - startTime) of every discrete input event; events the observer did not
    report (under its 16 ms threshold) count as 0, so percentiles are over all events, not only slow ones."""
    delays = [e["delay"] for e in events]
    return delays + [0.0] * max(0, event_count - len(delays))


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ---- building the sites ----


def run_build(tree: Path, dest: Path) -> Path:
    """`python serve.py --build-only DEST` in that tree, with the shared download cache."""
    if (dest / "version.json").is_file() and os.environ.get("BENCH_REUSE_BUILDS"):
        return dest  # developing the bench: keep the builds of a kept --work folder
    env = dict(os.environ)
    env.setdefault("DIGITS_RUNTIME_CACHE", str((ROOT / ".cache" / "runtime").resolve()))
    done = subprocess.run(
        [sys.executable, "serve.py", "--build-only", str(dest)], cwd=tree, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"building {tree} failed:\n{done.stdout}\n{done.stderr}")
    return dest


def build_revision(rev: str, work: Path) -> Path:
    """The site as `rev` built it: its tree from `git archive`, built by its own serve.py."""
    tree = work / f"src-{rev.replace('/', '_')}"
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev], capture_output=True)
    if archive.returncode != 0:
        raise SystemExit(f"git archive {rev} failed: {archive.stderr.decode().strip()}")
    tar_path = work / f"{tree.name}.tar"
    tar_path.write_bytes(archive.stdout)
    with tarfile.open(tar_path) as tar:
        tar.extractall(tree, filter="data")
    return run_build(tree, work / f"site-{tree.name}")


FLOOR_PAGE = """<!doctype html>
<html lang="en" data-state="loading">
<head><meta charset="utf-8"><title>floor: Pyodide + numpy</title>
<link rel="icon" href="data:,"></head>
<body>
<canvas id="pad" width="560" height="280" style="border:1px solid #888; touch-action:none"></canvas>
<script type="module">
// The floor: Pyodide and numpy, nothing else. A pad that draws like the app's, to time strokes on.
const pad = document.getElementById("pad");
const ink = pad.getContext("2d", { willReadFrequently: true });
ink.fillStyle = "#fff"; ink.fillRect(0, 0, pad.width, pad.height);
ink.lineWidth = 18; ink.lineCap = "round"; ink.strokeStyle = "#111";
let last = null;
const at = (e) => { const r = pad.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
pad.addEventListener("pointerdown", (e) => { last = at(e); pad.setPointerCapture(e.pointerId); });
pad.addEventListener("pointermove", (e) => {
  if (!last) return;
  const next = at(e);
  ink.beginPath(); ink.moveTo(...last); ink.lineTo(...next); ink.stroke(); last = next;
});
pad.addEventListener("pointerup", () => { last = null; });
const { loadPyodide } = await import("./vendor/pyodide/pyodide.mjs");
const pyodide = await boot(loadPyodide);
performance.mark("pyodide-ready");
await pyodide.loadPackage("numpy");
performance.mark("numpy-loaded");
pyodide.runPython("import numpy");
performance.mark("numpy-ready");
performance.mark("ready");
document.documentElement.dataset.state = "ready";
</script>
</body>
</html>
"""


FLOOR_BOOT = """const boot = (loadPyodide) => loadPyodide();"""

# Pyodide's experimental memory snapshot: a first visit boots CPython with `_makeSnapshot`, snapshots the
# interpreter before any package is loaded (a snapshot cannot hold loaded packages yet: pyodide issue 6418)
# and keeps it in the Cache API once ready; a return visit boots from it with `_loadSnapshot`, then loads
# numpy as usual.
SNAPSHOT_BOOT = """const SNAPSHOT = new URL("./pyodide-snapshot.bin", location.href).href;
const boot = async (loadPyodide) => {
  const cache = await caches.open("floor-snapshot");
  const kept = await cache.match(SNAPSHOT);
  if (kept) {
    performance.mark("snapshot-read");
    return loadPyodide({ _loadSnapshot: new Uint8Array(await kept.arrayBuffer()) });
  }
  const pyodide = await loadPyodide({ _makeSnapshot: true });
  const snapshot = pyodide.makeMemorySnapshot();
  new MutationObserver((_, me) => {  // store it once the page is ready, off the critical path
    if (document.documentElement.dataset.state !== "ready") return;
    me.disconnect();
    cache.put(SNAPSHOT, new Response(snapshot)).then(() => { document.documentElement.dataset.snapshot = "kept"; });
  }).observe(document.documentElement, { attributes: true });
  return pyodide;
};"""


def make_floor(site: Path, dest: Path, *, snapshot: bool = False) -> Path:
    """A copy of the built site's Pyodide folder and the floor page that loads it (booting from a memory
    snapshot on return visits when `snapshot`)."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(site / "vendor" / "pyodide", dest / "vendor" / "pyodide")
    boot = SNAPSHOT_BOOT if snapshot else FLOOR_BOOT
    page = FLOOR_PAGE.replace('const { loadPyodide }', boot + '\nconst { loadPyodide }')
    (dest / "index.html").write_text(page, encoding="utf-8")
    return dest


# ---- in the page ----

# Installed before any of the page's scripts: the long tasks, the input events and when data-state
# became "ready", all on the page's own clock (ms from navigation). Input events: the discrete ones (Event
# Timing leaves out pointermove; the same five names are counted through performance.eventCounts).
OBSERVE = """(() => {
  const bench = (window.__bench = { tasks: [], events: [], ready: null });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) bench.tasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
  const discrete = new Set(["pointerdown", "pointerup", "mousedown", "mouseup", "click"]);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (discrete.has(e.name))
      bench.events.push({ name: e.name, start: e.startTime, delay: e.processingStart - e.startTime,
                          duration: e.duration });
  }).observe({ type: "event", durationThreshold: 16, buffered: true });
  const check = () => {
    const html = document.documentElement;
    if (bench.ready === null && html && html.dataset.state && html.dataset.state !== "loading") {
      bench.ready = performance.now();
      bench.state = html.dataset.state;
      if (window.__benchReady) window.__benchReady();  // tells the bench without it asking the page
    }
  };
  const watchHtml = () => {
    check();
    new MutationObserver(check).observe(document.documentElement, { attributes: true,
                                                                     attributeFilter: ["data-state"] });
  };
  if (document.documentElement) watchHtml();
  else new MutationObserver((_, me) => {
    if (document.documentElement) { me.disconnect(); watchHtml(); }
  }).observe(document, { childList: true });
})();"""

COLLECT = """() => {
  const b = window.__bench;
  const counts = ["pointerdown", "pointerup", "mousedown", "mouseup", "click"]
    .reduce((n, name) => n + (performance.eventCounts ? performance.eventCounts.get(name) || 0 : 0), 0);
  const marks = {};
  for (const m of performance.getEntriesByType("mark")) if (!(m.name in marks)) marks[m.name] = m.startTime;
  const mainThread = performance.getEntriesByType("resource").map((r) => r.name);
  return { ready: b.ready, state: b.state, tasks: b.tasks, events: b.events, eventCount: counts, marks,
           origin: performance.timeOrigin, mainThread };
}"""

READY_JS = "() => window.__bench && window.__bench.ready !== null"


def open_page(context, profile: Profile):
    """A new tab with the profile's network conditions, and a list that gets its first contentful paint."""
    page = context.new_page()
    session = context.new_cdp_session(page)
    conditions = profile.conditions()
    if conditions:
        session.send("Network.enable")
        session.send("Network.emulateNetworkConditions", conditions)
    painted: list[float] = []
    session.on("Page.lifecycleEvent",
               lambda event: painted.append(event["timestamp"]) if event["name"] == "firstContentfulPaint" else None)
    session.send("Page.enable")
    session.send("Page.setLifecycleEventsEnabled", {"enabled": True})
    return page, painted


def record_requests(page) -> list[dict]:
    """Every request the page and its workers make, filled in as they finish."""
    seen: list[dict] = []

    def finished(request) -> None:
        timing = request.timing
        seen.append({"url": request.url, "start_epoch": timing["startTime"], "end": timing["responseEnd"]})

    page.on("requestfinished", finished)
    return seen


def draw_stroke(page, box: dict, index: int) -> float:
    """One 7-event stroke (move, down, 4 moves, up) across the pad; its round trip in ms. Each of
    Playwright's mouse calls returns when the page has handled the event, so this waits for the main thread."""
    row = 0.25 + 0.5 * ((index % 5) / 4)
    y = box["y"] + box["height"] * row
    x0, x1 = box["x"] + box["width"] * 0.15, box["x"] + box["width"] * 0.85
    started = time.perf_counter()
    page.mouse.move(x0, y)
    page.mouse.down()
    for step in range(1, 5):
        page.mouse.move(x0 + (x1 - x0) * step / 4, y + (8 if step % 2 else -8))
    page.mouse.up()
    return (time.perf_counter() - started) * 1000


def strokes_until_ready(page, painted: list[float], box: dict, navigated: float) -> list[tuple[float, float]]:
    """Draw strokes back to back from the first contentful paint until the page is ready: (start ms from
    navigation, round trip ms). Nothing here asks the page's main thread anything but the strokes: the first
    paint comes from a DevTools lifecycle event, the pad's place from an earlier visit, and readiness from a
    binding the page calls; a question to the page would wait out a long task between two strokes."""
    deadline = time.perf_counter() + READY_TIMEOUT_MS / 1000
    while not painted and page not in READY_PAGES and time.perf_counter() < deadline:
        page.wait_for_timeout(5)  # lets Playwright deliver the events
    strokes = []
    for index in range(MAX_STROKES):
        if page in READY_PAGES:
            break
        at = (time.perf_counter() - navigated) * 1000
        strokes.append((at, draw_stroke(page, box, index)))
    return strokes


def load(context, build: Build, profile: Profile, *, strokes: bool = False) -> Visit:
    """Open the build's page in a new tab of `context` and wait until it is ready."""
    page, painted = open_page(context, profile)
    requests = record_requests(page)
    build.traffic.take()
    cpu_before = chromium_cpu_s()
    navigated = time.perf_counter()  # stroke times are from here: within a few ms of the page's timeOrigin
    page.goto(build.url, wait_until="commit", timeout=READY_TIMEOUT_MS)
    drawn = strokes_until_ready(page, painted, build.pad_box, navigated) if strokes else []
    page.wait_for_function(READY_JS, timeout=READY_TIMEOUT_MS, polling=50)
    seen = page.evaluate(COLLECT)
    cpu = chromium_cpu_s() - cpu_before
    count, wire, decoded, _ = build.traffic.take()
    if seen["state"] != "ready":
        raise RuntimeError(f"{build.label}: the page reached {seen['state']!r}")
    main_thread = set(seen["mainThread"])
    for request in requests:
        request["at"] = request["start_epoch"] - seen["origin"]
        request["worker"] = request["url"] not in main_thread and request["url"] != build.url
    visit = Visit(seen["ready"], [tuple(t) for t in seen["tasks"]], seen["events"], seen["eventCount"],
                  seen["marks"], requests, wire, decoded, count, drawn)
    visit.page = page
    visit.cpu_s = cpu
    return visit


def first_and_return(browser, build: Build, profile: Profile) -> tuple[Visit, Visit]:
    """A first visit in a fresh context, then a return visit: a new tab in the same context."""
    context = new_context(browser)
    try:
        first = load(context, build, profile)
        build.pad_box = build.pad_box or first.page.locator("#pad").bounding_box()
        if build.kept_when:
            first.page.wait_for_selector(build.kept_when, state="attached", timeout=SW_TIMEOUT_MS)
        if build.has_service_worker:
            first.page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller",
                                         timeout=SW_TIMEOUT_MS)
        first.page.close()
        again = load(context, build, profile)
        again.page.close()
        return first, again
    finally:
        context.close()


def strokes_while_loading(browser, build: Build) -> Visit:
    context = new_context(browser)
    try:
        visit = load(context, build, PROFILES["none"], strokes=True)
        visit.page.close()
        return visit
    finally:
        context.close()


def strokes_at_rest(browser, floor: Build) -> Visit:
    """The same strokes on the floor page once it is ready: a page with nothing loading."""
    context = new_context(browser)
    try:
        visit = load(context, floor, PROFILES["none"])
        page = visit.page
        box = page.locator("#pad").bounding_box()
        origin = page.evaluate("performance.timeOrigin")
        for index in range(BASELINE_STROKES):
            at = time.time() * 1000 - origin
            visit.strokes.append((at, draw_stroke(page, box, index)))
        page.wait_for_timeout(200)  # the last events' entries
        seen = page.evaluate(COLLECT)
        visit.events = [e for e in seen["events"] if e["start"] > visit.ready_ms]
        visit.event_count = seen["eventCount"]
        page.close()
        return visit
    finally:
        context.close()


def uptime() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


# ---- where the main thread's time goes before Pyodide runs (a sampled CPU profile) ----


def cpu_profile(browser, build: Build) -> dict[str, dict[str, float]]:
    """Self time per script and per function on the main thread during one cold load on loopback, split at
    the first sample inside pyodide.asm.js (before it: what stands between navigation and Pyodide)."""
    context = new_context(browser)
    try:
        page = context.new_page()
        session = context.new_cdp_session(page)
        session.send("Profiler.enable")
        session.send("Profiler.setSamplingInterval", {"interval": 1000})
        session.send("Profiler.start")
        page.goto(build.url, wait_until="commit")
        page.wait_for_function(READY_JS, timeout=READY_TIMEOUT_MS, polling=100)
        profile = session.send("Profiler.stop")["profile"]
        return self_times(profile)
    finally:
        context.close()


def self_times(profile: dict) -> dict[str, dict[str, float]]:
    """ms of self time by 'before Pyodide' / 'after' and by script or function, from a CDP Profile."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    parents = {child: node["id"] for node in profile["nodes"] for child in node.get("children", [])}

    def in_pyodide(node_id: int) -> bool:
        while node_id is not None:
            if nodes[node_id]["callFrame"]["url"].endswith("pyodide.asm.js"):
                return True
            node_id = parents.get(node_id)
        return False

    times: dict[str, dict[str, float]] = {"before": {}, "after": {}}
    phase = "before"
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        frame = nodes[node_id]["callFrame"]
        if phase == "before" and in_pyodide(node_id):
            phase = "after"
        if frame["functionName"] == "(idle)":
            continue
        script = short(frame["url"]) if frame["url"] else frame["functionName"] or "(anonymous)"
        for key in (f"script {script}", f"function {script.rsplit('/', 1)[-1]}:{frame['functionName']}"):
            times[phase][key] = times[phase].get(key, 0.0) + delta / 1000
    return times


def print_cpu(label: str, times: dict[str, dict[str, float]], top: int = 8) -> None:
    """The scripts and functions with the most main-thread self time before Pyodide's first sample."""
    before = times["before"]
    total = sum(v for k, v in before.items() if k.startswith("script "))
    print(f"\n{label}: main-thread CPU before pyodide.asm.js first runs: {total:.0f} ms (sampled, 1 ms). Most:")
    for kind in ("script ", "function "):
        ranked = sorted(((v, k) for k, v in before.items() if k.startswith(kind)), reverse=True)[:top]
        print("  " + "; ".join(f"{k[len(kind):]} {v:.0f}" for v, k in ranked))


READY_PAGES: set = set()  # pages that called __benchReady


def new_context(browser):
    context = browser.new_context(service_workers="allow")
    context.expose_binding("__benchReady", lambda source: READY_PAGES.add(source["page"]))
    context.add_init_script(OBSERVE)
    return context


# ---- Predict -> result and memory (the app's builds) ----


def click_to_result(page, count: int, button: str = "#predict") -> list[float]:
    """Wall time from a click on `button` (a CSS selector: Predict, or a correction key) to
    `#result[data-reads]` changing, measured in the page, in ms. The attribute changes when the reading is
    on the page, whichever thread computed it."""
    return page.evaluate(
        """async ([count, selector]) => {
            const result = document.getElementById('result');
            const button = document.querySelector(selector);
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
        [count, button],
    )


def read_ms(page, count: int) -> list[float]:
    """The page's own timing of each read (`#result[data-read-ms]`), where the page still records it."""
    timings = []
    for _ in range(count):
        before = int(page.locator("#result").get_attribute("data-reads") or 0)
        page.locator("#predict").click()
        page.wait_for_selector(f'#result[data-reads="{before + 1}"]', state="attached")
        value = page.locator("#result").get_attribute("data-read-ms")
        if value is None:
            return []
        timings.append(float(value))
    return timings


def long_tasks_while_drawing(page, strokes: int = 10) -> list[float]:
    """Main-thread tasks over 50 ms while digits are drawn and read live (the page must not stutter)."""
    page.evaluate("() => { window.__bench.tasks = []; }")
    for index in range(strokes):
        page.locator("#clear").click()
        draw(page, "0" if index % 2 else "7", steps=12)
    page.wait_for_timeout(300)
    return [duration for _, duration in page.evaluate("window.__bench.tasks")]


# Other agents run their own Chromium on this machine: the bench's browser carries this switch (Chromium
# ignores switches it does not know), and only its process tree is counted.
MARKER = f"--bench-page-run={os.getpid()}"


def our_processes() -> list[Path]:
    """/proc entries of the bench's Chromium and all its descendants."""
    parents: dict[str, str] = {}
    root = None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            parents[proc.name] = stat.rsplit(")", 1)[1].split()[1]
            if root is None and MARKER.encode() in (proc / "cmdline").read_bytes():
                root = proc.name
        except OSError:
            continue
    if root is None:
        return []
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid and child not in tree)
    return [Path("/proc") / pid for pid in tree]


def chromium_cpu_s() -> float:
    """CPU seconds used so far by the bench's Chromium, its live children and the children it has reaped.
    Unlike wall time, this hardly changes when other jobs share the cores."""
    ticks = 0
    for proc in our_processes():
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            ticks += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
        except OSError:
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def renderer_rss_mb() -> float:
    """Resident memory of the bench's largest Chromium renderer (the page's tab and its workers)."""
    largest = 0
    for proc in our_processes():
        try:
            if b"--type=renderer" not in (proc / "cmdline").read_bytes():
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


@dataclass
class Reading:
    wall: list[float]
    in_page: list[float]
    stutters: list[float]
    memory_10: tuple[float, float]
    memory_soak: tuple[float, float]


def predict_figures(browser, build: Build, reads: int, soak: int) -> Reading:
    context = new_context(browser)
    try:
        visit = load(context, build, PROFILES["none"])
        page = visit.page
        draw(page, "7")
        page.wait_for_selector('#result[data-value="7"]', state="attached", timeout=30_000)
        stutters = long_tasks_while_drawing(page)
        click_to_result(page, 10)
        memory_10 = (renderer_rss_mb(), js_heap_mb(page))
        in_page = read_ms(page, min(reads, 50))
        wall = click_to_result(page, reads)
        click_to_result(page, max(0, soak - 10 - reads - len(in_page)))
        memory_soak = (renderer_rss_mb(), js_heap_mb(page))
        return Reading(wall, in_page, stutters, memory_10, memory_soak)
    finally:
        context.close()


# ---- printing ----


def table(title: str, rows: list[tuple[str, list[str]]], columns: list[str]) -> None:
    print(f"\n**{title}**\n")
    print("| | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for name, cells in rows:
        print(f"| {name} | " + " | ".join(cells) + " |")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b and a == a and b == b else "-"


def figure_table(title: str, rows: dict[str, dict[str, float]], labels: list[str], unit: str, digits: int,
                 ratios: list[tuple[str, str]]) -> None:
    """One row per condition, one column per build, then the ratios asked for (numerator, denominator)."""
    columns = labels + [f"{a} / {b}" for a, b in ratios]
    body = []
    for name, values in rows.items():
        cells = [f"{values[label]:.{digits}f}{unit}" if label in values else "-" for label in labels]
        cells += [ratio(values.get(a, float("nan")), values.get(b, float("nan"))) for a, b in ratios]
        body.append((name, cells))
    table(title, body, columns)


def short(url: str) -> str:
    return urlparse(url).path.lstrip("/") or "(page)"


def waterfall(build: Build, visit: Visit, min_bytes: int) -> None:
    """The cold load's requests (all of PyScript's chunks, and any file of min_bytes or more) and marks."""
    sizes = pages_sizes(build)
    rows = []
    for request in visit.requests:
        name = short(request["url"])
        size = sizes.get(name, (0, 0))
        if size[1] < min_bytes and "pyscript" not in name and name != "(page)" and not name.endswith(".py"):
            continue
        end = request["at"] + request["end"] if request["end"] >= 0 else float("nan")
        who = "worker" if request["worker"] else "page"
        rows.append((request["at"], f"| {request['at']:.0f} | {end:.0f} | {size[0] / 1e3:.0f} | "
                                    f"{size[1] / 1e3:.0f} | {who} | {name} |"))
    for name, at in visit.marks.items():
        rows.append((at, f"| {at:.0f} | | | | mark | **{name}** |"))
    rows.append((visit.ready_ms, f"| {visit.ready_ms:.0f} | | | | state | **data-state=ready** |"))
    print(f"\n**Waterfall, {build.label}, first visit on loopback (ms from navigation)**\n")
    print("| start | end | wire KB | file KB | thread | request / mark |")
    print("|---|---|---|---|---|---|")
    for _, line in sorted(rows, key=lambda row: row[0]):
        print(line)
    chunks = sorted(short(r["url"]) for r in visit.requests if "vendor/pyscript/" in r["url"])
    asm = [r["at"] for r in visit.requests if r["url"].endswith("pyodide.asm.js")]
    print(f"\n{build.label}: {len(chunks)} PyScript files fetched: {', '.join(c.rsplit('/', 1)[-1] for c in chunks)}")
    if asm:
        print(f"{build.label}: pyodide.asm.js requested at {asm[0]:.0f} ms")
    long = ", ".join(f"{d:.0f} ms at {s:.0f}" for s, d in sorted(visit.tasks) if d >= 100)
    print(f"{build.label}: main-thread tasks of 100 ms or more before ready: {long or 'none'}")


def pages_sizes(build: Build) -> dict[str, tuple[int, int]]:
    """path -> (bytes on the wire as the server gzips it, file bytes)."""
    sizes = {}
    for path in build.site.rglob("*"):
        if path.is_file():
            name = path.relative_to(build.site).as_posix()
            data = path.read_bytes()
            compressed = pages_server.compressible(pages_server.content_type(path))
            wire = len(gzip.compress(data, pages_server.GZIP_LEVEL)) if compressed else len(data)
            sizes["(page)" if name == "index.html" else name] = (wire, len(data))
    return sizes


# ---- the run ----


def serve_builds(builds: list[Build]) -> None:
    for build in builds:
        build.server, build.url, build.traffic = pages_server.start(build.site)


def make_builds(revs: list[str], work: Path, after_rev: str | None = None, snapshot: bool = False,
                floors_only: bool = False) -> list[Build]:
    builds = []
    for rev in [] if floors_only else revs:
        label = "before" if len(revs) == 1 else rev
        started = time.monotonic()
        builds.append(Build(label, build_revision(rev, work)))
        print(f"built {label} ({rev}) in {time.monotonic() - started:.0f} s", flush=True)
    after_site = build_revision(after_rev, work) if after_rev else run_build(ROOT, work / "site-checkout")
    after = Build("after", after_site)
    floor = Build("floor", make_floor(after.site, work / "site-floor"), floor=True)
    extra = [Build("floor+snapshot", make_floor(after.site, work / "site-floor-snapshot", snapshot=True),
                   floor=True, kept_when="html[data-snapshot=kept]")] if snapshot else []
    if floors_only:
        return [floor, *extra]
    return [*builds, after, floor, *extra]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", action="append", metavar="REV",
                        help=f"git revision to build and measure next to the checkout (repeatable; default "
                             f"{DEFAULT_BEFORE}, the main-thread page)")
    parser.add_argument("--after", metavar="REV",
                        help="build `after` from this git revision instead of the checkout as it is")
    parser.add_argument("--runs", type=int, default=2,
                        help="first + return visits per build on loopback, and stroke runs per build")
    parser.add_argument("--throttled-runs", type=int, default=1,
                        help="first + return visits per build under each throttled profile")
    parser.add_argument("--no-cpu-profile", action="store_true",
                        help="skip the sampled CPU profile of one cold load per build")
    parser.add_argument("--profiles", default="none,50,10",
                        help="network profiles: none (loopback), 50 (50 Mbit/s, 20 ms), 10 (10 Mbit/s, 60 ms)")
    parser.add_argument("--reads", type=int, default=200, help="Predict presses for the latency figures")
    parser.add_argument("--soak", type=int, default=300, help="reads before the second memory figure")
    parser.add_argument("--snapshot", action="store_true",
                        help="add a floor page that boots Pyodide from a memory snapshot on return visits")
    parser.add_argument("--floors-only", action="store_true",
                        help="measure only the floor pages (with --snapshot: the snapshot's effect alone)")
    parser.add_argument("--work", type=Path, help="folder for the builds (default: a temporary one, removed)")
    parser.add_argument("--waterfall-kb", type=int, default=100, help="smallest file shown in the waterfall")
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    revs = args.compare or [DEFAULT_BEFORE]
    profiles = [PROFILES[p.strip()] for p in args.profiles.split(",")]
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-page-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        builds = make_builds(revs, work, args.after, args.snapshot, args.floors_only)
        serve_builds(builds)
        measure(builds, profiles, args)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def measure(builds: list[Build], profiles: list[Profile], args: argparse.Namespace) -> None:
    labels = [b.label for b in builds]
    apps = [b for b in builds if not b.floor]
    floor = next(b for b in builds if b.label == "floor")
    ratios = [("after", "floor")] + [("after", b.label) for b in apps if b.label != "after"] if apps else []
    ratios += [(b.label, "floor") for b in builds if b.floor and b.label != "floor"]
    firsts: dict[tuple[str, str], list[Visit]] = {}
    returns: dict[tuple[str, str], list[Visit]] = {}
    strokes: dict[str, list[Visit]] = {}
    started = time.monotonic()
    load_before = uptime()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, MARKER],
                                             headless=True)
        for run in range(args.runs):  # builds interleaved, so a busy minute hits them all alike
            for profile in profiles:
                if profile.mbit is not None and run >= args.throttled_runs:
                    continue
                for build in builds:
                    first, again = first_and_return(browser, build, profile)
                    firsts.setdefault((profile.name, build.label), []).append(first)
                    returns.setdefault((profile.name, build.label), []).append(again)
            for build in builds:
                strokes.setdefault(build.label, []).append(strokes_while_loading(browser, build))
            print(f"run {run + 1}/{args.runs} done at {time.monotonic() - started:.0f} s", flush=True)
        at_rest = strokes_at_rest(browser, floor)
        predicts = {b.label: predict_figures(browser, b, args.reads, args.soak) for b in apps}
        cpu = {} if args.no_cpu_profile else {b.label: cpu_profile(browser, b) for b in builds}
        browser.close()

    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
          f"measuring took {time.monotonic() - started:.0f} s; uptime before: {load_before}; after: {uptime()}")
    print(f"Runs: {args.runs} on loopback, {args.throttled_runs} per throttled profile (medians)")
    runs = "median"

    def by_profile(visits, figure) -> dict[str, dict[str, float]]:
        return {p.name: {b.label: median([figure(v) for v in visits[(p.name, b.label)]]) for b in builds}
                for p in profiles}

    figure_table(f"First visit: time to ready, s ({runs})", by_profile(firsts, lambda v: v.ready_ms / 1000),
                 labels, " s", 2, ratios)
    figure_table(f"Return visit: time to ready, s ({runs})", by_profile(returns, lambda v: v.ready_ms / 1000),
                 labels, " s", 2, ratios)
    figure_table(f"First visit: CPU time of Chromium (all processes), navigation -> ready, s ({runs})",
                 by_profile(firsts, lambda v: v.cpu_s), labels, " s", 1, ratios)
    figure_table(f"Return visit: CPU time of Chromium (all processes), navigation -> ready, s ({runs})",
                 by_profile(returns, lambda v: v.cpu_s), labels, " s", 1, ratios)
    marks_table("first", firsts, builds, profiles[0])
    marks_table("return", returns, builds, profiles[0])
    figure_table(f"First visit: Total Blocking Time, navigation -> ready, ms ({runs})",
                 by_profile(firsts, lambda v: v.tbt_ms), labels, "", 0, [])
    figure_table(f"First visit: longest main-thread task before ready, ms ({runs})",
                 by_profile(firsts, lambda v: v.longest_task_ms), labels, "", 0, [])
    figure_table(f"Return visit: Total Blocking Time, navigation -> ready, ms ({runs})",
                 by_profile(returns, lambda v: v.tbt_ms), labels, "", 0, [])
    first_of = {b.label: firsts[(profiles[0].name, b.label)][0] for b in builds}
    return_of = {b.label: returns[(profiles[0].name, b.label)][0] for b in builds}
    table("Bytes and requests (first visit; the return visit's requests that reached the server)", [
        ("on the wire (gzip where GitHub Pages gzips)", [f"{first_of[x].wire / 1e6:.1f} MB" for x in labels]),
        ("decoded", [f"{first_of[x].decoded / 1e6:.1f} MB" for x in labels]),
        ("requests, first visit", [f"{first_of[x].request_count}" for x in labels]),
        ("requests, return visit", [f"{return_of[x].request_count}" for x in labels]),
    ], labels)
    stroke_table(strokes, at_rest, labels)
    if predicts:
        predict_table(predicts, args)
    for build in builds:
        waterfall(build, firsts[(profiles[0].name, build.label)][0], args.waterfall_kb * 1000)
        if build.label in cpu:
            print_cpu(build.label, cpu[build.label])


def marks_table(kind: str, visits: dict[tuple[str, str], list[Visit]], builds: list[Build],
                profile: Profile) -> None:
    """The pages' performance marks and the first request for pyodide.asm.js, median ms from navigation."""
    labels = [b.label for b in builds]
    rows: dict[str, dict[str, list[float]]] = {}
    for build in builds:
        for visit in visits[(profile.name, build.label)]:
            asm = [r["at"] for r in visit.requests if r["url"].endswith("pyodide.asm.js")]
            points = {"pyodide.asm.js requested": min(asm)} if asm else {}
            points |= visit.marks | {"data-state=ready": visit.ready_ms}
            for name, at in points.items():
                rows.setdefault(name, {}).setdefault(build.label, []).append(at)
    body = [(name, [f"{median(cells[x]):.0f}" if x in cells else "-" for x in labels])
            for name, cells in sorted(rows.items(), key=lambda row: min(median(v) for v in row[1].values()))]
    table(f"Marks on the {kind} visit, {profile.name}, ms from navigation (median)", body, labels)


def stroke_table(strokes: dict[str, list[Visit]], at_rest: Visit, labels: list[str]) -> None:
    """Strokes drawn from first paint to ready (all runs pooled), against the floor page at rest."""
    columns = labels + ["nothing loading (floor, ready)"]
    visits = {label: strokes[label] for label in labels} | {columns[-1]: [at_rest]}
    rows: dict[str, list[str]] = {}
    for column in columns:
        trips = [trip for v in visits[column] for _, trip in v.strokes]
        delays = [d for v in visits[column] for d in input_delays(v.events, v.event_count)]
        durations = [e["duration"] for v in visits[column] for e in v.events]
        starts = [v.strokes[0][0] for v in visits[column] if v.strokes]
        slowest = max((s for v in visits[column] for s in v.strokes), key=lambda s: s[1], default=None)
        cells = {
            "strokes drawn (all runs)": f"{len(trips)}",
            "first stroke began, ms from navigation (median)": f"{median(starts):.0f}",
            "stroke round trip, median ms": f"{median(trips):.0f}",
            "stroke round trip, max ms": f"{max(trips, default=0):.0f}",
            "slowest stroke began, ms from navigation": f"{slowest[0]:.0f}" if slowest else "-",
            "input delay (Event Timing), p95 ms": f"{percentile(delays, 0.95):.0f}" if delays else "-",
            "input delay (Event Timing), max ms": f"{max(delays, default=0):.0f}",
            "event duration (Event Timing), max ms": f"{max(durations, default=0):.0f}",
            "discrete input events / over 16 ms": f"{sum(v.event_count for v in visits[column])} / "
                                                  f"{sum(len(v.events) for v in visits[column])}",
        }
        for name, cell in cells.items():
            rows.setdefault(name, []).append(cell)
    table("Strokes drawn with the mouse from first paint until ready (loopback)", list(rows.items()), columns)


def predict_table(predicts: dict[str, Reading], args: argparse.Namespace) -> None:
    labels = list(predicts)
    rows: dict[str, list[str]] = {}
    for label in labels:
        r = predicts[label]
        cells = {
            f"Predict -> result, wall in the page, median / p95 of {args.reads}":
                f"{median(r.wall):.1f} / {percentile(r.wall, 0.95):.1f} ms",
            "the read as the page times it (data-read-ms), median / p95":
                f"{median(r.in_page):.1f} / {percentile(r.in_page, 0.95):.1f} ms" if r.in_page else "not recorded",
            "main-thread tasks over 50 ms while drawing 10 digits":
                f"{len(r.stutters)} (longest {max(r.stutters, default=0):.0f} ms)",
            f"renderer memory after 10 / {args.soak} reads":
                f"{r.memory_10[0]:.0f} / {r.memory_soak[0]:.0f} MB",
            f"JS heap after 10 / {args.soak} reads": f"{r.memory_10[1]:.1f} / {r.memory_soak[1]:.1f} MB",
        }
        for name, cell in cells.items():
            rows.setdefault(name, []).append(cell)
    table("Reading (loopback, page ready)", list(rows.items()), labels)


if __name__ == "__main__":
    main()
