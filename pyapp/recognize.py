"""Pad pixels -> the digits written on it, or "" with a hint when there is nothing sure to say.

Two halves, because the page's model call is asynchronous (onnxruntime-web) while the CLI's is not:

    prepared = prepare(rgba)                       # pure numpy: candidate pieces and their 28x28 images
    probabilities = predict(prepared.batch)        # one call, only when prepared.batch has rows
    reading = decide(prepared, probabilities)      # the best reading, its refusals, text and hint

Recognition is one scored search. pyapp.segment lays out every candidate piece of the pad (each group of
ink whole, spans between cuts where digits may touch, neighbouring groups joined where they may be one
broken digit) on a line of nodes; a reading is a path of pieces from the first node to the last. Each piece
scores the model's log-probability of its top digit (the model has an eleventh class, NOT_ONE, for pieces
that are not one digit, so a blob of two digits or a fragment scores low); `decide` keeps the path with
the highest sum among the readings with the fewest marks that are no digit (a line, a scribble): so a 7
that reads well whole is never refused because cutting off its bar gives a line. Only then are refusals
judged, on the pieces of that path: a line or a scribble there makes the text "". A group that is a dot
is passed over.

`read(rgba, predict)` does all three for synchronous callers. Nothing here raises for an RGBA array of
any size (H, W >= 0), dtype or content (NaN, infinities, transparency); only an array that is not
(H, W, 4) gets a ValueError (from preprocess.ink_from_rgba).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pyapp.config import CLASSES, DIGITS, MODEL_SIDE, NOT_ONE, OUTPUT_WIDTH, PAIR_LEFT, PAIR_RIGHT, TWO
from pyapp.preprocess import ink_from_rgba, normalise_ink
from pyapp.segment import DIGIT_ASPECT, LINE_ASPECT, MASK_THRESHOLD, SMALL_SIDE, layout, thickness

# The model's answer on a piece: below SURE it may be wrong (the digit is still shown, with a hint naming
# the runner-up, "Probably a 4, but it could be a 9", and an amber box); below MIN_CONFIDENCE it is
# guessing (the text is "" and the hint asks "is it a 4 or a 9?"). Measured on the 10k MNIST test digits
# drawn on a pad (see the model card): of the digits whose top probability is in [0.4, 0.6), about 70% are
# right, so hiding them all (as a 0.6 cut-off did) lost more right answers than it saved wrong ones; below
# 0.4 fewer than half are right.
SURE = 0.6
MIN_CONFIDENCE = 0.4
# The search scores each piece by the model alone: its log-probability of being one digit, and that digit
# (the model's NOT_ONE class takes the rest: two digits or parts of them, a fragment, a neighbour's stroke
# through its box; trained on the very pieces pyapp.segment offers, training/numbers.py). The five priors
# that stood in for that judgement before (a cost per piece, for a wide or short piece, for ink a cut goes
# through, for an unsure piece) are gone: bench/recognition.py's figures before and after are in
# docs/benchmarks.md.
# A mark no longer than this many pen widths is a click or a blot, whatever the brush (18..80 px on the
# page): a disc is 2 widths long, a "1" about 5 even with the widest brush. A small digit written with a
# thick pen is compact too: at 3 widths, 4.3% of MNIST test digits drawn 28-42 px tall with a thick pen
# were refused as dots; at 2.5, 0.8%.
# It must also be shorter than segment.SMALL_SIDE of the pad's shorter side, as a fragment is of a digit's
# height (the widest brush is 0.15; a tuned 0.3 before bench/recognition.py: no reading changed).
DOT_LENGTH = 2.5
# Ink covering more than this share of its own box is a filled blob or a scribble: MNIST digits cover
# 42% at the median, but a thick pen fills a small digit's box: at 0.75, 4.5% of test digits drawn with a
# 16 px wider pen were refused as scribbles (0.85: none, and no more wrong answers). Open zigzag scribbles
# are caught by MAX_CROSSINGS instead.
MAX_COVERAGE = 0.85
# A straight line across a digit meets its strokes at most 3 or 4 times (an 8: 3); a zigzag scribble meets
# them many times. Above this median count, along columns or rows, the mark is a scribble.
MAX_CROSSINGS = 5
# A bound on the work, not tuned: pads larger than this (long side, px) are averaged down by an integer
# factor first. The page's pad is about 600x300 (1200x600 on a 2x screen) and is read at about 300x150
# whatever the screen; a digit needs far fewer pixels (the model sees 20), and in Pyodide this halves the
# time of a read (measured 2.2 -> 1.3 ms in CPython on a 605x303 pad).
MAX_WORK_SIDE = 320

ORDINALS = ("1st", "2nd", "3rd")

Predict = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Option:
    """One candidate piece as the search sees it: an edge from node `start` to node `end`, read by the
    batch's `row` (-1: nothing to read, a dot passed over or a span without ink)."""

    start: int
    end: int
    row: int
    box: tuple[int, int, int, int]  # in the pad's pixels
    problem: str = ""  # "a line", "a scribble", "a dot" when the piece looks like one; "" when it may be a digit
    whole: bool = True  # a group of strokes whole, not a span cut out of one or groups joined
    joined: bool = False  # groups joined: never read as a pair (see decide)


@dataclass(frozen=True)
class Prepared:
    """What prepare found: the model's input, one row per piece that may be a digit, and the search's
    graph; or a hint when there is nothing to read."""

    batch: np.ndarray  # float32 [N, 28, 28, 1], white ink on black in [0, 1]
    # Boxes are in the pad's pixels; the crops behind the batch are at the working resolution (reduced for
    # pads larger than MAX_WORK_SIDE), since they only feed the model.
    options: list[Option] = field(default_factory=list)
    nodes: int = 1  # a reading is a path of options from node 0 to node nodes - 1
    hint: str = ""  # set when prepare already knows the answer is "" (an empty pad, only dots)


@dataclass(frozen=True)
class Digit:
    box: tuple[int, int, int, int]  # (top, left, bottom, right) in the pad's pixels, exclusive ends
    image: np.ndarray  # float32 [28, 28]: what the model saw
    probabilities: np.ndarray  # float32 [10]
    label: int | None  # None when the model is guessing (below MIN_CONFIDENCE)
    sure: bool = True  # False below SURE: shown, with a hint
    taught: bool = False  # read as the person taught (pyapp.personal); probabilities stay the model's own
    row: int = -1  # the row of prepared.batch it was read from (its embedding's row, for teaching)
    # Read with its neighbour as one piece of two touching digits (the model's TWO class): image and row are
    # the pair's, the box is its half of the pair's, probabilities are its pair softmax's.
    paired: bool = False


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
    return Prepared(_empty_batch(), hint=hint)


def _ordinal(index: int) -> str:
    number = index + 1
    if number % 100 in (11, 12, 13) or number % 10 not in (1, 2, 3):
        return f"{number}th"
    return f"{number}{ORDINALS[number % 10 - 1][1:]}"


def reduce_pad(ink: np.ndarray) -> tuple[np.ndarray, int]:
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


def _median_crossings(mask: np.ndarray, axis: int) -> float:
    """Median, over the lines along `axis` that meet ink, of how many separate strokes each line crosses."""
    lines = mask if axis == 0 else mask.T
    starts = lines[0] + (lines[1:] & ~lines[:-1]).sum(axis=0)  # a stroke starts where ink follows paper
    crossed = np.sort(starts[starts > 0])  # np.median costs more than the rest of the check on small crops
    if crossed.size == 0:
        return 0.0
    return (float(crossed[(crossed.size - 1) // 2]) + float(crossed[crossed.size // 2])) / 2


def _filled(mask: np.ndarray) -> bool:
    """Whether a mark fills its box. A bar does not count (a "1" drawn straight down fills its own thin box):
    a box whose short side is under half a typical digit's width (segment.DIGIT_ASPECT, in heights) is a bar."""
    short, long = sorted(mask.shape)
    return short >= DIGIT_ASPECT / 2 * long and short > 2 and float(mask.mean()) > MAX_COVERAGE


def problem(ink: np.ndarray, pad_side: int) -> str:
    """Why a piece is not a digit ("a dot", "a line", "a scribble"), or "" when it may be one."""
    height, width = ink.shape
    mask = ink >= MASK_THRESHOLD
    long_side = max(height, width)
    # A blot as big as a digit is a scribble (below), not a dot.
    if long_side < SMALL_SIDE * pad_side and long_side < DOT_LENGTH * thickness(mask):
        return "a dot"
    if width > LINE_ASPECT * height:
        return "a line"
    if _filled(mask):
        return "a scribble"
    if max(_median_crossings(mask, 0), _median_crossings(mask, 1)) > MAX_CROSSINGS:
        return "a scribble"
    return ""


def _scaled(box: tuple[int, int, int, int], factor: int) -> tuple[int, int, int, int]:
    return box if factor == 1 else tuple(v * factor for v in box)


def prepare(rgba: np.ndarray) -> Prepared:
    """RGBA pad (H, W, 4), any dtype -> candidate pieces and the model's batch; a hint instead when unreadable."""
    pixels = np.asarray(rgba)
    if pixels.ndim != 3 or pixels.shape[2] != 4:
        raise ValueError(f"expected an RGBA array of shape (H, W, 4), got {pixels.shape}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        return _refused("Draw a digit")
    work, factor = reduce_pad(ink_from_rgba(_as_numbers(pixels)))
    found = layout(work)
    pad_side = min(work.shape)
    options: list[Option] = []
    images: list[np.ndarray] = []
    # A slice of a filled blob is a bar, which reads as a thick 1: it is part of the scribble. (Ten slices of
    # a filled square were read by the model; only the fewest-marks rule kept them out of the reading, and
    # with five cuts per digit's width it read "11111111".)
    filled = [(p.start, p.end) for p in found.pieces if p.kind == "whole" and _filled(p.ink >= MASK_THRESHOLD)]
    for piece in found.pieces:
        box = _scaled(piece.box, factor)
        if piece.ink is None:  # a span with no ink of its own: crossing it reads nothing
            options.append(Option(piece.start, piece.end, -1, box))
            continue
        mark = problem(piece.ink, pad_side)
        if not mark and piece.kind == "span" and any(s <= piece.start and piece.end <= e for s, e in filled):
            mark = "a scribble"
        if mark == "a dot" and piece.kind == "whole":  # a click or a speck on its own: passed over
            options.append(Option(piece.start, piece.end, -1, box))
            continue
        row = -1
        if not mark:  # a piece that is no digit needs no reading: the search avoids it wherever it can
            row = len(images)
            images.append(normalise_ink(piece.ink))
        options.append(Option(piece.start, piece.end, row, box, mark, piece.kind == "whole", piece.kind == "join"))
    if not options:
        return _refused("Draw a digit")
    batch = np.stack(images)[..., None].astype(np.float32) if images else _empty_batch()
    return Prepared(batch, options, found.nodes)


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


def _as_taught(probs: np.ndarray, taught: np.ndarray | None, whole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the probabilities decide reads by, which rows were taught): a row the person taught is certain of
    its taught label. A group of strokes whole is certain outright (the person drew it so: a "V" the model
    takes for no digit at all); a piece cut out of a group, or groups joined, keeps the model's belief that
    it is one digit (the ten's sum): certain outright, fragments cut off MNIST digits that looked like a
    taught "V" read "77" for a 4 (8 of 1,000 MNIST digits changed by 50 foreign examples,
    tests/test_personal.py). The other rows are the model's own."""
    if taught is None:
        return probs, np.zeros(probs.shape[0], bool)
    labels = np.asarray(taught).reshape(-1)
    if labels.shape != (probs.shape[0],) or labels.dtype.kind not in "iu" or (labels > 9).any():
        raise ValueError(f"expected {probs.shape[0]} taught labels (-1 or 0-9), got {labels!r}")
    rows = labels >= 0
    effective = probs.copy()
    effective[rows] = 0.0
    effective[rows, labels[rows]] = np.where(whole[rows], 1.0, probs[rows].sum(axis=1))
    return effective, rows


def _best_path(prepared: Prepared, scores: np.ndarray, pair_scores: np.ndarray) -> list[tuple[Option, bool]]:
    """The best path from node 0 to the last node, as (option, read as two digits): the fewest marks that are
    no digit (a line, a scribble), then the highest sum of scores (per row: the model's log-probability of
    the piece's top digit, or of it being two digits and its two top digits, whichever is higher)."""
    unreachable = (-np.inf, -np.inf)
    best = [unreachable] * prepared.nodes  # (minus the marks that are no digit, the sum of the scores)
    best[0] = (0.0, 0.0)
    back: list[tuple[Option, bool] | None] = [None] * prepared.nodes
    for option in sorted(prepared.options, key=lambda o: o.start):  # every option ends right of its start
        marks, total = best[option.start]
        if marks == -np.inf:
            continue
        as_pair = option.row >= 0 and pair_scores[option.row] > scores[option.row]
        gain = 0.0 if option.row < 0 else pair_scores[option.row] if as_pair else scores[option.row]
        score = (marks - bool(option.problem), total + gain)
        if score > best[option.end]:
            best[option.end], back[option.end] = score, (option, bool(as_pair))
    path, node = [], prepared.nodes - 1
    while node > 0 and back[node] is not None:
        path.append(back[node])
        node = back[node][0].start
    return path[::-1]


def _pair_scores(probs: np.ndarray) -> np.ndarray:
    """Per row, log P(two digits) + the log top probability of each of its two digits; -inf for a model
    without the pair outputs (older files, tests' stand-ins)."""
    if probs.shape[1] != OUTPUT_WIDTH:
        return np.full(probs.shape[0], -np.inf)
    left = probs[:, PAIR_LEFT:PAIR_RIGHT].max(axis=1)
    right = probs[:, PAIR_RIGHT:].max(axis=1)
    return np.log(np.maximum(probs[:, TWO] * left * right, 1e-12))


def _cut_costs(prepared: Prepared, raw: np.ndarray) -> np.ndarray:
    """Per row, the log of the model's belief that the group a span is cut from is not one digit, on the
    first span of each group (every path that cuts a group takes exactly one of those); 0 elsewhere, and
    for a model of the ten digits alone (tests' stand-ins), which cannot say so."""
    costs = np.zeros(raw.shape[0])
    if raw.shape[1] == DIGITS:
        return costs
    wholes = [o for o in prepared.options if o.whole and not o.joined]
    for option in prepared.options:
        if option.row < 0 or option.whole or option.joined:
            continue
        group = next((g for g in wholes if g.start == option.start and g.end > option.end), None)
        if group is not None and group.row >= 0:
            costs[option.row] = np.log(max(1.0 - float(raw[group.row, :DIGITS].sum()), 1e-6))
    return costs


def _halves(box: tuple[int, int, int, int]) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    top, left, bottom, right = box
    middle = (left + right) // 2
    return (top, left, bottom, middle), (top, middle, bottom, right)


def _refusal(marks: list[Option]) -> str:
    """The hint when the best reading holds marks that are not digits; "" when it holds none."""
    if not marks:
        return "Too small to read: draw a bigger digit"
    named = [(i, m.problem) for i, m in enumerate(marks) if m.problem]
    if not named:
        return ""
    if len(marks) == 1:
        return f"That looks like {named[0][1]}, not a digit"
    return "Not a number: " + ", ".join(f"the {_ordinal(i)} mark looks like {p}" for i, p in named)


def decide(prepared: Prepared, probabilities: np.ndarray | None, taught: np.ndarray | None = None) -> Reading:
    """Model output for prepared.batch -> Reading; probabilities may be None when N = 0. The output is the
    model's [N, OUTPUT_WIDTH] (its class softmax, then a pair's left and right digit), or only its first
    10, 11 or 12 columns (older models, tests' stand-ins: no pairs).

    `taught` (pyapp.personal.Examples.taught): per row, the label the person's examples give it, -1 where
    the model reads alone; None (no examples) reads exactly as without it. Taught digits keep the model's
    probabilities in Digit.probabilities, for the bars."""
    if prepared.hint:
        return Reading("", [], prepared.hint)
    count = prepared.batch.shape[0]
    probs = np.zeros((0, DIGITS), np.float32)
    if count:
        probs = np.asarray(probabilities, dtype=np.float32).reshape(count, -1)
    if probs.shape[1] not in (DIGITS, NOT_ONE + 1, CLASSES, OUTPUT_WIDTH):  # older models still read
        raise ValueError(f"expected probabilities of shape ({count}, {OUTPUT_WIDTH}), got {probs.shape}")
    raw = np.nan_to_num(probs, nan=0.0, posinf=0.0, neginf=0.0)  # a broken row reads as a guess
    pair_scores = _pair_scores(raw)
    # Digits that do not touch are groups of their own, each read whole at the model's full size; the same
    # two read as a pair (about 13 px tall each) misread more: close MNIST numbers 93.00% with pairs of
    # joined groups, 97.00% without (bench/recognition.py; the other rows within a point).
    pair_scores[[o.row for o in prepared.options if o.joined and o.row >= 0]] = -np.inf
    # The ten digits' probabilities; what they leave is the model's belief that the piece is not one digit.
    probs = raw[:, :DIGITS]
    whole = np.zeros(count, bool)
    whole[[o.row for o in prepared.options if o.row >= 0 and o.whole]] = True
    effective, taught_rows = _as_taught(probs, taught, whole)
    pair_scores[taught_rows] = -np.inf  # taught as one digit (a pair's mark taught whole, pyapp/web.py)
    top = effective.max(axis=1, initial=0.0)
    scores = np.log(np.maximum(top, 1e-6))
    scores = scores + _cut_costs(prepared, raw)
    path = [(o, pair) for o, pair in _best_path(prepared, scores, pair_scores) if o.row >= 0 or o.problem]
    marks = [o for o, _ in path]  # not the dots passed over
    refusal = _refusal(marks)
    if refusal:
        return Reading("", [], refusal)
    # Which digit each chosen piece is, given that it is one digit (the search has judged that): the ten
    # digits' probabilities scaled to sum to 1, for the label, the doubt and the bars alike. On the raw ten,
    # a piece the model half-doubted was one digit fell under MIN_CONFIDENCE and emptied the reading: close
    # people's numbers 95.0% / 93.67% (strokes / MNIST) -> 96.33% / 94.67%, touching MNIST numbers 89.25% ->
    # 90.50%, separated 97.0% -> 97.33%.
    given_one = effective / np.maximum(effective.sum(axis=1, keepdims=True), 1e-6)
    shown = probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-6)
    digits = []
    for option, pair in path:
        image = prepared.batch[option.row, ..., 0]
        if pair:  # each of the two by its own softmax (it sums to 1: the pair is judged two digits)
            heads = (raw[option.row, PAIR_LEFT:PAIR_RIGHT], raw[option.row, PAIR_RIGHT:])
            for box, own in zip(_halves(option.box), heads, strict=True):
                best, top = int(own.argmax()), float(own.max())
                label = best if top >= MIN_CONFIDENCE else None
                digits.append(Digit(box, image, own, label, top >= SURE, False, option.row, paired=True))
            continue
        best = int(given_one[option.row].argmax())
        top = float(given_one[option.row, best])
        label = best if top >= MIN_CONFIDENCE else None
        taught_row = bool(taught_rows[option.row])
        digits.append(Digit(option.box, image, shown[option.row], label, top >= SURE, taught_row, option.row))
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
