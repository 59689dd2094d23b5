"""training.numbers: numbers as people write them, and the labels of the pieces the reader cuts them into."""

from __future__ import annotations

import numpy as np
import pytest

from pyapp.config import NOT_ONE
from pyapp.segment import MASK_THRESHOLD
from tests.helpers import mnist_test
from training.numbers import (
    BANDS,
    COUNT,
    PAD_HEIGHT,
    PAD_WIDTH,
    PAIR_BASE,
    SOURCES,
    labelled_pieces,
    numbers,
    offered,
    pair_label,
    write,
)
from training.pad import to_rgba


def _row_gap(left: np.ndarray, right: np.ndarray) -> float:
    """The shortest horizontal distance, row by row, from the ink of `left` to the ink of `right` (negative
    when they overlap), as training.numbers sets digits."""
    a, b = left >= MASK_THRESHOLD, right >= MASK_THRESHOLD
    rows = np.flatnonzero(a.any(axis=1) & b.any(axis=1))
    last = a.shape[1] - 1 - a[rows][:, ::-1].argmax(axis=1)
    first = b[rows].argmax(axis=1)
    return float(np.min(first - last - 1))


def _height(layer: np.ndarray) -> int:
    rows = np.flatnonzero((layer >= MASK_THRESHOLD).any(axis=1))
    return int(rows[-1] - rows[0] + 1)


@pytest.fixture(scope="module")
def mnist() -> tuple[np.ndarray, np.ndarray]:
    return mnist_test()


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("band", list(BANDS))
def test_numbers_are_seeded_whole_and_set_with_their_gaps(source: str, band: str, mnist) -> None:
    low, high = BANDS[band]
    written = list(numbers(12, BANDS[band], source, seed=3, mnist=mnist))
    again = list(numbers(12, BANDS[band], source, seed=3, mnist=mnist))
    for number, twin in zip(written, again, strict=True):
        assert number.text == twin.text and np.array_equal(number.rgba, twin.rgba)
        assert number.rgba.shape == (PAD_HEIGHT, PAD_WIDTH, 4) and COUNT[0] <= len(number.text) <= COUNT[1]
        assert len(number.digits) == len(number.text) and all(layer.max() > 0.5 for layer in number.digits)
        np.testing.assert_array_equal(number.rgba, to_rgba(np.max(number.digits, axis=0)))
        edges = np.stack(number.digits)[..., [0, -1]]
        assert edges.max() < MASK_THRESHOLD  # every digit whole on the pad: nothing runs off its sides
        for left, right in zip(number.digits[:-1], number.digits[1:], strict=True):
            height = (_height(left) + _height(right)) / 2
            # Each digit's own height jitters, and the gap is set in whole pixels: a pixel or two either way.
            assert (low - 0.15) * height - 2 <= _row_gap(left, right) <= (high + 0.15) * height + 2
    assert len({n.text for n in written}) > 6  # not the same number over and over


def test_pieces_of_numbers_apart_are_their_digits(mnist) -> None:
    for number in numbers(10, BANDS["apart"], "strokes", seed=5, mnist=mnist):
        assert offered(number)
        digits = {label for _, label in labelled_pieces(number) if label < NOT_ONE}  # not a join's pair label
        assert digits == {int(d) for d in number.text}  # each digit whole (a piece of most of it may count too)


def test_a_blob_of_two_touching_digits_is_their_pair(mnist) -> None:
    rng = np.random.default_rng(9)
    for _ in range(10):
        number = write(rng, (-0.05, -0.05), "mnist", mnist, count=(2, 2))
        images_and_labels = list(labelled_pieces(number))
        assert all(image.shape == (28, 28) for image, _ in images_and_labels)
        labels = [label for _, label in images_and_labels]
        assert pair_label(int(number.text[0]), int(number.text[1])) in labels  # the whole blob, at least
        assert offered(number)  # read as that pair, if nothing else


def test_part_of_a_digit_with_its_neighbour_is_not_one_digit_nor_a_pair(mnist) -> None:
    rng = np.random.default_rng(4)
    labels = []
    for _ in range(10):
        labels += [label for _, label in labelled_pieces(write(rng, (-0.05, -0.05), "mnist", mnist, count=(3, 3)))]
    # Three touching digits offer spans of a digit and a half: neither one digit nor a pair.
    assert labels.count(NOT_ONE) > 10 and sum(label >= PAIR_BASE for label in labels) > 10
