"""Why this digit, on the page: the Why? button, the map over the 28x28 view and on the digit's box, its
sentence for screen readers, the same numbers as CPython's, and no stale map ever.

Exact pixels are put on the pad (as tests/test_parity.py does), so the map the page shows can be compared
with the one pyapp.why computes in this process from the same pixels saved as a PNG (decoded as
`python -m pyapp --why` decodes it): onnxruntime-web and onnxruntime differ in the last bits, hence a
tolerance.
"""

from __future__ import annotations

import base64
import io
import time

import numpy as np
import pytest
from PIL import Image

from pyapp.images import decode_image
from pyapp.model import load_model
from pyapp.recognize import read
from pyapp.why import occlusions, why_map
from tests.helpers import blank, mnist_test, paint, png_bytes
from tests.pad import draw_strokes, result
from tests.test_parity import PUT_PIXELS, pad_pixels_with

pytestmark = pytest.mark.browser

HEAT_TOLERANCE = 0.02  # the page's heat against CPython's, per pixel (both in [0, 1])

# Orange in the pixels a person sees (a screenshot): red over green over blue by a margin, which the grey
# 28x28 view and the black-on-white pad never are. Over white ink heat a gives (255, 255 - 119a, 255 - 255a),
# over black (255a, 136a, 0): both pass from a = 0.25.
ORANGE_ON_SCREEN = 30

OVERLAY_PIXELS = """(box) => {
    // canvas#overlay's own pixels: [orange inside box, orange outside it (2 px of smoothing allowed)].
    const overlay = document.getElementById('overlay');
    const data = overlay.getContext('2d').getImageData(0, 0, overlay.width, overlay.height).data;
    const [top, left, bottom, right] = box;
    let inside = 0, outside = 0;
    for (let y = 0; y < overlay.height; y++) {
        for (let x = 0; x < overlay.width; x++) {
            const i = 4 * (y * overlay.width + x);
            const orange = data[i + 3] > 8 && data[i] > data[i + 1] + 40 && data[i + 1] > data[i + 2] + 40;
            if (!orange) continue;
            if (y >= top && y < bottom && x >= left && x < right) inside++;
            else if (y < top - 2 || y >= bottom + 2 || x < left - 2 || x >= right + 2) outside++;
        }
    }
    return [inside, outside];
}"""

PAD_SIZE = "[document.getElementById('pad').width, document.getElementById('pad').height]"


def put_and_predict(page, pixels: np.ndarray) -> None:
    before = reads(page)
    page.evaluate(PUT_PIXELS, [base64.b64encode(pixels.tobytes()).decode(), pixels.shape[1], pixels.shape[0]])
    page.get_by_role("button", name="Predict").click()
    page.wait_for_selector(f'#result[data-reads="{before + 1}"]', state="attached")


def reads(page) -> int:
    return int(page.locator("#result").get_attribute("data-reads") or 0)


def why_button(page):
    return page.get_by_role("button", name="Why?", exact=True)


def wait_for_map(page) -> dict:
    page.wait_for_selector("#why-sentence[data-heat]", state="attached", timeout=30_000)
    sentence = page.locator("#why-sentence")
    heat = np.array([float(v) for v in sentence.get_attribute("data-heat").split(",")], dtype=np.float32)
    return {
        "sentence": sentence.text_content(),
        "heat": heat.reshape(28, 28),
        "top": int(sentence.get_attribute("data-top")),
        "runner_up": int(sentence.get_attribute("data-runner-up")),
        "ms": float(sentence.get_attribute("data-ms")),
        "model_ms": float(sentence.get_attribute("data-model-ms")),
    }


def orange_on_seen(page) -> int:
    """How many screen pixels of the 28x28 view look orange."""
    shot = Image.open(io.BytesIO(page.locator(".seen-stack").screenshot())).convert("RGB")
    rgb = np.asarray(shot).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(((r > g + ORANGE_ON_SCREEN) & (g > b + ORANGE_ON_SCREEN)).sum())


def overlay_orange(page, box) -> tuple[int, int]:
    inside, outside = page.evaluate(OVERLAY_PIXELS, list(box))
    return inside, outside


def no_map(page) -> bool:
    sentence = page.locator("#why-sentence")
    return (
        sentence.text_content() == ""
        and sentence.get_attribute("data-heat") is None
        and page.locator("#why-heat").is_hidden()
        and (page.locator(".seen-stack").is_hidden() or orange_on_seen(page) == 0)  # no view: no digit read
        and overlay_orange(page, (0, 0, 0, 0)) == (0, 0)
    )


def seven(width: int, height: int, left: float | None = None, pen: float = 18) -> np.ndarray:
    """A 7 of straight strokes (tests.helpers' own), 0.7 of the pad tall."""
    tall = 0.7 * height
    return paint(blank(height, width), 7, 0.15 * height, (width - 0.6 * tall) / 2 if left is None else left, tall, pen)


def cpython_map(pixels: np.ndarray, tmp_path, digit: int = 0):
    """The reading and the map as the CLI makes them: the pixels saved as PNG, decoded, read, explained."""
    path = tmp_path / "pad.png"
    path.write_bytes(png_bytes(pixels))
    predict = load_model()
    reading = read(decode_image(path.read_bytes()), predict)
    image = reading.digits[digit].image
    return reading, why_map(image, predict(occlusions(image)))


def test_why_shows_the_map_over_the_view_and_the_box_and_says_why(open_page, tmp_path):
    page, _ = open_page()
    width, height = page.evaluate(PAD_SIZE)
    button = why_button(page)
    assert button.count() == 0 and page.locator("#why").is_hidden()  # nothing read yet: nothing to explain
    pixels = seven(width, height)
    put_and_predict(page, pixels)
    assert result(page) == "7"
    assert button.is_enabled()
    assert orange_on_seen(page) == 0

    button.click()
    shown = wait_for_map(page)
    assert "made it a 7 rather than" in shown["sentence"]
    assert shown["top"] == 7
    assert 0 < shown["model_ms"] <= shown["ms"]  # the model call is part of the worker's time for the map
    assert page.locator("#why-sentence").get_attribute("aria-live") == "polite"
    assert orange_on_seen(page) > 50
    seen, heat = page.locator("#seen").bounding_box(), page.locator("#why-heat").bounding_box()
    assert seen == heat  # the map lies exactly over the 28x28 view
    reading, _ = cpython_map(pixels, tmp_path)
    box = reading.digits[0].box
    inside, outside = overlay_orange(page, box)
    assert inside > 200 and outside == 0
    assert page.locator("#alert").text_content() == ""


def test_the_page_and_cpython_draw_the_same_map(open_page, tmp_path):
    page, _ = open_page()
    width, height = page.evaluate(PAD_SIZE)
    images, _labels = mnist_test()
    rng = np.random.default_rng(11)
    cases = [seven(width, height, pen=12)]
    cases += [pad_pixels_with(images[index], width, height, rng) for index in rng.choice(len(images), 4, replace=False)]
    for pixels in cases:
        reading, expected = cpython_map(pixels, tmp_path)
        put_and_predict(page, pixels)
        assert result(page) == reading.text
        why_button(page).click()
        shown = wait_for_map(page)
        assert (shown["top"], shown["runner_up"]) == (expected.top, expected.runner_up)
        assert shown["sentence"] == expected.sentence
        np.testing.assert_allclose(shown["heat"], expected.heat, atol=HEAT_TOLERANCE, rtol=0)


def test_a_new_reading_another_digit_or_clear_takes_the_map_away(open_page, tmp_path):
    page, _ = open_page()
    width, height = page.evaluate(PAD_SIZE)
    tall = 0.6 * height
    pixels = paint(seven(width, height, left=0.12 * width), 1, 0.2 * height, 0.62 * width, tall, 16)
    reading, _ = cpython_map(pixels, tmp_path)
    first, second = (digit.box for digit in reading.digits)
    put_and_predict(page, pixels)
    assert result(page) == "71"

    # By keyboard: Why? comes after the selected digit's controls (the correction keys), and Enter presses it.
    page.locator('#correct button[data-label="9"]').focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "why"
    page.keyboard.press("Enter")
    wait_for_map(page)
    assert overlay_orange(page, first)[0] > 100 and overlay_orange(page, second)[0] == 0

    # Another digit chosen: the first one's map goes; Why? now explains the second, on its own box.
    page.get_by_role("radio", name="Digit 2: 1").click()
    assert no_map(page)
    why_button(page).click()
    shown = wait_for_map(page)
    assert shown["top"] == 1 and "made it a 1" in shown["sentence"]
    assert overlay_orange(page, second)[0] > 20 and overlay_orange(page, first)[0] == 0

    # A stroke: the new reading takes the map away.
    before = reads(page)
    draw_strokes(page, [[(1.75, 0.2), (1.75, 0.8)]])
    deadline = time.monotonic() + 30
    while reads(page) == before or page.locator("#why-sentence").text_content():
        assert time.monotonic() < deadline, "the map outlived the reading it was made for"
        time.sleep(0.1)
    assert no_map(page)

    # Clear: no map, and nothing to ask about (Why? goes with the digit's panel once the empty pad is read).
    why_button(page).click()
    wait_for_map(page)
    page.get_by_role("button", name="Clear").click()
    assert no_map(page) and page.locator("#why").is_disabled()
    page.wait_for_selector("#digit-panel", state="hidden")
    assert no_map(page) and why_button(page).count() == 0


def test_an_answer_for_a_reading_no_longer_shown_is_dropped(open_page):
    page, _ = open_page()
    width, height = page.evaluate(PAD_SIZE)
    put_and_predict(page, seven(width, height))
    before = reads(page)
    # Predict, then Why? for the reading still shown, in one task: the new reading comes back first (the
    # worker sends both to the model in that order) and the map, made for the reading before, is dropped.
    page.evaluate(
        """() => {
            window.whySentences = [];
            const sentence = document.getElementById('why-sentence');
            new MutationObserver(() => window.whySentences.push(sentence.textContent))
                .observe(sentence, { childList: true, characterData: true, subtree: true });
            document.getElementById('predict').click();
            document.getElementById('why').click();
        }"""
    )
    page.wait_for_selector(f'#result[data-reads="{before + 1}"]', state="attached")
    page.wait_for_timeout(1500)  # the map's answer has come back by now, and was dropped
    assert page.evaluate("window.whySentences.filter(Boolean)") == []
    assert no_map(page)
    why_button(page).click()  # and the button asks again, for the reading shown now
    assert "made it a 7" in wait_for_map(page)["sentence"]
