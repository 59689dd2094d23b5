"""Numbers as people write them on the pad, and the pieces the reader cuts them into, labelled.

    number = write(rng, gap=(-0.1, 0.0), source="strokes")   # a 560x280 pad, 2-6 digits, and its text
    for image, label in labelled_pieces(number): ...        # what the model must learn to judge

A number is 2-6 digits on the page's 560x280 pad, each digit with its own slant (one hand's slant, jittered)
and size, set side by side with a gap drawn from `gap`, in digit heights: the shortest horizontal distance
between the ink written so far and the next digit's ink, row by row (so slanted digits are set as a person
sets them, not by their boxes); below 0 the strokes overlap by that much. Digits come from one source per
number: "strokes" (training.strokes: the pad's round pen at the brush slider's widths, in people's styles)
or "mnist" (MNIST digits, scanned pen strokes, enlarged like a drawing).

The pieces are exactly what pyapp.segment.layout offers the reader on that pad. Each is labelled by how its
ink overlaps the true digits: a digit when it holds nearly all of one digit's ink and little else, NOT_ONE
when it holds two digits or parts of them, or a fragment of one; the pieces in between are left out.

Seeded: the same rng state gives the same numbers. Training draws from MNIST's training split and its own
seeds; tests and bench/recognition.py from the test split and other seeds (BENCH_SEED).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from pyapp.config import NOT_ONE
from pyapp.preprocess import ink_from_rgba, normalise_ink
from pyapp.recognize import problem, reduce_pad
from pyapp.segment import MASK_THRESHOLD, Layout, layout
from training import strokes
from training.pad import to_rgba

PAD_HEIGHT, PAD_WIDTH = 280, 560  # site/index.html's canvas#pad
PEN = (6.0, 40.0)  # site/index.html's brush slider, px on a 280 px tall pad
# ... but no wider than this share of the digit's height: a wider pen fills a digit's loops (a 40 px pen on
# a 60 px digit), which nobody reads, and the person who writes small turns the brush down.
PEN_SHARE = 0.25
HEIGHT = (0.3, 0.75)  # a digit's height, as a share of the pad's (shrunk when the number would not fit)
SLANT = (-0.1, 0.45)  # a hand's slant (x shift per height at the top); each digit jitters it by SLANT_JITTER
SLANT_JITTER = 0.08
SIZE_JITTER = 0.12  # each digit's height x (1 +- this)
BASELINE_JITTER = 0.06  # each digit's top moves by up to this many heights
COUNT = (2, 6)
MARGIN = 8  # px kept clear at the pad's edges
# Bands of gaps, in digit heights (issue 18's): well apart, close, touching or overlapping a little.
BANDS = {"apart": (0.15, 0.40), "close": (0.0, 0.15), "touching": (-0.10, 0.0)}
SOURCES = ("strokes", "mnist")
BENCH_SEED = 18  # tests and bench/recognition.py; training uses its own seeds (training.train)
# Overlap labels: a piece is digit d when at least DIGIT_SHARE of its ink is d's and it holds at least
# DIGIT_SHARE of d's ink; it is NOT_ONE when it holds less than FRAGMENT_SHARE of its main digit's ink, or
# more than 1 - MIXED_SHARE of its ink belongs to other digits. Between the two it is left out of training.
DIGIT_SHARE = 0.85
# Two neighbouring digits whole (each DIGIT_SHARE of its ink, together DIGIT_SHARE of the piece's) are the
# model's TWO class, read by its pair softmaxes; their training label is PAIR_BASE + 10 left + right.
PAIR_BASE = 100
FRAGMENT_SHARE = 0.6
MIXED_SHARE = 0.7


@dataclass(frozen=True)
class Number:
    rgba: np.ndarray  # the pad, uint8 [PAD_HEIGHT, PAD_WIDTH, 4], dark ink on white
    text: str
    digits: list[np.ndarray]  # each digit's own ink on the whole pad, float32 [PAD_HEIGHT, PAD_WIDTH]
    strokes: list[np.ndarray]  # the pen's path, (x, y) in the pad's pixels, stroke by stroke ([] for MNIST)
    pen: float  # the pen's width in pixels (the brush slider's value on a 280 px tall pad)


def _crop(ink: np.ndarray) -> np.ndarray:
    return ink[_ink_slices(ink)]


def _ink_slices(ink: np.ndarray) -> tuple[slice, slice]:
    rows = np.flatnonzero((ink > 0.1).any(axis=1))
    cols = np.flatnonzero((ink > 0.1).any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _shear(ink: np.ndarray, slant: float) -> np.ndarray:
    """Lean a drawing: each row moves right by slant x its height above the bottom (bilinear)."""
    height, width = ink.shape
    extra = int(np.ceil(abs(slant) * height))
    image = Image.fromarray(np.ascontiguousarray(ink, dtype=np.float32), mode="F")
    # PIL's AFFINE maps output -> input: x_in = x_out - slant * (height - y_out), less `extra` when the
    # drawing leans left (its bottom then starts `extra` px in).
    matrix = (1.0, slant, -slant * height - (extra if slant < 0 else 0), 0.0, 1.0, 0.0)
    sheared = image.transform((width + extra, height), Image.Transform.AFFINE, matrix, Image.Resampling.BILINEAR)
    return np.asarray(sheared)


def _mnist_digit(image: np.ndarray, height: float, slant: float) -> np.ndarray:
    """An MNIST digit enlarged (bilinear, as a canvas scales) to `height` px and slanted."""
    crop = _crop(image.reshape(28, 28))
    scale = height / crop.shape[0]
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(height)))
    big = Image.fromarray(np.ascontiguousarray(crop, dtype=np.float32), mode="F").resize(
        size, Image.Resampling.BILINEAR
    )
    return np.clip(_shear(np.asarray(big), slant), 0.0, 1.0)


def _stroke_digit(
    digit: int, rng: np.random.Generator, height: float, slant: float, pen: float
) -> tuple[np.ndarray, list[np.ndarray]]:
    """A digit drawn with the pad's round pen (training.strokes), cropped to its ink, and its strokes (x, y)
    in the crop's pixels."""
    drawn = strokes.place(strokes.digit_strokes(digit, rng), height, slant, pen, pen)
    x0, y0, x1, y1 = strokes.box(drawn)
    ink = strokes.render(drawn, pen, (int(np.ceil(y1 + pen)) + 2, int(np.ceil(x1 + pen)) + 2))
    rows, cols = _ink_slices(ink)
    return ink[rows, cols], [stroke - (cols.start, rows.start) for stroke in drawn]


def _rows(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows with ink, and each one's first and last inked column."""
    inked = ink >= MASK_THRESHOLD
    rows = np.flatnonzero(inked.any(axis=1))
    first = inked[rows].argmax(axis=1)
    last = ink.shape[1] - 1 - inked[rows][:, ::-1].argmax(axis=1)
    return rows, first, last


def _set_side_by_side(inks: list[np.ndarray], gaps: np.ndarray, tops: np.ndarray) -> list[int]:
    """Left edge of each digit so that the row-by-row gap to the ink before it is gaps[i] px."""
    reach = np.full(PAD_HEIGHT + max(i.shape[0] for i in inks) + 1, -np.inf)  # rightmost ink so far, per row
    lefts = []
    right_edge = 0.0
    for index, ink in enumerate(inks):
        rows, first, last = _rows(ink)
        rows = rows + int(tops[index])
        if index == 0:
            left = 0.0
        else:
            shared = np.isfinite(reach[rows])
            if shared.any():
                left = float(np.max(reach[rows][shared] - first[shared])) + 1 + gaps[index - 1]
            else:
                left = right_edge + gaps[index - 1]
        left = max(left, right_edge - ink.shape[1] + 1)  # never set to the left of what is written
        lefts.append(int(round(left)))
        reach[rows] = np.maximum(reach[rows], lefts[-1] + last)
        right_edge = max(right_edge, lefts[-1] + ink.shape[1])
    return lefts


def write(
    rng: np.random.Generator,
    gap: tuple[float, float],
    source: str,
    mnist: tuple[np.ndarray, np.ndarray] | None = None,
    count: tuple[int, int] = COUNT,
) -> Number:
    """One number on the pad (see the module's docstring); mnist = (images, labels) when source is "mnist"."""
    digits_count = int(rng.integers(count[0], count[1] + 1))
    hand_slant = rng.uniform(*SLANT)
    pen_share = rng.uniform(0.0, 1.0)  # where the brush sits between its narrowest and its widest that fits
    gaps_in_heights = rng.uniform(*gap, size=max(digits_count - 1, 0))
    # The height that fits: digits are about 0.6 heights wide, plus slant and the gaps.
    needed = digits_count * (0.65 + abs(hand_slant)) + max(gaps_in_heights.sum(), 0.0) + 0.3 + PEN_SHARE
    height = min(rng.uniform(*HEIGHT) * PAD_HEIGHT, (PAD_WIDTH - 2 * MARGIN) / needed)
    height = min(height, (PAD_HEIGHT - 2 * MARGIN) / (1 + SIZE_JITTER + 2 * BASELINE_JITTER + PEN_SHARE))
    pen = PEN[0] + pen_share * max(0.0, min(PEN[1], PEN_SHARE * height) - PEN[0])
    jitter = 1 + rng.uniform(-SIZE_JITTER, SIZE_JITTER, digits_count)
    slants = hand_slant + rng.uniform(-SLANT_JITTER, SLANT_JITTER, digits_count)
    baseline = rng.uniform(-BASELINE_JITTER, BASELINE_JITTER, digits_count)
    chosen = rng.integers(0, len(mnist[0]), digits_count) if source == "mnist" else None
    if chosen is not None:
        labels = [int(mnist[1][i]) for i in chosen]
    else:
        labels = [int(d) for d in rng.integers(0, 10, digits_count)]
    while True:  # a number wider than the pad is written again, smaller
        sizes = height * jitter
        if chosen is not None:
            inks = [_mnist_digit(mnist[0][i], s, k) for i, s, k in zip(chosen, sizes, slants, strict=True)]
            paths: list[list[np.ndarray]] = [[] for _ in inks]
        else:
            drawn = [_stroke_digit(d, rng, s, k, pen) for d, s, k in zip(labels, sizes, slants, strict=True)]
            inks, paths = [ink for ink, _ in drawn], [path for _, path in drawn]
        tops = (height - np.array([i.shape[0] for i in inks])) / 2 + baseline * height
        tops -= tops.min()
        lefts = _set_side_by_side(inks, gaps_in_heights * height, tops)
        width = max(left + ink.shape[1] for left, ink in zip(lefts, inks, strict=True))
        if width <= PAD_WIDTH - 2 * MARGIN:
            break
        height *= 0.95 * (PAD_WIDTH - 2 * MARGIN) / width
    tall = int(max(top + ink.shape[0] for top, ink in zip(tops, inks, strict=True)))
    x0 = int(rng.integers(MARGIN, max(MARGIN, PAD_WIDTH - MARGIN - width) + 1))
    y0 = int(rng.integers(MARGIN, max(MARGIN, PAD_HEIGHT - MARGIN - tall) + 1))
    layers, placed = [], []
    for ink, path, top, left in zip(inks, paths, tops, lefts, strict=True):
        layer = np.zeros((PAD_HEIGHT, PAD_WIDTH), np.float32)
        y, x = y0 + int(top), x0 + left
        part = ink[: max(0, PAD_HEIGHT - y), : max(0, PAD_WIDTH - x)]
        layer[y : y + part.shape[0], x : x + part.shape[1]] = part
        layers.append(layer)
        placed += [stroke + (x, y) for stroke in path]
    pad = np.max(layers, axis=0) if layers else np.zeros((PAD_HEIGHT, PAD_WIDTH), np.float32)
    return Number(to_rgba(pad), "".join(map(str, labels)), layers, placed, pen)


def numbers(
    count: int, gap: tuple[float, float], source: str, seed: int = BENCH_SEED,
    mnist: tuple[np.ndarray, np.ndarray] | None = None,
) -> Iterator[Number]:
    """`count` numbers of one band and source, seeded."""
    rng = np.random.default_rng([seed, int(1000 * gap[0]) + 1000, int(1000 * gap[1]) + 1000, SOURCES.index(source)])
    for _ in range(count):
        yield write(rng, gap, source, mnist)


def judged_pieces(number: Number) -> tuple[Layout, list[tuple[int, int]]]:
    """The reader's layout of this pad, and for each piece (digit index, verdict): verdict 1 when the piece is
    that digit (DIGIT_SHARE of its ink is the digit's, and it holds DIGIT_SHARE of the digit's ink), 2 when
    it is that digit and the next one whole (_holds_pair), 0 when it is not one digit, -1 in between or not
    read (no ink, or a line, scribble or dot)."""
    work, _ = reduce_pad(ink_from_rgba(number.rgba))
    owners = np.stack([reduce_pad(layer)[0] for layer in number.digits])  # each digit's ink, at work size
    owner = owners.argmax(axis=0)
    inked = work >= MASK_THRESHOLD
    totals = np.bincount(owner[inked], minlength=len(number.digits)).astype(np.float64)
    found = layout(work)
    pad_side = min(work.shape)
    verdicts = []
    for piece in found.pieces:
        if piece.ink is None or problem(piece.ink, pad_side):
            verdicts.append((-1, -1))
            continue
        top, left, bottom, right = piece.box
        mask = piece.ink >= MASK_THRESHOLD
        held = np.bincount(owner[top:bottom, left:right][mask], minlength=len(number.digits)).astype(np.float64)
        main = int(held.argmax())
        purity, whole = held[main] / max(held.sum(), 1.0), held[main] / max(totals[main], 1.0)
        if purity >= DIGIT_SHARE and whole >= DIGIT_SHARE:
            verdicts.append((main, 1))
        elif (first := _holds_pair(held, totals)) is not None:
            verdicts.append((first, 2))
        elif purity < MIXED_SHARE or whole < FRAGMENT_SHARE:
            verdicts.append((main, 0))
        else:
            verdicts.append((main, -1))
    return found, verdicts


def _holds_pair(held: np.ndarray, totals: np.ndarray) -> int | None:
    """The first of two neighbouring digits that a piece holds whole (DIGIT_SHARE of each one's ink, and
    together DIGIT_SHARE of the piece's), or None."""
    whole = held / np.maximum(totals, 1.0)
    for first in range(len(held) - 1):
        pair = held[first] + held[first + 1]
        if min(whole[first], whole[first + 1]) >= DIGIT_SHARE and pair >= DIGIT_SHARE * max(held.sum(), 1.0):
            return first
    return None


def pair_label(left: int, right: int) -> int:
    """A training label for a piece of two whole digits: PAIR_BASE + 10 left + right."""
    return PAIR_BASE + 10 * left + right


def labelled_pieces(number: Number) -> Iterator[tuple[np.ndarray, int]]:
    """(28x28 image, label) for each piece the reader would read on this pad: 0-9, NOT_ONE, or two whole
    neighbouring digits (pair_label)."""
    found, verdicts = judged_pieces(number)
    for piece, (main, verdict) in zip(found.pieces, verdicts, strict=True):
        image = normalise_ink(piece.ink) if verdict >= 0 else None
        if image is None:
            continue
        if verdict == 2:
            yield image, pair_label(int(number.text[main]), int(number.text[main + 1]))
        else:
            yield image, int(number.text[main]) if verdict else NOT_ONE


def offered(number: Number) -> bool:
    """Whether the reader's layout holds a path of pieces that are exactly this number's digits, in order:
    the search's ceiling on this pad."""
    found, verdicts = judged_pieces(number)
    reached = {0: 0}  # node -> digits matched on the way there
    for piece, (main, verdict) in sorted(zip(found.pieces, verdicts, strict=True), key=lambda p: p[0].start):
        if piece.start not in reached:
            continue
        matched = reached[piece.start]
        if piece.ink is None:
            reached.setdefault(piece.end, matched)
        elif verdict in (1, 2) and main == matched:  # one digit, or two read as a pair
            reached[piece.end] = max(reached.get(piece.end, -1), matched + verdict)
    return reached.get(found.nodes - 1) == len(number.digits)


TRAINING_COUNT = (1, 6)  # training numbers include single digits: the pad's pen on its own
TRAINING_GAP = (-0.15, 0.45)  # a little past the bands on both sides


def training_pieces(count: int, seed: int, mnist: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Labelled pieces (images float32 [N, 28, 28, 1], labels [N], 0-9, NOT_ONE or pair_label) of `count` numbers,
    half from each source (MNIST's training split for "mnist"), each with its band of gaps drawn at random."""
    rng = np.random.default_rng([seed, 1918])
    images, labels = [], []
    bands = [*BANDS.values(), TRAINING_GAP]
    for index in range(count):
        gap = bands[int(rng.integers(len(bands)))]
        number = write(rng, gap, SOURCES[index % len(SOURCES)], mnist, TRAINING_COUNT)
        for image, label in labelled_pieces(number):
            images.append(image)
            labels.append(label)
    if not images:
        return np.zeros((0, 28, 28, 1), np.float32), np.zeros(0, np.int64)
    return np.stack(images)[..., None].astype(np.float32), np.array(labels, np.int64)


def bench_numbers(mnist: tuple[np.ndarray, np.ndarray], count: int = 300) -> dict[str, list[Number]]:
    """The held-out numbers the figures are measured on ("apart, strokes" -> numbers): `count` per band and
    source, BENCH_SEED, MNIST's test split for "mnist" (bench/recognition.py, the model card)."""
    return {
        f"{band}, {source}": list(numbers(count, gap, source, BENCH_SEED, mnist))
        for band, gap in BANDS.items()
        for source in SOURCES
    }
