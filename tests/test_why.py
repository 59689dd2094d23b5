"""pyapp.why: the map must lie on the part that tells two digits apart, not merely look plausible.

Each case draws two digits that share most of their ink (a 7 and the 1 that is its diagonal alone), reads the
first with the real model, and computes "the deciding part" from the two drawings: the ink of either one
that the other lacks, placed in the 28x28 frame the model saw and dilated by a pixel. The heat's share on
that part must be well above the part's share of the ink; the same check on the heat shuffled (over the
whole frame, or only among the ink pixels) must fail, so a map that is noise or merely follows the ink
cannot pass.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pyapp.config import CLASSES, DIGITS, MODEL_SIDE
from pyapp.preprocess import ink_box, ink_from_rgba, normalise_ink, resize_area, scale_to_digit
from pyapp.why import FILL, FLOOR, Why, hidden, occlusions, patch_count, picture, why_map
from tests.helpers import MODEL, ROOT, blank, digit_pad, mnist_test, png_bytes

needs_model = pytest.mark.skipif(not MODEL.exists(), reason="model/digits.onnx not trained yet")

# The heat's share on the deciding part over that part's share of the ink. Measured with the model shipped now
# (issue 18's pairs) and pyapp.why's 6 px and 10 px patches every 6 px at pens 10/16/22: 7 vs 1 1.55-1.77,
# 9 vs 4 2.37-2.62, 6 vs 0 1.39 (pen 10), 1.68-1.75; the same heat shuffled (among the ink pixels, or over
# the whole frame) 1.38 at most. (The eleven-class model before it: 1.58-1.59, 1.90-2.45, 1.48-1.72; the
# ten-class model with patches every 3 px: 1.58-1.75, 2.52-3.52, 1.63-1.81.)
MARGIN = 1.4
THIN_PEN_SIX = pytest.mark.xfail(strict=True, reason="6 vs 0 at pen 10: 1.39, no clear margin over the shuffled 1.38")
PAD, ORIGIN, SIDE = 280, 50, 180  # drawings in a unit box (x in [0, 0.6], y in [0, 1]) on a 280 px pad


def _arc(start: float, end: float, steps: int = 24) -> list[tuple[float, float]]:
    """Points on the 0's oval, angles in degrees (0 = right, 90 = down)."""
    angles = np.radians(np.linspace(start, end, steps + 1))
    return [(0.3 + 0.3 * math.cos(a), 0.5 + 0.5 * math.sin(a)) for a in angles]


# (drawing, the other drawing, its digit, the other's digit): pen strokes in the unit box.
PAIRS = {
    # The 1 is the 7's diagonal alone: the bar decides.
    "7 vs 1": ([[(0.0, 0.0), (0.6, 0.0)], [(0.6, 0.0), (0.22, 1.0)]], [[(0.6, 0.0), (0.22, 1.0)]], 7, 1),
    # The 4 is the 9 with its top open: the closing stroke on top decides.
    "9 vs 4": (
        [[(0.55, 0.0), (0.15, 0.0), (0.04, 0.42), (0.55, 0.42)], [(0.55, 0.0), (0.55, 1.0)]],
        [[(0.15, 0.0), (0.04, 0.42), (0.55, 0.42)], [(0.55, 0.0), (0.55, 1.0)]],
        9,
        4,
    ),
    # The 6 is the 0's oval open at the top right, its stem coming down the left into a loop closed at
    # mid-height: the opening and the closing stroke inside decide.
    "6 vs 0": (
        [[(0.5, 0.02), *_arc(-100, -180)[1:], *_arc(180, 0)[1:], (0.45, 0.48), (0.2, 0.5), (0.02, 0.62)]],
        [_arc(0, 360)],
        6,
        0,
    ),
}


def _draw(strokes: list[list[tuple[float, float]]], pen: float) -> np.ndarray:
    """RGBA pad with the strokes in black, round caps as a pen draws."""
    image = Image.fromarray(blank(PAD, PAD), "RGBA")
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        points = [(ORIGIN + x * SIDE, ORIGIN + y * SIDE) for x, y in stroke]
        draw.line(points, fill=(0, 0, 0, 255), width=round(pen), joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=(0, 0, 0, 255))
    return np.asarray(image).copy()


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    padded = np.pad(mask, radius)
    out = np.zeros_like(mask)
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            out |= padded[dy : dy + mask.shape[0], dx : dx + mask.shape[1]]
    return out


def _in_frame(ink: np.ndarray, part: np.ndarray) -> np.ndarray:
    """`part` (pad pixels) moved where normalise_ink(ink) puts the ink: the same crop, scale and shift."""
    top, left, bottom, right = ink_box(ink)
    digit = scale_to_digit(ink[top:bottom, left:right])
    shown = normalise_ink(ink)
    height, width = digit.shape
    places = [(y, x) for y in range(MODEL_SIDE - height + 1) for x in range(MODEL_SIDE - width + 1)]
    y, x = next(p for p in places if np.array_equal(shown[p[0] : p[0] + height, p[1] : p[1] + width], digit))
    frame = np.zeros((MODEL_SIDE, MODEL_SIDE), np.float32)
    frame[y : y + height, x : x + width] = resize_area(part[top:bottom, left:right].astype(np.float32), height, width)
    return frame


def _deciding_part(first: np.ndarray, second: np.ndarray, pen: float) -> tuple[np.ndarray, np.ndarray]:
    """(the 28x28 the model sees of `first`, the mask of the ink either drawing has and the other lacks)."""
    ink_a, ink_b = ink_from_rgba(first), ink_from_rgba(second)
    apart = round(pen / 2) + 2  # further than half a pen from the other's ink: not the same stroke
    only_a = (ink_a > 0.5) & ~_dilate(ink_b > 0.1, apart)
    only_b = (ink_b > 0.5) & ~_dilate(ink_a > 0.1, apart)
    return normalise_ink(ink_a), _dilate(_in_frame(ink_a, only_a | only_b) > 0.2, 1)


def _lift(heat: np.ndarray, image: np.ndarray, mask: np.ndarray) -> float:
    """The heat's share on the mask over the mask's share of the ink."""
    return float(heat[mask].sum() / heat.sum()) / float(image[mask].sum() / image.sum())


@pytest.fixture(scope="module")
def predict():
    from pyapp.model import load_model

    return load_model()


@needs_model
@pytest.mark.parametrize(
    ("pair", "pen"),
    [
        pytest.param(p, pen, marks=THIN_PEN_SIX) if (p, pen) == ("6 vs 0", 10) else (p, pen)
        for p in PAIRS
        for pen in (10, 16, 22)
    ],
)
def test_the_heat_lies_on_the_deciding_part(predict, pair: str, pen: float) -> None:
    strokes, other_strokes, digit, other = PAIRS[pair]
    first, second = _draw(strokes, pen), _draw(other_strokes, pen)
    image, mask = _deciding_part(first, second, pen)
    # The drawings are what they claim: the model reads each as its digit.
    assert int(predict(image[None, ..., None])[0, :DIGITS].argmax()) == digit
    assert int(predict(normalise_ink(ink_from_rgba(second))[None, ..., None])[0, :DIGITS].argmax()) == other
    why = why_map(image, predict(occlusions(image)), top=digit, runner_up=other)
    assert (why.top, why.runner_up) == (digit, other)
    lift = _lift(why.heat, image, mask)
    assert lift >= MARGIN, f"{pair}, pen {pen}: heat share only {lift:.2f}x the ink share"
    # The check can fail: the same heat shuffled over the frame, or only among the ink pixels (a map that
    # just follows the ink), is not on the deciding part.
    shuffled = np.random.default_rng(0).permutation(why.heat.ravel()).reshape(why.heat.shape)
    assert _lift(shuffled, image, mask) < MARGIN
    on_ink = why.heat.copy()
    ink = image > 0.05
    on_ink[ink] = np.random.default_rng(0).permutation(on_ink[ink])
    assert _lift(on_ink, image, mask) < MARGIN


def test_occlusions_start_with_the_image_then_hide_one_patch_each() -> None:
    image = np.random.default_rng(1).random((MODEL_SIDE, MODEL_SIDE)).astype(np.float32) + 0.5
    batch = occlusions(image)
    assert batch.shape == (1 + patch_count(), MODEL_SIDE, MODEL_SIDE, 1) and batch.dtype == np.float32
    assert patch_count() == 41  # 6x6 and 10x10 every 6 px (see pyapp.why.SCALES), the last ones on the frame's edge
    assert np.array_equal(batch[0, ..., 0], image)
    changed = batch[1:, ..., 0] != image
    assert np.array_equal(changed, batch[1:, ..., 0] == 0)  # hidden pixels are background, the rest untouched
    assert sorted(set(changed.sum(axis=(1, 2)).tolist())) == [36, 100]  # 6x6 and 10x10 squares
    assert changed.any(axis=0).all()  # every pixel is hidden by some patch


def test_only_patches_that_cover_ink_get_a_row() -> None:
    image = np.zeros((MODEL_SIDE, MODEL_SIDE), np.float32)
    image[2, 2] = 0.01  # faint ink counts: only a patch that hides nothing but paper is left out
    batch = occlusions(image)
    # Only the two patches at (0, 0), 6 px and 10 px, hide the pixel: the next ones start at 6 px.
    assert patch_count(image) == hidden(image).sum() == 2 and batch.shape == (3, MODEL_SIDE, MODEL_SIDE, 1)
    assert batch[0, 2, 2, 0] == 0.01 and not batch[1:].any()
    assert patch_count() == len(hidden(image)) == 41  # 25 of 6 px and 16 of 10 px, every 6 px


@needs_model
@pytest.mark.parametrize("case", ["mnist 1", "mnist 9", "7 vs 1"])
def test_the_map_is_the_map_of_every_patch(predict, case: str) -> None:
    """Leaving out the patches with no ink under them changes nothing: the map of every patch, computed here
    the long way, is the same."""
    if case.startswith("mnist"):
        image = mnist_test()[0][{"mnist 1": 2, "mnist 9": 7}[case]].astype(np.float32)  # fewer patches than 41
    else:
        image = normalise_ink(ink_from_rgba(_draw(PAIRS[case][0], 16)))
    assert patch_count(image) < patch_count()
    why = why_map(image, predict(occlusions(image)))
    masks = occlusions(np.ones_like(image))[1:, ..., 0] == FILL  # ink everywhere: every patch, hidden
    every = np.repeat(image[None], len(masks), axis=0)
    every[masks] = FILL
    rows = predict(np.concatenate([image[None], every])[..., None])[:, :DIGITS]
    lead = np.log(np.maximum(rows[:, why.top], FLOOR)) - np.log(np.maximum(rows[:, why.runner_up], FLOOR))
    cover = masks.reshape(len(masks), -1).astype(np.float32)
    mean_drop = ((lead[0] - lead[1:]) @ (cover / cover.sum(axis=0))).reshape(image.shape)
    heat = np.clip(mean_drop * image, 0.0, None)
    np.testing.assert_allclose(why.heat, heat / heat.max(), atol=1e-5)


def test_a_constant_model_explains_nothing() -> None:
    image = normalise_ink(ink_from_rgba(digit_pad(7)))
    row = np.linspace(0.01, 0.2, CLASSES, dtype=np.float32)
    why = why_map(image, np.tile(row, (1 + patch_count(image), 1)))
    assert isinstance(why, Why) and why.heat.shape == (MODEL_SIDE, MODEL_SIDE) and why.heat.dtype == np.float32
    assert not why.heat.any()
    assert (why.top, why.runner_up) == (9, 8)  # the two likeliest digits; NOT_ONE (0.2) is no digit
    assert why.sentence == "No one part made it a 9 rather than an 8."


def test_the_sentence_names_both_digits_with_their_article() -> None:
    image = np.zeros((MODEL_SIDE, MODEL_SIDE), np.float32)
    image[4:24, 12:16] = 1.0
    rows = np.full((1 + patch_count(image), DIGITS), 0.05, np.float32)
    rows[0, 8], rows[1:, 8] = 0.6, 0.3  # every patch lowers the 8
    why = why_map(image, rows, runner_up=1)
    assert why.heat.max() == 1.0 and why.heat.min() == 0.0 and not why.heat[image == 0].any()
    assert why.sentence == "The orange parts made it an 8 rather than a 1."
    with pytest.raises(ValueError):
        why_map(image, rows, top=3, runner_up=3)


@needs_model
def test_ten_or_eleven_columns_give_the_same_map(predict) -> None:
    image = normalise_ink(ink_from_rgba(digit_pad(4)))
    ten = predict(occlusions(image))[:, :DIGITS]
    eleven = np.concatenate([ten * 0.8, np.full((ten.shape[0], 1), 0.2, np.float32)], axis=1)
    first, second = why_map(image, ten), why_map(image, eleven)
    assert (first.top, first.runner_up) == (second.top, second.runner_up) == (4, first.runner_up)
    np.testing.assert_allclose(first.heat, second.heat, atol=1e-5)


def test_picture_greys_the_image_and_lays_the_heat_over_it_in_orange() -> None:
    image = np.zeros((MODEL_SIDE, MODEL_SIDE), np.float32)
    image[10, 10] = image[10, 11] = 1.0
    heat = np.zeros_like(image)
    heat[10, 11] = 1.0
    pixels = picture(image, heat)
    assert pixels.shape == (280, 280, 3) and pixels.dtype == np.uint8
    assert pixels[105, 105].tolist() == [200, 200, 200]  # ink, no heat: grey
    assert pixels[105, 115].tolist() == [255, 136, 0]  # full heat: orange
    assert pixels[0, 0].tolist() == [0, 0, 0]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyapp", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@needs_model
def test_cli_writes_the_map_and_keeps_one_line_on_stdout(tmp_path: Path) -> None:
    drawing, out = tmp_path / "seven.png", tmp_path / "why.png"
    drawing.write_bytes(png_bytes(_draw(PAIRS["7 vs 1"][0], 16)))
    result = run("--why", str(out), str(drawing))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{drawing}\t7\n"
    assert result.stderr.startswith("The orange parts made it a 7 rather than")
    with Image.open(out) as written:
        assert written.format == "PNG" and written.size == (280, 280) and written.mode == "RGB"


@needs_model
def test_cli_without_a_digit_says_so_and_writes_nothing(tmp_path: Path) -> None:
    empty, out = tmp_path / "empty.png", tmp_path / "why.png"
    empty.write_bytes(png_bytes(blank(120, 120)))
    result = run("--why", str(out), str(empty))
    assert result.returncode == 1  # as for a file that cannot be read: what was asked for was not made
    assert result.stdout == f"{empty}\t\n"
    assert result.stderr == f"{empty}: no digit read, so no map written to {out}\n"
    assert not out.exists()


def test_cli_why_takes_one_file() -> None:
    result = run("--why", "out.png", "a.png", "b.png")
    assert result.returncode == 2 and "--why" in result.stderr
