"""The browser and CPython give the same answer on the same pixels.

MNIST test digits are painted onto the page's pad (the whole pad's pixels, opaque, so they round-trip
exactly), read by Predict in Chromium (Pyodide + onnxruntime-web), and the same pixels saved as PNG files
are read by `python -m pyapp` (CPython + onnxruntime). Every answer must match, "" included.
"""

from __future__ import annotations

import base64
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ROOT
from tests.helpers import mnist_test
from training.pad import paint, to_rgba

pytestmark = pytest.mark.browser

DIGITS = 36  # a few dozen: every class several times, in well under a minute

PUT_PIXELS = """([encoded, width, height]) => {
    const pad = document.getElementById('pad');
    const bytes = Uint8ClampedArray.from(atob(encoded), (char) => char.charCodeAt(0));
    const data = new ImageData(bytes, width, height);
    pad.getContext('2d').putImageData(data, 0, 0);
}"""


def pad_pixels_with(digit: np.ndarray, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A white pad of the page's size with an MNIST digit painted on it, as a person might draw it."""
    side = min(width, height)
    painted = to_rgba(paint(digit, rng))  # 280x280, dark ink on white
    painted = np.asarray(Image.fromarray(painted).resize((side, side), Image.Resampling.BILINEAR))
    pad = np.full((height, width, 4), 255, dtype=np.uint8)
    left = int(rng.integers(0, width - side + 1))
    pad[:, left : left + side] = painted
    return pad


def page_reads(page, pixels: np.ndarray) -> str:
    before = int(page.locator("#result").get_attribute("data-reads") or 0)
    page.evaluate(PUT_PIXELS, [base64.b64encode(pixels.tobytes()).decode(), pixels.shape[1], pixels.shape[0]])
    page.get_by_role("button", name="Predict").click()
    page.wait_for_selector(f'#result[data-reads="{before + 1}"]', state="attached")
    return page.locator("#result").get_attribute("data-value")


def test_the_page_and_the_cli_agree_on_the_same_pixels(open_page, tmp_path):
    page, _ = open_page()
    width, height = page.evaluate("[document.getElementById('pad').width, document.getElementById('pad').height]")
    images, labels = mnist_test()
    rng = np.random.default_rng(7)
    chosen = rng.choice(len(images), DIGITS, replace=False)
    in_page, files = [], []
    for index in chosen:
        pixels = pad_pixels_with(images[index], width, height, rng)
        in_page.append(page_reads(page, pixels))
        path = tmp_path / f"digit-{index}.png"
        Image.fromarray(pixels, "RGBA").save(path)
        files.append(path)
    cli = subprocess.run(
        [sys.executable, "-m", "pyapp", *map(str, files)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    in_cpython = [line.split("\t", 1)[1] for line in cli.stdout.splitlines()]
    assert in_page == in_cpython
    right = sum(text == str(labels[index]) for text, index in zip(in_page, chosen, strict=True))
    assert right >= DIGITS - 2  # and they are the right answers, not merely the same ones
