"""Pad pixels -> the digits written on it, or "" with a hint when there is nothing sure to say.

Two halves, because the page's model call is asynchronous (onnxruntime-web) while the CLI's is not:

    prepared = prepare(rgba)                       # pure numpy: segments, 28x28 images, early refusals
    probabilities = predict(prepared.batch)        # only when prepared.batch has rows
    reading = decide(prepared, probabilities)      # labels, text and hint

Touching digits are settled by the model within that one call: prepare puts every candidate piece of
every group (segment.candidates: the group whole, and cut in other places) into the batch, and decide
keeps per group the cuts whose pieces the model reads best (see PIECE_COST); Reading.digits lists only
the chosen pieces.

`read(rgba, predict)` does all three for synchronous callers. Nothing here raises for an RGBA array of
any size (H, W >= 0), dtype or content (NaN, infinities, transparency); only an array that is not
(H, W, 4) gets a ValueError (from preprocess.ink_from_rgba).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pyapp.config import MODEL_SIDE
from pyapp.preprocess import ink_from_rgba, normalise_ink
from pyapp.segment import MASK_THRESHOLD, Candidates, Segment, candidates, join, joinable, joined_group

# A mark whose long side is below this share of the pad's shorter side is a dot, not a digit (a
# digit drawn that small on a 280 px pad would be 11 px: too small to read reliably anyway).
MIN_SIDE = 0.04
MIN_PIXELS = 12  # fewer ink pixels than this is a click or a speck, whatever the pad size
# A mark no longer than this many pen widths is a click or a blot, whatever the brush (18..80 px on the
# page): a disc is 2 widths long, a "1" about 5 even with the widest brush. A small digit written with a
# thick pen is compact too: at 3 widths, 4.3% of MNIST test digits drawn 28-42 px tall with a thick pen
# were refused as dots; at 2.5, 0.8%.
DOT_LENGTH = 2.5
DOT_MAX_SIDE = 0.3  # ...and no longer than this share of the pad's shorter side (the widest brush is 0.15)
# Ink covering more than this share of its own box is a filled blob or a scribble: MNIST digits cover
# 42% at the median, but a thick pen fills a small digit's box: at 0.75, 4.5% of test digits drawn with a
# 16 px wider pen were refused as scribbles (0.85: none, and no more wrong answers). Open zigzag scribbles
# are caught by MAX_CROSSINGS instead.
MAX_COVERAGE = 0.85
MIN_FILL_ASPECT = 0.35  # short side / long side: below it the box is a bar (a "1"), full by nature
# A straight line across a digit meets its strokes at most 3 or 4 times (an 8: 3); a zigzag scribble meets
# them many times. Above this median count, along columns or rows, the mark is a scribble.
MAX_CROSSINGS = 5
# Wider than this times its height, a mark is a horizontal line or a dash (no digit is; a "1" is tall).
MAX_ASPECT = 4.0
# Below SURE the model may be wrong: the digit is still shown, with a hint naming the runner-up ("Probably
# a 4, but it could be a 9") and an amber box. Below MIN_CONFIDENCE it is guessing: the text is "" and the
# hint asks "is it a 4 or a 9?". Measured on the 10k MNIST test digits drawn on a pad (see the model card):
# of the digits whose top probability is in [0.4, 0.6), about 70% are right, so hiding them all (as a 0.6
# cut-off did) lost more right answers than it saved wrong ones; below 0.4 fewer than half are right.
SURE = 0.6
MIN_CONFIDENCE = 0.4
# Pads larger than this (long side, px) are averaged down by an integer factor first: the page's pad is
# about 600x300 (1200x600 on a 2x screen) and is read at about 300x150 whatever the screen. A digit needs
# far fewer pixels (the model sees 20), and in Pyodide this halves the time of a read (measured 2.2 -> 1.3 ms
# in CPython on a 605x303 pad).
MAX_WORK_SIDE = 320
# Touching digits: prepare puts every way of cutting a group that segment.candidates offers into the one
# batch, and decide keeps, per group, the path of pieces with the best score: the sum over its pieces of
# log(top probability) - PIECE_COST - ASPECT_COST * (how far the piece is wider than WIDE_PIECE heights)
# - UNSURE_COST when the model is below SURE on it, minus CUT_COST times the ink each cut goes
# through (segment.Candidates.cut_ink: touching digits meet in a thin joint, a wide digit cut in two loses
# whole strokes). So a group is cut only when the model is clearly surer of the pieces than of the whole.
# Tuned on MNIST numbers (tests/helpers.mnist_number, touching and separated) and single MNIST digits so
# that separated numbers and single digits are read at least as well as with segment.segment's rules alone.
PIECE_COST = 0.25
WIDE_PIECE = 1.0
ASPECT_COST = 4.0
CUT_COST = 3.0
UNSURE_COST = 1.0
SHORT_PIECE = 0.5
SHORT_COST = 4.0
# Stacked groups (segment.joinable: a 5 whose bar floats above it) are also read as one piece; they are
# joined when that one piece scores higher than the two groups' own best readings.

ORDINALS = ("1st", "2nd", "3rd")

Predict = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Choice:
    """The ways to cut one group of ink: pieces (i, j, row) joining cut i to cut j, read by the batch's row
    (-1: no ink there, nothing to read); a reading is a path of pieces from cut 0 to cut `cuts` - 1."""

    cuts: int
    pieces: tuple[tuple[int, int, int], ...]
    default: tuple[int, ...]  # the rule-based path (segment.segment's cuts), as cut indices
    height: int  # the group's height in the pad's pixels, for the pieces' aspect
    cut_ink: tuple[float, ...] = ()  # per cut, the ink it goes through (segment.Candidates.cut_ink)


@dataclass(frozen=True)
class Join:
    """Two neighbouring groups (indices into Prepared.choices) that may be one broken digit, read whole
    by the batch's row."""

    first: int
    second: int
    row: int


@dataclass(frozen=True)
class Prepared:
    """What prepare found: the model's input, one row per candidate piece, or a hint when there is nothing
    to read. Without choices every row is a digit; with them, decide picks which rows are the digits."""

    batch: np.ndarray  # float32 [N, 28, 28, 1], white ink on black in [0, 1]; N = 0 when hint is set
    # One per row. Boxes are in the pad's pixels; ink is at the working resolution (reduced for pads
    # larger than MAX_WORK_SIDE), since it only feeds the model.
    segments: list[Segment] = field(default_factory=list)
    hint: str = ""  # set when prepare already knows the answer is "" (empty pad, dot, scribble, line)
    choices: list[Choice] = field(default_factory=list)  # one per group of ink; [] = each row is a digit
    joins: list[Join] = field(default_factory=list)


@dataclass(frozen=True)
class Digit:
    box: tuple[int, int, int, int]  # (top, left, bottom, right) in the pad's pixels, exclusive ends
    image: np.ndarray  # float32 [28, 28]: what the model saw
    probabilities: np.ndarray  # float32 [10]
    label: int | None  # None when the model is guessing (below MIN_CONFIDENCE)
    sure: bool = True  # False below SURE: shown, with a hint
    taught: bool = False  # read as the person taught (pyapp.personal); probabilities stay the model's own


@dataclass(frozen=True)
class Reading:
    text: str  # the digits left to right; "" when empty, refused or guessing
    digits: list[Digit] = field(default_factory=list)
    # For people: why text is "" ("Draw a digit", "Not sure: is it a 4 or a 9?"), or the doubt about a
    # digit that is shown ("Probably a 9, but it could be a 4").
    hint: str = ""


def _empty_batch() -> np.ndarray:
    return np.zeros((0, MODEL_SIDE, MODEL_SIDE, 1), dtype=np.float32)


def _refused(hint: str) -> Prepared:
    return Prepared(_empty_batch(), [], hint)


def _ordinal(index: int) -> str:
    number = index + 1
    if number % 100 in (11, 12, 13) or number % 10 not in (1, 2, 3):
        return f"{number}th"
    return f"{number}{ORDINALS[number % 10 - 1][1:]}"


def _reduce(ink: np.ndarray) -> tuple[np.ndarray, int]:
    """Average a very large pad down by an integer factor; returns (ink, factor)."""
    factor = -(-max(ink.shape) // MAX_WORK_SIDE)
    if factor <= 1:
        return ink, 1
    height, width = (ink.shape[0] // factor) * factor, (ink.shape[1] // factor) * factor
    if height == 0 or width == 0:  # a thin strip: keep it whole rather than lose it
        return ink, 1
    cropped = ink[:height, :width]
    total = np.zeros((height // factor, width // factor), dtype=np.float32)
    for dy in range(factor):  # factor^2 strided slices: 3x faster than a reshape-mean on 4-D blocks
        for dx in range(factor):
            total += cropped[dy::factor, dx::factor]
    return total / np.float32(factor * factor), factor


def _thickness(mask: np.ndarray) -> float:
    """Stroke width of a mark: twice its area over its outline (w for a long stroke, d/2 for a disc)."""
    inner = mask.copy()
    inner[1:-1, 1:-1] &= mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    inner[[0, -1], :] = False
    inner[:, [0, -1]] = False
    outline = int(mask.sum() - inner.sum())
    return 2.0 * float(mask.sum()) / max(outline, 1)


def _too_small(seg: Segment, pad_side: int) -> bool:
    """A dot: tiny for the pad, a handful of pixels, or no longer than a few pen widths (a click)."""
    mask = seg.ink >= MASK_THRESHOLD
    pixels = int(mask.sum())
    long_side = max(mask.shape)
    if long_side < MIN_SIDE * pad_side or pixels < MIN_PIXELS:
        return True
    # A blot as big as a digit is a scribble (next check), not a dot.
    return long_side < DOT_MAX_SIDE * pad_side and long_side < DOT_LENGTH * _thickness(mask)


def _median_crossings(mask: np.ndarray, axis: int) -> float:
    """Median, over the lines along `axis` that meet ink, of how many separate strokes each line crosses."""
    starts = (np.diff(mask.astype(np.int8), axis=axis, prepend=0) == 1).sum(axis=axis)
    crossed = starts[starts > 0]
    return float(np.median(crossed)) if crossed.size else 0.0


def _problem(seg: Segment) -> str:
    """Why a (big enough) mark is not a digit, or "" when it may be one."""
    height, width = seg.ink.shape
    if _flat(seg):
        return "a line"
    mask = seg.ink >= MASK_THRESHOLD
    # A filled box is a scribble, but a bar is not (a "1" drawn straight down fills its own thin box).
    fat = min(height, width) >= MIN_FILL_ASPECT * max(height, width) and min(height, width) > 2
    if fat and float(mask.mean()) > MAX_COVERAGE:
        return "a scribble"
    if max(_median_crossings(mask, 0), _median_crossings(mask, 1)) > MAX_CROSSINGS:
        return "a scribble"
    return ""


def _flat(seg: Segment) -> bool:
    height, width = seg.ink.shape
    return width > MAX_ASPECT * height


def _join_bars(groups: list[Candidates]) -> list[Candidates]:
    """A bar too flat to be a digit, stacked on its neighbour, is part of it: a 5 whose bar was drawn apart."""
    joined: list[Candidates] = []
    for group in groups:
        previous = joined[-1] if joined else None
        flat = previous is not None and any(_flat(s) for g in (previous, group) for s in g.default_segments())
        if previous is not None and flat and joinable(previous, group):
            joined[-1] = joined_group([previous, group])
        else:
            joined.append(group)
    return joined


def _screen(segments: list[Segment], pad_side: int) -> tuple[list[Segment], str]:
    """Drop dots next to real digits; return (segments, hint), hint set when nothing can be read."""
    if not segments:
        return [], "Draw a digit"
    kept = [s for s in segments if not _too_small(s, pad_side)]
    if not kept:
        return [], "Too small to read: draw a bigger digit"
    problems = [_problem(s) for s in kept]
    if len(kept) == 1 and problems[0]:
        return [], f"That looks like {problems[0]}, not a digit"
    named = [f"the {_ordinal(i)} mark looks like {p}" for i, p in enumerate(problems) if p]
    if named:
        return [], "Not a number: " + ", ".join(named)
    return kept, ""


def _scaled(seg: Segment, factor: int) -> Segment:
    return seg if factor == 1 else Segment(tuple(v * factor for v in seg.box), seg.ink)


def _reading_order(seg: Segment) -> tuple[int, int]:
    return seg.box[1] + seg.box[3], seg.box[0]  # as segment.segment sorts


def prepare(rgba: np.ndarray) -> Prepared:
    """RGBA pad (H, W, 4), any dtype -> candidate pieces and the model's batch; a hint instead when unreadable."""
    pixels = np.asarray(rgba)
    if pixels.ndim != 3 or pixels.shape[2] != 4:
        raise ValueError(f"expected an RGBA array of shape (H, W, 4), got {pixels.shape}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        return _refused("Draw a digit")
    ink = ink_from_rgba(_as_numbers(pixels))
    work, factor = _reduce(ink)
    groups = _join_bars(candidates(work))
    # Dots, lines and scribbles are judged on the rule-based reading, as segment.segment cuts it.
    owned = sorted(
        ((s, g) for g, group in enumerate(groups) for s in group.default_segments()), key=lambda p: _reading_order(p[0])
    )
    kept, hint = _screen([s for s, _ in owned], min(work.shape))
    if hint:
        return _refused(hint)
    kept_ids = {id(s) for s in kept}
    segments: list[Segment] = []
    images: list[np.ndarray] = []
    choices: list[Choice] = []
    chosen = sorted({g for s, g in owned if id(s) in kept_ids})
    for g in chosen:
        group = groups[g]
        pieces = []
        for (i, j), seg in zip(group.pieces, group.segments, strict=True):
            image = None if seg is None else normalise_ink(seg.ink)
            if image is not None:
                segments.append(_scaled(seg, factor))
                images.append(image)
            pieces.append((i, j, len(images) - 1 if image is not None else -1))
        choices.append(
            Choice(len(group.cuts), tuple(pieces), group.default, (group.box[2] - group.box[0]) * factor, group.cut_ink)
        )
    joins = []
    for index, (g, h) in enumerate(zip(chosen[:-1], chosen[1:], strict=True)):
        joined = join([groups[g], groups[h]]) if joinable(groups[g], groups[h]) else None
        image = None if joined is None else normalise_ink(joined.ink)
        if image is not None:
            segments.append(_scaled(joined, factor))
            images.append(image)
            joins.append(Join(index, index + 1, len(images) - 1))
    if not images:
        return _refused("Draw a digit")
    batch = np.stack(images)[..., None].astype(np.float32)
    return Prepared(batch, segments, "", choices, joins)


def _as_numbers(pixels: np.ndarray) -> np.ndarray:
    """Any dtype -> one ink_from_rgba reads: uint8 stays 0..255, other integers are taken as 0..255 too,
    floats as 0..1; booleans as 0/1; complex numbers by their real part."""
    if pixels.dtype == np.uint8:
        return pixels
    if np.iscomplexobj(pixels):
        pixels = pixels.real
    if pixels.dtype.kind in "iu":
        return np.clip(pixels, 0, 255).astype(np.uint8)
    if pixels.dtype.kind == "b":
        return pixels.astype(np.float32)
    try:
        # Clip before the cast: float64 beyond float32's range would overflow (NaN passes through).
        return np.clip(pixels.astype(np.float64), -1.0, 2.0).astype(np.float32)
    except (TypeError, ValueError) as error:
        raise ValueError(f"expected numeric RGBA pixels, got dtype {pixels.dtype}") from error


def _runner_up(digit: Digit) -> tuple[str, str]:
    """The two likeliest digits with their article: ("an 8", "a 3")."""
    first, second = (int(k) for k in np.argsort(-digit.probabilities, kind="stable")[:2])
    return _with_article(first), _with_article(second)


def _with_article(digit: int) -> str:
    return f"an {digit}" if digit == 8 else f"a {digit}"


def _hint(digits: list[Digit]) -> str:
    """What to tell people about the doubtful digits: a question when one is a guess, else a caveat; else
    which digits were read as the person taught ("7, as you taught")."""
    doubtful = [(i, d) for i, d in enumerate(digits) if d.label is None]
    guessing = bool(doubtful)
    doubtful = doubtful or [(i, d) for i, d in enumerate(digits) if not d.sure]
    if not doubtful:
        return _taught_hint(digits)
    index, digit = doubtful[0]
    first, second = _runner_up(digit)
    more = f" (and {len(doubtful) - 1} more)" if len(doubtful) > 1 else ""
    if guessing:
        question = f"is it {first} or {second}?"
        if len(digits) == 1:
            return f"Not sure: {question}"
        return f"Not sure about the {_ordinal(index)} digit: {question}{more}"
    if len(digits) == 1:
        return f"Probably {first}, but it could be {second}"
    return f"The {_ordinal(index)} digit is probably {first}, but it could be {second}{more}"


def _taught_hint(digits: list[Digit]) -> str:
    taught = [(i, d) for i, d in enumerate(digits) if d.taught]
    if not taught:
        return ""
    if len(digits) == 1:
        return f"{digits[0].label}, as you taught"
    named = ", ".join(f"the {_ordinal(i)} ({d.label})" for i, d in taught)
    return f"Read as you taught: {named}"


def _piece_score(score: float, width: float, height: float) -> float:
    """A piece's part of a reading's score (see PIECE_COST): the model's confidence, less the costs."""
    return score - PIECE_COST - ASPECT_COST * max(0.0, width / max(height, 1.0) - WIDE_PIECE)


def _best_path(choice: Choice, scores: np.ndarray, widths: np.ndarray, heights: np.ndarray) -> tuple[list[int], float]:
    """The rows of the best-scoring path of pieces through one group (see PIECE_COST), and its score."""
    best = np.full(choice.cuts, -np.inf)
    best[0] = 0.0
    back: list[tuple[int, int] | None] = [None] * choice.cuts
    for i, j, row in sorted(choice.pieces, key=lambda p: p[1]):  # pieces end further right than they start
        if best[i] == -np.inf:
            continue
        score = best[i]
        if row >= 0:
            score += _piece_score(scores[row], widths[row], choice.height)
            score -= SHORT_COST * (heights[row] < SHORT_PIECE * choice.height)
        if i > 0 and choice.cut_ink:
            score -= CUT_COST * choice.cut_ink[i]
        if score > best[j]:
            best[j], back[j] = score, (i, row)
    rows, node = [], choice.cuts - 1
    while node > 0 and back[node] is not None:
        node, row = back[node]
        if row >= 0:
            rows.append(row)
    return rows[::-1], float(best[-1])


def _chosen_rows(prepared: Prepared, probs: np.ndarray) -> list[int]:
    """The batch rows that are digits, in reading order."""
    count = probs.shape[0]
    if not prepared.choices:
        return list(range(count))
    top = probs.max(axis=1)
    scores = np.log(np.maximum(top, 1e-6)) - UNSURE_COST * (top < SURE)
    boxes = np.array([s.box for s in prepared.segments], dtype=np.float64).reshape(-1, 4)
    widths, heights = boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0]
    paths = [_best_path(choice, scores, widths, heights) for choice in prepared.choices]
    picked = [rows for rows, _ in paths]
    joined_groups: set[int] = set()
    # A broken digit: read two stacked groups as one piece when that beats reading each on its own.
    gains = [
        (_piece_score(scores[j.row], widths[j.row], heights[j.row]) - paths[j.first][1] - paths[j.second][1], j)
        for j in prepared.joins
    ]
    for gain, joined in sorted(gains, key=lambda pair: -pair[0]):
        if gain > 0 and not joined_groups & {joined.first, joined.second}:
            picked[joined.first], picked[joined.second] = [joined.row], []
            joined_groups |= {joined.first, joined.second}
    rows = [row for chosen in picked for row in chosen]
    return sorted(rows, key=lambda row: _reading_order(prepared.segments[row]))


def _as_taught(probs: np.ndarray, taught: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(the probabilities decide reads by, which rows were taught): a row the person taught is certain of
    its taught label (so the cuts and joins count it as a sure piece); the other rows are the model's own."""
    if taught is None:
        return probs, np.zeros(probs.shape[0], bool)
    labels = np.asarray(taught).reshape(-1)
    if labels.shape != (probs.shape[0],) or labels.dtype.kind not in "iu" or (labels > 9).any():
        raise ValueError(f"expected {probs.shape[0]} taught labels (-1 or 0-9), got {labels!r}")
    rows = labels >= 0
    effective = probs.copy()
    effective[rows] = 0.0
    effective[rows, labels[rows]] = 1.0
    return effective, rows


def decide(prepared: Prepared, probabilities: np.ndarray | None, taught: np.ndarray | None = None) -> Reading:
    """Model output [N, 10] for prepared.batch -> Reading; probabilities may be None when N = 0.

    `taught` (pyapp.personal.Examples.taught): per row, the label the person's examples give it, -1 where
    the model reads alone; None (no examples) reads exactly as without it. Taught digits keep the model's
    probabilities in Digit.probabilities, for the bars."""
    if prepared.hint or prepared.batch.shape[0] == 0:
        return Reading("", [], prepared.hint or "Draw a digit")
    count = prepared.batch.shape[0]
    probs = np.asarray(probabilities, dtype=np.float32).reshape(count, -1)
    if probs.shape[1] != 10:
        raise ValueError(f"expected probabilities of shape ({count}, 10), got {probs.shape}")
    probs = np.nan_to_num(probs, nan=0.0, posinf=0.0, neginf=0.0)  # a broken row reads as a guess
    effective, taught_rows = _as_taught(probs, taught)
    digits = []
    for row in _chosen_rows(prepared, effective):
        best = int(effective[row].argmax())
        top = float(effective[row, best])
        label = best if top >= MIN_CONFIDENCE else None
        box, image = prepared.segments[row].box, prepared.batch[row, ..., 0]
        digits.append(Digit(box, image, probs[row], label, top >= SURE, bool(taught_rows[row])))
    hint = _hint(digits)
    guessing = any(d.label is None for d in digits)
    text = "" if guessing else "".join(str(d.label) for d in digits)
    return Reading(text, digits, hint)


def read(rgba: np.ndarray, predict: Predict) -> Reading:
    """prepare -> predict -> decide, for synchronous callers (the CLI, tests)."""
    prepared = prepare(rgba)
    if prepared.batch.shape[0] == 0:
        return decide(prepared, None)
    return decide(prepared, predict(prepared.batch))
