"""Measure "Why?" in the page (Chromium; Pyodide + onnxruntime-web in the workers): the map's time, and what
it does to reads.

    python bench/why.py [--whys 10] [--reads 20] [--baseline DIR]

Builds the site, serves it on loopback, puts a 7 on the pad (exact pixels, as tests/test_why_page.py does),
presses Predict, then:
- the map, `--whys` times: Predict (a new reading, so the map goes), then Why?; the worker's own time
  (the why message's `ms`, #why-sentence[data-ms]: the request in to the answer out, i.e. the 131 occluded
  copies, one model call, pyapp.why.why_map) and the page's, Why? clicked to the map shown;
- reads with Why? never pressed: Predict to the reading shown (bench.page.click_to_result), `--reads` of
  them in 5 blocks, alternating with the same on `--baseline DIR` (a site built from another commit: `git
  archive` it and run its `serve.py --build-only DIR`) when given; on the 7 (6 model rows) and on a touching
  "2026" (tests.helpers.number_pad, 67 rows: more than one of the model worker's 16-row turns);
- a Predict pressed in the same task as Why? (the map's model call goes first), against Predict alone, in
  alternating pairs: the map's batch and a read share the model's worker, one thread, so a read sent while
  the map is computed waits for it.
Prints medians and ranges in ms. About a minute.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import serve  # noqa: E402
from bench.page import click_to_result  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, wait_until_ready  # noqa: E402
from tests.helpers import blank, number_pad, paint  # noqa: E402
from tests.test_parity import PUT_PIXELS  # noqa: E402

BLOCKS = 5

PRESS_WHY = """async () => {
    const sentence = document.getElementById('why-sentence');
    const started = performance.now();
    await new Promise((resolve) => {
        const watch = new MutationObserver(() => {
            if (sentence.dataset.heat) { watch.disconnect(); resolve(); }
        });
        watch.observe(sentence, { attributes: true });
        document.getElementById('why').click();
    });
    return [performance.now() - started, Number(sentence.dataset.ms)];
}"""

# Why? and Predict in one task: the press of Predict to the reading shown.
WHY_THEN_PREDICT = """async () => {
    const result = document.getElementById('result');
    const before = result.dataset.reads;
    await new Promise((resolve) => {
        const watch = new MutationObserver(() => {
            if (result.dataset.reads !== before) { watch.disconnect(); resolve(); }
        });
        watch.observe(result, { attributes: true });
        document.getElementById('why').click();
        window.benchStarted = performance.now();
        document.getElementById('predict').click();
    });
    return performance.now() - window.benchStarted;
}"""


def open_page(browser, url: str):
    page = browser.new_context(service_workers="block").new_page()
    page.goto(url + "/")
    wait_until_ready(page)
    put(page, "7")
    return page


def put(page, drawing: str) -> None:
    """The 7 or the touching 2026 on the pad, exactly, and read."""
    width, height = page.evaluate("[document.getElementById('pad').width, document.getElementById('pad').height]")
    if drawing == "7":
        tall = 0.7 * height
        pixels = paint(blank(height, width), 7, 0.15 * height, (width - 0.6 * tall) / 2, tall, 16)
    else:
        pixels = number_pad([2, 0, 2, 6], height=height, width=width, gap=-0.05, pen=14)
    assert pixels.shape[:2] == (height, width)
    page.evaluate(PUT_PIXELS, [base64.b64encode(pixels.tobytes()).decode(), width, height])
    click_to_result(page, 1)


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):7.2f} ms, {min(values):7.2f}-{max(values):7.2f} (n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--whys", type=int, default=10, help="maps timed")
    parser.add_argument("--reads", type=int, default=20, help="Predicts timed per site")
    parser.add_argument("--baseline", type=Path, help="a built site to compare reads with")
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        site = serve.build(Path(folder) / "dist")
        url, server = start_server(site)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = open_page(browser, url)
        sites = {"this": page}
        if options.baseline:
            baseline_url, baseline_server = start_server(options.baseline)
            sites = {"baseline": open_page(browser, baseline_url), **sites}

        click_to_result(page, 3)  # warm
        page.evaluate(PRESS_WHY)
        in_page, in_worker = [], []
        for _ in range(options.whys):
            click_to_result(page, 1)
            pressed, worker_ms = page.evaluate(PRESS_WHY)
            in_page.append(pressed)
            in_worker.append(worker_ms)
        print("the map (Why?), a 7:")
        print(f"  the worker's ms:     {summary(in_worker)}")
        print(f"  Why? pressed to map: {summary(in_page)}")

        for drawing in ("7", "2026"):
            reads: dict[str, list[float]] = {name: [] for name in sites}
            for each in sites.values():
                put(each, drawing)
            for _ in range(BLOCKS):
                for name, each in sites.items():
                    reads[name] += click_to_result(each, options.reads // BLOCKS)
            print(f"Predict -> reading shown, Why? never pressed, {drawing}:")
            for name, values in reads.items():
                print(f"  {name:>8}: {summary(values)}")
        put(page, "7")

        alone, after_why = [], []
        for _ in range(options.whys):
            alone += click_to_result(page, 1)
            after_why.append(page.evaluate(WHY_THEN_PREDICT))
            time.sleep(0.5)  # the map's answer comes back (and is dropped: a newer reading is shown)
        print("Predict -> reading shown:")
        print(f"  alone:                 {summary(alone)}")
        print(f"  pressed with Why? out: {summary(after_why)}")
        browser.close()
        server.shutdown()
        if options.baseline:
            baseline_server.shutdown()


if __name__ == "__main__":
    main()
