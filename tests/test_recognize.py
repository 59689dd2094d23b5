"""recognize: saying "I don't know" (empty, dot, scribble, line, unsure), text for several digits, the real model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pyapp import recognize
from pyapp.config import CLASSES, NOT_ONE, OUTPUT_WIDTH, PAIR_LEFT, PAIR_RIGHT, TWO
from pyapp.preprocess import ink_from_rgba, normalise_ink
from pyapp.recognize import MIN_CONFIDENCE, SURE, Option, Prepared, decide, prepare, read
from pyapp.segment import Piece, layout
from tests.helpers import (
    MODEL,
    blank,
    digit_pad,
    mnist_number,
    mnist_number_pads,
    mnist_test,
    number_pad,
    paint,
    same_reading,
)
from tests.pad import STRAIGHT
from training.numbers import bench_numbers


def confident(label: int):
    """A stand-in model that is sure every image is `label`."""

    def predict(batch: np.ndarray) -> np.ndarray:
        assert batch.dtype == np.float32 and batch.shape[1:] == (28, 28, 1)
        return np.tile(np.eye(10, dtype=np.float32)[label], (len(batch), 1))

    return predict


def fixed(rows: list[list[float]], pad: np.ndarray):
    """A stand-in model that gives these probabilities (ten digits) to the pad's groups of ink, one row per
    group, left to right, and is sure every other piece (a span, a join) is not one digit."""
    work, _ = recognize.reduce_pad(ink_from_rgba(pad))
    wholes = [normalise_ink(p.ink) for p in layout(work).pieces if p.kind == "whole"]
    assert len(wholes) == len(rows)
    given = np.zeros((len(rows), CLASSES), np.float32)
    given[:, :10] = rows

    def predict(batch: np.ndarray) -> np.ndarray:
        out = np.zeros((len(batch), CLASSES), np.float32)
        out[:, NOT_ONE] = 1.0
        for index, image in enumerate(batch[..., 0]):
            for row, whole in zip(given, wholes, strict=True):
                if np.array_equal(image, whole):
                    out[index] = row
        return out

    return predict


def test_empty_pad() -> None:
    reading = read(blank(), confident(3))
    assert reading.text == "" and reading.hint == "Draw a digit" and reading.digits == []
    assert prepare(blank()).batch.shape == (0, 28, 28, 1)


@pytest.mark.parametrize("side", [1, 3, 8])
def test_dot_is_not_a_digit(side: int) -> None:
    pad = blank()
    pad[140 : 140 + side, 140 : 140 + side, :3] = 0
    reading = read(pad, confident(0))  # the seed read a dot as "0"
    assert reading.text == "" and "small" in reading.hint


@pytest.mark.parametrize("brush", [6, 18, 40])
def test_click_with_any_brush_is_a_dot(brush: int) -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (560, 280), (255, 255, 255, 255))
    ImageDraw.Draw(image).ellipse((280, 140, 280 + brush, 140 + brush), fill=(17, 24, 39, 255))
    reading = read(np.asarray(image).copy(), confident(0))
    assert reading.text == "" and "small" in reading.hint


@pytest.mark.parametrize("digit", [4, 8])
def test_small_digit_with_a_thick_pen_is_not_a_dot(digit: int) -> None:
    assert prepare(digit_pad(digit, 280, scale=32 / 280, pen=12)).hint == ""  # long side 2.6-2.9 pen widths


def test_ordinals() -> None:
    from pyapp.recognize import _ordinal

    assert [_ordinal(i) for i in (0, 1, 2, 3, 10, 11, 20, 21, 111)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "21st",
        "22nd",
        "112th",
    ]


def test_scribble_filling_the_pad_is_not_a_digit() -> None:
    pad = blank()
    pad[15:265, 15:265, :3] = 0
    reading = read(pad, confident(8))
    assert reading.text == "" and "scribble" in reading.hint


def test_no_slice_of_a_filled_blob_is_read() -> None:
    """A slice cut out of a filled blob is a filled bar, which looks like a thick 1 on its own: every slice is
    part of the scribble, so no path of slices reads "1111" (ten of a filled square's slices were read by the
    model; with five cuts per digit's width, it read "11111111")."""
    pad = blank()
    pad[15:265, 15:265, :3] = 0
    prepared = prepare(pad)
    assert len(prepared.options) > 1 and prepared.batch.shape[0] == 0
    assert all(o.problem == "a scribble" for o in prepared.options if not o.whole)


def test_dense_zigzag_scribble_is_not_a_digit() -> None:
    pad = blank()
    rows = np.arange(280)[:, None]
    pad[(rows % 12 < 10) & (np.arange(280)[None, :] > 20) & (np.arange(280)[None, :] < 260)] = 0
    pad[..., 3] = 255
    assert read(pad, confident(8)).text == ""


def test_an_open_zigzag_scribble_across_a_wide_pad_is_not_a_digit() -> None:
    """Twelve strokes back and forth, with white between them: not full enough to be a filled box."""
    pad = Image.fromarray(blank(300, 600))
    points = [(20 if row % 2 else 580, 20 + row * 260 / 11) for row in range(12)]
    ImageDraw.Draw(pad).line(points, fill=(0, 0, 0, 255), width=16)
    reading = read(np.asarray(pad), confident(5))
    assert reading.text == "" and "scribble" in reading.hint


@pytest.mark.parametrize("thickness", [2, 12])
def test_long_horizontal_line_is_not_a_digit(thickness: int) -> None:
    pad = blank()
    pad[140 : 140 + thickness, 10:270, :3] = 0
    reading = read(pad, confident(1))
    assert reading.text == "" and "line" in reading.hint


def test_vertical_line_is_left_to_the_model() -> None:
    pad = blank()
    pad[30:250, 135:147, :3] = 0  # a "1"
    assert read(pad, confident(1)).text == "1"


def test_guessing_model_gives_a_question() -> None:
    probs = [[0, 0, 0, 0, 0.33, 0.1, 0.1, 0.1, 0.02, 0.35]]
    reading = read(digit_pad(7), fixed(probs, digit_pad(7)))
    assert reading.text == "" and reading.hint == "Not sure: is it a 9 or a 4?"
    assert reading.digits[0].label is None and reading.digits[0].probabilities[9] == pytest.approx(0.35)


def test_doubtful_digit_is_shown_with_its_runner_up() -> None:
    probs = [[0, 0, 0, 0, 0.48, 0, 0, 0, 0.02, 0.5]]  # between MIN_CONFIDENCE and SURE
    reading = read(digit_pad(7), fixed(probs, digit_pad(7)))
    assert reading.text == "9" and reading.hint == "Probably a 9, but it could be a 4"
    assert reading.digits[0].label == 9 and not reading.digits[0].sure


def test_sure_digit_has_no_hint() -> None:
    reading = read(digit_pad(4), confident(4))
    assert reading.text == "4" and reading.hint == "" and reading.digits[0].sure


def test_several_digits_join_left_to_right() -> None:
    probs = np.eye(10, dtype=np.float32)[[1, 2, 7]]
    reading = read(number_pad([1, 2, 7]), fixed(probs, number_pad([1, 2, 7])))
    assert reading.text == "127" and reading.hint == ""
    assert [d.label for d in reading.digits] == [1, 2, 7]
    lefts = [d.box[1] for d in reading.digits]
    assert lefts == sorted(lefts)
    assert all(d.image.shape == (28, 28) for d in reading.digits)


def test_one_guessed_digit_among_several_names_it() -> None:
    probs = np.eye(10, dtype=np.float32)[[1, 2, 7]]
    probs[1] = [0.1, 0.1, 0.1, 0, 0.38, 0, 0, 0, 0, 0.32]
    reading = read(number_pad([1, 2, 7]), fixed(probs, number_pad([1, 2, 7])))
    assert reading.text == "" and reading.hint == "Not sure about the 2nd digit: is it a 4 or a 9?"
    assert [d.label for d in reading.digits] == [1, None, 7]


def test_one_doubtful_digit_among_several_is_read_and_named() -> None:
    probs = np.eye(10, dtype=np.float32)[[1, 2, 7]]
    probs[1] = [0, 0, 0, 0, 0.55, 0, 0, 0, 0, 0.45]
    reading = read(number_pad([1, 2, 7]), fixed(probs, number_pad([1, 2, 7])))
    assert reading.text == "147" and reading.hint == "The 2nd digit is probably a 4, but it could be a 9"
    assert [d.sure for d in reading.digits] == [True, False, True]


def test_a_line_among_digits_is_named() -> None:
    pad = number_pad([1, 2], height=300, width=900)
    pad[150:158, 620:880, :3] = 0
    reading = read(pad, confident(1))
    assert reading.text == "" and "3rd" in reading.hint and "line" in reading.hint


def test_decide_accepts_nan_probabilities_as_a_guess() -> None:
    prepared = prepare(digit_pad(7))
    reading = decide(prepared, np.full((len(prepared.batch), CLASSES), np.nan, dtype=np.float32))
    assert reading.text == "" and reading.hint.startswith("Not sure")


def test_decide_with_nothing_prepared() -> None:
    assert decide(prepare(blank()), None).hint == "Draw a digit"
    assert decide(prepare(blank()), np.zeros((0, 10), np.float32)).hint == "Draw a digit"  # as the page calls it


@pytest.mark.parametrize("threshold", [MIN_CONFIDENCE, SURE])
def test_thresholds_are_inclusive(threshold: float) -> None:
    row = np.full((1, 10), (1 - threshold) / 9, np.float32)
    row[0, 2] = threshold
    reading = read(digit_pad(2), fixed(row, digit_pad(2)))
    assert reading.text == "2" and reading.digits[0].sure == (threshold >= SURE)


def test_boxes_are_in_the_callers_pixels_for_huge_pads() -> None:
    pad = number_pad([1, 7], height=1500, pen=70)  # larger than MAX_WORK_SIDE: read on a reduced copy
    small = number_pad([1, 7], height=300, pen=14)
    big_boxes = [d.box for d in read(pad, confident(1)).digits]
    small_boxes = [d.box for d in read(small, confident(1)).digits]
    assert len(big_boxes) == 2
    for big, little in zip(big_boxes, small_boxes, strict=True):
        assert all(abs(b / 5 - s) <= 4 for b, s in zip(big, little, strict=True))


def narrow_sure(batch: np.ndarray) -> np.ndarray:
    """A stand-in model sure that an image shaped like an ordinary 0 is one, unsure about a wide one (a pair)
    or a thin one (a sliver cut off a 0)."""
    columns = (batch[..., 0] > 0.1).any(axis=1).sum(axis=1)
    probabilities = np.full((len(batch), 10), 0.1, dtype=np.float32)
    probabilities[(columns >= 10) & (columns <= 16)] = np.eye(10, dtype=np.float32)[0]
    return probabilities


def _option(box: tuple[int, int, int, int], start: int, end: int, row: int) -> Option:
    """An option as prepare makes it for a piece that may be a digit: scored by the model alone."""
    return Option(start, end, row, box)


def _two_ways() -> Prepared:
    """One group 110 px wide, 100 tall: whole (row 0), or cut at column 55 into rows 1 and 2."""
    options = [
        _option((0, 0, 100, 110), 0, 2, 0),
        Option(0, 1, 1, (0, 0, 100, 55), whole=False),
        Option(1, 2, 2, (0, 55, 100, 110), whole=False),
    ]
    return Prepared(np.zeros((3, 28, 28, 1), np.float32), options, 3)


def _rows(whole: float, halves: float = 0.98, runner_up: int = NOT_ONE) -> np.ndarray:
    """The model's eleven classes: the whole an 8 at `whole` (the rest on runner_up), the halves a 1 and a 7
    at `halves` (the rest: not one digit)."""
    probs = np.full((3, CLASSES), 0.0, dtype=np.float32)
    probs[0, 8], probs[0, runner_up] = whole, 1 - whole
    probs[1, 1], probs[2, 7] = halves, halves
    probs[1:, NOT_ONE] = 1 - halves
    return probs


def test_decide_cuts_a_group_when_the_model_says_the_whole_is_not_one_digit() -> None:
    reading = decide(_two_ways(), _rows(whole=0.45))
    assert reading.text == "17" and [d.box for d in reading.digits] == [(0, 0, 100, 55), (0, 55, 100, 110)]
    assert [d.label for d in reading.digits] == [1, 7]


def test_decide_keeps_a_group_whole_when_the_halves_are_not_digits() -> None:
    reading = decide(_two_ways(), _rows(whole=0.95, halves=0.2))
    assert reading.text == "8" and [d.box for d in reading.digits] == [(0, 0, 100, 110)]


def test_a_whole_the_model_is_sure_is_one_digit_is_not_cut_into_two_sure_halves() -> None:
    # The halves read 0.98 each (0.96) over the whole's 0.9, but cutting says the whole is not one digit,
    # which the model puts at 0.1: 0.096. A flagged 1's up-stroke alone is such a sure "1".
    reading = decide(_two_ways(), _rows(whole=0.9, halves=0.98, runner_up=3))
    assert reading.text == "8" and len(reading.digits) == 1
    assert decide(_two_ways(), _rows(whole=0.9, halves=0.98)).text == "8"  # the rest on not one digit: the same


def test_a_doubtful_whole_stays_whole_when_its_halves_are_fragments() -> None:
    reading = decide(_two_ways(), _rows(whole=0.55, halves=0.05, runner_up=3))  # a wide 8, or a 3: not two
    assert reading.text == "8" and len(reading.digits) == 1 and reading.hint == "Probably an 8, but it could be a 3"


def test_a_digit_is_named_by_its_probabilities_given_it_is_one_digit() -> None:
    probs = _rows(whole=0.1, halves=0.5)
    probs[1, [1, 7, 4]] = 0.25, 0.25, 0.2  # the first half: 1, 7 or 4, and not one digit at 0.3
    probs[1, NOT_ONE] = 0.3
    reading = decide(_two_ways(), probs)  # 0.25 x 0.5 > 0.1: cut
    # Given one digit, the first half is a 1 or a 7 at 0.36 each: a guess; the second half, all 7.
    assert reading.text == "" and reading.hint == "Not sure about the 1st digit: is it a 1 or a 7?"
    assert all(d.probabilities.shape == (10,) for d in reading.digits)
    assert reading.digits[0].probabilities.sum() == pytest.approx(1.0)
    assert reading.digits[0].probabilities[1] == pytest.approx(0.25 / 0.7)
    assert reading.digits[1].label == 7 and reading.digits[1].sure


def _with_pairs(probs: np.ndarray, two: float, left: int, right: int, sure: float = 0.9) -> np.ndarray:
    """The model's full output for _two_ways: the whole judged two digits at `two` (taken from its NOT_ONE),
    its pair softmaxes a `left` and a `right` at `sure`; the halves' pair softmaxes are flat."""
    out = np.zeros((len(probs), OUTPUT_WIDTH), np.float32)
    out[:, :NOT_ONE + 1] = probs[:, :NOT_ONE + 1]
    out[0, TWO], out[0, NOT_ONE] = two, max(0.0, out[0, NOT_ONE] - two)
    out[:, PAIR_LEFT:PAIR_RIGHT] = out[:, PAIR_RIGHT:] = 0.1
    out[0, PAIR_LEFT:PAIR_RIGHT] = out[0, PAIR_RIGHT:] = (1 - sure) / 9
    out[0, PAIR_LEFT + left], out[0, PAIR_RIGHT + right] = sure, sure
    return out


def test_a_whole_the_model_reads_as_two_digits_is_read_as_a_pair() -> None:
    # The halves are fragments (0.2 each), the whole an 8 at 0.1 but two digits, a 1 and a 7, at 0.85.
    reading = decide(_two_ways(), _with_pairs(_rows(whole=0.1, halves=0.2), two=0.85, left=1, right=7))
    assert reading.text == "17" and [d.paired for d in reading.digits] == [True, True]
    assert [d.box for d in reading.digits] == [(0, 0, 100, 55), (0, 55, 100, 110)]  # the whole's halves
    assert all(d.row == 0 and d.probabilities.shape == (10,) for d in reading.digits)
    assert reading.digits[0].probabilities[1] == pytest.approx(0.9) and reading.digits[1].label == 7
    # The same rows without the pair outputs (an older model): the cut halves, for want of better.
    assert decide(_two_ways(), _rows(whole=0.1, halves=0.2)).digits[0].paired is False


def test_a_pair_taught_as_one_digit_reads_as_that_digit() -> None:
    # A "V" the model reads as the pair "11", taught whole as a 7 (pyapp/web.py's teach of a paired digit).
    output = _with_pairs(_rows(whole=0.1, halves=0.2), two=0.85, left=1, right=1)
    assert decide(_two_ways(), output).text == "11"
    taught = decide(_two_ways(), output, np.array([7, -1, -1]))
    assert taught.text == "7" and not taught.digits[0].paired and taught.digits[0].taught


def test_cut_halves_that_read_better_than_the_pair_win() -> None:
    # Halves a 1 and a 7 at 0.98 each (0.96) beat a pair at 0.6 x 0.9 x 0.9 (0.49).
    reading = decide(_two_ways(), _with_pairs(_rows(whole=0.05), two=0.6, left=4, right=4))
    assert reading.text == "17" and not any(d.paired for d in reading.digits)


def test_a_doubtful_half_of_a_pair_is_asked_about() -> None:
    reading = decide(_two_ways(), _with_pairs(_rows(whole=0.05, halves=0.1), two=0.95, left=3, right=5, sure=0.35))
    assert reading.text == "" and reading.hint.startswith("Not sure about the 1st digit: is it a 3 or")


def five_with_a_floating_bar(thickness: int = 12) -> np.ndarray:
    """A 5 drawn in two strokes whose bar, above and to the right, does not meet the body."""
    five = paint(blank(300, 300), 5, 70, 90, 180, 14)
    five[55:88, :, :3] = 255  # rub out the bar...
    five[52 - thickness : 52, 170:262, :3] = 0  # ...and draw it again higher up, off to the right (as in MNIST 7454)
    return five


def _stacked(bar: float, body: float, whole: float) -> tuple[Prepared, np.ndarray]:
    """Two groups, a bar above a body (rows 0 and 1; the body first, as its columns' middle is further left),
    and the two read as one piece (row 2)."""
    options = [
        _option((0, 40, 60, 100), 1, 2, 0),
        _option((70, 30, 170, 100), 0, 1, 1),
        _option((0, 30, 170, 100), 0, 2, 2),
    ]
    probs = np.full((3, 10), 0.0, dtype=np.float32)
    probs[0, 7], probs[0, 1] = bar, 1 - bar
    probs[1, 6], probs[1, 5] = body, 1 - body
    probs[2, 5], probs[2, 6] = whole, 1 - whole
    return Prepared(np.zeros((3, 28, 28, 1), np.float32), options, 3), probs


def test_decide_joins_stacked_groups_the_model_reads_as_one_digit() -> None:
    reading = decide(*_stacked(bar=0.7, body=0.8, whole=0.97))
    assert reading.text == "5" and [d.box for d in reading.digits] == [(0, 30, 170, 100)]


def test_decide_keeps_stacked_groups_apart_when_each_reads_better() -> None:
    reading = decide(*_stacked(bar=0.99, body=0.99, whole=0.5))
    assert reading.text == "67" and len(reading.digits) == 2  # in reading order: the body is left of the bar


def _joins(pad: np.ndarray) -> list[Piece]:
    return [p for p in layout(ink_from_rgba(pad)).pieces if p.kind == "join"]


def test_joins_are_offered_only_for_close_neighbours() -> None:
    assert _joins(number_pad([1, 7, 0])) == []  # digits a third of a height apart are never read as one
    (joined,) = _joins(five_with_a_floating_bar(thickness=26))  # a stroke that could be a digit of its own
    assert joined.box[0] <= 26 and joined.box[2] >= 230  # the bar and the body in one piece


def test_a_bar_too_flat_for_a_digit_is_read_with_the_digit_below() -> None:
    prepared = prepare(five_with_a_floating_bar())
    assert [o.problem for o in prepared.options if o.problem] == ["a line"]  # the bar on its own, not cut
    reading = read(five_with_a_floating_bar(), confident(5))  # was refused as "a line" before joins
    assert reading.text == "5" and len(reading.digits) == 1
    assert reading.digits[0].box[0] <= 40 and reading.digits[0].box[2] >= 230


def test_a_line_alone_needs_no_model_call() -> None:
    pad = blank()
    pad[140:150, 10:270, :3] = 0
    prepared = prepare(pad)
    assert prepared.batch.shape == (0, 28, 28, 1) and prepared.hint == ""
    assert decide(prepared, None).hint == "That looks like a line, not a digit"


def test_touching_pair_is_cut_when_the_model_prefers_it() -> None:
    pad = number_pad([0, 0], height=300, gap=0.0, pen=12)
    prepared = prepare(pad)
    rows = sorted(o.row for o in prepared.options if o.row >= 0)
    assert len(prepared.batch) > 2 and rows == list(range(len(prepared.batch)))  # all readings, one call
    reading = read(pad, narrow_sure)
    assert reading.text == "00" and len(reading.digits) == 2
    assert reading.digits[0].box[3] <= reading.digits[1].box[1] + 2
    assert read(pad, confident(8)).text == "8"  # sure of the whole: kept whole


def test_touching_digits_on_a_huge_pad_are_read_on_a_reduced_copy_with_pad_boxes() -> None:
    pad = number_pad([0, 0], height=1500, gap=0.0, pen=60)  # 1560 px wide: read at a fraction of its size
    factor = -(-max(pad.shape[:2]) // recognize.MAX_WORK_SIDE)
    assert factor > 1
    prepared = prepare(pad)
    for option in prepared.options:
        top, left, bottom, right = option.box
        assert 0 <= top < bottom <= pad.shape[0] and 0 <= left < right <= pad.shape[1]
        assert top % factor == left % factor == bottom % factor == right % factor == 0  # read on the reduced copy
    small = read(number_pad([0, 0], height=300, gap=0.0, pen=12), narrow_sure)
    big = read(pad, narrow_sure)
    assert big.text == small.text == "00"
    for large, little in zip(big.digits, small.digits, strict=True):
        assert all(abs(b / 5 - s) <= 6 for b, s in zip(large.box, little.box, strict=True))


@pytest.mark.parametrize("shape", [(10, 10), (10, 10, 3), (10, 10, 4, 1), (4,)])
def test_non_rgba_arrays_are_a_value_error(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        prepare(np.zeros(shape))


@pytest.mark.parametrize("dtype", [np.uint16, np.int64, np.float16, np.float64, bool, np.complex64])
def test_other_dtypes_are_read(dtype) -> None:
    pad = digit_pad(7).astype(np.float64)
    values = pad / 255 if np.dtype(dtype).kind in "fcb" else pad
    assert read(values.astype(dtype), confident(7)).text == "7"


needs_model = pytest.mark.skipif(not MODEL.exists(), reason="model/digits.onnx not trained yet")


@pytest.fixture(scope="module")
def predict():
    pytest.importorskip("onnxruntime")  # the page's Pyodide has no onnxruntime; these tests are CPython's
    from pyapp.model import load_model

    return load_model(MODEL)


@needs_model
@pytest.mark.parametrize("digit", [0, 1, 2, 3, 4, 5, 7, 8])
def test_model_reads_synthetic_digits(predict, digit: int) -> None:
    assert read(digit_pad(digit), predict).text == str(digit)


@needs_model
@pytest.mark.parametrize("thickness", [12, 26])
def test_model_reads_a_five_whose_bar_floats_above_it(predict, thickness: int) -> None:
    # Read as a line plus a digit, or as two digits, before joins (0.2% of MNIST test digits).
    assert read(five_with_a_floating_bar(thickness), predict).text == "5"


def _strokes_pad(strokes: list[list[tuple[float, float]]], height: int, pen: int, slant: float) -> np.ndarray:
    """Strokes in units of the digit's height (x from the left edge), drawn at the centre of a 300 px pad."""
    image = Image.new("RGBA", (300, 300), (255, 255, 255, 255))
    draw = ImageDraw.Draw(image)
    top, left = (300 - height) / 2, 150 - 0.35 * height
    for stroke in strokes:
        points = [(left + x * 0.7 * height + slant * (1 - y) * height, top + y * height) for x, y in stroke]
        draw.line(points, fill=(17, 24, 39, 255), width=pen, joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=(17, 24, 39, 255))
    return np.asarray(image).copy()


FLAGGED_ONE = [[(0.1, 0.35), (0.6, 0.0), (0.6, 1.0)]]  # a long up-stroke first, as most of Europe writes a 1
PLAIN_SEVEN = [[(0.05, 0.02), (0.95, 0.02), (0.4, 1.0)]]
CROSSED_SEVEN = [*PLAIN_SEVEN, [(0.35, 0.5), (0.9, 0.5)]]
CLOSED_FOUR = [[(0.6, 0.0), (0.05, 0.65), (0.95, 0.65)], [(0.6, 0.0), (0.6, 1.0)]]
SLASHED_ZERO = [
    [(0.5 + 0.45 * math.sin(t / 24 * 2 * math.pi), 0.5 - 0.5 * math.cos(t / 24 * 2 * math.pi)) for t in range(25)],
    [(0.85, 0.1), (0.15, 0.9)],
]


@needs_model
@pytest.mark.parametrize(
    ("strokes", "digit"),
    [(FLAGGED_ONE, "1"), (PLAIN_SEVEN, "7"), (CROSSED_SEVEN, "7"), (CLOSED_FOUR, "4"), (SLASHED_ZERO, "0")],
)
def test_model_reads_other_hands(predict, strokes, digit: str) -> None:
    # Styles MNIST has few of. Flagged 1s: before training added flags to some, 7 of these 12 were read as 7.
    pads = [_strokes_pad(strokes, h, pen, s) for h in (120, 200) for pen in (8, 18) for s in (-0.15, 0.0, 0.15)]
    assert [read(pad, predict).text for pad in pads] == [digit] * len(pads)


@needs_model
def test_model_reads_a_synthetic_number(predict) -> None:
    assert read(number_pad([2, 0, 1, 7], height=300), predict).text == "2017"


@needs_model
def test_model_reads_mnist_numbers(predict) -> None:
    images, labels = mnist_test()
    rng = np.random.default_rng(7)
    right = 0
    trials = 60
    for _ in range(trials):
        chosen = rng.integers(0, len(images), int(rng.integers(2, 5)))
        ink, _ = mnist_number(images[chosen], scale=6, gap=0.3, rng=rng)
        grey = np.round(255 * (1 - ink)).astype(np.uint8)
        pad = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
        right += read(pad, predict).text == "".join(str(v) for v in labels[chosen])
    assert right / trials >= 0.85  # sure and right; unsure digits give "" and count as misses


# ---- straight strokes with sharp corners, drawn as the page draws them ----
# The page paints a stroke live, one short path per pointer move, each anti-aliased and composited over the
# last (their rims add up); Undo and a resize repaint each stroke as one path. So the very same strokes
# reach prepare with different anti-aliasing, and a 7 of two straight strokes once read "7" live and ""
# ("the 1st mark looks like a line") after an Undo: the refusal was judged on a rule-based cut of the 7.

INK = np.array([0x11, 0x18, 0x27], np.float32)  # the page's ink colour on white


def _path_cover(shape: tuple[int, int], points: np.ndarray, radius: float, samples: int) -> np.ndarray:
    """Coverage of one round-capped, round-joined path (points (x, y) in px), samples x samples per pixel."""
    height, width = shape
    x0, y0 = np.maximum(np.floor(points.min(axis=0) - radius - 1).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(points.max(axis=0) + radius + 1).astype(int), (width, height))
    cover = np.zeros(shape, np.float32)
    if x0 >= x1 or y0 >= y1:
        return cover
    offsets = (np.arange(samples) + 0.5) / samples
    ys = (np.arange(y0, y1)[:, None] + offsets).ravel()[:, None]
    xs = (np.arange(x0, x1)[:, None] + offsets).ravel()[None, :]
    inside = np.zeros((ys.size, xs.size), bool)
    for (ax, ay), (bx, by) in zip(points[:-1], points[1:], strict=True) if len(points) > 1 else [(points[0],) * 2]:
        dx, dy = bx - ax, by - ay
        t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)
        inside |= (xs - ax - t * dx) ** 2 + (ys - ay - t * dy) ** 2 <= radius * radius
    cover[y0:y1, x0:x1] = inside.reshape(y1 - y0, samples, x1 - x0, samples).mean(axis=(1, 3))
    return cover


def canvas(strokes: list[np.ndarray], pen: float, live: bool, samples: int = 4, shape=(280, 560)) -> np.ndarray:
    """RGBA pad with the strokes painted as the page does: live (a dot at pointer-down, then one path per
    pointer move, six moves per straight segment) or repainted (one path per stroke, as after Undo).
    samples = 1 paints without anti-aliasing."""
    alpha = np.zeros(shape, np.float32)
    for stroke in strokes:
        paths = [stroke]
        if live:
            steps = [a + (b - a) * k / 6 for a, b in zip(stroke[:-1], stroke[1:], strict=True) for k in range(7)]
            paths = [stroke[:1]] + [np.array(pair) for pair in zip(steps[:-1], steps[1:], strict=True)]
        for path in paths:
            alpha += _path_cover(shape, np.asarray(path, np.float64), pen / 2, samples) * (1 - alpha)
    return _inked(alpha)


def pillow_canvas(strokes: list[np.ndarray], pen: float, scale: int, shape=(280, 560)) -> np.ndarray:
    """The same strokes drawn with Pillow at scale x the size and box-filtered down (1: no anti-aliasing)."""
    image = Image.new("L", (shape[1] * scale, shape[0] * scale), 0)
    draw = ImageDraw.Draw(image)
    radius = pen * scale / 2
    for stroke in strokes:
        points = [(x * scale, y * scale) for x, y in stroke]
        draw.line(points, fill=255, width=max(1, round(pen * scale)))
        for x, y in points:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return _inked(np.asarray(image.resize(shape[::-1], Image.Resampling.BOX), np.float32) / 255)


def _inked(alpha: np.ndarray) -> np.ndarray:
    rgba = np.full((*alpha.shape, 4), 255, np.uint8)
    rgba[..., :3] = np.round(255 - alpha[..., None] * (255 - INK)).astype(np.uint8)
    return rgba


RENDERINGS = {
    "live": lambda strokes, pen: canvas(strokes, pen, live=True),
    "after Undo": lambda strokes, pen: canvas(strokes, pen, live=False),
    "finer anti-aliasing": lambda strokes, pen: canvas(strokes, pen, live=False, samples=16),
    "no anti-aliasing": lambda strokes, pen: canvas(strokes, pen, live=False, samples=1),
    "Pillow x4": lambda strokes, pen: pillow_canvas(strokes, pen, 4),
    "Pillow x1": lambda strokes, pen: pillow_canvas(strokes, pen, 1),
}
def straight_digit(digit: str, rng: np.random.Generator, shape=(280, 560)) -> tuple[list[np.ndarray], float]:
    """One seeded drawing of a straight-stroke digit on the page's pad: size, proportions, pen (the page's
    brush range, 6-40 px at 280 px), slant and position varied; stroke order and direction too."""
    unit, (narrowest, widest) = STRAIGHT[digit]
    height, pad_width = shape
    size = rng.uniform(0.25, 0.85) * height
    width = rng.uniform(narrowest, widest) * size
    pen = rng.uniform(6, 40) * height / 280
    slant = rng.uniform(-0.2, 0.2)
    left = rng.uniform(pen + 0.2 * size, max(pen + 0.2 * size + 1, pad_width - width - pen - 0.2 * size))
    top = rng.uniform(pen, max(pen + 1, height - size - pen))
    strokes = []
    for k in rng.permutation(len(unit)):
        points = np.array([(left + x * width + slant * (0.5 - y) * size, top + y * size) for x, y in unit[k]])
        strokes.append(points[::-1] if rng.random() < 0.3 else points)
    return strokes, pen


@needs_model
@pytest.mark.parametrize("digit", list(STRAIGHT))
def test_straight_stroke_digits_read_the_same_however_drawn(predict, digit: str) -> None:
    # Measured on 60 drawings of each digit in all six renderings: before the scored search, 92.5% of the 7s
    # were read right and 4 of the 300 drawings read differently from one rendering to another; now all
    # 1,800 readings are right. Eight drawings of each here, to keep the test short.
    rng = np.random.default_rng(2026 + ord(digit))
    for _ in range(8):
        strokes, pen = straight_digit(digit, rng)
        texts = {name: read(paint(strokes, pen), predict).text for name, paint in RENDERINGS.items()}
        assert set(texts.values()) == {digit}, texts


@needs_model
def test_a_seven_with_a_long_bar_reads_the_same_after_undo(predict) -> None:
    # The issue's case. Before the scored search: "7" live, then "" ("Not a number: the 1st mark looks like a
    # line") once Undo repainted the same strokes; the bar had been cut off by a rule, and judged alone.
    strokes = [np.array([(174.0, 85.0), (335.0, 85.0)]), np.array([(335.0, 85.0), (232.0, 195.0)])]
    readings = [read(paint(strokes, 11), predict) for paint in RENDERINGS.values()]
    assert [(r.text, r.hint) for r in readings] == [("7", "")] * len(RENDERINGS)


@needs_model
def test_non_digits_are_refused_and_digits_beside_them_named(predict) -> None:
    line = blank()
    line[140:150, 10:270, :3] = 0
    assert read(line, predict).hint == "That looks like a line, not a digit"
    pad = number_pad([1, 2], height=300, width=900)
    pad[150:158, 620:880, :3] = 0
    reading = read(pad, predict)  # the 1 and the 2 are read by the model; the line is named
    assert reading.text == "" and reading.hint == "Not a number: the 3rd mark looks like a line"


@needs_model
def test_model_reads_touching_mnist_numbers(predict) -> None:
    pads = mnist_number_pads((-0.05, 0.02), trials=400, seed=11)
    readings = [(read(pad, predict), truth) for pad, truth in pads]
    # On these 400, with the model judging the pieces (NOT_ONE): 90.25% right and 92.0% with the right count
    # (77.75% / 79.75% with the priors before it, 76.75% / 78.75% with the rule-based cuts before those). 150
    # were too few: one number moved the count across its bound.
    assert sum(r.text == truth for r, truth in readings) / len(pads) >= 0.88
    assert sum(len(r.digits) == len(truth) for r, truth in readings) / len(pads) >= 0.90


@needs_model
def test_two_narrow_touching_zeros_are_read_as_two(predict) -> None:
    # An expected failure until the model judged the pieces: it was surer of one wide 0.
    assert read(number_pad([0, 0], height=300, gap=-0.02, pen=12), predict).text == "00"


@needs_model
def test_model_does_not_cut_single_mnist_digits(predict) -> None:
    pads = mnist_number_pads((0.0, 0.0), trials=400, seed=5, counts=(1, 1))
    over = sum(len(read(pad, predict).digits) > 1 for pad, _ in pads)
    assert over <= 2  # about 0.2% of single digits, with or without the model judging cuts


def test_taught_rows_read_as_taught_with_the_models_bars(predict) -> None:
    """decide's `taught` (pyapp.personal): a taught row reads its taught label and says so; its bars stay the
    model's; no taught rows (None, or all -1) give exactly the model's reading."""
    prepared = prepare(number_pad([1, 4, 7]))
    probs = predict(prepared.batch)[:, :CLASSES].copy()  # the class softmax alone: no pairs
    fours = probs.argmax(axis=1) == 4  # the pieces the model reads as the 4 (whole, or cut)
    assert fours.any()
    probs[fours] = [0.1, 0.1, 0.1, 0, 0.38, 0, 0, 0, 0, 0.32, 0, 0]  # the model guesses at the 2nd digit
    alone = decide(prepared, probs)
    assert alone.text == "" and alone.hint.startswith("Not sure")
    assert same_reading(alone, decide(prepared, probs, None))
    assert same_reading(alone, decide(prepared, probs, np.full(len(probs), -1)))
    taught = decide(prepared, probs, np.where(fours, 9, -1))
    assert taught.text == "197" and taught.hint == "Read as you taught: the 2nd (9)"
    assert [d.taught for d in taught.digits] == [False, True, False]
    np.testing.assert_array_equal(taught.digits[1].probabilities, probs[fours][0, :10])  # the bars: the model's
    seven = prepare(digit_pad(7))  # row 0 is the digit whole; the others (spans) are not one digit
    rest = len(seven.batch) - 1
    one = decide(seven, np.eye(CLASSES, dtype=np.float32)[[1] + [NOT_ONE] * rest], np.array([7] + [-1] * rest))
    assert (one.text, one.hint, one.digits[0].taught, one.digits[0].sure) == ("7", "7, as you taught", True, True)
    with pytest.raises(ValueError, match="taught labels"):
        decide(prepared, probs, np.where(fours, 10, 0))


@needs_model
@pytest.mark.slow
def test_model_reads_numbers_as_people_write_them(predict) -> None:
    """training.numbers' held-out numbers (its bench seed, MNIST's test split), 50 per band and source.
    bench/recognition.py reads 300 each: apart 100% / 97.33% (pen strokes / MNIST digits), close 96.0% /
    94.0%, touching 53.3% / 49.3% on the first 150 (docs/benchmarks.md); the floors sit a few numbers below."""
    floors = {"apart": 0.94, "close": 0.88, "touching": 0.36}
    for name, written in bench_numbers(mnist_test(), 50).items():
        right = np.mean([read(number.rgba, predict).text == number.text for number in written])
        assert right >= floors[name.split(",")[0]], f"{name}: {right:.2%}"
