"""Image files (photos, scans, screenshots of handwritten digits) -> an RGBA pad: dark ink on white.

Pillow is imported inside decode_image: the page loads Pillow only when someone opens an image.
Steps, each for a failure seen in real files: refuse decompression bombs and non-images with a message
for people; apply EXIF orientation (phone photos); composite transparency on white; greyscale; shrink
large images early (JPEG draft mode, then thumbnail: a 12-megapixel photo is decoded at half size);
turn light-on-dark images around (unless a bright sheet lies on a darker table); then clean images (a
pad drawing saved as PNG) are read as they are, small dataset crops against their one paper level, and
photos go through pyapp.photo: the sheet found and the table left out, printed ruled and squared lines
removed, ink by local contrast stretched so ink is black and paper white, keeping anti-aliased grey levels
(the model was trained on grey edges, not on binary strokes), marks touching the border dropped.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from pyapp.photo import on_a_table, photo_ink, sheet_tiles

MAX_SIDE = 1000  # the long side after scaling down: plenty for digits, and a read stays fast
MAX_PIXELS = 40_000_000  # a bigger image is refused before it is decoded (decompression bombs)
# An image whose paper is this share or more of exactly-white pixels is clean (a drawing exported from the
# pad or a paint program, a thresholded scan): its ink is read as it is, like the pad's. Flattening and
# stretching it would thicken the strokes and drop their anti-aliased rim (measured on the 10k MNIST test
# digits saved as PNG: 99.56% read right that way, against 99.64% for the same pixels on the pad). A
# fifth is enough: a digit cropped to fill its frame (USPS-style) leaves little paper.
CLEAN_PAPER = 0.2
# An image no larger than this (long side, px) is a digit crop from a dataset, not a photo: its paper is one
# level (a tile-wise estimate would take a digit that fills the frame for paper and find no ink).
SMALL_IMAGE = 64


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


def _light_ink(grey: np.ndarray) -> bool:
    """True for light ink on a dark background: the border (mostly paper) is darker than the middle grey.
    A sheet lying on a darker table has a dark border too, but it is a large solid bright region."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    dark = float(np.median(border)) < 0.5 and float(np.median(grey)) < 0.5
    return dark and sheet_tiles(grey) is None


def _ink(grey: np.ndarray) -> np.ndarray:
    """Grey paper with dark ink -> ink in [0, 1]: darkness relative to the local paper, stretched."""
    small = max(grey.shape) <= SMALL_IMAGE
    # A photo whose paper is blown out to white is not clean when a table shows around the sheet.
    if float(np.mean(grey >= 1.0 - 0.5 / 255)) >= CLEAN_PAPER and (small or not on_a_table(grey)):
        return 1.0 - grey
    if small:
        paper = max(float(np.percentile(grey, 95)), 0.1)
        return np.clip((paper - grey) / paper, 0.0, 1.0)
    return photo_ink(grey)


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
