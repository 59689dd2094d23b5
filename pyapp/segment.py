"""Ink of a whole pad -> one Segment per digit, ordered left to right.

Pure numpy (runs unchanged in Pyodide, no scipy): connected components from run-length encoding, then
the rules that turn components into digits: pieces whose columns overlap belong to one digit (the bar
of a 5, the two strokes of a 4), specks far from any digit are noise, and a component too wide for one
digit is cut where the column profile has the least ink (touching digits). `segment` gives that rule-based
reading; `candidates` gives, per group, other ways to cut it as well, for the model to choose among.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyapp.preprocess import mask_box

# Ink at or above this is a pixel of a stroke. Higher than preprocess.INK_THRESHOLD so that paper grain
# and the faint halo of anti-aliasing do not bridge neighbouring digits; the halo is kept in the crops.
MASK_THRESHOLD = 0.25
# Two pieces are one digit when the shared columns are at least this fraction of the narrower piece.
OVERLAP_FRACTION = 0.5
# A piece is small (a speck, or a fragment of a broken stroke) below this share of the largest piece's
# pixels, or when its long side is below this share of the typical digit height.
SMALL_PIXELS = 0.05
SMALL_SIDE = 0.2
# A small piece closer than this (times the digit height) to a digit joins it; farther away it is noise.
JOIN_GAP = 0.15
# A piece shorter than this share of its neighbour's height, next to it and within its rows, is part of it
# as long as together they are no wider than MERGED_ASPECT times their height.
PARTIAL_HEIGHT = 0.8
PARTIAL_GAP = 0.15  # at most this far apart (times the digit height), and this far out of the rows
MERGED_ASPECT = 1.2
# Wider than this times its height, a piece holds touching digits and is cut...
SPLIT_ASPECT = 1.25
# ...into pieces about this wide (times the height; MNIST digits average about 0.7)...
DIGIT_ASPECT = 0.75
# ...where a column holds at most this share of the piece's median column ink...
CUT_INK = 0.5
# ...unless it is wider than this: then it is a line or a dash, not digits, and recognize rejects it.
LINE_ASPECT = 4.0
# candidates(): a group at least SPLIT_MIN_ASPECT times as wide as it is tall may be touching digits the
# rules above keep whole ("00", "18") or cut wrongly: besides the rule-based cuts it gets other cuts, where
# its width says neighbours would meet and at the deepest valleys of its column ink, about one per
# ALT_STEP heights (at most MAX_CUTS, never closer than MIN_PIECE heights); its pieces are all the spans
# between two cuts no wider than MAX_PIECE_ASPECT heights (the whole group up to WHOLE_ASPECT). The model
# reads every piece and pyapp.recognize.decide picks the reading.
SPLIT_MIN_ASPECT = 0.95
ALT_STEP = 0.4
MAX_CUTS = 8
MIN_PIECE = 0.1
MAX_PIECE_ASPECT = 1.3
WHOLE_ASPECT = 1.6
MAX_PIECES = 120  # pieces per pad in all (each is a row of the model's batch); beyond it, rule-based cuts only
# joinable(): two neighbouring groups that are stacked (sharing at most STACK_OVERLAP of the shorter one's
# rows) or where one is at most SHORT_PART of the other's height may be one broken digit: a 5 whose top bar
# does not meet its body, a 1 drawn in two strokes, a 9 whose stem stands apart. Digits in a line are side
# by side and about equally tall, so the rules above never join these; the model is asked instead, with the
# two together no wider than JOIN_ASPECT heights and at most STACK_GAP heights apart in columns.
STACK_OVERLAP = 0.5
SHORT_PART = 0.5
JOIN_ASPECT = 1.8
STACK_GAP = 0.25
# No pad holds more digits than this; beyond it pieces are treated as fragments or noise.
MAX_DIGITS = 40


@dataclass(frozen=True)
class Segment:
    """One digit: its box (top, left, bottom, right; exclusive ends) in the input's pixels, and its ink."""

    box: tuple[int, int, int, int]
    ink: np.ndarray  # the input's ink inside box, with every other digit's ink (and dropped noise) zeroed


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
        linked = shared >= OVERLAP_FRACTION * np.maximum(narrower, 1)
        np.fill_diagonal(linked, False)
        if not linked.any():
            return group
        upper, lower = np.nonzero(linked)
        group = _union(ids.size, upper, lower)[index]


def _group_boxes(comps: _Components, members: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, ...]:
    """(ids, top, left, bottom, right) of each group of the components `members`."""
    ids, index = np.unique(group, return_inverse=True)
    big = np.iinfo(np.int64).max
    top, left = np.full(ids.size, big), np.full(ids.size, big)
    bottom, right = np.zeros(ids.size, dtype=np.int64), np.zeros(ids.size, dtype=np.int64)
    np.minimum.at(top, index, comps.top[members])
    np.minimum.at(left, index, comps.left[members])
    np.maximum.at(bottom, index, comps.bottom[members])
    np.maximum.at(right, index, comps.right[members])
    return ids, top, left, bottom, right


def _merge_partial(comps: _Components, members: np.ndarray, group: np.ndarray, digit_height: float) -> np.ndarray:
    """Join a short piece to the taller neighbour right next to it (a 4 whose bar stops short of its stem).

    Both must fit in one digit's width, and the short one must sit within the tall one's rows: two
    whole digits written close together are each full height, so they are never joined by this.
    """
    ids, top, left, bottom, right = _group_boxes(comps, members, group)
    order = np.argsort(left, kind="stable")
    top, left, bottom, right = top[order], left[order], bottom[order], right[order]
    heights = bottom - top
    a, b = np.arange(ids.size - 1), np.arange(1, ids.size)  # neighbours in reading order
    short = np.minimum(heights[a], heights[b]) < PARTIAL_HEIGHT * np.maximum(heights[a], heights[b])
    slack = PARTIAL_GAP * digit_height
    a_taller = heights[a] >= heights[b]
    tall_top, tall_bottom = np.where(a_taller, top[a], top[b]), np.where(a_taller, bottom[a], bottom[b])
    short_top, short_bottom = np.where(a_taller, top[b], top[a]), np.where(a_taller, bottom[b], bottom[a])
    # The short piece's middle within the tall one's rows: a 5's bar sits at the top, a 4's bar mid-height.
    middle = (short_top + short_bottom) / 2
    inside = (middle >= tall_top - slack) & (middle <= tall_bottom + slack)
    close = left[b] - right[a] <= slack
    merged_height = np.maximum(bottom[a], bottom[b]) - np.minimum(top[a], top[b])
    narrow = np.maximum(right[a], right[b]) - left[a] <= MERGED_ASPECT * merged_height
    join = short & inside & close & narrow
    if not join.any():
        return group
    relabel = _union(ids.size, order[a[join]], order[b[join]])
    return relabel[np.searchsorted(ids, group)]


def _box_gap(comps: _Components, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Chebyshev gap in pixels between the boxes of components a[i] and b[j] (0 when they overlap)."""
    gap_y = np.maximum(
        comps.top[a][:, None] - comps.bottom[b][None, :], comps.top[b][None, :] - comps.bottom[a][:, None]
    )
    gap_x = np.maximum(
        comps.left[a][:, None] - comps.right[b][None, :], comps.left[b][None, :] - comps.right[a][:, None]
    )
    return np.maximum(np.maximum(gap_x, gap_y), 0)


def group_components(comps: _Components) -> np.ndarray:
    """Digit group per component (-1 = noise, dropped)."""
    count = comps.pixels.size
    heights = comps.bottom - comps.top
    sides = np.maximum(heights, comps.right - comps.left)
    main = comps.pixels >= 0.25 * comps.pixels.max()
    digit_height = float(np.median(heights[main]))  # the typical digit, robust to one odd piece
    small = (comps.pixels < SMALL_PIXELS * comps.pixels.max()) | (sides < SMALL_SIDE * digit_height)
    # Noise can make thousands of pieces: only the largest MAX_DIGITS can be digits, which bounds the work.
    small[np.argsort(-comps.pixels, kind="stable")[MAX_DIGITS:]] = True
    large = np.flatnonzero(~small)
    group = np.full(count, -1)
    group[large] = _merge_overlapping(comps.left[large], comps.right[large], np.arange(large.size))
    while True:  # joined pieces make a taller, wider group that may take the next piece too
        joined = _merge_partial(comps, large, group[large], digit_height)
        if np.unique(joined).size == np.unique(group[large]).size:
            break
        group[large] = joined
    pieces = np.flatnonzero(small)
    if pieces.size:
        # Fragments of a broken stroke lie next to their digit; specks far from every digit are noise.
        gaps = _box_gap(comps, pieces, large)
        nearest = gaps.argmin(axis=1)
        near = gaps[np.arange(pieces.size), nearest] <= JOIN_GAP * digit_height
        group[pieces[near]] = group[large[nearest[near]]]
    return group


def _cut_columns(profile: np.ndarray, height: int) -> list[int]:
    """Columns where a too-wide piece is cut: least ink near where the width says digits meet."""
    width = profile.size
    if width <= SPLIT_ASPECT * height or width > LINE_ASPECT * height:
        return []
    parts = max(2, round(width / (DIGIT_ASPECT * height)))
    typical = float(np.median(profile[profile > 0])) if profile.any() else 0.0
    step = width / parts
    smooth = np.convolve(profile, np.ones(3) / 3, mode="same")
    smooth = smooth / max(float(smooth.max()), 1e-9)
    cuts = []
    for part in range(1, parts):  # a handful of cuts; each one is vectorised over its window
        expected = part * step
        low, high = int(max(1, expected - 0.35 * step)), int(min(width - 1, expected + 0.35 * step))
        columns = np.arange(low, high + 1)
        if columns.size == 0:  # a piece a few pixels wide: nowhere to cut
            continue
        # Least ink first; the distance term settles ties and flat stretches in favour of the expected spot.
        cost = smooth[columns] + 0.3 * ((columns - expected) / (0.35 * step)) ** 2
        best = int(columns[cost.argmin()])
        # Touching digits meet in a thin joint; a wide digit (a long-tailed 2, a flat 0) has none.
        if profile[best] <= CUT_INK * typical:
            cuts.append(best)
    return cuts


def _dilate(mask: np.ndarray) -> np.ndarray:
    """3x3 dilation, so a crop keeps the anti-aliased rim of its own strokes."""
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    wide = grown.copy()
    wide[:, 1:] |= grown[:, :-1]
    wide[:, :-1] |= grown[:, 1:]
    return wide


def _piece(ink: np.ndarray, local: np.ndarray, origin: tuple[int, int], start: int, stop: int) -> Segment | None:
    """The ink of a group's columns [start, stop) (local to the group's box at origin) as a Segment."""
    part = np.zeros_like(local)
    part[:, start:stop] = local[:, start:stop]
    piece = mask_box(part)
    if piece is None:
        return None
    p_top, p_left, p_bottom, p_right = piece
    top, left = origin
    keep = _dilate(part)[p_top:p_bottom, p_left:p_right]
    crop = ink[top + p_top : top + p_bottom, left + p_left : left + p_right] * keep
    return Segment((top + p_top, left + p_left, top + p_bottom, left + p_right), crop)


@dataclass(frozen=True)
class Candidates:
    """One group of ink (a digit, or digits that touch) and the ways it may be cut into digits.

    `cuts` are columns in the input's pixels, ascending, the group's left and right edges included; a
    piece (i, j) is the group's ink between cuts[i] and cuts[j] (None when there is none). `default` is
    the rule-based reading (what segment() gives) as indices into cuts, from 0 to len(cuts) - 1; any other
    path of pieces from the first cut to the last is another reading, for the model to judge.
    """

    box: tuple[int, int, int, int]
    cuts: tuple[int, ...]
    pieces: tuple[tuple[int, int], ...]
    segments: tuple[Segment | None, ...]  # one per piece
    default: tuple[int, ...]
    # Per cut: the ink a cut there goes through, as a share of the group's median column (0 at the edges):
    # touching digits meet in a thin joint, a wide digit cut in two loses whole strokes.
    cut_ink: tuple[float, ...] = ()

    def default_segments(self) -> list[Segment]:
        index = {piece: k for k, piece in enumerate(self.pieces)}
        chosen = (self.segments[index[(a, b)]] for a, b in zip(self.default[:-1], self.default[1:], strict=True))
        return [s for s in chosen if s is not None]


def _alternative_cuts(profile: np.ndarray, height: int, fixed: list[int]) -> list[int]:
    """Extra cut columns for a group that may hold touching digits: where the width says digits would meet
    (overlapping digits meet where their strokes pile up, not in a valley), then the deepest valleys."""
    width = profile.size
    least = max(2, int(round(MIN_PIECE * height)))
    if width < SPLIT_MIN_ASPECT * height or width > LINE_ASPECT * height or width < 2 * least:
        return []
    parts = max(2, int(round(width / (DIGIT_ASPECT * height))))
    even = [round(k * width / parts) for k in range(1, parts)]
    others = [round(k * width / n) for n in (parts - 1, parts + 1) if n >= 2 for k in range(1, n)]
    wanted = min(MAX_CUTS, max(2, int(round(width / (ALT_STEP * height)))))
    smooth = np.convolve(profile, np.ones(3) / 3, mode="same")
    inner = smooth[1:-1]
    valleys = np.flatnonzero((inner <= smooth[:-2]) & (inner <= smooth[2:])) + 1
    valleys = valleys[np.argsort(smooth[valleys], kind="stable")]  # deepest first
    chosen = list(fixed)
    added: list[int] = []
    for column in [*even, *(int(v) for v in valleys), *others]:
        if len(added) >= wanted:
            break
        if least <= column <= width - least and all(abs(column - c) >= least for c in chosen):
            chosen.append(column)
            added.append(column)
    return added


def _group_candidates(ink: np.ndarray, mask: np.ndarray, alternatives: bool) -> Candidates | None:
    box = mask_box(mask)
    if box is None:
        return None
    top, left, bottom, right = box
    height, width = bottom - top, right - left
    local = mask[top:bottom, left:right]
    profile = local.sum(axis=0).astype(np.float64)
    fixed = _cut_columns(profile, height)
    extra = _alternative_cuts(profile, height, fixed) if alternatives else []
    nodes = sorted({0, width, *fixed, *extra})
    default = tuple(nodes.index(c) for c in [0, *fixed, width])
    pairs = set(zip(default[:-1], default[1:], strict=True))
    if extra:
        widest = MAX_PIECE_ASPECT * height
        pairs |= {
            (i, j)
            for i in range(len(nodes))
            for j in range(i + 1, len(nodes))
            if nodes[j] - nodes[i] <= widest or (i == 0 and j == len(nodes) - 1 and width <= WHOLE_ASPECT * height)
        }
    pieces = tuple(sorted(pairs))
    segments = tuple(_piece(ink, local, (top, left), nodes[i], nodes[j]) for i, j in pieces)
    typical = max(float(np.median(profile[profile > 0])), 1.0)
    cut_ink = tuple(0.0 if c in (0, width) else float(profile[c - 1 : c + 1].min()) / typical for c in nodes)
    return Candidates(box, tuple(left + c for c in nodes), pieces, segments, default, cut_ink)


def _group_masks(ink: np.ndarray, threshold: float) -> list[np.ndarray]:
    mask = ink >= threshold
    if not mask.any():
        return []
    comps = components(mask)
    group = group_components(comps)
    # Group id per pixel through a lookup table (label 0, the background, maps to -1 like noise).
    group_image = np.concatenate(([-1], group))[comps.labels]
    return [group_image == g for g in np.unique(group[group >= 0])]


def candidates(ink: np.ndarray, threshold: float = MASK_THRESHOLD, max_pieces: int = MAX_PIECES) -> list[Candidates]:
    """The groups of a pad's ink, left to right, each with its rule-based cuts and, for a group wide enough
    to hold touching digits, other cuts too: at most max_pieces pieces in all (the model reads each one)."""
    ink = np.asarray(ink, dtype=np.float32)
    groups = []
    budget = max_pieces
    for mask in _group_masks(ink, threshold):
        found = _group_candidates(ink, mask, alternatives=budget > 0)
        if found is not None and len(found.pieces) > budget:  # over budget: the rule-based reading only
            found = _group_candidates(ink, mask, alternatives=False)
        if found is not None:
            budget -= len(found.pieces)
            groups.append(found)
    return sorted(groups, key=lambda g: (g.box[1] + g.box[3], g.box[0]))


def joinable(first: Candidates, second: Candidates) -> bool:
    """Whether two groups may be one broken digit: stacked, or one much shorter, and close (see STACK_OVERLAP)."""
    (a_top, a_left, a_bottom, a_right), (b_top, b_left, b_bottom, b_right) = first.box, second.box
    shorter, taller = sorted((a_bottom - a_top, b_bottom - b_top))
    shared_rows = min(a_bottom, b_bottom) - max(a_top, b_top)
    height = max(a_bottom, b_bottom) - min(a_top, b_top)
    width = max(a_right, b_right) - min(a_left, b_left)
    column_gap = max(a_left, b_left) - min(a_right, b_right)
    apart = shared_rows <= STACK_OVERLAP * shorter or shorter <= SHORT_PART * taller
    return apart and width <= JOIN_ASPECT * height and column_gap <= STACK_GAP * height


def join(groups: list[Candidates]) -> Segment | None:
    """The rule-based pieces of several groups as one Segment (a broken digit read whole)."""
    parts = [s for group in groups for s in group.default_segments()]
    if not parts:
        return None
    top, left = min(s.box[0] for s in parts), min(s.box[1] for s in parts)
    bottom, right = max(s.box[2] for s in parts), max(s.box[3] for s in parts)
    ink = np.zeros((bottom - top, right - left), dtype=np.float32)
    for s in parts:
        region = ink[s.box[0] - top : s.box[2] - top, s.box[1] - left : s.box[3] - left]
        np.maximum(region, s.ink, out=region)
    return Segment((top, left, bottom, right), ink)


def joined_group(groups: list[Candidates]) -> Candidates:
    """Several groups as one group of one piece, without other cuts (see join)."""
    whole = join(groups)
    if whole is None:  # no group has ink: keep the first as it is
        return groups[0]
    return Candidates(whole.box, (whole.box[1], whole.box[3]), ((0, 1),), (whole,), (0, 1), (0.0, 0.0))


def segment(ink: np.ndarray, threshold: float = MASK_THRESHOLD) -> list[Segment]:
    """Split a pad's ink (2-D, values in [0, 1]) into digits, ordered left to right; [] when empty."""
    ink = np.asarray(ink, dtype=np.float32)
    segments = []
    for mask in _group_masks(ink, threshold):
        group = _group_candidates(ink, mask, alternatives=False)  # the rule-based cuts only
        if group is not None:
            segments.extend(group.default_segments())
    return sorted(segments, key=lambda s: (s.box[1] + s.box[3], s.box[0]))
