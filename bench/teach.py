"""Measure taught examples in the page (Chromium, Pyodide + onnxruntime-web in the worker): time per read
with 0 and with 500 examples, and a correction's time to the new reading.

    python bench/teach.py [--reads 100] [--teaches 15] [--baseline DIR]

Builds the site, serves it on loopback, and in one page:
- draws a "7" and then "1 4 7" with the mouse and presses Predict `--reads` times on each, with no examples
  and with 500 imported (250 "V" shapes taught as 7 and 250 inverted "V" as 8, their embeddings from the
  CPython model, tests.helpers.v_shape), in alternating blocks so that a busy machine weighs on both alike;
  each read's time is the page's own (#result's data-read-ms: Predict's message to the reading shown),
  and the worker's own part of it (the reading message's `ms`: pixels in to reply out);
- with --baseline DIR (a site built from another commit, e.g. the one before teaching: `git archive` it
  and `python serve.py --build-only DIR` there), the same reads in a second page of that site, in the
  same alternating blocks: what reading with both model outputs costs with no examples;
- presses "Correct this digit: 7" `--teaches` times with 1 example and with 500, timing the press to the
  reading that follows (the worker adds the example, gives back the set as JSON, the page stores it and
  reads again).
Prints medians and 90th percentiles in ms. About 2 minutes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import serve  # noqa: E402
from bench.page import click_to_result  # noqa: E402
from pyapp.model import find_space, load_model_with_embedding  # noqa: E402
from pyapp.personal import MAX_EXAMPLES, Examples, Space  # noqa: E402
from pyapp.recognize import prepare  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, wait_until_ready  # noqa: E402
from tests.helpers import v_shape  # noqa: E402
from tests.pad import draw, draw_number  # noqa: E402

LISTEN = """() => {
    window.workerMs = [];
    const worker = document.querySelector('script[type="py"][worker]').xworker;
    worker.addEventListener('message', (event) => {
        if (event.data?.type === 'reading') window.workerMs.push(event.data.ms);
    });
}"""
BLOCKS = 10  # alternating blocks per setting, so that the host's load weighs on both alike

SEVEN_KEY = '#correct button[data-label="7"]'  # the correction key for 7


def five_hundred() -> str:
    """500 taught examples as the page exports them: V shapes as 7, inverted V shapes as 8."""
    predict = load_model_with_embedding()
    examples = Examples(Space.load(find_space()))
    rng = np.random.default_rng(500)
    for index in range(MAX_EXAMPLES):
        inverted = bool(index % 2)
        examples.add(predict(prepare(v_shape(rng, inverted)).batch[:1])[1][0], 8 if inverted else 7)
    return examples.to_json()


def reads(page, count: int) -> tuple[list[float], list[float]]:
    """Press Predict `count` times: (the page's ms per read, the worker's ms per read)."""
    timings = []
    page.evaluate("window.workerMs.length = 0")
    for _ in range(count):
        before = int(page.locator("#result").get_attribute("data-reads") or 0)
        page.get_by_role("button", name="Predict").click()
        page.wait_for_selector(f'#result[data-reads="{before + 1}"]', state="attached")
        timings.append(float(page.locator("#result").get_attribute("data-read-ms")))
    return timings, page.evaluate("window.workerMs.slice()")


def taught_count(page) -> int:
    forget = page.locator("#forget")  # in the closed "Your taught examples" disclosure: hidden by its attribute
    return 0 if forget.get_attribute("hidden") is not None else int(forget.text_content().rsplit("(", 1)[1].rstrip(")"))


def wait_count(page, count: int) -> None:
    deadline = time.monotonic() + 60
    while taught_count(page) != count:
        assert time.monotonic() < deadline, f"the page did not get to {count} examples"
        time.sleep(0.05)


def set_examples(page, text: str, count: int) -> None:
    if count == 0:
        if taught_count(page):
            if page.locator("#examples").get_attribute("open") is None:
                page.locator("#examples summary").click()  # Forget is in the disclosure
            page.locator("#forget").click()
    else:
        page.locator("#import-examples").set_input_files(
            {"name": "examples.json", "mimeType": "application/json", "buffer": text.encode()}
        )
    wait_count(page, count)
    time.sleep(0.3)  # the read that follows a change of the examples


def open_page(browser, url: str):
    page = browser.new_context(service_workers="block").new_page()
    page.goto(url + "/")
    wait_until_ready(page)
    page.evaluate(LISTEN)
    return page


def settle(page) -> None:
    count = -1
    while count != (count := page.locator("#result").get_attribute("data-reads")):
        time.sleep(0.4)


def summary(values: list[float]) -> str:
    ninety = sorted(values)[int(0.9 * (len(values) - 1))]
    return f"median {statistics.median(values):6.2f} ms, p90 {ninety:6.2f} ms (n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=100, help="reads per drawing and setting")
    parser.add_argument("--teaches", type=int, default=15, help="corrections timed per setting")
    parser.add_argument("--baseline", type=Path, help="a built site to compare reads with (no examples)")
    options = parser.parse_args()
    many = five_hundred()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        site = serve.build(Path(folder) / "dist")
        url, server = start_server(site)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = open_page(browser, url)
        baseline = None
        if options.baseline:
            baseline_url, baseline_server = start_server(options.baseline)
            baseline = open_page(browser, baseline_url)
        for name, text in (("one digit (7)", "7"), ("three digits (147)", "147")):
            for each in (page, baseline) if baseline else (page,):
                each.get_by_role("button", name="Clear").click()
                each.locator("#pad").scroll_into_view_if_needed()  # the examples' buttons scroll the page
                draw(each, text) if len(text) == 1 else draw_number(each, text)
                settle(each)
            settings = ["baseline"] if baseline else []
            settings += ["0 examples", f"{MAX_EXAMPLES} examples"]
            timings: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in settings}
            for _ in range(BLOCKS):
                for setting in settings:
                    if setting == "baseline":
                        in_page, in_worker = reads(baseline, options.reads // BLOCKS)
                    else:
                        set_examples(page, many, 0 if setting == "0 examples" else MAX_EXAMPLES)
                        in_page, in_worker = reads(page, options.reads // BLOCKS)
                    timings[setting][0].extend(in_page)
                    timings[setting][1].extend(in_worker)
            print(f"read, {name}:", flush=True)
            for which, label in ((0, "the page's data-read-ms"), (1, "the worker's own ms")):
                print(f"  {label}:")
                for setting, values in timings.items():
                    print(f"    {setting:>12}: {summary(values[which])}")

        page.get_by_role("button", name="Clear").click()
        page.locator("#pad").scroll_into_view_if_needed()
        draw(page, "7")
        settle(page)
        teach_times: dict[str, list[float]] = {"1 example": [], f"{MAX_EXAMPLES} examples": []}
        for _ in range(options.teaches):
            set_examples(page, many, 0)
            teach_times["1 example"].append(click_to_result(page, 1, SEVEN_KEY)[0])
            wait_count(page, 1)
            settle(page)
        set_examples(page, many, MAX_EXAMPLES)
        for _ in range(options.teaches):
            teach_times[f"{MAX_EXAMPLES} examples"].append(click_to_result(page, 1, SEVEN_KEY)[0])
            settle(page)
        print("a correction, press to the new reading:")
        for name, values in teach_times.items():
            print(f"  {name:>12}: {summary(values)}")
        browser.close()
        server.shutdown()
        if baseline:
            baseline_server.shutdown()


if __name__ == "__main__":
    main()
