"""Golden inputs for the pad -> 28x28 step, including every preprocessing failure of the seed app."""

from __future__ import annotations

import numpy as np
import pytest

from pyapp.config import DIGIT_SIDE, MODEL_SIDE
from pyapp.preprocess import ink_box, ink_from_rgba, normalise_ink, resize_area, to_model_input
from tests.helpers import blank, digit_pad, paint


def _centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    total = image.sum()
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


@pytest.mark.parametrize("digit", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
def test_output_is_28x28_float32_in_0_1_with_full_strength_strokes(digit: int) -> None:
    image = to_model_input(digit_pad(digit))
    assert image is not None and image.shape == (MODEL_SIDE, MODEL_SIDE) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() == pytest.approx(1.0)  # 0..1, never 0..255


@pytest.mark.parametrize("digit", [0, 2, 3, 5, 7, 8])
def test_centre_of_mass_is_the_frame_centre(digit: int) -> None:
    y, x = _centre_of_mass(to_model_input(digit_pad(digit)))
    assert abs(y - MODEL_SIDE / 2) <= 0.5 + 1e-4 and abs(x - MODEL_SIDE / 2) <= 0.5 + 1e-4  # integer shifts


def test_off_centre_digit_gives_the_same_image_as_centred() -> None:
    centred = paint(blank(400, 400), 3, 100, 140, 200, 16)
    corner = paint(blank(400, 400), 3, 20, 250, 200, 16)  # the same strokes, shifted to the top right
    np.testing.assert_allclose(to_model_input(corner), to_model_input(centred), atol=1e-5)


def test_long_side_is_twenty_pixels_and_aspect_is_kept() -> None:
    image = to_model_input(paint(blank(300, 300), 1, 30, 100, 240, 16))
    top, left, bottom, right = ink_box(image)
    assert bottom - top == DIGIT_SIDE
    assert 3 <= right - left <= 9  # a "1" stays narrow: no squashing of aspect ratios between 1 and 2


def test_no_white_border_bars() -> None:
    # The seed padded with borderValue=255: white bars in most model inputs. Frames must be black at the edges.
    for digit in range(10):
        image = to_model_input(digit_pad(digit))
        assert image[0, 0] == image[0, -1] == image[-1, 0] == image[-1, -1] == 0.0
        for edge in (image[0], image[-1], image[:, 0], image[:, -1]):
            assert (edge > 0.5).sum() <= 8  # a stroke may reach the edge after centring; a bar may not


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (3, 3)])
def test_tiny_ink_is_normalised_without_error(size: tuple[int, int]) -> None:
    pad = blank(50, 50)
    pad[20 : 20 + size[0], 20 : 20 + size[1], :3] = 0
    image = to_model_input(pad)
    assert image is not None and np.isfinite(image).all() and image.max() == pytest.approx(1.0)


def test_huge_pad() -> None:
    pad = paint(blank(2000, 2000), 8, 300, 600, 1400, 90)
    image = to_model_input(pad)
    assert image is not None and ink_box(image)[2] - ink_box(image)[0] == DIGIT_SIDE


@pytest.mark.parametrize(("height", "width"), [(1, 400), (400, 1), (2, 700), (3, 2000)])
def test_long_thin_stroke_keeps_its_aspect(height: int, width: int) -> None:
    # The seed crashed from a 21:1 ratio on; a 20x1 line must come out as a 20x1 line.
    pad = blank(max(height, 10) + 20, max(width, 10) + 20)
    pad[10 : 10 + height, 10 : 10 + width, :3] = 0
    top, left, bottom, right = ink_box(to_model_input(pad))
    long_side, short_side = sorted((bottom - top, right - left), reverse=True)
    assert long_side == DIGIT_SIDE and short_side == 1


def test_transparent_pixels_are_background() -> None:
    pad = np.zeros((100, 100, 4), dtype=np.uint8)  # transparent black: what a cleared canvas holds
    assert to_model_input(pad) is None
    pad[30:70, 45:55] = (0, 0, 0, 255)
    image = to_model_input(pad)
    assert image is not None and ink_box(image)[2] - ink_box(image)[0] == DIGIT_SIDE


def test_half_transparent_ink_is_half_ink() -> None:
    pad = np.zeros((1, 1, 4), dtype=np.uint8)
    pad[0, 0] = (0, 0, 0, 128)
    assert ink_from_rgba(pad)[0, 0] == pytest.approx(128 / 255)


@pytest.mark.parametrize("pad", [blank(), np.zeros((5, 5, 4), np.uint8), np.full((3, 4, 4), 255, np.uint8)])
def test_empty_is_none(pad: np.ndarray) -> None:
    assert to_model_input(pad) is None
    assert normalise_ink(np.zeros((10, 10), np.float32)) is None


def test_float_pixels_are_0_to_1_and_nan_is_background() -> None:
    pad = np.ones((20, 20, 4), dtype=np.float64)
    pad[5:15, 9:11, :3] = 0.0
    pad[0, 0] = np.nan
    ink = ink_from_rgba(pad)
    assert ink.dtype == np.float32 and ink[0, 0] == 0.0 and ink[10, 10] == pytest.approx(1.0)


def test_non_rgba_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        ink_from_rgba(np.zeros((10, 10, 3)))


def test_resize_area_preserves_the_mean() -> None:
    rng = np.random.default_rng(0)
    image = rng.random((37, 23)).astype(np.float32)
    assert resize_area(image, 11, 7).mean() == pytest.approx(image.mean(), rel=1e-4)
