"""Ink of a whole pad -> the candidate pieces a reading may be made of, for pyapp.recognize to choose among.

Pure numpy (runs unchanged in Pyodide, no scipy). ink -> mask -> 8-connected components (run-length
union-find) -> groups: strokes sharing columns are one digit's (the bar of a 5, the two strokes of a 4),
specks near a group join it and far ones are noise -> candidate pieces, laid out on one line of nodes from
left to right:

- each group whole, from its left edge node to its right edge node;
- for a group wide enough to hold touching digits, its spans between cut columns (one cut generator,
  `_cuts`), each noting the ink its left cut goes through;
- two neighbouring groups read as one piece when they may be one broken digit (`_joinable`: a 5 whose bar
  floats above it, a 4 whose bar stops short of its stem), from the first one's left edge to the second
  one's right edge.

A reading is a path of pieces from node 0 to the last node; recognize scores every path with the model and
its priors and keeps the best. Nothing here decides which reading is right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyapp.preprocess import mask_box

# Tuned constants: each says what set it. "touching" and "separated" are the share of MNIST numbers read
# exactly (tests/helpers.mnist_number_pads: 400 touching, seed 11; 300 with gaps, seed 1); "10k" is the
# app's answer on the 10k MNIST test digits painted on a pad (training/evaluate.py); "narrow pen" is the
# model card's "pen 12 px narrower" row (1,000 digits), where strokes break into many fragments.

# Ink at or above this is a pixel of a stroke. Higher than preprocess.INK_THRESHOLD so that paper grain
# and the faint halo of anti-aliasing do not bridge neighbouring digits; the halo is kept in the crops.
# At 0.1 (preprocess.INK_THRESHOLD's): touching 69.25% (77.75%), bridged digits read as one.
MASK_THRESHOLD = 0.25
# Two parts are one digit when the columns they share are at least this share of the narrower one's (the
# bar of a 5, a crossed 7); two groups are stacked, maybe one broken digit, when the rows they share are
# at most this share of the shorter one's. (Both were 0.5 before, as two constants; not re-measured.)
OVERLAP = 0.5
# A component is a fragment (a speck, or a piece of a broken stroke) below SMALL_PIXELS of the largest
# one's pixels, or when its long side is below SMALL_SIDE of the typical digit height. Without SMALL_PIXELS:
# narrow pen 97.1% -> 96.9%, 10k and numbers unchanged. SMALL_SIDE is also how small a dot is, as a share
# of the pad's side (recognize._problem); at 0.1 (MIN_PIECE's, for fragments only): 10k 99.64% (99.65%),
# narrow pen 97.1% (97.2%), and with it a click of the widest brush (0.15 of the pad) would read as a mark.
SMALL_PIXELS = 0.05
SMALL_SIDE = 0.2
# How far a broken stroke's parts lie apart, in heights: a fragment within NEAR of a group (box gap) is part
# of it, farther away it is noise; two groups at most NEAR apart in columns may be one broken digit. One gap
# for both since bench/recognition.py (0.15 for fragments, 0.25 for groups before): at 0.15, a 7 and a 9 of
# the 10k whose stroke broke 0.16-0.17 heights away read "71" and "91"; at 0.25, a speck 0.21 heights from
# a 3 joins it (tests/test_segment.py); at 0.2, narrow pen 97.1% -> 97.2%, nothing else changed. A group
# shorter than PARTIAL of its neighbour may be part of it: a 4 drawn in two strokes, whose bar part is 0.63
# of the stem. Without the rule (any neighbours within NEAR offered as one): touching 74.5%; at 0.65, with
# recognize.SHORT_PIECE at 0.65 too: touching 77.0%, separated 97.67%.
NEAR = 0.2
PARTIAL = 0.8
# Widths, in heights. A typical digit is DIGIT_ASPECT wide (MNIST's average is about 0.7): the cut
# generator expects touching digits to meet that far apart. A group at least WIDE wide may hold touching
# digits and is offered cuts, and recognize's aspect prior charges each piece for its width beyond WIDE:
# touching 75.5% / 77.75% / 79.5% at 1.0 / 0.95 / 0.9, but at 0.9 a 0 1.5 heights wide and a long-tailed 2
# of the 10k were cut ("67", "21"). A span is a candidate up to two typical digits wide; two groups joined,
# up to two wide digits (a 5 of the 10k whose bar floats off to the right is 1.63 wide; a line beside a
# digit, 2.4). Beyond LINE_ASPECT a mark is a line or a dash and is not cut (so about six touching digits
# in one blob are refused as a line; kept from before).
DIGIT_ASPECT = 0.75
WIDE = 0.95
MAX_SPAN = 2 * DIGIT_ASPECT
LINE_ASPECT = 4.0
# Cuts are never closer than this (times the height): touching 77.75% at 0.1, 72.5% at 0.2 (narrow 1s).
MIN_PIECE = 0.1
# Bounds on the work, not tuned: at most MAX_CUTS cuts per group, MAX_JOIN groups in one joined piece (a 3
# whose pen skipped twice; pairs only: narrow pen 96.3%), MAX_PIECES pieces per pad (each is a row of the
# model's one batch; over budget, a group is offered whole only), MAX_DIGITS groups.
MAX_CUTS = 8
MAX_JOIN = 3
MAX_PIECES = 120
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
    cut_ink: float = 0.0  # ink its left cut goes through, as a share of the group's median column (0 at an edge)


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
    """Join groups whose column ranges overlap strongly, repeating as the joined ranges grow."""
    while True:
        ids, index = np.unique(group, return_inverse=True)
        g_left = np.full(ids.size, np.iinfo(np.int64).max)
        g_right = np.zeros(ids.size, dtype=np.int64)
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


def group_components(comps: _Components) -> tuple[np.ndarray, float]:
    """Digit group per component (-1 = noise, dropped), and the typical digit's height."""
    count = comps.pixels.size
    heights = comps.bottom - comps.top
    sides = np.maximum(heights, comps.right - comps.left)
    digit_height = _typical_height(heights, comps.pixels)
    small = (comps.pixels < SMALL_PIXELS * comps.pixels.max()) | (sides < SMALL_SIDE * digit_height)
    # Noise can make thousands of pieces: only the largest MAX_DIGITS can be digits, which bounds the work.
    small[np.argsort(-comps.pixels, kind="stable")[MAX_DIGITS:]] = True
    large = np.flatnonzero(~small)
    group = np.full(count, -1)
    group[large] = _merge_overlapping(comps.left[large], comps.right[large], np.arange(large.size))
    pieces = np.flatnonzero(small)
    if pieces.size:
        # Fragments of a broken stroke lie next to their digit; specks far from every digit are noise.
        gaps = _box_gap(comps, pieces, large)
        nearest = gaps.argmin(axis=1)
        near = gaps[np.arange(pieces.size), nearest] <= NEAR * digit_height
        group[pieces[near]] = group[large[nearest[near]]]
    return group, digit_height




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


def _crop(group: _Group, start: int, stop: int) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """(box in the pad, ink) of a group's columns [start, stop) (local to its box); None without ink."""
    part = np.zeros_like(group.mask)
    part[:, start:stop] = group.mask[:, start:stop]
    found = mask_box(part)
    if found is None:
        return None
    p_top, p_left, p_bottom, p_right = found
    top, left = group.box[:2]
    keep = _dilate(part)[p_top:p_bottom, p_left:p_right]
    ink = group.ink[p_top:p_bottom, p_left:p_right] * keep
    return (top + p_top, left + p_left, top + p_bottom, left + p_right), ink


def _cuts(profile: np.ndarray, height: int) -> list[int]:
    """Columns where a group may hold touching digits that meet: where its width says neighbours would meet
    (DIGIT_ASPECT apart; overlapping digits meet where their strokes pile up, not in a valley), then the
    deepest valleys of its column ink, two per digit's width at most, never closer than MIN_PIECE heights."""
    width = profile.size
    least = max(2, int(round(MIN_PIECE * height)))
    if width < WIDE * height or width > LINE_ASPECT * height or width < 2 * least:
        return []
    parts = max(2, int(round(width / (DIGIT_ASPECT * height))))
    even = [round(k * width / n) for n in (parts, parts - 1, parts + 1) if n >= 2 for k in range(1, n)]
    smooth = np.convolve(profile, np.ones(3) / 3, mode="same")
    inner = smooth[1:-1]
    valleys = np.flatnonzero((inner <= smooth[:-2]) & (inner <= smooth[2:])) + 1
    valleys = valleys[np.argsort(smooth[valleys], kind="stable")]  # deepest first
    ordered = [*even[: parts - 1], *(int(v) for v in valleys), *even[parts - 1 :]]
    wanted = min(MAX_CUTS, int(round(2 * width / (DIGIT_ASPECT * height))))
    chosen: list[int] = []
    for column in ordered:
        if len(chosen) >= wanted:
            break
        if least <= column <= width - least and all(abs(column - c) >= least for c in chosen):
            chosen.append(column)
    return sorted(chosen)


def _spans(group: _Group, first: int, budget: int, digit_height: float) -> list[Piece]:
    """The group whole (from node `first` to its last node) and, when it may hold touching digits, its
    spans between cuts no wider than MAX_SPAN heights; over `budget` spans, the group whole only."""
    top, left, bottom, right = group.box
    height, width = bottom - top, right - left
    profile = group.mask.sum(axis=0).astype(np.float64)
    nodes = [0, *_cuts(profile, height), width]
    last = len(nodes) - 1
    spans = [(i, j) for i in range(last) for j in range(i + 1, last + 1) if nodes[j] - nodes[i] <= MAX_SPAN * height]
    if len(spans) > budget:
        nodes, last, spans = [0, width], 1, []
    typical = max(float(np.median(profile[profile > 0])), 1.0)
    cut_ink = [0.0, *(float(profile[c - 1 : c + 1].min()) / typical for c in nodes[1:-1])]
    reference = max(height, int(digit_height))
    pieces = [Piece(group.box, group.ink, first, first + last, reference)]
    for i, j in spans:
        if (i, j) == (0, last):
            continue
        found = _crop(group, nodes[i], nodes[j])
        box, ink = found if found is not None else ((top, left + nodes[i], bottom, left + nodes[j]), None)
        pieces.append(Piece(box, ink, first + i, first + j, reference, "span", cut_ink[i]))
    return pieces


def _joinable(a: _Group, b: _Group) -> bool:
    """Whether two neighbouring groups may be one broken digit: stacked, or one clearly shorter, and close
    in columns, and together no wider than two wide digits (a 5 whose bar sticks out to the right). Digits in
    a line are side by side and about equally tall, so they are not offered as one."""
    (a_top, a_left, a_bottom, a_right), (b_top, b_left, b_bottom, b_right) = a.box, b.box
    shorter, taller = sorted((a_bottom - a_top, b_bottom - b_top))
    shared_rows = min(a_bottom, b_bottom) - max(a_top, b_top)
    height = max(a_bottom, b_bottom) - min(a_top, b_top)
    width = max(a_right, b_right) - min(a_left, b_left)
    column_gap = max(a_left, b_left) - min(a_right, b_right)
    apart = shared_rows <= OVERLAP * shorter or shorter < PARTIAL * taller
    return apart and width <= 2 * WIDE * height and column_gap <= NEAR * height


def _joined(groups: list[_Group], start: int, end: int, digit_height: float) -> Piece:
    """Several neighbouring groups read as one piece, from node start to node end."""
    top, left = min(g.box[0] for g in groups), min(g.box[1] for g in groups)
    bottom, right = max(g.box[2] for g in groups), max(g.box[3] for g in groups)
    ink = np.zeros((bottom - top, right - left), dtype=np.float32)
    for g in groups:
        region = ink[g.box[0] - top : g.box[2] - top, g.box[1] - left : g.box[3] - left]
        np.maximum(region, g.ink, out=region)
    return Piece((top, left, bottom, right), ink, start, end, max(bottom - top, int(digit_height)), "join")


def _groups(ink: np.ndarray, threshold: float) -> tuple[list[_Group], float]:
    """The pad's groups of ink, in reading order (by the middle of their columns, then their top), and the
    typical digit's height."""
    mask = ink >= threshold
    if not mask.any():
        return [], 0.0
    comps = components(mask)
    group, digit_height = group_components(comps)
    # Group id per pixel through a lookup table (label 0, the background, maps to -1 like noise).
    group_image = np.concatenate(([-1], group))[comps.labels]
    groups = []
    for g in np.unique(group[group >= 0]):
        own = group_image == g
        top, left, bottom, right = mask_box(own)
        local = own[top:bottom, left:right]
        crop = ink[top:bottom, left:right] * _dilate(local)
        groups.append(_Group((top, left, bottom, right), crop, local))
    return sorted(groups, key=lambda g: (g.box[1] + g.box[3], g.box[0])), digit_height


def layout(ink: np.ndarray, threshold: float = MASK_THRESHOLD, max_pieces: int = MAX_PIECES) -> Layout:
    """Every candidate piece of a pad's ink (2-D, values in [0, 1]): each group whole, the spans of groups
    that may hold touching digits, and runs of neighbouring groups joined; at most about max_pieces pieces."""
    groups, digit_height = _groups(np.asarray(ink, dtype=np.float32), threshold)
    pieces: list[Piece] = []
    edges = [0]  # node at each group's left edge, then the last group's right edge
    budget = max(0, max_pieces - 3 * len(groups))  # the wholes and joins come first
    for group in groups:
        spans = _spans(group, edges[-1], budget, digit_height)
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
