"""Pad-like variations of MNIST digits, normalised exactly as the page normalises a drawing.

People draw on a big canvas at any size, stroke width, slant and position; pyapp.preprocess then crops the
ink, scales its long side to 20 px and centres it by mass. So each digit is re-rendered at 2x resolution
(one bilinear sampling that applies a random affine map and a smooth elastic field), its strokes are made
thicker or thinner, sometimes hardened like a pen or broken, and the result goes through the page's own
`normalise_ink`. Position and overall size then vanish, as they do on the page; what remains is shape,
slant, aspect ratio, stroke width and stroke texture.

Pure numpy (no scipy/OpenCV: the train extra does not install them), vectorised over chunks of digits and
spread over processes; each chunk has its own seed, so the result does not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from pyapp.config import MODEL_SIDE
from pyapp.preprocess import normalise_ink

UPSCALE = 2  # render at 2x: stroke width in half-pixel steps, then downsampled by area as on the pad
CANVAS = 36 * UPSCALE  # room for a digit rotated, sheared and grown by the limits below
CHUNK = 64  # digits per vectorised step: bigger chunks spend their time page-faulting huge temporaries


@dataclass(frozen=True)
class Limits:
    """How far each variation goes; sampled uniformly unless noted."""

    rotation_deg: float = 15.0
    shear: float = 0.3  # x += shear * y: a slanted hand
    log_aspect: float = 0.25  # x/y stretch, as exp(+-): narrow or wide writers
    elastic_px: float = 1.6  # peak displacement of the smooth field, in 28-px units
    thicken_px: int = 3  # dilation radius at 2x resolution (up to 1.5 px at 28)
    thin_px: int = 2  # erosion radius at 2x resolution (a thin pen on a big digit: strokes ~1 px at 28)
    pen_probability: float = 0.4  # harden grey strokes to near-binary ink, like a canvas pen
    break_probability: float = 0.15  # erase a few small blobs: a broken or lifted stroke
    # MNIST's 1s are nearly all plain strokes; many hands (most of Europe) start a 1 with a long up-stroke,
    # which an MNIST model reads as a 7. Some 1s get that flag: from the top of the stroke, down and to
    # the left at 30-60 degrees below the horizontal (a 7's bar is flatter), 20-45% of the digit's height long.
    flag_probability: float = 0.2


LIMITS = Limits()
PLAIN_FRACTION = 0.25  # share of each epoch only enlarged and re-normalised: the undisturbed reference
DESCRIPTION = (
    f"each epoch, {1 - PLAIN_FRACTION:.0%} of the digits are re-rendered fresh at {UPSCALE}x resolution with rotation "
    f"+-{LIMITS.rotation_deg:g} deg, shear +-{LIMITS.shear:g}, aspect x/ exp(+-{LIMITS.log_aspect:g}), a smooth "
    f"elastic field (up to {LIMITS.elastic_px:g} px), thicker (40%) or thinner (35%) strokes, pen-like "
    f"hardening ({LIMITS.pen_probability:.0%}) and broken strokes ({LIMITS.break_probability:.0%}); "
    f"{LIMITS.flag_probability:.0%} of the varied 1s get a European up-stroke (flag) first; "
    "and the plain rest only enlarged (bilinear, random sub-pixel phase, as the pad does); every digit then goes "
    "through pyapp.preprocess.normalise_ink (crop, long side 20 px, centre of mass)."
)


def _affine(rng: np.random.Generator, count: int, limits: Limits) -> np.ndarray:
    """[count, 2, 2] maps from output (y, x) offsets to source offsets: rotation, shear, aspect."""
    angle = np.deg2rad(rng.uniform(-limits.rotation_deg, limits.rotation_deg, count))
    shear = rng.uniform(-limits.shear, limits.shear, count)
    aspect = np.exp(rng.uniform(-limits.log_aspect, limits.log_aspect, count))
    cos, sin = np.cos(angle), np.sin(angle)
    rotate = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    shear_m = np.zeros((count, 2, 2))
    shear_m[:, 0, 0] = 1.0
    shear_m[:, 1, 1] = 1.0
    shear_m[:, 1, 0] = shear  # x' = x + shear * y
    stretch = np.zeros((count, 2, 2))
    stretch[:, 0, 0] = 1.0 / np.sqrt(aspect)
    stretch[:, 1, 1] = np.sqrt(aspect)
    forward = rotate @ shear_m @ stretch
    return np.linalg.inv(forward)  # sampling needs output -> source


def _elastic(rng: np.random.Generator, count: int, size: int, amplitude: float) -> np.ndarray:
    """[count, 2, size, size] smooth displacement: random 4x4 control grid, bilinearly upsampled."""
    grid = rng.normal(0.0, 1.0, (count, 2, 4, 4)).astype(np.float32)
    grid *= amplitude / np.abs(grid).max(axis=(1, 2, 3), keepdims=True)
    grid *= rng.uniform(0.0, 1.0, (count, 1, 1, 1)).astype(np.float32)  # some barely bent, some a lot
    # Linear interpolation as a [size, 4] matrix, applied to rows and columns (two small matmuls).
    position = np.linspace(0.0, 3.0, size, dtype=np.float32)
    weights = np.clip(1.0 - np.abs(position[:, None] - np.arange(4, dtype=np.float32)[None, :]), 0.0, None)
    return weights @ grid @ weights.T


def _sample(images: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Bilinear sampling of [B, H, W] at float coordinates [B, h, w]; outside the image is background."""
    count, height, width = images.shape
    padded = np.zeros((count, height + 2, width + 2), np.float32)
    padded[:, 1:-1, 1:-1] = images
    ys = np.clip(ys + 1, 0, height + 0.999, dtype=np.float32)
    xs = np.clip(xs + 1, 0, width + 0.999, dtype=np.float32)
    y0, x0 = ys.astype(np.intp), xs.astype(np.intp)  # floor: coordinates are >= 0 here
    y1, x1 = np.minimum(y0 + 1, height + 1), np.minimum(x0 + 1, width + 1)
    fy, fx = ys - y0, xs - x0
    flat = padded.reshape(-1)
    stride = width + 2
    base = (np.arange(count) * (height + 2) * stride)[:, None, None]

    def at(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        return flat.take(base + y * stride + x)

    top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx
    bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx
    return top * (1 - fy) + bottom * fy


def _max_filter(images: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Per-image square max filter of the given radius (0 = unchanged); separable, so cheap."""
    out = images.copy()
    # Each pass grows the ink by one pixel; the canvas border is background, so wrapping is harmless.
    for step in range(1, int(radius.max(initial=0)) + 1):
        grow = np.flatnonzero(radius >= step)
        part = out[grow]
        part = np.maximum(part, np.roll(part, 1, axis=1))
        part = np.maximum(part, np.roll(part, -1, axis=1))
        part = np.maximum(part, np.roll(part, 1, axis=2))
        out[grow] = np.maximum(part, np.roll(part, -1, axis=2))
    return out


def _stroke_width(images: np.ndarray, rng: np.random.Generator, limits: Limits) -> np.ndarray:
    """Thicker (dilate, radius 1..thicken_px) for 40%, thinner (erode) for 35%, as is for the rest."""
    count = len(images)
    choice = rng.uniform(size=count)
    thick = np.where(choice < 0.40, rng.integers(1, limits.thicken_px + 1, count), 0)
    thin = np.where(choice > 0.65, rng.integers(1, limits.thin_px + 1, count), 0)
    images = _max_filter(images, thick)
    return 1.0 - _max_filter(1.0 - images, thin)


def _pen(images: np.ndarray, rng: np.random.Generator, limits: Limits) -> np.ndarray:
    """Harden grey strokes to nearly binary ink with soft edges, as a canvas pen draws."""
    pick = rng.uniform(size=len(images)) < limits.pen_probability
    level = rng.uniform(0.25, 0.75, (len(images), 1, 1))  # high levels also thin the stroke
    hard = np.clip((images - level) * 6.0 + 0.5, 0.0, 1.0)
    return np.where(pick[:, None, None], hard, images)


def _breaks(images: np.ndarray, rng: np.random.Generator, limits: Limits) -> np.ndarray:
    """Erase 1-3 small discs on some digits: a pen lifted for a moment."""
    count, size, _ = images.shape
    pick = np.flatnonzero(rng.uniform(size=count) < limits.break_probability)
    yy, xx = np.mgrid[0:size, 0:size]
    for index in pick:
        ink_y, ink_x = np.nonzero(images[index] > 0.5)
        if ink_y.size == 0:
            continue
        for _ in range(rng.integers(1, 4)):
            spot = rng.integers(ink_y.size)
            radius = rng.uniform(1.0, 2.2) * UPSCALE
            hole = (yy - ink_y[spot]) ** 2 + (xx - ink_x[spot]) ** 2 < radius**2
            images[index][hole] = 0.0
    return images


def _segment_ink(
    size: int, start: tuple[float, float], end: tuple[float, float], width: float
) -> np.ndarray:
    """[size, size] anti-aliased ink of a straight stroke from start to end ((y, x) pixel centres)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    (y0, x0), (y1, x1) = start, end
    dy, dx = y1 - y0, x1 - x0
    along = np.clip(((yy - y0) * dy + (xx - x0) * dx) / max(dy * dy + dx * dx, 1e-6), 0.0, 1.0)
    distance = np.hypot(yy - (y0 + along * dy), xx - (x0 + along * dx))
    return np.clip(width / 2 + 0.5 - distance, 0.0, 1.0)


def add_flags(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, limits: Limits = LIMITS) -> np.ndarray:
    """[B, 28, 28] digits: give some of the 1s a flag (see Limits.flag_probability); others unchanged."""
    out = images.copy()
    picked = np.flatnonzero((labels == 1) & (rng.uniform(size=len(images)) < limits.flag_probability))
    for index in picked:
        digit = out[index]
        rows = np.flatnonzero((digit > 0.5).any(axis=1))
        if rows.size < 8:
            continue
        top, height = rows[0], rows[-1] - rows[0] + 1
        columns = np.flatnonzero(digit[top : top + 3].max(axis=0) > 0.5)
        # The stroke's width: ink per row, where the 1 is a plain stroke (its middle).
        width = float((digit[top + height // 4 : top + 3 * height // 4] > 0.5).sum(axis=1).mean())
        length = rng.uniform(0.2, 0.45) * height
        angle = np.deg2rad(rng.uniform(30.0, 60.0))
        start = (float(top) + 0.5, float(columns.mean()))
        end = (start[0] + length * np.sin(angle), start[1] - length * np.cos(angle))
        out[index] = np.maximum(digit, _segment_ink(digit.shape[0], start, end, max(width, 1.5)))
    return out


def _grid() -> np.ndarray:
    """[2, CANVAS*CANVAS] output pixel centres in 28-px units around the canvas centre."""
    offsets = (np.arange(CANVAS) - (CANVAS - 1) / 2) / UPSCALE
    oy, ox = np.meshgrid(offsets, offsets, indexing="ij")
    return np.stack([oy, ox]).astype(np.float32).reshape(2, -1)


def enlarge(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """[B, 28, 28] -> [B, CANVAS, CANVAS]: only enlarged (bilinear, random sub-pixel phase), as the pad
    enlarges a digit before pyapp shrinks it back; the "plain" digits go this way too."""
    count = len(images)
    source = np.broadcast_to(_grid(), (count, 2, CANVAS * CANVAS)).reshape(count, 2, CANVAS, CANVAS)
    source = source + rng.uniform(-0.5, 0.5, (count, 2, 1, 1)).astype(np.float32) + (MODEL_SIDE - 1) / 2
    return _sample(images, source[:, 0], source[:, 1])


def render(images: np.ndarray, rng: np.random.Generator, limits: Limits = LIMITS) -> np.ndarray:
    """[B, 28, 28] digits -> [B, CANVAS, CANVAS] varied ink at UPSCALE resolution (not yet normalised)."""
    count = len(images)
    inverse = _affine(rng, count, limits)
    source = (inverse.astype(np.float32) @ _grid()).reshape(count, 2, CANVAS, CANVAS)
    source += _elastic(rng, count, CANVAS, limits.elastic_px)
    source += (MODEL_SIDE - 1) / 2
    shape = _sample(images, source[:, 0], source[:, 1])
    canvas = _breaks(_pen(_stroke_width(shape, rng, limits), rng, limits), rng, limits)
    return _legible(shape, canvas)


def _legible(shape: np.ndarray, canvas: np.ndarray, keep: float = 0.15) -> np.ndarray:
    """Undo the stroke edits where they erased most of a digit (thin pen + high threshold + breaks on a
    faint digit leave a few specks): a label on an illegible image only teaches noise."""
    count = len(shape)
    shape_flat, canvas_flat = shape.reshape(count, -1), canvas.reshape(count, -1)
    # Relative to each image's peak: a faint thin stroke is fine, normalise_ink brightens it again.
    before = (shape_flat > 0.3 * shape_flat.max(axis=1, keepdims=True)).sum(axis=1)
    after = (canvas_flat > 0.3 * canvas_flat.max(axis=1, keepdims=True)).sum(axis=1)
    lost = after < keep * before
    canvas[lost] = shape[lost]
    return canvas


def renormalise_batch(ink: np.ndarray) -> np.ndarray:
    """[B, H, W] ink -> [B, 28, 28] through the page's normalise_ink (an empty one stays black)."""
    out = np.zeros((len(ink), MODEL_SIDE, MODEL_SIDE), np.float32)
    for index, one in enumerate(ink):
        digit = normalise_ink(one)
        if digit is not None:
            out[index] = digit
    return out


def _augment_chunk(job: tuple[np.ndarray, np.ndarray | None, int, float]) -> np.ndarray:
    images, labels, seed, clean_fraction = job
    rng = np.random.default_rng(seed)
    plain = rng.uniform(size=len(images)) < clean_fraction
    out = np.empty((len(images), MODEL_SIDE, MODEL_SIDE), np.float32)
    if (~plain).any():  # the numpy steps assume a non-empty batch
        varied = images[~plain] if labels is None else add_flags(images[~plain], labels[~plain], rng)
        out[~plain] = renormalise_batch(render(varied, rng))
    if plain.any():
        out[plain] = renormalise_batch(enlarge(images[plain], rng))
    return out


def _map(function: object, jobs: list, workers: int) -> list[np.ndarray]:
    if workers <= 1:
        return [function(job) for job in jobs]  # type: ignore[operator]
    # "spawn", not Linux's default fork: the trainer has TensorFlow's threads running by now, and forking a
    # threaded process can copy a held lock into the child; the workers need only numpy and pyapp.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(function, jobs))  # type: ignore[arg-type]


def augment_split(
    images: np.ndarray,
    seed: int,
    clean_fraction: float = PLAIN_FRACTION,
    workers: int = 2,
    labels: np.ndarray | None = None,
) -> np.ndarray:
    """[N, 28, 28, 1] normalised digits -> same shape, each varied (or kept plain with `clean_fraction`);
    with `labels`, some varied 1s get a flag too."""
    flat = images[..., 0]
    jobs = [
        (flat[i : i + CHUNK], None if labels is None else labels[i : i + CHUNK], seed * 100_003 + i, clean_fraction)
        for i in range(0, len(flat), CHUNK)
    ]
    return np.concatenate(_map(_augment_chunk, jobs, workers))[..., None]


def _renormalise_chunk(images: np.ndarray) -> np.ndarray:
    return renormalise_batch(images)


def renormalise(images: np.ndarray, workers: int = 2) -> np.ndarray:
    """[N, 28, 28, 1] MNIST digits -> the same digits as the page would normalise them."""
    flat = images[..., 0]
    jobs = [flat[i : i + CHUNK] for i in range(0, len(flat), CHUNK)]
    return np.concatenate(_map(_renormalise_chunk, jobs, workers))[..., None]
