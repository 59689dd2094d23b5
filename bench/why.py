"""Measure "Why?": the map's time in the page (Chromium; Pyodide + onnxruntime-web in the workers), what it
does to reads, its rows and time in CPython, and patch sets compared.

    python bench/why.py [--whys 10] [--reads 20] [--baseline DIR]     # the page, about a minute
    python bench/why.py --cpython [--digits 200] [--baseline DIR]      # CPython: rows and ms per map
    python bench/why.py --variants [--digits 200]                      # patch sets (pyapp.why.SCALES) compared

DIR, the baseline, is a site built from another commit (`git archive` it and run its `serve.py --build-only
DIR`); its `pyapp/why.py` is what --cpython compares with.

The page: builds the site, serves it on loopback, puts a 7 on the pad (exact pixels, as
tests/test_why_page.py does), presses Predict, then:
- the map, `--whys` times per site (this one and the baseline, alternating): Predict (a new reading, so the map
  goes), then Why?; the worker's own time (the why message's `ms`, #why-sentence[data-ms]: the request in to
  the answer out: the occluded copies, the model call, pyapp.why.why_map), of which the model call (`modelMs`,
  data-model-ms: sent to the model's worker to its answer back, transfers included; only sites that report
  it), and the page's, Why? clicked to the map shown;
- reads with Why? never pressed: Predict to the reading shown (bench.page.click_to_result), `--reads` of
  them in 5 blocks, alternating between the sites; on the 7 (6 model rows) and on a touching "2026"
  (tests.helpers.number_pad, 67 rows: more than one of the model worker's 16-row turns);
- a Predict pressed in the same task as Why? (the map's model call goes first), against Predict alone, in
  alternating pairs: the map's batch and a read share the model's worker, one thread, so a read sent while
  the map is computed waits for its turn.

--cpython: `--digits` MNIST test digits painted on the page's pad (tests.test_parity.pad_pixels_with) and read
by pyapp.recognize.read; for the first digit of each, the map's rows and ms (occlusions, the model, why_map),
onnxruntime on this machine's cores; with --baseline, its pyapp.why the same way, digit by digit in turn.

--variants: for each patch set, the heat's share on the deciding part over that part's share of the ink
(tests/test_why.py's check) on its three pairs at its three pens, and on 72 more drawings of them (pens
10/14/18/22, the strokes' ends moved by up to 0.04 of the digit's height, 6 seeds: the drawings the model does
not read as their digits are left out); the same heat shuffled (the tests' two shuffles, the larger); rows per
map on the MNIST digits above, and the map's correlation with the 6/3 + 10/3 map on their ink.
Prints medians and ranges in ms.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib.util
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
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, wait_until_ready  # noqa: E402
from tests.helpers import blank, mnist_test, number_pad, paint  # noqa: E402
from tests.test_parity import PUT_PIXELS, pad_pixels_with  # noqa: E402

BLOCKS = 5
PAD = (560, 280)  # the page's pad on the bench's window (width, height)

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
    return [performance.now() - started, Number(sentence.dataset.ms), Number(sentence.dataset.modelMs ?? NaN)];
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
    values = [v for v in values if v == v]  # NaN: not reported by that site
    if not values:
        return "(not reported)"
    return f"median {statistics.median(values):7.2f} ms, {min(values):7.2f}-{max(values):7.2f} (n={len(values)})"


def in_page(options: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        site = serve.build(Path(folder) / "dist")
        url, server = start_server(site)
        servers = [server]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        sites = {"this": open_page(browser, url)}
        if options.baseline:
            baseline_url, baseline_server = start_server(options.baseline)
            servers.append(baseline_server)
            sites = {"baseline": open_page(browser, baseline_url), **sites}

        maps: dict[str, list[list[float]]] = {name: [] for name in sites}
        for page in sites.values():
            click_to_result(page, 3)  # warm
            page.evaluate(PRESS_WHY)
        for _ in range(options.whys):
            for name, page in sites.items():
                click_to_result(page, 1)
                maps[name].append(page.evaluate(PRESS_WHY))
        print("the map (Why?), a 7:")
        for name, rows in maps.items():
            pressed, worker_ms, model_ms = (list(column) for column in zip(*rows, strict=True))
            print(f"  {name:>8}: Why? pressed to map shown: {summary(pressed)}")
            print(f"  {'':>8}  the worker's ms:          {summary(worker_ms)}")
            print(f"  {'':>8}  of which the model call:  {summary(model_ms)}")

        for drawing in ("7", "2026"):
            reads: dict[str, list[float]] = {name: [] for name in sites}
            for page in sites.values():
                put(page, drawing)
            for _ in range(BLOCKS):
                for name, page in sites.items():
                    reads[name] += click_to_result(page, options.reads // BLOCKS)
            print(f"Predict -> reading shown, Why? never pressed, {drawing}:")
            for name, values in reads.items():
                print(f"  {name:>8}: {summary(values)}")

        alone: dict[str, list[float]] = {name: [] for name in sites}
        after_why: dict[str, list[float]] = {name: [] for name in sites}
        for page in sites.values():
            put(page, "7")
        for _ in range(options.whys):
            for name, page in sites.items():
                alone[name] += click_to_result(page, 1)
                after_why[name].append(page.evaluate(WHY_THEN_PREDICT))
                time.sleep(0.5)  # the map's answer comes back (and is dropped: a newer reading is shown)
        print("Predict -> reading shown, a 7:")
        for name in sites:
            print(f"  {name:>8}: alone:                 {summary(alone[name])}")
            print(f"  {'':>8}  pressed with Why? out: {summary(after_why[name])}")
        browser.close()
        for each in servers:
            each.shutdown()


def mnist_digits(count: int) -> list[np.ndarray]:
    """The first digit the reader finds in `count` MNIST test digits painted on the page's pad."""
    from pyapp.model import load_model
    from pyapp.recognize import read

    predict = load_model()
    images, _labels = mnist_test()
    rng = np.random.default_rng(11)
    found = []
    for index in rng.choice(len(images), count, replace=False):
        reading = read(pad_pixels_with(images[index], *PAD, rng), predict)
        if reading.digits:
            found.append(reading.digits[0].image)
    return found


def load_why(path: Path):
    """Another tree's pyapp/why.py as a module of its own (it imports only pyapp.config)."""
    spec = importlib.util.spec_from_file_location("baseline_why", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def in_cpython(options: argparse.Namespace) -> None:
    from pyapp import why
    from pyapp.model import load_model

    predict = load_model()
    digits = mnist_digits(options.digits)
    versions = {"this": why}
    if options.baseline:
        versions = {"baseline": load_why(options.baseline / "pyapp" / "why.py"), **versions}
    rows: dict[str, list[int]] = {name: [] for name in versions}
    steps = {name: {"occlusions": [], "model": [], "why_map": [], "all": []} for name in versions}
    for module in versions.values():  # warm up
        module.why_map(digits[0], predict(module.occlusions(digits[0])))
    for image in digits:
        for name, module in versions.items():
            started = time.perf_counter()
            batch = module.occlusions(image)
            occluded = time.perf_counter()
            probabilities = predict(batch)
            predicted = time.perf_counter()
            module.why_map(image, probabilities)
            ended = time.perf_counter()
            rows[name].append(len(batch))
            steps[name]["occlusions"].append(1000 * (occluded - started))
            steps[name]["model"].append(1000 * (predicted - occluded))
            steps[name]["why_map"].append(1000 * (ended - predicted))
            steps[name]["all"].append(1000 * (ended - started))
    print(f"the map in CPython, the first digit read of {len(digits)} MNIST test digits on the pad:")
    for name in versions:
        counted = rows[name]
        print(f"  {name:>8}: rows per map median {statistics.median(counted):.0f}, {min(counted)}-{max(counted)}")
        for step, values in steps[name].items():
            print(f"  {'':>8}  {step:>10}: {summary(values)}")


@contextlib.contextmanager
def patch_set(scales: tuple[tuple[int, int], ...]):
    """pyapp.why with another SCALES for a while."""
    from pyapp import why

    kept = why.SCALES
    why.SCALES = scales
    why._patches.cache_clear()
    try:
        yield why
    finally:
        why.SCALES = kept
        why._patches.cache_clear()


VARIANTS = {
    "6/3+10/3": ((6, 3), (10, 3)),
    "10/3": ((10, 3),),
    "6/3": ((6, 3),),
    "10/4": ((10, 4),),
    "10/5": ((10, 5),),
    "10/6": ((10, 6),),
    "10/7": ((10, 7),),
    "10/8": ((10, 8),),
    "10/9": ((10, 9),),
    "8/5": ((8, 5),),
    "12/6": ((12, 6),),
    "12/8": ((12, 8),),
    "6/6+10/6": ((6, 6), (10, 6)),
    "6/4+10/6": ((6, 4), (10, 6)),
}


def drawings(jittered: bool):
    """(pair, image, deciding part, digit, other) for tests/test_why.py's pairs: its own three pens, or
    the jittered ones."""
    from pyapp.config import DIGITS
    from pyapp.model import load_model
    from pyapp.preprocess import ink_from_rgba, normalise_ink
    from tests.test_why import PAIRS, _deciding_part, _draw

    predict = load_model()
    for pair, (strokes, other_strokes, digit, other) in PAIRS.items():
        for pen in (10, 14, 18, 22) if jittered else (10, 16, 22):
            for seed in range(6) if jittered else (0,):
                rng = np.random.default_rng(seed)
                points = sorted({point for stroke in strokes + other_strokes for point in stroke})
                # The same move for a point both drawings share; seed 0: the drawings as the tests draw them.
                moved = {(x, y): (x + rng.uniform(-0.04, 0.04), y + rng.uniform(-0.04, 0.04)) for x, y in points}
                moved = moved if seed else {point: point for point in points}
                first = _draw([[moved[p] for p in stroke] for stroke in strokes], pen)
                second = _draw([[moved[p] for p in stroke] for stroke in other_strokes], pen)
                image, part = _deciding_part(first, second, pen)
                seen = normalise_ink(ink_from_rgba(second))
                both = predict(np.stack([image, seen])[..., None])[:, :DIGITS].argmax(axis=1)
                if both.tolist() == [digit, other]:
                    yield pair, image, part, digit, other


def variants(options: argparse.Namespace) -> None:
    from pyapp.model import load_model
    from tests.test_why import MARGIN, _lift

    predict = load_model()
    tests, jittered = list(drawings(False)), list(drawings(True))
    digits = mnist_digits(options.digits)
    with patch_set(VARIANTS["6/3+10/3"]) as why:
        reference = [why.why_map(image, predict(why.occlusions(image))).heat for image in digits[:100]]
    print(f"patch sets: lift on the tests' drawings (n={len(tests)}) / on jittered ones (n={len(jittered)}):")
    for name, scales in VARIANTS.items():
        with patch_set(scales) as why:
            lifts: dict[str, list[float]] = {}
            more: dict[str, list[float]] = {}
            shuffled = []
            for pair, image, part, digit, other in tests:
                heat = why.why_map(image, predict(why.occlusions(image)), top=digit, runner_up=other).heat
                lifts.setdefault(pair, []).append(_lift(heat, image, part))
                anywhere = np.random.default_rng(0).permutation(heat.ravel()).reshape(heat.shape)
                on_ink, ink = heat.copy(), image > 0.05
                on_ink[ink] = np.random.default_rng(0).permutation(on_ink[ink])
                shuffled.append(max(_lift(anywhere, image, part), _lift(on_ink, image, part)))
            for pair, image, part, digit, other in jittered:
                heat = why.why_map(image, predict(why.occlusions(image)), top=digit, runner_up=other).heat
                more.setdefault(pair, []).append(_lift(heat, image, part))
            rows, patches = [len(why.occlusions(image)) for image in digits], why.patch_count()
            correlations = []
            for image, expected in zip(digits, reference, strict=False):
                heat, ink = why.why_map(image, predict(why.occlusions(image))).heat, image > 0.05
                if heat.any() and expected.any():
                    correlations.append(float(np.corrcoef(heat[ink], expected[ink])[0, 1]))
        print(
            f"  {name}: {patches} patches, rows per map median {statistics.median(rows):.0f} "
            f"({min(rows)}-{max(rows)}); correlation with 6/3+10/3 median {statistics.median(correlations):.2f}; "
            f"shuffled at most {max(shuffled):.2f}"
        )
        for pair in lifts:
            values = np.array(more[pair])
            print(
                f"    {pair}: tests {min(lifts[pair]):.2f}-{max(lifts[pair]):.2f}; jittered min {values.min():.2f}, "
                f"median {np.median(values):.2f}, {np.mean(values >= MARGIN):.0%} >= {MARGIN}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--whys", type=int, default=10, help="maps timed per site")
    parser.add_argument("--reads", type=int, default=20, help="Predicts timed per site")
    parser.add_argument("--baseline", type=Path, help="a built site to compare with")
    parser.add_argument("--cpython", action="store_true", help="the map's rows and time in CPython")
    parser.add_argument("--variants", action="store_true", help="patch sets compared (CPython)")
    parser.add_argument("--digits", type=int, default=200, help="MNIST test digits for --cpython, --variants")
    options = parser.parse_args()
    if options.variants:
        variants(options)
    elif options.cpython:
        in_cpython(options)
    else:
        in_page(options)


if __name__ == "__main__":
    main()
