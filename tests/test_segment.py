"""Segmentation: count and order of digits, digits in several pieces, touching digits, noise, speed."""

from __future__ import annotations

import time

import numpy as np
import pytest
from helpers import blank, digit_pad, mnist_number, mnist_test, number_pad, paint

from pyapp.preprocess import ink_from_rgba
from pyapp.segment import MAX_PIECES, candidates, segment


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


# segment() is the rules alone; candidates() offers the cut (test_two_narrow_touching_digits_get_other_cuts)
# and recognize lets the model take it, but today's model reads this overlapping "00" as one confident 0.
@pytest.mark.xfail(strict=True, reason="two narrow touching digits are no wider than one wide digit")
def test_two_narrow_touching_digits_stay_one() -> None:
    assert len(_segments(number_pad([0, 0], height=300, gap=-0.02, pen=12))) == 2


@pytest.mark.parametrize("digits", [[0, 0], [4, 7], [0, 7, 0], [1, 2, 3, 4]])
def test_candidates_hold_the_rule_based_reading(digits: list[int]) -> None:
    ink = ink_from_rgba(number_pad(digits, height=300, gap=-0.02, pen=12))
    groups = candidates(ink)
    defaults = sorted((s for g in groups for s in g.default_segments()), key=lambda s: (s.box[1] + s.box[3], s.box[0]))
    assert [s.box for s in defaults] == [s.box for s in segment(ink)]
    for group in groups:
        assert group.cuts[0] == group.box[1] and group.cuts[-1] == group.box[3]
        assert list(group.cuts) == sorted(set(group.cuts))
        assert len(group.cut_ink) == len(group.cuts) and group.cut_ink[0] == group.cut_ink[-1] == 0
        assert all(0 <= i < j < len(group.cuts) for i, j in group.pieces)
        for (i, j), seg in zip(group.pieces, group.segments, strict=True):
            if seg is not None:  # each piece lies between its cuts (the dilated rim may reach one pixel out)
                assert group.cuts[i] - 1 <= seg.box[1] and seg.box[3] <= group.cuts[j] + 1
                assert seg.ink.shape == (seg.box[2] - seg.box[0], seg.box[3] - seg.box[1])


def test_two_narrow_touching_digits_get_other_cuts() -> None:
    (group,) = candidates(ink_from_rgba(number_pad([0, 0], height=300, gap=-0.02, pen=12)))
    assert group.default == (0, len(group.cuts) - 1)  # the rules keep it whole...
    middle = (group.box[1] + group.box[3]) / 2
    assert any(abs(c - middle) < 0.05 * (group.box[3] - group.box[1]) for c in group.cuts[1:-1])  # ...the model may not
    assert (0, len(group.cuts) - 1) in group.pieces  # the whole stays a candidate


@pytest.mark.parametrize("digit", [1, 4, 7])
def test_a_narrow_digit_has_no_other_cuts(digit: int) -> None:
    (group,) = candidates(ink_from_rgba(digit_pad(digit)))
    assert group.pieces == ((0, 1),) and len(group.cuts) == 2


def test_candidate_pieces_are_bounded() -> None:
    ink = np.random.default_rng(0).random((300, 600)).astype(np.float32)
    assert sum(len(g.pieces) for g in candidates(ink)) <= MAX_PIECES + 40  # alternatives within budget
    wide = ink_from_rgba(number_pad([8, 6, 7, 5, 3, 0, 9, 2, 4, 1] * 2, height=200, gap=-0.03, pen=10))
    assert sum(len(g.pieces) for g in candidates(wide)) <= MAX_PIECES + 40


def test_empty_and_uniform_inputs() -> None:
    assert segment(np.zeros((30, 40), np.float32)) == []
    assert len(segment(np.ones((30, 40), np.float32))) == 1
    assert segment(np.zeros((0, 0), np.float32)) == []
    assert candidates(np.zeros((30, 40), np.float32)) == []


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


def test_mnist_numbers_with_gaps() -> None:
    numbers, digits = mnist_segmentation_accuracy((0.1, 0.5), trials=150)
    assert numbers >= 0.93 and digits >= 0.96
