"""Image files (photos, scans, screenshots of handwritten digits) -> an RGBA pad: dark ink on white.

Pillow is imported inside decode_image: the page loads Pillow only when someone opens an image.
Steps, each for a failure seen in real files: refuse decompression bombs and non-images with a message
for people; apply EXIF orientation (phone photos); composite transparency on white; greyscale; shrink
large images early (JPEG draft mode, then thumbnail); flatten uneven lighting by subtracting a heavily
blurred background; turn light-on-dark images around; stretch so ink is black and paper white, keeping
anti-aliased grey levels (the model was trained on grey edges, not on binary strokes).
"""

from __future__ import annotations

import io
import warnings

import numpy as np

MAX_SIDE = 1000  # the long side after scaling down: plenty for digits, and a read stays fast
MAX_PIXELS = 40_000_000  # a bigger image is refused before it is decoded (decompression bombs)
BACKGROUND_WINDOW = 1 / 6  # box blur size for the lighting estimate, as a share of the long side
# After flattening, a pixel this much darker than its surroundings (0..1) is fully ink; paper noise
# below NOISE_FLOOR is white.
NOISE_FLOOR = 0.04


class ImageError(ValueError):
    """The file is not an image we can read; str(error) is a short message for people."""


def _open(data: bytes, max_side: int):
    """Open and fully decode (lazily shrunk) with bomb checks; raises ImageError."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ImageError("the file is empty")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow warns above this and raises above twice it
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise ImageError(f"the image is too large ({image.width}x{image.height} pixels)")
            image.draft("L", (max_side, max_side))  # JPEG decodes straight at 1/2..1/8 scale
            image = ImageOps.exif_transpose(image)  # loads the pixels too
    except ImageError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageError("the image is too large") from None
    except UnidentifiedImageError:
        raise ImageError("not an image file we can read") from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as error:
        raise ImageError(f"the image file is damaged ({error.__class__.__name__})") from None
    return image


def _grey_on_white(image, max_side: int) -> np.ndarray:
    """Any mode -> float32 grey in [0, 1], transparency composited on white, long side <= max_side."""
    from PIL import Image

    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit / float scans: rescale to 0..1
        values = np.asarray(image.convert("F"), dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        return (values - low) / (high - low) if high > low else np.ones_like(values)
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


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


def _light_ink(grey: np.ndarray) -> bool:
    """True for light ink on a dark background: the border (mostly paper) is darker than the middle grey."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return float(np.median(border)) < 0.5 and float(np.median(grey)) < 0.5


def _ink(grey: np.ndarray) -> np.ndarray:
    """Grey paper with dark ink -> ink in [0, 1]: darkness relative to the local background, stretched."""
    radius = max(2, round(max(grey.shape) * BACKGROUND_WINDOW / 2))
    # The blur of a mostly-paper window is the paper's brightness there; ink pulls it down a little,
    # so take the brighter of pixel and blur as the background (a closing in spirit, cheaply).
    background = np.maximum(box_blur(grey, radius), grey)
    darkness = np.clip(background - grey, 0.0, None)
    marked = darkness[darkness > NOISE_FLOOR]
    if marked.size == 0:
        return np.zeros_like(grey)
    strong = float(np.percentile(marked, 90))  # the core of the strokes, whatever share of the image they fill
    return np.clip((darkness - NOISE_FLOOR) / max(0.8 * strong - NOISE_FLOOR, 1e-3), 0.0, 1.0)


def decode_image(data: bytes, max_side: int = MAX_SIDE) -> np.ndarray:
    """Image file bytes -> RGBA uint8 (H, W, 4), dark ink on opaque white; ImageError if unreadable."""
    grey = _grey_on_white(_open(data, max(1, int(max_side))), max(1, int(max_side)))
    if grey.size == 0:
        raise ImageError("the image is empty")
    grey = np.nan_to_num(grey, nan=1.0)
    if _light_ink(grey):
        grey = 1.0 - grey
    paper = np.round(255 * (1.0 - _ink(grey))).astype(np.uint8)
    return np.dstack([paper, paper, paper, np.full_like(paper, 255)])
