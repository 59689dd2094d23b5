"""training.strokes: digits drawn as the pad draws them (round pen, constant width), in people's styles."""

from __future__ import annotations

import numpy as np
import pytest

from training.pad import to_rgba
from training.strokes import MAX_GAP, STYLES, box, digit_strokes, place, render

ALL_STYLES = [(digit, style) for digit in range(10) for style in STYLES[digit]]
# Styles that are drawn in several strokes: each stroke must come as its own array.
SEVERAL_STROKES = {(1, "flag_base"), (4, "open"), (5, "two_strokes"), (7, "bar"), (8, "two_loops"), (9, "separate")}


def test_every_digit_has_the_styles_people_use() -> None:
    assert sorted(STYLES) == list(range(10))
    assert all(len(STYLES[digit]) >= 2 for digit in range(10))
    assert {"stick", "flag", "flag_base"} <= set(STYLES[1])
    assert {"open", "closed"} <= set(STYLES[4])


@pytest.mark.parametrize(("digit", "style"), ALL_STYLES)
def test_every_style_gives_a_normalised_drawing(digit: int, style: str) -> None:
    rng = np.random.default_rng(3)
    for _ in range(8):
        strokes = digit_strokes(digit, rng, style)
        assert strokes and all(s.dtype == np.float64 and s.ndim == 2 and s.shape[1] == 2 for s in strokes)
        assert all(np.isfinite(s).all() for s in strokes)
        x0, y0, x1, y1 = box(strokes)
        assert (x0, y0, y1) == pytest.approx((0.0, 0.0, 1.0), abs=1e-9)
        assert (0.02 if digit == 1 else 0.2) <= x1 <= 1.0
        gaps = [np.hypot(*np.diff(s, axis=0).T).max() for s in strokes if len(s) > 1]
        assert max(gaps) <= MAX_GAP + 1e-9  # curves stay smooth at any size
        if (digit, style) in SEVERAL_STROKES:
            assert len(strokes) >= 2


def test_a_plain_one_is_narrow_and_most_digits_are_not() -> None:
    rng = np.random.default_rng(4)
    ones = [box(digit_strokes(1, rng, "stick"))[2] for _ in range(20)]
    others = [box(digit_strokes(digit, rng))[2] for digit in (0, 2, 3, 4, 5, 6, 8, 9) for _ in range(5)]
    assert max(ones) < 0.25 and np.median(others) > 0.45


def test_a_style_is_picked_at_random_and_an_unknown_one_refused() -> None:
    rng = np.random.default_rng(5)
    counts = {len(digit_strokes(4, rng)) for _ in range(20)}
    assert 2 in counts  # both kinds of 4 come up, the open one always in two strokes
    with pytest.raises(ValueError, match="no style"):
        digit_strokes(4, rng, "curly")
    with pytest.raises(ValueError, match="not a digit"):
        digit_strokes(10, rng)


@pytest.mark.parametrize("digit", range(10))
def test_same_seed_same_drawing(digit: int) -> None:
    first = digit_strokes(digit, np.random.default_rng(11))
    again = digit_strokes(digit, np.random.default_rng(11))
    other = digit_strokes(digit, np.random.default_rng(12))
    assert len(first) == len(again) and all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert len(first) != len(other) or not all(
        a.shape == b.shape and np.allclose(a, b) for a, b in zip(first, other, strict=True)
    )


def brute_force(strokes: list[np.ndarray], pen: float, shape: tuple[int, int]) -> np.ndarray:
    """The same coverage computed the slow way: every pixel against every segment."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]] + 0.5
    pixels = np.stack([xs.ravel(), ys.ravel()], axis=1)
    best = np.full(len(pixels), np.inf)
    for stroke in strokes:
        pairs = zip(stroke[:-1], stroke[1:], strict=True) if len(stroke) > 1 else [(stroke[0], stroke[0])]
        for a, b in pairs:
            d = b - a
            t = np.clip((pixels - a) @ d / max(d @ d, 1e-12), 0, 1)
            best = np.minimum(best, np.hypot(*(pixels - a - t[:, None] * d).T))
    return np.clip(pen / 2 - best + 0.5, 0, 1).reshape(shape)


@pytest.mark.parametrize("pen", [6.0, 18.0, 40.0])
def test_render_matches_the_distance_to_the_polyline(pen: float) -> None:
    # Drawn partly off the pad's left edge: boxes are clipped, nothing is lost or wrapped.
    strokes = place(digit_strokes(8, np.random.default_rng(1), "two_loops"), 60, 0.3, -10, 8)
    ink = render(strokes, pen, (80, 70))
    assert ink.dtype == np.float32 and ink.shape == (80, 70)
    assert ink.min() >= 0.0 and ink.max() <= 1.0
    np.testing.assert_allclose(ink, brute_force(strokes, pen, (80, 70)), atol=1e-4)


def test_a_single_point_is_a_dot() -> None:
    ink = render([np.array([[30.0, 20.0]])], 10.0, (40, 60))
    assert ink[20, 30] == 1.0 and ink[20, 37] == 0.0
    assert ink.sum() == pytest.approx(np.pi * 25, rel=0.05)  # a disc 10 px across


@pytest.mark.parametrize("pen", [6.0, 18.0, 31.0, 40.0])
@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0])
def test_a_straight_line_is_as_wide_as_the_pen(pen: float, angle: float) -> None:
    direction = np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
    centre = np.array([60.3, 60.7])
    ink = render([np.array([centre - 50 * direction, centre + 50 * direction])], pen, (121, 121))
    # Across the line through its middle: the ink summed along a row (or a column for a flat line), times
    # the sine of the angle between them, is its width.
    across = ink[:, 60].sum() * np.cos(np.radians(angle)) if angle < 45 else ink[60].sum() * np.sin(np.radians(angle))
    assert abs(across - pen) <= 1.0


def test_render_draws_into_the_given_ink() -> None:
    ink = np.zeros((50, 50), np.float32)
    ink[0, 0] = 0.7
    out = render([np.array([[25.0, 25.0], [40.0, 25.0]])], 4.0, (50, 50), ink)
    assert out is ink and ink[0, 0] == pytest.approx(0.7) and ink[25, 30] == 1.0


def test_place_puts_the_box_where_asked() -> None:
    strokes = digit_strokes(7, np.random.default_rng(2))
    placed = place(strokes, 150.0, 0.2, 40.0, 30.0)
    x0, y0, x1, y1 = box(placed)
    assert (x0, y0, y1 - y0) == pytest.approx((40.0, 30.0, 150.0))
    assert all(p.shape == s.shape for p, s in zip(placed, strokes, strict=True))
    twice = place([2 * s for s in strokes], 150.0, 0.2, 40.0, 30.0)  # a drawing of any size is scaled alike
    assert all(np.allclose(a, b) for a, b in zip(placed, twice, strict=True))


def test_slant_shifts_the_top_right() -> None:
    strokes = digit_strokes(1, np.random.default_rng(3), "stick")
    upright, slanted = place(strokes, 200.0, 0.0, 0.0, 0.0), place(strokes, 200.0, 0.3, 0.0, 0.0)
    shift = np.vstack(slanted)[:, 0] - np.vstack(upright)[:, 0]
    top, bottom = np.argmin(np.vstack(upright)[:, 1]), np.argmax(np.vstack(upright)[:, 1])
    assert shift[top] - shift[bottom] == pytest.approx(0.3 * 200.0)
    assert box(place(strokes, 200.0, -0.1, 0.0, 0.0))[:2] == pytest.approx((0.0, 0.0))


@pytest.mark.slow
def test_the_model_reads_the_drawings() -> None:
    """This measures whether the templates look like digits: the current (MNIST-trained) model must read at
    least 90% of them right. A style it misreads is not wrong if a person reads it (European 1s and 7s)."""
    from pyapp.model import load_model
    from pyapp.recognize import read

    predict = load_model()
    rng = np.random.default_rng(2024)
    right = 0
    for digit in range(10):
        for _ in range(30):
            height = rng.uniform(150, 200)
            strokes = place(digit_strokes(digit, rng), height, rng.uniform(-0.1, 0.4), 0.0, 0.0)
            x0, y0, x1, y1 = box(strokes)
            strokes = [s + ((280 - x1 - x0) / 2, (280 - y1 - y0) / 2) for s in strokes]  # centred
            rgba = to_rgba(render(strokes, rng.uniform(10, 30), (280, 280)))
            right += read(rgba, predict).text == str(digit)
    assert right / 300 >= 0.9
