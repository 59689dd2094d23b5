"""Paint MNIST digits onto a simulated drawing pad, the way the page would receive them.

Each 28x28 digit (white on black, [0, 1]) is enlarged with bilinear interpolation to a seeded size, placed at a
seeded position on a 280x280 RGBA pad as dark ink on white, and optionally varied (thicker or thinner pen,
slant, small or off-centre writing). Reading it back through pyapp.preprocess is "the pad path": the same
crop -> 20 px -> centre-of-mass steps the page runs on a real drawing. Needs only numpy and Pillow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from PIL import Image

from pyapp.preprocess import to_model_input

PAD_SIDE = 280
SCALE_RANGE = (7.0, 10.0)  # the 28-px frame becomes 196..280 px: the digit itself about 140..200 px


def enlarge(digit: np.ndarray, side: int) -> np.ndarray:
    """[28, 28] ink -> [side, side] ink, bilinear (as a browser scales a canvas)."""
    image = Image.fromarray(np.ascontiguousarray(digit, dtype=np.float32), mode="F")
    return np.asarray(image.resize((side, side), Image.Resampling.BILINEAR))


def place(ink: np.ndarray, top: int, left: int) -> np.ndarray:
    """Put `ink` on an empty PAD_SIDE pad at (top, left), clipping what falls off the edge."""
    pad = np.zeros((PAD_SIDE, PAD_SIDE), np.float32)
    height = min(ink.shape[0], PAD_SIDE - top)
    width = min(ink.shape[1], PAD_SIDE - left)
    pad[top : top + height, left : left + width] = ink[:height, :width]
    return pad


def to_rgba(ink: np.ndarray) -> np.ndarray:
    """Ink in [0, 1] -> opaque RGBA uint8, dark ink on white, as the canvas hands it over."""
    grey = np.round(255.0 * (1.0 - np.clip(ink, 0.0, 1.0))).astype(np.uint8)
    alpha = np.full_like(grey, 255)
    return np.stack([grey, grey, grey, alpha], axis=-1)


def paint(digit: np.ndarray, rng: np.random.Generator, scale: tuple[float, float] = SCALE_RANGE) -> np.ndarray:
    """One [28, 28] or [28, 28, 1] digit -> [280, 280] ink on the pad at a seeded size and position."""
    side = int(round(28 * rng.uniform(*scale)))
    ink = enlarge(np.asarray(digit).reshape(28, 28), side)
    room = max(0, PAD_SIDE - side)
    return place(ink, int(rng.integers(0, room + 1)), int(rng.integers(0, room + 1)))


def _pen(ink: np.ndarray, size: int, grow: bool) -> np.ndarray:
    """A wider (max filter) or narrower (min filter) pen: square size x size, done separably (PIL's rank
    filter costs size^2 per pixel)."""
    pick = np.maximum if grow else np.minimum
    out = ink
    for axis in (0, 1):
        padded = np.pad(out, [(size // 2, size // 2) if a == axis else (0, 0) for a in (0, 1)])
        length = out.shape[axis]
        result = padded.take(range(0, length), axis=axis)
        for shift in range(1, size):
            result = pick(result, padded.take(range(shift, shift + length), axis=axis))
        out = result
    return out


def _slant(ink: np.ndarray, shear: float) -> np.ndarray:
    """Shear about the pad's centre: x' = x + shear * (y - centre) (positive leans right at the top)."""
    centre = PAD_SIDE / 2
    image = Image.fromarray(ink, mode="F")
    # PIL's AFFINE maps output -> input: x_in = x_out + shear * (y_out - centre).
    matrix = (1.0, shear, -shear * centre, 0.0, 1.0, 0.0)
    return np.asarray(image.transform(image.size, Image.Transform.AFFINE, matrix, Image.Resampling.BILINEAR))


# Variations of "other people's handwriting" for the robustness table: name -> (paint scale, pad edit).
VARIATIONS: dict[str, tuple[tuple[float, float], Callable[[np.ndarray], np.ndarray] | None]] = {
    "as painted": (SCALE_RANGE, None),
    "pen 16 px wider": (SCALE_RANGE, lambda ink: _pen(ink, 17, grow=True)),
    "pen 12 px narrower": (SCALE_RANGE, lambda ink: _pen(ink, 13, grow=False)),
    "slant right (shear 0.35)": (SCALE_RANGE, lambda ink: _slant(ink, -0.35)),
    "slant left (shear -0.35)": (SCALE_RANGE, lambda ink: _slant(ink, 0.35)),
    "small (56-84 px frame)": ((2.0, 3.0), None),
    "tiny, thick (28-42 px)": ((1.0, 1.5), lambda ink: _pen(ink, 3, grow=True)),
    "large (to the edges)": ((10.0, 10.0), None),
    "off-centre corner": ((3.0, 4.0), None),
}


def pad_images(
    digits: np.ndarray,
    seed: int = 0,
    variation: str = "as painted",
    reader: Callable[[np.ndarray], np.ndarray | None] = to_model_input,
) -> Iterator[np.ndarray]:
    """Yield each digit painted on the pad (seeded) and read back by `reader` ([28, 28], zeros if empty)."""
    scale, edit = VARIATIONS[variation]
    rng = np.random.default_rng(seed)
    for digit in digits:
        ink = paint(digit, rng, scale)
        if edit is not None:
            ink = edit(ink)
        image = reader(to_rgba(ink))
        yield np.zeros((28, 28), np.float32) if image is None else image.reshape(28, 28)


def pad_batch(digits: np.ndarray, seed: int = 0, variation: str = "as painted") -> np.ndarray:
    """[N, 28, 28(, 1)] MNIST digits -> [N, 28, 28, 1] model inputs via the pad and pyapp.preprocess."""
    return np.stack(list(pad_images(digits, seed, variation)))[..., None].astype(np.float32)
