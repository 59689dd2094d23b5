"""Ink of a whole pad -> the candidate pieces a reading may be made of, for pyapp.recognize to choose among.

Pure numpy (runs unchanged in Pyodide, no scipy). ink -> mask -> 8-connected components (run-length
union-find) -> groups: strokes (components) whose columns overlap strongly once the writing's slant is
taken out (`writing_slant`) are one digit's (the bar of a 5, the stem of an open 4, a stroke the pen
broke), specks near a group join it and far ones are noise; groups are put in reading order along the
slant -> candidate pieces, laid out on one line of nodes from left to right:

- each group whole, from its left edge node to its right edge node;
- for a group that may hold touching digits, its spans between straight cuts that lean as the writing
  does (or a little more or less, whichever crosses least ink; one cut generator, `_cuts`): digits that do
  not touch are never cut, since a cut only ever goes through one group;
- neighbouring groups read as one piece when they are close (`_joinable`: a 5 whose bar floats above
  it, a 4 whose stem is a stroke of its own, a stroke the pen skipped), from the first one's left edge to
  the last one's right edge.

A reading is a path of pieces from node 0 to the last node; recognize scores every path with the model
(whose NOT_ONE class says a piece is not one digit) and keeps the best. Nothing here decides which
reading is right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyapp.preprocess import mask_box

# Tuned constants: each says what set it. "touching" and "separated" are the share of MNIST numbers read
# exactly (tests/helpers.mnist_number_pads: 400 touching, seed 11; 300 with gaps, seed 1); "10k" is the
# app's answer on the 10k MNIST test digits painted on a pad (training/evaluate.py); "narrow pen" is the
# model card's "pen 12 px narrower" row (1,000 digits), where strokes break into many fragments; "people's
# numbers" are bench/recognition.py's rows of training/numbers.py's numbers. Figures before the search
# was scored by the model alone (issue 18) are marked "with the priors".

# Ink at or above this is a pixel of a stroke. Higher than preprocess.INK_THRESHOLD so that paper grain
# and the faint halo of anti-aliasing do not bridge neighbouring digits; the halo is kept in the crops.
# At 0.1 (preprocess.INK_THRESHOLD's), with the priors: touching 69.25% (77.75%), bridged digits read as one.
MASK_THRESHOLD = 0.25
# A component is a fragment (a speck, or a piece of a broken stroke) when its long side is below SMALL_SIDE
# of the typical digit height. (A second rule, under 5% of the largest component's pixels, went with the
# priors: with the model judging joins, dropping it changed none of 900 people's numbers, separated 97.33%
# either way, touching 90.50% -> 90.25%, one number of 400.) SMALL_SIDE is also how small a dot
# is, as a share of the pad's side (recognize.problem); at 0.1 (MIN_PIECE's, for fragments only), with the
# priors: 10k 99.64% (99.65%), narrow pen 97.1% (97.2%), and a click of the widest brush (0.15 of the pad)
# would read as a mark.
SMALL_SIDE = 0.2
# Two strokes are one digit's when their columns, with the writing's slant taken out, share at least this
# share of the narrower one's (the bar of a 5, a 4's stem, the pieces of a stroke a narrow pen broke); digits
# side by side share few deslanted columns even when they lean. With each stroke its own group instead
# (close strokes only offered joined, for the model to judge): narrow pen 97.0% -> 94.6% (500 digits),
# touching 90.75% -> 90.25%; the first 2,000 of the 10k and 900 people's numbers unchanged. (0.5 before the
# slant was taken out, with the priors.)
OVERLAP = 0.5
# How far a broken stroke's parts lie apart, in heights: a fragment within NEAR of a group (box gap) is part
# of it, farther away it is noise; groups at most NEAR apart in (deslanted) columns are offered as one piece
# too. The same fifth of a digit's height as SMALL_SIDE: a pen that skips leaves gaps about as long as the
# pieces it leaves. Measured on its own with the priors: at 0.15, a 7 and a 9 of the 10k whose stroke broke
# 0.16-0.17 heights away read "71" and "91"; at 0.25, a speck 0.21 heights from a 3 joins it
# (tests/test_segment.py); at 0.2, narrow pen 97.1% -> 97.2%.
NEAR = SMALL_SIDE
# Widths, in heights. A typical digit is DIGIT_ASPECT wide (MNIST's average is about 0.7): the cut
# generator expects touching digits to meet that far apart; a span is a candidate up to two typical digits
# wide (MAX_SPAN). Beyond LINE_ASPECT a mark is a line or a dash (recognize.problem) and is not cut, unless
# it is three stroke widths tall or more: then it is a blob of five or six touching digits (uncut, touching
# MNIST numbers offered a right path 254 of 300, cut 263; such blobs in bench/recognition.py's touching
# numbers are 3.5 stroke widths tall or more, a dash one or two).
DIGIT_ASPECT = 0.75
MAX_SPAN = 2 * DIGIT_ASPECT
LINE_ASPECT = 4.0
# Cuts are never closer than this (times the height): with the priors, touching 77.75% at 0.1, 72.5% at
# 0.2 (narrow 1s).
MIN_PIECE = 0.1
# Cuts lean as the writing does, or LEAN_STEP more or less: whichever crosses least ink (a stroke of a
# leaning 7 or 4 leans more than the hand). A group as narrow as one digit may still be two narrow ones
# that touch ("10", "11"): it is cut only at a joint, where a cut crosses at most JOINT stroke widths.
LEAN_STEP = 0.2
JOINT = 1.5
# Bounds on the work: at most MAX_CUTS cuts per group (four per typical digit's width, see `_cuts`),
# MAX_JOIN groups in one joined piece (a 3 whose pen skipped twice; pairs only, with the priors: narrow
# pen 96.3%), MAX_PIECES pieces per pad (each is a row of the model's one batch; over budget, a group
# loses its least likely cuts), MAX_DIGITS groups. 24 cuts and 160 pieces (16 and 120 before) let a blob
# of five or six touching digits keep four cuts per digit: touching numbers offered a right path 240 ->
# 242 of 300 pen-drawn, 249 -> 254 of 300 MNIST; rows per read there 65 -> 68 and 69 -> 77 on average.
MAX_CUTS = 24
MAX_JOIN = 3
# A bound, not tuned: how far a hand leans, x shift per unit of height (people write about -0.1..0.45).
MAX_SLANT = 0.6
MAX_PIECES = 160
MAX_DIGITS = 40


@dataclass(frozen=True)
class Piece:
    """One candidate digit: its box (top, left, bottom, right; exclusive ends) in the input's pixels, its
    ink (every other group's ink, and dropped noise, zeroed), and where it lies on the pad's line of nodes."""

    box: tuple[int, int, int, int]
    ink: np.ndarray | None  # None for a span with no ink of its own (nothing to read there)
    start: int  # node it begins at (a group's left edge or a cut)
    end: int  # node it ends at
    height: int  # what its width and height are measured against: its group's height, at least the typical digit's
    kind: str = "whole"  # "whole" (one group), "span" (between cuts of one group) or "join" (two groups)


@dataclass(frozen=True)
class Layout:
    """Every candidate piece of a pad; a reading is a path of pieces from node 0 to node `nodes` - 1."""

    pieces: list[Piece]
    nodes: int


@dataclass
class _Components:
    """Connected components: a label image (0 = background, k + 1 = component k) and their boxes."""

    labels: np.ndarray  # int32 (H, W)
    top: np.ndarray
    left: np.ndarray
    bottom: np.ndarray
    right: np.ndarray
    pixels: np.ndarray


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal runs of True as (row, start, end) arrays, end exclusive, sorted by (row, start)."""
    height, width = mask.shape
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    steps = np.diff(padded, axis=1)
    rows, starts = np.nonzero(steps == 1)
    _, ends = np.nonzero(steps == -1)  # row-major order, so the n-th end closes the n-th start
    return rows, starts, ends


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """Concatenated 0..n-1 for each n in lengths, without a Python loop."""
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(int(lengths.sum())) - offsets


def _touching_runs(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int) -> tuple:
    """Pairs (a, b) of runs in consecutive rows that touch, diagonals included (8-connectivity)."""
    stride = width + 2  # keys row * stride + column sort exactly like (row, column)
    end_keys = rows * stride + ends
    start_keys = rows * stride + starts
    below = (rows + 1) * stride
    # Runs of the next row touching [start, end) are a contiguous slice: end_b >= start and start_b <= end.
    first = np.searchsorted(end_keys, below + starts, side="left")
    stop = np.searchsorted(start_keys, below + ends, side="right")
    counts = np.clip(stop - first, 0, None)
    upper = np.repeat(np.arange(rows.size), counts)
    lower = np.repeat(first, counts) + _ranges(counts)
    return upper, lower


def _union(count: int, upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Component id per node of a graph given as edge lists: vectorised hooking and pointer jumping."""
    parent = np.arange(count)
    while True:
        root_a, root_b = parent[upper], parent[lower]
        differ = root_a != root_b
        if not differ.any():
            break
        root_a, root_b = root_a[differ], root_b[differ]
        # Hook the larger root under the smaller: parents only ever decrease, so no cycles can form.
        np.minimum.at(parent, np.maximum(root_a, root_b), np.minimum(root_a, root_b))
        while True:  # pointer jumping until every node points at its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return np.unique(parent, return_inverse=True)[1]


def components(mask: np.ndarray) -> _Components:
    """8-connected components of a boolean mask."""
    height, width = mask.shape
    rows, starts, ends = _runs(mask)
    upper, lower = _touching_runs(rows, starts, ends, width)
    run_label = _union(rows.size, upper, lower)
    count = int(run_label.max()) + 1 if rows.size else 0
    lengths = ends - starts
    labels = np.zeros(height * width, dtype=np.int32)
    labels[np.repeat(rows * width + starts, lengths) + _ranges(lengths)] = np.repeat(run_label + 1, lengths)
    big = np.iinfo(np.int64).max
    top, left = np.full(count, big), np.full(count, big)
    bottom, right = np.zeros(count, dtype=np.int64), np.zeros(count, dtype=np.int64)
    np.minimum.at(top, run_label, rows)
    np.minimum.at(left, run_label, starts)
    np.maximum.at(bottom, run_label, rows + 1)
    np.maximum.at(right, run_label, ends)
    pixels = np.bincount(run_label, weights=lengths, minlength=count)
    return _Components(labels.reshape(height, width), top, left, bottom, right, pixels)


def _merge_overlapping(left: np.ndarray, right: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Join groups whose (deslanted) column ranges overlap strongly, repeating as the joined ranges grow."""
    while True:
        ids, index = np.unique(group, return_inverse=True)
        g_left = np.full(ids.size, np.inf)
        g_right = np.full(ids.size, -np.inf)
        np.minimum.at(g_left, index, left)
        np.maximum.at(g_right, index, right)
        shared = np.minimum(g_right[:, None], g_right[None, :]) - np.maximum(g_left[:, None], g_left[None, :])
        narrower = np.minimum((g_right - g_left)[:, None], (g_right - g_left)[None, :])
        linked = shared >= OVERLAP * np.maximum(narrower, 1)
        np.fill_diagonal(linked, False)
        if not linked.any():
            return group
        upper, lower = np.nonzero(linked)
        group = _union(ids.size, upper, lower)[index]


def _deslanted_columns(
    pixels: tuple[np.ndarray, np.ndarray, np.ndarray], count: int, slant: float, middle: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each of `count` components' column range [left, right) with the writing's slant taken out."""
    rows, cols, owner = pixels
    shifted = cols + slant * (rows - middle)
    left = np.full(count, np.inf)
    right = np.full(count, -np.inf)
    np.minimum.at(left, owner, shifted)
    np.maximum.at(right, owner, shifted + 1)
    return left, right


def _box_gap(comps: _Components, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Chebyshev gap in pixels between the boxes of components a[i] and b[j] (0 when they overlap)."""
    gap_y = np.maximum(
        comps.top[a][:, None] - comps.bottom[b][None, :], comps.top[b][None, :] - comps.bottom[a][:, None]
    )
    gap_x = np.maximum(
        comps.left[a][:, None] - comps.right[b][None, :], comps.left[b][None, :] - comps.right[a][:, None]
    )
    return np.maximum(np.maximum(gap_x, gap_y), 0)


def _typical_height(heights: np.ndarray, pixels: np.ndarray) -> float:
    """The typical digit's height: that of the component holding the median ink pixel (a median weighted by
    ink, so specks weigh next to nothing and one odd piece cannot move it far)."""
    order = np.argsort(heights, kind="stable")
    cumulative = np.cumsum(pixels[order])
    return float(heights[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _ink_pixels(comps: _Components) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every stroke pixel's row, column and component, found once for the slant and the columns."""
    rows, cols = np.nonzero(comps.labels)
    return rows, cols, comps.labels[rows, cols] - 1


def writing_slant(pixels: tuple[np.ndarray, np.ndarray, np.ndarray], large: np.ndarray) -> float:
    """How far the writing leans (x shift per unit of height, positive when the tops lean right), from the
    large components' second moments pooled: a slanted 1, 0 or 8 leans as its hand does. Clipped to
    +-MAX_SLANT; a lone 7 or 2 reads as slanted by its diagonal, which only tilts the cuts offered."""
    rows, cols, owner = pixels
    keep = np.isin(owner, large)
    if not keep.any():
        return 0.0
    rows, cols, owner = rows[keep].astype(np.float64), cols[keep].astype(np.float64), owner[keep]
    count = np.bincount(owner)
    seen = count > 0
    mean_y = np.bincount(owner, rows)[seen] / count[seen]
    mean_x = np.bincount(owner, cols)[seen] / count[seen]
    index = np.cumsum(seen) - 1  # component id -> its row among the seen ones
    dy, dx = rows - mean_y[index[owner]], cols - mean_x[index[owner]]
    variance = float((dy * dy).sum())
    return float(np.clip(-(dx * dy).sum() / variance, -MAX_SLANT, MAX_SLANT)) if variance > 0 else 0.0


def group_components(comps: _Components) -> tuple[np.ndarray, float, float]:
    """Digit group per component (-1 = noise, dropped), the typical digit's height and the writing's slant."""
    count = comps.pixels.size
    heights = comps.bottom - comps.top
    sides = np.maximum(heights, comps.right - comps.left)
    digit_height = _typical_height(heights, comps.pixels)
    small = sides < SMALL_SIDE * digit_height
    # Noise can make thousands of pieces: only the largest MAX_DIGITS can be digits, which bounds the work.
    small[np.argsort(-comps.pixels, kind="stable")[MAX_DIGITS:]] = True
    large = np.flatnonzero(~small)
    pixels = _ink_pixels(comps)
    slant = writing_slant(pixels, large)
    group = np.full(count, -1)
    left, right = _deslanted_columns(pixels, count, slant, comps.labels.shape[0] / 2)
    group[large] = _merge_overlapping(left[large], right[large], np.arange(large.size))
    pieces = np.flatnonzero(small)
    if pieces.size:
        # Fragments of a broken stroke lie next to their digit; specks far from every digit are noise.
        gaps = _box_gap(comps, pieces, large)
        nearest = gaps.argmin(axis=1)
        near = gaps[np.arange(pieces.size), nearest] <= NEAR * digit_height
        group[pieces[near]] = group[large[nearest[near]]]
    return group, digit_height, slant




def _dilate(mask: np.ndarray) -> np.ndarray:
    """3x3 dilation, so a crop keeps the anti-aliased rim of its own strokes."""
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    wide = grown.copy()
    wide[:, 1:] |= grown[:, :-1]
    wide[:, :-1] |= grown[:, 1:]
    return wide


@dataclass(frozen=True)
class _Group:
    box: tuple[int, int, int, int]
    ink: np.ndarray  # the pad's ink in box, other groups' ink zeroed (the rim of its own strokes kept)
    mask: np.ndarray  # its stroke pixels in box
    columns: tuple[float, float]  # its deslanted column range, [left, right), on the pad's deslanted axis


def _may_hold_two(width: float, height: float) -> bool:
    """Whether a group is wide enough to hold two touching digits: wider than a typical digit by at least
    two of the narrowest pieces a cut leaves (DIGIT_ASPECT + 2 MIN_PIECE = 0.95 heights; touching MNIST
    numbers 75.5% / 77.75% / 79.5% at 1.0 / 0.95 / 0.9 with the priors, but at 0.9 a 0 1.5 heights wide
    and a long-tailed 2 of the 10k were cut)."""
    return width >= (DIGIT_ASPECT + 2 * MIN_PIECE) * height


Cut = tuple[float, float]  # a straight cut through a group: (its column at the group's middle row, its lean)


def _side(group: _Group, cut: Cut) -> np.ndarray:
    """Which of the group's pixels lie right of a cut (at or past it)."""
    column, lean = cut
    rows, cols = np.indices(group.mask.shape, dtype=np.float64)
    return cols + lean * (rows - (group.mask.shape[0] - 1) / 2) >= column


def _crop(group: _Group, start: Cut | None, stop: Cut | None) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """(box in the pad, ink) of a group's pixels between two cuts (None: the group's edge); None without ink."""
    part = group.mask.copy()
    if start is not None:
        part &= _side(group, start)
    if stop is not None:
        part &= ~_side(group, stop)
    found = mask_box(part)
    if found is None:
        return None
    p_top, p_left, p_bottom, p_right = found
    top, left = group.box[:2]
    keep = _dilate(part)[p_top:p_bottom, p_left:p_right]
    ink = group.ink[p_top:p_bottom, p_left:p_right] * keep
    return (top + p_top, left + p_left, top + p_bottom, left + p_right), ink


def _profiles(group: _Group, leans: list[float]) -> tuple[np.ndarray, int]:
    """Ink crossed by a cut of each lean (rows) at each column of the middle row (columns, from -margin)."""
    height, width = group.mask.shape
    rows, cols = np.nonzero(group.mask)
    middle = (height - 1) / 2
    margin = int(np.ceil(MAX_SLANT * height / 2)) + 1
    size = width + 2 * margin
    profiles = np.zeros((len(leans), size))
    for k, lean in enumerate(leans):
        # np.intp, not int64: in Pyodide (32-bit wasm) bincount refuses to cast int64 down.
        columns = np.clip(np.floor(cols + lean * (rows - middle)).astype(np.intp) + margin, 0, size - 1)
        profiles[k] = np.convolve(np.bincount(columns, minlength=size), np.ones(3) / 3, mode="same")
    return profiles, margin


def thickness(mask: np.ndarray) -> float:
    """Stroke width of a mark: twice its area over its outline (w for a long stroke, d/2 for a disc)."""
    inner = mask.copy()
    inner[1:-1, 1:-1] &= mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    inner[[0, -1], :] = False
    inner[:, [0, -1]] = False
    outline = int(mask.sum() - inner.sum())
    return 2.0 * float(mask.sum()) / max(outline, 1)


def _cuts(group: _Group, slant: float) -> list[Cut]:
    """Straight cuts where a group may hold touching digits that meet: where its width says neighbours would
    meet (DIGIT_ASPECT apart, along the writing's slant; overlapping digits meet where their strokes pile up,
    not in a valley), then the deepest valleys of the ink a cut crosses, each cut leaning as the writing does
    or up to LEAN_STEP either way, whichever crosses least ink; four per digit's width at most, never closer
    than MIN_PIECE heights. The likeliest come first."""
    height = group.mask.shape[0]
    start, stop = group.columns
    width = stop - start
    least = max(2, int(round(MIN_PIECE * height)))
    if width < 2 * least or (width > LINE_ASPECT * height and height < 3 * thickness(group.mask)):
        return []
    leans = [float(np.clip(slant + step, -MAX_SLANT, MAX_SLANT)) for step in (0.0, -LEAN_STEP, LEAN_STEP)]
    profiles, margin = _profiles(group, leans)
    crossed = profiles.min(axis=0)
    inked = np.flatnonzero(profiles[0] > 0)
    first, last = int(inked[0]), int(inked[-1]) + 1  # the writing's extent along its slant
    inner = crossed[1:-1]
    valleys = np.flatnonzero((inner <= crossed[:-2]) & (inner <= crossed[2:])) + 1
    valleys = valleys[np.argsort(crossed[valleys], kind="stable")]  # deepest first
    if not _may_hold_two(width, height):
        # As narrow as one digit, but maybe two narrow ones that touch ("10", "11"): only thin joints, where
        # a cut crosses no more ink than one stroke does.
        joint = JOINT * thickness(group.mask)
        ordered = [int(v) for v in valleys if crossed[v] <= joint]
    else:
        parts = max(2, int(round(width / (DIGIT_ASPECT * height))))
        splits = [n for n in (parts, parts - 1, parts + 1) if n >= 2]
        even = [first + round(k * (last - first) / n) for n in splits for k in range(1, n)]
        ordered = [*even[: parts - 1], *(int(v) for v in valleys), *even[parts - 1 :]]
    # Four per typical digit's width. Five offered a right path for more touching numbers (242 -> 251 of 300
    # pen-drawn, 263 -> 267 MNIST) but read about as many (82.67 -> 83.00%, 77.67 -> 77.33%) with half as
    # many rows again on a touching "2026" (67 -> 103), the page's slowest read.
    wanted = min(MAX_CUTS, int(round(4 * width / (DIGIT_ASPECT * height))))
    chosen: list[int] = []
    for column in ordered:
        if len(chosen) >= wanted:
            break
        if first + least <= column <= last - least and all(abs(column - c) >= least for c in chosen):
            chosen.append(column)
    return [(float(c - margin), leans[int(profiles[:, c].argmin())]) for c in chosen]


def _spans(group: _Group, first: int, budget: int, digit_height: float, slant: float) -> list[Piece]:
    """The group whole (from node `first` to its last node) and, when it may hold touching digits, its
    spans between cuts no wider than MAX_SPAN heights; over `budget` spans, fewer cuts."""
    top, left, bottom, right = group.box
    height = bottom - top
    rows, cols = np.nonzero(group.mask)
    along = cols + slant * (rows - (height - 1) / 2)  # the group's extent at its middle row, along the slant
    # Over budget, the least likely cuts go first: a long blob of touching digits keeps its likeliest cuts
    # rather than being offered whole only, as it was (touching numbers offered a right path 240 -> 240 of
    # 300 pen-drawn, 247 -> 249 of 300 MNIST, with the budget of 120 pieces).
    wanted = _cuts(group, slant)  # the likeliest first
    while True:
        straight = sorted(wanted)
        at = [float(along.min()), *(c for c, _ in straight), float(along.max()) + 1]
        last = len(at) - 1
        spans = [(i, j) for i in range(last) for j in range(i + 1, last + 1) if at[j] - at[i] <= MAX_SPAN * height]
        if len(spans) <= budget or not wanted:
            break
        wanted = wanted[:-1]
    cuts: list[Cut | None] = [None, *straight, None]
    reference = max(height, int(digit_height))
    pieces = [Piece(group.box, group.ink, first, first + last, reference)]
    for i, j in spans:
        if (i, j) == (0, last):
            continue
        found = _crop(group, cuts[i], cuts[j])
        box, ink = found if found is not None else (group.box, None)
        pieces.append(Piece(box, ink, first + i, first + j, reference, "span"))
    return pieces


def _joinable(a: _Group, b: _Group) -> bool:
    """Whether two neighbouring groups may be one broken digit: close in (deslanted) columns, and together
    no wider than two wide digits (a 5 whose bar sticks out to the right). Whether they are one digit or two
    is the model's call (its NOT_ONE class)."""
    (a_top, _, a_bottom, _), (b_top, _, b_bottom, _) = a.box, b.box
    (a_left, a_right), (b_left, b_right) = a.columns, b.columns
    height = max(a_bottom, b_bottom) - min(a_top, b_top)
    width = max(a_right, b_right) - min(a_left, b_left)
    column_gap = max(a_left, b_left) - min(a_right, b_right)
    return width <= 2 * (DIGIT_ASPECT + 2 * MIN_PIECE) * height and column_gap <= NEAR * height


def _joined(groups: list[_Group], start: int, end: int, digit_height: float) -> Piece:
    """Several neighbouring groups read as one piece, from node start to node end."""
    top, left = min(g.box[0] for g in groups), min(g.box[1] for g in groups)
    bottom, right = max(g.box[2] for g in groups), max(g.box[3] for g in groups)
    ink = np.zeros((bottom - top, right - left), dtype=np.float32)
    for g in groups:
        region = ink[g.box[0] - top : g.box[2] - top, g.box[1] - left : g.box[3] - left]
        np.maximum(region, g.ink, out=region)
    return Piece((top, left, bottom, right), ink, start, end, max(bottom - top, int(digit_height)), "join")


def _groups(ink: np.ndarray, threshold: float) -> tuple[list[_Group], float, float]:
    """The pad's groups of ink, in reading order (by the middle of their deslanted columns, then their top),
    the typical digit's height and the writing's slant."""
    mask = ink >= threshold
    if not mask.any():
        return [], 0.0, 0.0
    comps = components(mask)
    group, digit_height, slant = group_components(comps)
    middle = mask.shape[0] / 2
    # Group id per pixel through a lookup table (label 0, the background, maps to -1 like noise).
    group_image = np.concatenate(([-1], group))[comps.labels]
    groups = []
    for g in np.unique(group[group >= 0]):
        own = group_image == g
        top, left, bottom, right = mask_box(own)
        local = own[top:bottom, left:right]
        crop = ink[top:bottom, left:right] * _dilate(local)
        rows = np.arange(top, bottom, dtype=np.float64)[:, None]
        along = (np.arange(right - left, dtype=np.float64)[None, :] + slant * (rows - middle))[local]
        columns = (left + float(along.min()), left + float(along.max()) + 1)
        groups.append(_Group((top, left, bottom, right), crop, local, columns))
    return sorted(groups, key=lambda g: (sum(g.columns), g.box[0])), digit_height, slant


def layout(ink: np.ndarray, threshold: float = MASK_THRESHOLD, max_pieces: int = MAX_PIECES) -> Layout:
    """Every candidate piece of a pad's ink (2-D, values in [0, 1]): each group whole, the spans of groups
    that may hold touching digits, and runs of neighbouring groups joined; at most about max_pieces pieces."""
    groups, digit_height, slant = _groups(np.asarray(ink, dtype=np.float32), threshold)
    pieces: list[Piece] = []
    edges = [0]  # node at each group's left edge, then the last group's right edge
    budget = max(0, max_pieces - 3 * len(groups))  # the wholes and joins come first
    for group in groups:
        spans = _spans(group, edges[-1], budget, digit_height, slant)
        budget -= len(spans) - 1
        pieces.extend(spans)
        edges.append(spans[0].end)
    # A broken digit may be in up to MAX_JOIN parts, each joinable with the next.
    for first in range(len(groups)):
        last = first + 1
        while last < min(len(groups), first + MAX_JOIN) and _joinable(groups[last - 1], groups[last]):
            pieces.append(_joined(groups[first : last + 1], edges[first], edges[last + 1], digit_height))
            last += 1
    return Layout(pieces, edges[-1] + 1)
