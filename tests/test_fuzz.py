"""Nothing a pad or a file can hold makes recognize or decode_image raise (other than their documented errors)."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pyapp.images import ImageError, decode_image
from pyapp.recognize import prepare, read
from pyapp.segment import layout
from tests.helpers import png_bytes


def uniform(batch: np.ndarray) -> np.ndarray:
    """A model stand-in that is never sure, so decide's unsure path runs too."""
    return np.full((len(batch), 10), 0.1, dtype=np.float32)


def _check(reading) -> None:
    assert isinstance(reading.text, str) and isinstance(reading.hint, str)
    assert reading.text == "" or reading.text.isdigit()
    assert reading.text or reading.hint  # "" always comes with a reason


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(
    arrays(
        dtype=st.sampled_from([np.uint8, np.float32, np.float64, np.int16, np.uint16, np.bool_]),
        shape=st.tuples(st.integers(1, 60), st.integers(1, 60), st.just(4)),
    )
)
def test_any_small_pad_reads(pad: np.ndarray) -> None:
    _check(read(pad, uniform))


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 40), st.integers(1, 40), st.just(4)),
        elements=st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.0, -5.0, 1e30]),
    )
)
def test_non_finite_values(pad: np.ndarray) -> None:
    _check(read(pad, uniform))


def test_seeded_random_pads_of_many_shapes() -> None:
    rng = np.random.default_rng(0)
    for _ in range(60):
        height, width = (int(v) for v in rng.integers(1, 700, 2))
        kind = rng.integers(0, 4)
        if kind == 0:  # noise
            pad = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
        elif kind == 1:  # random strokes: rectangles of ink
            pad = np.full((height, width, 4), 255, np.uint8)
            for _ in range(int(rng.integers(1, 12))):
                y, x = rng.integers(0, height), rng.integers(0, width)
                pad[y : y + int(rng.integers(1, 80)), x : x + int(rng.integers(1, 80)), :3] = 0
        elif kind == 2:  # random alpha over black
            pad = np.zeros((height, width, 4), np.uint8)
            pad[..., 3] = rng.integers(0, 256, (height, width))
        else:  # sparse dots
            pad = np.full((height, width, 4), 255, np.uint8)
            pad[rng.random((height, width)) < 0.01, :3] = 0
        prepared = prepare(pad)
        assert prepared.batch.shape[1:] == (28, 28, 1) and prepared.batch.dtype == np.float32
        assert sorted(o.row for o in prepared.options if o.row >= 0) == list(range(len(prepared.batch)))
        assert np.isfinite(prepared.batch).all() and ((prepared.batch >= 0) & (prepared.batch <= 1)).all()
        for option in prepared.options:
            top, left, bottom, right = option.box
            assert 0 <= top < bottom <= height and 0 <= left < right <= width
        _check(read(pad, uniform))


@pytest.mark.parametrize("shape", [(1, 1, 4), (1, 5000, 4), (5000, 1, 4), (1, 1, 4)])
def test_extreme_shapes(shape: tuple[int, ...]) -> None:
    pad = np.zeros(shape, np.uint8)
    pad[..., 3] = 255
    _check(read(pad, uniform))


@FAST
@given(arrays(np.float32, st.tuples(st.integers(0, 50), st.integers(0, 50)), elements=st.floats(0, 1, width=32)))
def test_segment_any_ink(ink: np.ndarray) -> None:
    for piece in layout(ink).pieces:
        top, left, bottom, right = piece.box
        assert piece.ink is None or piece.ink.shape == (bottom - top, right - left)


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_decode_or_raise_image_error(data: bytes) -> None:
    try:
        out = decode_image(data)
    except ImageError:
        return
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 4


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=400), st.integers(8, 2000))
def test_corrupted_png_bodies(tail: bytes, cut: int) -> None:
    data = png_bytes(np.full((40, 40), 200, np.uint8))
    mangled = data[:cut] + tail + data[cut + len(tail) :]
    with contextlib.suppress(ImageError):
        decode_image(mangled)
