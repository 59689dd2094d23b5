"""A photo of handwriting (grey, 0..1, dark ink on lighter paper) -> ink in [0, 1]: the writing, not the paper.

Pure numpy (runs in Pyodide as in CPython). Steps, each for a failure seen in photos as people take them
(tests/photos.py generates them; the measures quoted are on its photos, 40 per kind):

1. The sheet: the large bright region whose brightness changes smoothly (light falls off slowly, the
   sheet's edge on a darker table is a step); everything outside it, and a margin inside its edge, is
   background. Without this, the sheet's outline was read as a "0" (0 of 40 generated sheet-on-table
   photos read right; 100% with it).
2. Darkness relative to the local paper brightness (uneven light, shadows).
3. Printed paper lines (ruled, squared: long, thin, straight, evenly lit) are found as thin dark ridges that
   run on along one direction for a long way, and are replaced by what lies across them, so a stroke that
   crosses a line stays whole; ink darker than the line itself is kept. Ruled paper 75% -> 100% read
   right, squared 52.5% -> 100%.
4. Ink by local contrast: the floor from the paper's own noise, stretched by the strokes' core darkness, so
   pencil, blue and black pens all give full-strength strokes.
5. A mark that touches the photo's border (or the sheet's edge) is a cut-off mark or the edge's shadow,
   not a digit: dropped.
"""

from __future__ import annotations

import numpy as np

from pyapp.segment import MASK_THRESHOLD, components

BACKGROUND_BLOCK = 1 / 25  # tile size of the paper-brightness estimate, as a share of the long side
# After flattening, a pixel this much darker than its surroundings (0..1) is fully ink; paper noise
# below NOISE_FLOOR is white.
NOISE_FLOOR = 0.04
# The strokes' core is at least this dark when it is stretched to full ink, so a page with no writing stays
# blank: what line removal leaves on empty squared paper (2 px lines every 20 px) is at most 0.11 dark, the
# core of the faintest pencil in the generated photos about 0.35.
MIN_STROKE = 0.35

# -- the sheet --
SHEET_TILE = 1 / 50  # tile side for finding the sheet, as a share of the long side (20 px on a 1000 px photo)
# Neighbouring tiles of one sheet differ by less than this share of their brightness: the light falls off
# slowly (95% of the steps between neighbouring tiles of the generated flat photos are under 0.02, 0.04 in
# tests/test_images' 0.35..1 shade), while across a sheet's edge on a table the median step is 0.5 or more
# (15 generated table photos; the table is darker still in the sheet's shadow).
SHEET_STEP = 0.15
SHEET_SEED = 0.9  # tiles at least this bright (share of the brightest) start the sheet: paper, not ink
# A bright region smaller than this share of the photo is not a sheet (light strokes on a dark ground), nor
# one filling less than MIN_SOLIDITY of its own box (strokes do). Sheets on a table in the generated photos:
# 0.38-0.60 of the photo, filling 0.75-0.98 of their box (turned up to 10 degrees, mild perspective).
MIN_SHEET = 0.15
MIN_SOLIDITY = 0.6
# A table shows around the sheet when at least this share of the photo is off the sheet: 0.40-0.62 in the
# generated table photos; a clean drawing's strokes that touch its border are a few percent.
MIN_TABLE = 0.2

# -- printed lines --
# A printed line is darker than the pixels RIDGE_REACH (share of the long side: 4 px at 1000 px; lines are
# 1-3 px there) above and below it, by RIDGE_DARKNESS or more: in a generated squared-paper photo the
# lines' ridges are 0.10-0.14 (95th-99th percentile of all pixels), the paper's median -0.005.
RIDGE_REACH = 1 / 250
RIDGE_DARKNESS = 0.05
# A printed line runs on along a window of LINE_LENGTH (share of the long side), its ridge pixels covering
# at least LINE_SHARE of it. Measured on the generated photos: 90% of ruled lines' ridge pixels have 0.92
# or more; digits on plain paper reach 0.60 at the very most (a number's aligned bars); on squared paper
# 1.1% of the line pixels at 0.6 or more are below 0.7 (where strokes cross the line).
LINE_LENGTH = 1 / 4
LINE_SHARE = 0.65
LINE_SLACK = 2  # px either side at half resolution: the line may drift off the window's direction (perspective)
# The turns tried for the lines' direction, and the spread around the best one (lines converge under
# perspective). Squared-paper photos read right, 10 each: turned 12 degrees 10, 16 degrees 9, 25 degrees 7;
# corners moved by up to 4% of the sheet 10, 8% 9.
MAX_TURN = 12.0
TURN_STEP = 0.5
SPREAD_TURNS = (-1.5, 0.0, 1.5)



def _shift(values: np.ndarray, dy: int, dx: int, fill) -> np.ndarray:
    """values moved by (dy, dx), the uncovered part set to fill (no wrap-around)."""
    out = np.full_like(values, fill)
    height, width = values.shape
    out[max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = values[
        max(-dy, 0) : height + min(-dy, 0), max(-dx, 0) : width + min(-dx, 0)
    ]
    return out


def box_blur(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window, edges replicated; summed-area table, so the cost does not grow with r."""
    padded = np.pad(values.astype(np.float64), radius + 1, mode="edge")
    table = padded.cumsum(axis=0).cumsum(axis=1)
    size = 2 * radius + 1
    height, width = values.shape
    low_y, low_x = slice(0, height), slice(0, width)
    high_y, high_x = slice(size, size + height), slice(size, size + width)
    total = table[high_y, high_x] - table[low_y, high_x] - table[high_y, low_x] + table[low_y, low_x]
    return (total / (size * size)).astype(np.float32)


def block_upper(grey: np.ndarray, block: int) -> np.ndarray:
    """The 75th percentile of each block x block tile (edges replicated): paper brightness where ink is sparse."""
    height, width = grey.shape
    rows, cols = -(-height // block), -(-width // block)
    padded = np.pad(grey, ((0, rows * block - height), (0, cols * block - width)), mode="edge")
    tiles = padded.reshape(rows, block, cols, block).transpose(0, 2, 1, 3).reshape(rows, cols, -1)
    return np.percentile(tiles, 75, axis=2).astype(np.float32)


def background(grey: np.ndarray) -> np.ndarray:
    """Paper brightness per pixel: the brightest nearby tiles, smoothed; ink does not darken it."""
    block = max(4, round(max(grey.shape) * BACKGROUND_BLOCK))
    tiles = block_upper(grey, block)
    # A tile inside a thick stroke is dark: take the brightest of its 3x3 neighbourhood instead.
    padded = np.pad(tiles, 1, mode="edge")
    height, width = tiles.shape
    brightest = np.max([padded[y : y + height, x : x + width] for y in range(3) for x in range(3)], axis=0)
    full = np.repeat(np.repeat(box_blur(brightest, 1), block, axis=0), block, axis=1)
    full = full[: grey.shape[0], : grey.shape[1]]
    return np.maximum(box_blur(full, block // 2), grey)  # smooth the tile edges; never darker than a pixel


# ---------------------------------------------------------------- the sheet


def _grow(region: np.ndarray, passable: list[tuple[int, int, np.ndarray]]) -> np.ndarray:
    """Flood region (bool tiles) across the passable steps: (dy, dx, ok) where ok[y, x] says the step from
    (y - dy, x - dx) to (y, x) may be taken."""
    while True:
        grown = region.copy()
        for dy, dx, ok in passable:
            grown |= _shift(region, dy, dx, False) & ok
        if np.array_equal(grown, region):
            return region
        region = grown


def _smooth_steps(tiles: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """The 4-neighbour steps between tiles of nearly the same brightness (no edge in between)."""
    steps = []
    for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        came_from = _shift(tiles, dy, dx, np.inf)
        ok = np.abs(tiles - came_from) <= SHEET_STEP * np.maximum(tiles, came_from)
        steps.append((dy, dx, ok))
    return steps


def _any_step(shape: tuple[int, int], allowed: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    return [(dy, dx, allowed) for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1))]


def _frame_ring(shape: tuple[int, int]) -> np.ndarray:
    ring = np.zeros(shape, dtype=bool)
    ring[0], ring[-1], ring[:, 0], ring[:, -1] = True, True, True, True
    return ring


def sheet_tiles(grey: np.ndarray) -> tuple[np.ndarray, int] | None:
    """The sheet as a bool tile mask (tiles of `block` px), or None when there is no sheet on a darker
    surface to find (the paper fills the frame, or the bright parts are strokes, not a sheet)."""
    block = max(2, round(max(grey.shape) * SHEET_TILE))
    tiles = block_upper(grey, block)
    if tiles.size < 9:
        return None
    region = _grow(tiles >= SHEET_SEED * float(tiles.max()), _smooth_steps(tiles))
    # Holes (a thick stroke filling a tile) are sheet: outside is what the frame's edge reaches off the sheet.
    outside = _grow(_frame_ring(tiles.shape) & ~region, _any_step(tiles.shape, ~region))
    if not outside.any():
        return None
    rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
    box = (rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1)
    if region.mean() < MIN_SHEET or region.sum() < MIN_SOLIDITY * box:
        return None
    return ~outside, block


def on_a_table(grey: np.ndarray) -> bool:
    """True when the photo shows a sheet on a darker surface (MIN_TABLE of it or more off the sheet)."""
    found = sheet_tiles(grey)
    return found is not None and 1.0 - float(found[0].mean()) >= MIN_TABLE


def find_sheet(grey: np.ndarray) -> np.ndarray | None:
    """Pixels of the sheet, a margin of one tile inside its edge (bool, grey's shape), or None when the paper
    fills the frame (see sheet_tiles). The margin keeps the edge, its shadow and the tiles that straddle it out."""
    found = sheet_tiles(grey)
    if found is None:
        return None
    tiles, block = found
    padded = np.pad(tiles, 1, constant_values=True)  # the sheet may run on past the frame
    height, width = tiles.shape
    inner = np.min([padded[y : y + height, x : x + width] for y in range(3) for x in range(3)], axis=0)
    full = np.repeat(np.repeat(inner, block, axis=0), block, axis=1)
    return full[: grey.shape[0], : grey.shape[1]]


# ---------------------------------------------------------------- printed lines


def _best_turn(ridges: np.ndarray) -> float:
    """The direction (degrees from horizontal) along which ridge pixels line up best: the sharpest profile."""
    ys, xs = np.nonzero(ridges)
    if ys.size > 200_000:  # plenty to find a direction
        keep = slice(None, None, ys.size // 200_000 + 1)
        ys, xs = ys[keep], xs[keep]
    if ys.size == 0:
        return 0.0
    best, best_score = 0.0, -1.0
    for turn in np.arange(-MAX_TURN, MAX_TURN + TURN_STEP / 2, TURN_STEP):
        rows = np.round(ys - xs * np.tan(np.radians(turn))).astype(np.intp)
        counts = np.bincount(rows - rows.min()).astype(np.float64)
        score = float(np.dot(counts, counts))
        if score > best_score:
            best, best_score = float(turn), score
    return best


def _run_share(mask: np.ndarray, valid: np.ndarray | None, turn: float, length: int) -> np.ndarray:
    """Per pixel, the share of the valid pixels (None: all) on a `length` px segment through it, along
    `turn` degrees from horizontal, that are in mask."""
    height, width = mask.shape
    offsets = np.round(np.arange(width) * np.tan(np.radians(turn))).astype(np.intp)
    margin = int(np.abs(offsets).max()) + 1
    # Shear so the segments are rows: sheared row r, column x <- padded row r + offsets[x].
    rows = (np.arange(height + 4 * margin)[:, None] + offsets[None, :]).clip(0, height + 4 * margin - 1)
    cols = np.arange(width)[None, :]
    low = np.clip(np.arange(width) - length // 2, 0, width)
    high = np.clip(np.arange(width) + length // 2 + 1, 0, width)

    def along(values: np.ndarray) -> np.ndarray:
        sheared = np.pad(values, ((2 * margin, 2 * margin), (0, 0)))[rows, cols]
        table = np.zeros((sheared.shape[0], width + 1), dtype=np.int32)
        np.cumsum(sheared, axis=1, out=table[:, 1:])
        return table[:, high] - table[:, low]

    total = (high - low)[None, :] if valid is None else np.maximum(along(valid), 1)
    share = along(mask) / total
    back = np.arange(height)[:, None] + 2 * margin - offsets[None, :]  # original row y -> sheared row
    return share[back, cols]


def _pool(mask: np.ndarray) -> np.ndarray:
    """2x2 blocks -> one pixel, True where any of the four is (odd edges padded)."""
    padded = np.pad(mask, ((0, mask.shape[0] % 2), (0, mask.shape[1] % 2)))
    return padded[0::2, 0::2] | padded[1::2, 0::2] | padded[0::2, 1::2] | padded[1::2, 1::2]


def _long_lines(ridges: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Where ridge pixels run on for LINE_LENGTH along one direction near horizontal: printed lines.
    Found at half resolution (four times fewer pixels; a line is still a line)."""
    small, small_valid = _pool(ridges), _pool(valid)
    slack = small.copy()
    for dy in range(1, LINE_SLACK + 1):
        slack |= _shift(small, dy, 0, False) | _shift(small, -dy, 0, False)
    length = max(4, round(max(small.shape) * LINE_LENGTH))
    turn = _best_turn(small)
    every = None if small_valid.all() else small_valid
    share = np.max([_run_share(slack, every, turn + spread, length) for spread in SPREAD_TURNS], axis=0)
    line = np.repeat(np.repeat(share >= LINE_SHARE, 2, axis=0), 2, axis=1)
    return line[: ridges.shape[0], : ridges.shape[1]]


def _remove_horizontal_lines(darkness: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Printed lines running within MAX_TURN degrees of horizontal, replaced by what lies above and below them."""
    height, width = darkness.shape
    reach = max(2, round(max(darkness.shape) * RIDGE_REACH))
    neighbours = np.maximum(_shift(darkness, reach, 0, 0.0), _shift(darkness, -reach, 0, 0.0))
    ridges = (darkness - neighbours > RIDGE_DARKNESS) & valid
    if not ridges.any():
        return darkness
    band = _long_lines(ridges, valid) & (ridges | _shift(ridges, 1, 0, False) | _shift(ridges, -1, 0, False))
    if not band.any():
        return darkness
    # The nearest pixel off the band above and below each band pixel: a stroke crossing the line is ink on
    # both sides, so it is carried across; paper on either side means the line alone was there.
    rows = np.arange(height)[:, None]
    above = np.maximum.accumulate(np.where(band, -1, rows), axis=0)
    below = np.minimum.accumulate(np.where(band, height, rows)[::-1], axis=0)[::-1]
    above = np.where(above < 0, below, above).clip(0, height - 1)
    below = np.where(below >= height, above, below).clip(0, height - 1)
    cols = np.arange(width)[None, :]
    across = np.minimum(darkness[above, cols], darkness[below, cols])
    # Ink laid along the line (a 7's bar on a ruled line) is darker than the line: keep what is beyond it.
    printed = float(np.percentile(darkness[band], 90))
    return np.where(band, np.maximum(across, darkness - printed), darkness)


def remove_lines(darkness: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Printed ruled and squared paper lines (near-horizontal, then near-vertical) removed from darkness."""
    darkness = _remove_horizontal_lines(darkness, valid)
    # Vertical lines are horizontal ones of the transposed image (copied: row-wise work is faster on rows).
    return _remove_horizontal_lines(np.ascontiguousarray(darkness.T), np.ascontiguousarray(valid.T)).T


# ---------------------------------------------------------------- ink


def _stretch(darkness: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Darkness -> ink in [0, 1]: below the paper's noise floor white, the strokes' core full ink."""
    values = darkness[paper]
    if values.size == 0:
        return np.zeros_like(darkness)
    # Paper grain and JPEG noise: most pixels are paper, so their spread sets the floor.
    typical = float(np.median(values))
    spread = float(np.median(np.abs(values - typical)))
    floor = max(NOISE_FLOOR, typical + 4 * 1.4826 * spread)
    marked = values[values > floor]
    if marked.size == 0:
        return np.zeros_like(darkness)
    # The core of the strokes, whatever share of the image they fill.
    strong = max(float(np.percentile(marked, 90)), MIN_STROKE)
    return np.clip((darkness - floor) / max(0.8 * strong - floor, 1e-3), 0.0, 1.0) * paper


def _drop_border_marks(ink: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Marks (8-connected ink at segment's digit threshold) touching the photo's border or the edge of
    `inside` removed."""
    found = components(ink >= MASK_THRESHOLD)
    edge = _frame_ring(ink.shape) | (inside & ~np.min([_shift(inside, dy, dx, False) for dy in (-1, 0, 1)
                                                       for dx in (-1, 0, 1)], axis=0))
    touching = np.unique(found.labels[edge & (found.labels > 0)])
    if touching.size == 0:
        return ink
    # The faint rim of a dropped mark goes with it.
    dropped = np.isin(found.labels, touching)
    for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        dropped |= _shift(dropped, dy, dx, False) & (ink < MASK_THRESHOLD)
    return np.where(dropped, 0.0, ink).astype(np.float32)


def photo_ink(grey: np.ndarray) -> np.ndarray:
    """Grey photo (float32 [0, 1], dark writing on lighter paper) -> ink in [0, 1] (float32, same shape)."""
    sheet = find_sheet(grey)
    inside = np.ones(grey.shape, dtype=bool) if sheet is None else sheet
    paper = background(grey)
    # Relative to the paper: light falls on ink and paper alike, so in a shadow both are darker.
    darkness = np.where(inside, (paper - grey) / np.maximum(paper, 0.1), 0.0).astype(np.float32)
    darkness = remove_lines(darkness, inside)
    ink = _stretch(darkness, inside)
    return _drop_border_marks(ink, inside)
