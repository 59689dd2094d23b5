"""Digits drawn the way the page's pad draws them: pen strokes of constant width with round caps.

MNIST digits are scanned pen strokes; on the page people draw with a mouse, a finger or a pen, and the canvas
strokes a round pen of one width (lineCap/lineJoin round, anti-aliased). This module makes such drawings in
the many styles people use (an open or closed 4, a 1 with a flag and a base, a 7 with a bar, an 8 in one
stroke or two loops, ...) to train the model and to build test numbers:

- digit_strokes: one seeded drawing of a digit as pen-down strokes in units of its height;
- place: those strokes scaled, slanted and moved into pad pixels;
- render: the strokes' ink as the canvas draws it, fast enough to draw many pads (numpy only).

Each style builds its strokes from a few random proportions (loop sizes, how far a loop closes, where a
stroke starts and ends); digit_strokes then adds what every hand adds: a small wobble, a small rotation,
a narrower or wider hand. Same generator state -> same drawing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Builder = Callable[[np.random.Generator], list[np.ndarray]]

STEP = 0.012  # spacing of the points a template is built from (in heights): curves look smooth at any size
THIN = 0.016  # digit_strokes keeps about one point per this much length: smooth to 0.2 px at 280 px tall
MAX_GAP = 0.025  # and its points are never further apart than this (in heights)
CHUNK = 12  # segments rendered together: fewer numpy calls, boxes still small (see render)

_BUILDERS: dict[int, dict[str, Builder]] = {digit: {} for digit in range(10)}


def _style(digit: int, name: str) -> Callable[[Builder], Builder]:
    """Register a builder as one of `digit`'s styles."""

    def register(builder: Builder) -> Builder:
        _BUILDERS[digit][name] = builder
        return builder

    return register


# ---- pieces of strokes, in units of the digit's height (x right, y down) ----


def _densify(points: np.ndarray, step: float) -> np.ndarray:
    """Insert points along each segment so none is longer than `step` (the shape is unchanged)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(points) < 2:
        return points
    lengths = np.hypot(*np.diff(points, axis=0).T)
    parts = np.maximum(1, np.ceil(lengths / step).astype(int))
    segment = np.repeat(np.arange(len(parts)), parts)
    fraction = (np.arange(parts.sum()) - np.repeat(np.cumsum(parts) - parts, parts)) / np.repeat(parts, parts)
    inner = points[segment] + fraction[:, None] * (points[segment + 1] - points[segment])
    return np.vstack([inner, points[-1:]])


def _line(*points: tuple[float, float]) -> np.ndarray:
    """A polyline with sharp corners through `points`."""
    return _densify(np.array(points, dtype=np.float64), STEP)


def _arc(centre: tuple[float, float], radii: tuple[float, float], start: float, end: float) -> np.ndarray:
    """Part of an ellipse from angle `start` to `end` (degrees; 0 = right, 90 = bottom, -90 = top, since y
    points down; increasing angles turn clockwise on the screen)."""
    length = abs(np.radians(end - start)) * max(radii)
    angles = np.radians(np.linspace(start, end, max(2, int(np.ceil(length / STEP)) + 1)))
    return np.column_stack([centre[0] + radii[0] * np.cos(angles), centre[1] + radii[1] * np.sin(angles)])


def _on_arc(centre: tuple[float, float], radii: tuple[float, float], angle: float) -> tuple[float, float]:
    rad = np.radians(angle)
    return centre[0] + radii[0] * np.cos(rad), centre[1] + radii[1] * np.sin(rad)


def _curve(*points: tuple[float, float], lead: bool = False, trail: bool = False) -> np.ndarray:
    """A smooth curve through `points`: centripetal Catmull-Rom, which neither loops nor overshoots between
    close control points as the uniform kind does. With `lead` (`trail`) the first (last) point only sets
    the direction at the second (last but one): a curve that goes on from an arc without a kink."""
    knots = np.array(points, dtype=np.float64)
    padded = np.vstack([2 * knots[0] - knots[1], knots, 2 * knots[-1] - knots[-2]])
    first, last = 1 + lead, len(padded) - 2 - trail
    pieces = [padded[first : first + 1]]
    for i in range(first, last):
        pieces.append(_catmull_rom(padded[i - 1 : i + 3])[1:])
    return _densify(np.vstack(pieces), STEP)


def _catmull_rom(p: np.ndarray) -> np.ndarray:
    """Points of the span p[1] -> p[2] (Barry and Goldman's pyramid, alpha 0.5)."""
    gaps = np.maximum(np.hypot(*np.diff(p, axis=0).T), 1e-9) ** 0.5
    t = np.concatenate([[0.0], np.cumsum(gaps)])
    count = max(2, int(np.ceil(np.hypot(*(p[2] - p[1])) / STEP * 1.5)) + 1)
    s = np.linspace(t[1], t[2], count)[:, None]

    def mix(a: np.ndarray, b: np.ndarray, ta: float, tb: float) -> np.ndarray:
        return ((tb - s) * a + (s - ta) * b) / (tb - ta)

    a1, a2, a3 = (mix(p[i], p[i + 1], t[i], t[i + 1]) for i in range(3))
    b1, b2 = mix(a1, a2, t[0], t[2]), mix(a2, a3, t[1], t[3])
    return mix(b1, b2, t[1], t[2])


def _join(*pieces: np.ndarray) -> np.ndarray:
    """One stroke through the pieces in turn (a piece's first point repeats the last one's end: dropped)."""
    out = [pieces[0]]
    for piece in pieces[1:]:
        same = np.allclose(piece[0], out[-1][-1], atol=1e-9)
        out.append(piece[1:] if same else piece)
    return np.vstack(out)


def _u(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _chance(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


# ---- the styles ----


def _oval(rng: np.random.Generator, width: float, extra: float, drift: float = 0.06) -> list[np.ndarray]:
    """A 0: one loop from near the top, mostly anticlockwise; `extra` degrees past a full turn (<0: a gap).
    The loop drifts in or out by up to `drift` of its size, so an overshoot does not retrace its start."""
    centre = (width / 2, 0.5)
    start = -90 + _u(rng, -30, 30)
    turn = (360 + extra) * (-1 if _chance(rng, 0.8) else 1)
    loop = _arc(centre, (width / 2, 0.5), start, start + turn) - centre
    egg = 1 + _u(rng, -0.12, 0.12) * loop[:, 1:] * 2  # wider at the bottom or at the top
    spiral = 1 + _u(rng, -drift, drift) * np.linspace(0.0, 1.0, len(loop))[:, None]
    return [loop * np.hstack([egg, np.ones_like(egg)]) * spiral + centre]


@_style(0, "oval")
def _zero_oval(rng: np.random.Generator) -> list[np.ndarray]:
    return _oval(rng, _u(rng, 0.5, 0.8), _u(rng, -8, 20))


@_style(0, "overshoot")
def _zero_overshoot(rng: np.random.Generator) -> list[np.ndarray]:
    return _oval(rng, _u(rng, 0.45, 0.75), _u(rng, 25, 70), 0.15)


@_style(0, "gap")
def _zero_gap(rng: np.random.Generator) -> list[np.ndarray]:
    return _oval(rng, _u(rng, 0.45, 0.75), _u(rng, -45, -15))


@_style(0, "narrow")
def _zero_narrow(rng: np.random.Generator) -> list[np.ndarray]:
    return _oval(rng, _u(rng, 0.3, 0.45), _u(rng, -10, 30))


def _stick(rng: np.random.Generator) -> np.ndarray:
    """A 1's stem from the top (0, 0) down, slightly bowed or leaning."""
    return _curve((0.0, 0.0), (_u(rng, -0.03, 0.03), 0.5), (_u(rng, -0.05, 0.05), 1.0))


def _flag(rng: np.random.Generator) -> np.ndarray:
    """The European up-stroke that starts a 1: 20-45% of the height, 30-60 degrees below the horizontal."""
    length, angle = _u(rng, 0.2, 0.45), np.radians(_u(rng, 30, 60))
    start = (-length * np.cos(angle), length * np.sin(angle))
    bend = _u(rng, -0.03, 0.03)  # a slightly hollow or bulging up-stroke
    middle = (start[0] / 2 + bend * np.sin(angle), start[1] / 2 - bend * np.cos(angle))
    return _curve(start, middle, (0.0, 0.0))


@_style(1, "stick")
def _one_stick(rng: np.random.Generator) -> list[np.ndarray]:
    return [_stick(rng)]


@_style(1, "flag")
def _one_flag(rng: np.random.Generator) -> list[np.ndarray]:
    return [_join(_flag(rng), _stick(rng))]


@_style(1, "flag_base")
def _one_flag_base(rng: np.random.Generator) -> list[np.ndarray]:
    stem = _join(_flag(rng), _stick(rng))
    foot = stem[-1, 0]
    y = 1.0 + _u(rng, -0.01, 0.02)
    return [stem, _line((foot - _u(rng, 0.15, 0.3), y), (foot + _u(rng, 0.15, 0.3), y + _u(rng, -0.02, 0.02)))]


def _two(rng: np.random.Generator, loop: bool) -> list[np.ndarray]:
    """A 2: a hook from the left over the top and round the right side, a neck down to the bottom-left
    (hollow, straight or bulging), a base to the right; or, with `loop`, a curl at the bottom-left."""
    radii = (_u(rng, 0.24, 0.34), _u(rng, 0.2, 0.3))
    turn = _u(rng, 365, 395)
    hook = _arc(radii, radii, _u(rng, 165, 210), turn)
    guide, end = _on_arc(radii, radii, turn - 25), tuple(hook[-1])
    corner = (_u(rng, 0.0, 0.08), 1.0)
    bow = _u(rng, -0.05, 0.05)
    middle = ((end[0] + corner[0]) / 2 + bow, (end[1] + corner[1]) / 2 + bow)
    base_end = (2 * radii[0] * _u(rng, 0.9, 1.15), 1.0 + _u(rng, -0.05, 0.01))
    if not loop:
        return [_join(hook, _curve(guide, end, middle, corner, lead=True), _line(corner, base_end))]
    # The curl, clockwise on the screen: in at its lower right heading down-left, along its bottom, up its left,
    # over its top, out at its upper right across the way in, then down and along the base.
    r = _u(rng, 0.08, 0.13)
    centre = (corner[0] + r, 1.0 - r)
    curl = [_on_arc(centre, (r, r), angle) for angle in (40, 95, 180, 265, 330)]
    sweep = (centre[0] + _u(rng, 2.0, 2.8) * r, 1.0 + _u(rng, -0.01, 0.02))
    return [_join(hook, _curve(guide, end, middle, *curl, sweep, base_end, lead=True))]


@_style(2, "plain")
def _two_plain(rng: np.random.Generator) -> list[np.ndarray]:
    return _two(rng, loop=False)


@_style(2, "loop")
def _two_loop(rng: np.random.Generator) -> list[np.ndarray]:
    return _two(rng, loop=True)


def _belly(rng: np.random.Generator, top: tuple[float, float], start: float, low: float) -> np.ndarray:
    """The lower curve of a 3 or a 5: from `top`, where the ellipse is at angle `start`, clockwise round
    the right side to the bottom-left."""
    rx, ry = _u(rng, 0.26, 0.36), (1.0 - top[1]) / (1 - np.sin(np.radians(start)))
    centre = (top[0] - rx * np.cos(np.radians(start)), top[1] - ry * np.sin(np.radians(start)))
    return _arc(centre, (rx, ry), start, _u(rng, low, 170))


@_style(3, "round")
def _three_round(rng: np.random.Generator) -> list[np.ndarray]:
    rx, ry = _u(rng, 0.22, 0.3), _u(rng, 0.2, 0.25)
    top = _arc((rx + 0.02, ry), (rx, ry), _u(rng, 170, 215), _u(rng, 440, 470))
    middle = tuple(top[-1])
    return [_join(top, _belly(rng, middle, _u(rng, -130, -100), 125))]


@_style(3, "flat")
def _three_flat(rng: np.random.Generator) -> list[np.ndarray]:
    width = _u(rng, 0.45, 0.65)
    left, right = (_u(rng, 0.0, 0.08), _u(rng, -0.02, 0.03)), (width, 0.0)
    middle = (width * _u(rng, 0.25, 0.5), _u(rng, 0.35, 0.45))
    return [_join(_line(left, right, middle), _belly(rng, middle, _u(rng, -115, -85), 125))]


@_style(4, "open")
def _four_open(rng: np.random.Generator) -> list[np.ndarray]:
    width, bar = _u(rng, 0.55, 0.8), _u(rng, 0.55, 0.7)
    corner = (_u(rng, 0.0, 0.05), bar)
    top = (_u(rng, 0.0, 0.3), 0.0)
    arm = _line(top, corner, (width, bar + _u(rng, -0.04, 0.02)))
    stem_x = width * _u(rng, 0.55, 0.78)
    stem = _line((stem_x, _u(rng, -0.08, 0.3)), (stem_x + _u(rng, -0.05, 0.04), 1.0))
    return [arm, stem]


@_style(4, "closed")
def _four_closed(rng: np.random.Generator) -> list[np.ndarray]:
    width, bar = _u(rng, 0.55, 0.8), _u(rng, 0.55, 0.72)
    apex = (width * _u(rng, 0.5, 0.75), 0.0)
    foot = (apex[0] + _u(rng, -0.05, 0.04), 1.0)
    corner = (_u(rng, 0.0, 0.05), bar)
    bar_end = (width, bar + _u(rng, -0.04, 0.02))
    if _chance(rng, 0.3):  # in one stroke: up the stem, down the diagonal, along the bar
        return [_line(foot, apex, corner, bar_end)]
    return [_line(apex, corner, bar_end), _line((apex[0] + _u(rng, -0.02, 0.02), _u(rng, -0.03, 0.05)), foot)]


def _five_body(rng: np.random.Generator) -> tuple[np.ndarray, tuple[float, float]]:
    """A 5's down-stroke and belly; returns the stroke and the top of the down-stroke."""
    neck = (_u(rng, 0.02, 0.1), _u(rng, 0.38, 0.5))
    belly = _belly(rng, neck, _u(rng, -150, -120), 120)
    top = (neck[0] + _u(rng, -0.02, 0.07), 0.0)
    return _join(_line(top, neck), belly), top


@_style(5, "two_strokes")
def _five_two(rng: np.random.Generator) -> list[np.ndarray]:
    body, top = _five_body(rng)
    start = (top[0] + _u(rng, -0.03, 0.04), top[1] + _u(rng, -0.04, 0.02))
    if _chance(rng, 0.3):  # the bar floats above and right of the down-stroke, not touching it
        start = (top[0] + _u(rng, 0.04, 0.1), top[1] - _u(rng, 0.04, 0.1))
    return [body, _line(start, (top[0] + _u(rng, 0.4, 0.65), start[1] + _u(rng, -0.04, 0.02)))]


@_style(5, "one_stroke")
def _five_one(rng: np.random.Generator) -> list[np.ndarray]:
    body, top = _five_body(rng)
    return [_join(_line((top[0] + _u(rng, 0.4, 0.65), _u(rng, -0.04, 0.02)), top), body)]


def _six(rng: np.random.Generator, loop_height: tuple[float, float], reach: tuple[float, float]) -> list[np.ndarray]:
    """A 6: a stem from the top curving down the left into a loop; the stem's top `reach` loop radii right of
    the loop's centre (far right and low, a short stem reads as a sigma)."""
    ry = _u(rng, *loop_height) / 2
    rx = _u(rng, 0.25, 0.36)
    centre, radii = (rx + 0.02, 1.0 - ry), (rx, ry)
    top = (centre[0] + rx * _u(rng, *reach), 0.0)
    bend = (_u(rng, 0.05, 0.2), (1.0 - 2 * ry) * 0.6 + 0.1)
    joins = [_on_arc(centre, radii, angle) for angle in (190, 165, 140)]
    stem = _curve(top, bend, *joins, trail=True)
    return [_join(stem, _arc(centre, radii, 165, _u(rng, -200, -140)))]


@_style(6, "long_stem")
def _six_long(rng: np.random.Generator) -> list[np.ndarray]:
    return _six(rng, (0.34, 0.56), (0.0, 1.1))


@_style(6, "short_stem")
def _six_short(rng: np.random.Generator) -> list[np.ndarray]:
    return _six(rng, (0.58, 0.7), (-0.6, 0.2))


def _seven_top(rng: np.random.Generator) -> tuple[np.ndarray, tuple[float, float], tuple[float, float]]:
    """A 7's bar (sometimes with a small down-tick at its start); returns it, its right end and the foot."""
    width = _u(rng, 0.5, 0.75)
    left, right = (0.0, _u(rng, -0.02, 0.05)), (width, 0.0)
    bar = _line(left, right)
    if _chance(rng, 0.2):
        bar = _join(_line((left[0] + _u(rng, -0.02, 0.02), left[1] + _u(rng, 0.08, 0.15)), left), bar)
    return bar, right, (width * _u(rng, 0.15, 0.5), 1.0)


@_style(7, "plain")
def _seven_plain(rng: np.random.Generator) -> list[np.ndarray]:
    bar, corner, foot = _seven_top(rng)
    return [_join(bar, _line(corner, foot))]


@_style(7, "bar")
def _seven_bar(rng: np.random.Generator) -> list[np.ndarray]:
    bar, corner, foot = _seven_top(rng)
    y = _u(rng, 0.45, 0.6)
    x = corner[0] + (foot[0] - corner[0]) * y
    half = _u(rng, 0.12, 0.2)
    cross = _line((x - half, y + _u(rng, -0.02, 0.02)), (x + half * _u(rng, 0.7, 1.1), y + _u(rng, -0.04, 0.01)))
    return [_join(bar, _line(corner, foot)), cross]


@_style(7, "curved")
def _seven_curved(rng: np.random.Generator) -> list[np.ndarray]:
    bar, corner, foot = _seven_top(rng)
    # Steep at the top, steeper still at the bottom: the stem bows out to the lower right.
    bow = _u(rng, 0.07, 0.14)
    middle = (corner[0] + (foot[0] - corner[0]) * 0.55 + bow, 0.5)
    stem = _curve(corner, middle, foot)
    return [_join(bar, stem)]


@_style(8, "one_stroke")
def _eight_one(rng: np.random.Generator) -> list[np.ndarray]:
    """S down from the upper right, then back up through the middle: a figure of eight (a Lissajous curve
    with a smaller top loop)."""
    waist = _u(rng, 0.42, 0.5)
    half_top, half_bottom = _u(rng, 0.17, 0.28), _u(rng, 0.22, 0.34)
    shift = _u(rng, -0.04, 0.04)  # the top loop a little left or right of the bottom one
    t = np.linspace(_u(rng, -0.7, -0.2), 2 * np.pi + _u(rng, -0.5, 0.1), 240)
    upper = np.cos(t) > 0
    y = np.where(upper, waist * (1 - np.cos(t)), waist - (1 - waist) * np.cos(t))
    # sin(2t) makes pointed loops; a root of it makes them rounder, as people draw them.
    wave = np.sign(np.sin(2 * t)) * np.abs(np.sin(2 * t)) ** 0.7
    wave *= -1 if _chance(rng, 0.7) else 1  # over the top leftwards (an S), or rightwards (a mirrored S)
    x = np.where(upper, half_top * wave + shift, half_bottom * wave) + 0.4
    return [_densify(np.column_stack([x, y]), STEP)]


def _loop(rng: np.random.Generator, centre: tuple[float, float], radii: tuple[float, float]) -> np.ndarray:
    """A closed loop from a random point, either way round, closing a little short or past its start."""
    start = _u(rng, -180, 180)
    turn = (360 + _u(rng, -10, 30)) * (1 if _chance(rng, 0.5) else -1)
    return _arc(centre, radii, start, start + turn)


@_style(8, "two_loops")
def _eight_two(rng: np.random.Generator) -> list[np.ndarray]:
    top = _u(rng, 0.19, 0.25)
    top_radii, bottom_radii = (_u(rng, 0.17, 0.27), top), (_u(rng, 0.22, 0.33), 0.5 - top)
    centre = 0.35 + _u(rng, -0.04, 0.04)
    return [_loop(rng, (centre, top), top_radii), _loop(rng, (0.35, 2 * top + bottom_radii[1]), bottom_radii)]


def _nine_loop(rng: np.random.Generator) -> tuple[np.ndarray, tuple[float, float], tuple[float, float]]:
    """A 9's head from its right side, anticlockwise round to the right again; returns it, its centre and
    radii."""
    rx, ry = _u(rng, 0.22, 0.32), _u(rng, 0.17, 0.26)
    centre = (rx, ry)
    start = _u(rng, -20, 20)
    return _arc(centre, (rx, ry), start, _u(rng, -390, -350)), centre, (rx, ry)


@_style(9, "straight")
def _nine_straight(rng: np.random.Generator) -> list[np.ndarray]:
    head, _, _ = _nine_loop(rng)
    end = tuple(head[-1])
    return [_join(head, _line(end, (end[0] + _u(rng, -0.08, 0.02), 1.0)))]


@_style(9, "curved")
def _nine_curved(rng: np.random.Generator) -> list[np.ndarray]:
    head, _, _ = _nine_loop(rng)
    end = tuple(head[-1])
    # The stem goes down and hooks to the left at its foot.
    low = (end[0] + _u(rng, -0.04, 0.03), _u(rng, 0.7, 0.8))
    foot = (end[0] - _u(rng, 0.12, 0.28), 1.0)
    return [_join(head, _curve(end, low, (low[0] * 0.6 + foot[0] * 0.4, 0.96), foot))]


@_style(9, "separate")
def _nine_separate(rng: np.random.Generator) -> list[np.ndarray]:
    _, centre, radii = _nine_loop(rng)
    stem_x = centre[0] + radii[0] * _u(rng, 0.85, 1.05)
    stem = _line((stem_x, centre[1] - radii[1] * _u(rng, 0.3, 1.0)), (stem_x + _u(rng, -0.08, 0.02), 1.0))
    return [_loop(rng, centre, radii), stem]


STYLES: dict[int, tuple[str, ...]] = {digit: tuple(builders) for digit, builders in _BUILDERS.items()}


# ---- what every hand adds ----


def _wobble(stroke: np.ndarray, rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """A smooth random displacement along the stroke: tremor and the unevenness of fast writing."""
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(stroke, axis=0).T))])
    waves = rng.uniform(2.0, 9.0, size=(2, 3))  # radians per height: a wobble every 0.7..3 heights
    phases = rng.uniform(0, 2 * np.pi, size=(2, 3))
    weights = rng.uniform(0.3, 1.0, size=(2, 3)) * amplitude / 1.8
    offset = (weights[:, :, None] * np.sin(waves[:, :, None] * along + phases[:, :, None])).sum(axis=1)
    return stroke + offset.T


def _flick(stroke: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sometimes a short hook where the pen lands or lifts (fast writing): 0.02-0.05 of the height, bent
    60-130 degrees off the stroke's direction."""
    if len(stroke) < 4 or not _chance(rng, 0.2):
        return stroke
    at_end = _chance(rng, 0.6)
    points = stroke if at_end else stroke[::-1]
    heading = points[-1] - points[-4]
    angle = np.arctan2(heading[1], heading[0]) + np.radians(_u(rng, 60, 130)) * (1 if _chance(rng, 0.5) else -1)
    length = _u(rng, 0.02, 0.05)
    tip = points[-1] + length * np.array([np.cos(angle), np.sin(angle)])
    bend = points[-1] + 0.5 * length * (heading / max(np.hypot(*heading), 1e-9) + (tip - points[-1]) / length)
    hooked = _join(points, _curve(tuple(points[-1]), tuple(bend), tuple(tip)))
    return hooked if at_end else hooked[::-1]


def _thin(stroke: np.ndarray, step: float) -> np.ndarray:
    """Fewer points (about one per `step` of length) but every corner and the extremes kept (the box stays):
    the templates are built finer than a drawing needs, and each point costs render time."""
    if len(stroke) < 3:
        return stroke
    steps = np.diff(stroke, axis=0)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*steps.T))])
    heading = np.arctan2(steps[:, 1], steps[:, 0])
    turn = np.abs((np.diff(heading) + np.pi) % (2 * np.pi) - np.pi)
    keep = np.flatnonzero(np.diff(np.floor(along / step), prepend=-1) > 0)  # the first point of each step
    corners = np.flatnonzero(turn > np.radians(20)) + 1
    extremes = np.concatenate([stroke.argmin(axis=0), stroke.argmax(axis=0), [len(stroke) - 1]])
    return stroke[np.unique(np.concatenate([keep, corners, extremes]))]


def _normalise(strokes: list[np.ndarray]) -> list[np.ndarray]:
    """Top at y = 0, left edge at x = 0, height 1, width at most 1; points about THIN apart, never more than
    MAX_GAP."""
    x0, y0, x1, y1 = box(strokes)
    scale = np.array([1.0 / max(y1 - y0, x1 - x0, 1e-9), 1.0 / max(y1 - y0, 1e-9)])
    return [_densify(_thin((stroke - (x0, y0)) * scale, THIN), MAX_GAP) for stroke in strokes]


def digit_strokes(digit: int, rng: np.random.Generator, style: str | None = None) -> list[np.ndarray]:
    """One drawing of `digit` (a random style from STYLES[digit] when style is None): a list of pen-down
    strokes, each an (n, 2) float64 array of (x, y) points in units of the digit's height: y from 0 (top of
    the digit) to 1 (bottom), x from 0 (its left edge) to its width. Upright (the caller adds slant), points
    at most MAX_GAP apart. Proportions, loops, stroke ends, wobble, a small rotation and the hand's width
    vary per drawing."""
    if digit not in _BUILDERS:
        raise ValueError(f"not a digit: {digit!r}")
    builders = _BUILDERS[digit]
    if style is None:
        style = STYLES[digit][int(rng.integers(len(builders)))]
    if style not in builders:
        raise ValueError(f"no style {style!r} for {digit}: {', '.join(STYLES[digit])}")
    strokes = [_flick(stroke, rng) for stroke in builders[style](rng)]
    amplitude = _u(rng, 0.002, 0.012)
    strokes = [_wobble(stroke, rng, amplitude) for stroke in strokes]
    angle = np.radians(_u(rng, -5, 5))
    turn = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    stretch = np.array([np.exp(_u(rng, -0.15, 0.15)), 1.0])  # narrow and wide hands
    return _normalise([(stroke @ turn) * stretch for stroke in strokes])


# ---- onto the pad ----


def box(strokes: list[np.ndarray]) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of the points (no pen width)."""
    points = np.vstack(strokes)
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def place(strokes: list[np.ndarray], height: float, slant: float, left: float, top: float) -> list[np.ndarray]:
    """Strokes in pad pixels: scaled to `height` px tall, sheared x += slant * (1 - y) * height (positive
    leans right at the top), then moved so the drawing's box starts at (left, top)."""
    _, y0, _, y1 = box(strokes)
    scale = height / max(y1 - y0, 1e-9)  # digit_strokes' drawings are 1 tall; others are scaled alike
    sheared = []
    for stroke in strokes:
        y = (stroke[:, 1] - y0) * scale
        sheared.append(np.column_stack([stroke[:, 0] * scale + slant * (height - y), y]))
    x0, y0, _, _ = box(sheared)
    return [stroke - (x0 - left, y0 - top) for stroke in sheared]


def render(
    strokes: list[np.ndarray], pen: float, shape: tuple[int, int], ink: np.ndarray | None = None
) -> np.ndarray:
    """Ink float32 [H, W] in [0, 1] of the strokes drawn with a round pen `pen` px wide, anti-aliased like a
    canvas: coverage = clip(pen / 2 - distance_to_polyline + 0.5, 0, 1). A stroke of a single point is a dot.
    When `ink` is given, draws into it (np.maximum) and returns it."""
    if ink is None:
        ink = np.zeros(shape, dtype=np.float32)
    for stroke in strokes:
        points = np.asarray(stroke, dtype=np.float32).reshape(-1, 2)
        starts, ends = (points, points) if len(points) == 1 else (points[:-1], points[1:])
        # A few consecutive segments at a time, each group only over its own box: the distance of every pixel
        # to every segment would cost the whole pad per segment.
        for first in range(0, len(starts), CHUNK):
            _render_segments(ink, starts[first : first + CHUNK], ends[first : first + CHUNK], pen)
    return ink


def _render_segments(ink: np.ndarray, starts: np.ndarray, ends: np.ndarray, pen: float) -> None:
    reach = pen / 2 + 1
    both = np.vstack([starts, ends])
    x0, y0 = np.maximum(np.floor(both.min(axis=0) - reach).astype(int), 0)
    x1 = min(int(np.ceil(both[:, 0].max() + reach)), ink.shape[1])
    y1 = min(int(np.ceil(both[:, 1].max() + reach)), ink.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    # Pixel centres (a pixel spans [j, j + 1]), against each segment a -> b along a third axis.
    px = np.arange(x0, x1, dtype=np.float32)[None, None, :] + 0.5 - starts[:, 0, None, None]
    py = np.arange(y0, y1, dtype=np.float32)[None, :, None] + 0.5 - starts[:, 1, None, None]
    dx, dy = (ends - starts).T[:, :, None, None]
    t = np.clip((px * dx + py * dy) / np.maximum(dx * dx + dy * dy, 1e-12), 0.0, 1.0)
    distance = np.sqrt(((px - t * dx) ** 2 + (py - t * dy) ** 2).min(axis=0))
    coverage = np.clip(pen / 2 + 0.5 - distance, 0.0, 1.0)
    region = ink[y0:y1, x0:x1]
    np.maximum(region, coverage, out=region)
