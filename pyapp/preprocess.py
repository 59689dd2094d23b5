"""Pad pixels -> the 28x28 image the model sees, with MNIST's own normalisation.

RGBA pixels -> ink (darkness times opacity, so transparent pixels are background) -> bounding box ->
long side scaled to 20 px keeping the aspect ratio (area averaging) -> placed in a 28x28 frame with the
centre of mass at the centre. Pure numpy: no Pillow, so the page reads a drawing without loading it.
"""

from __future__ import annotations

import numpy as np

from pyapp.config import DIGIT_SIDE, MODEL_SIDE

INK_THRESHOLD = 0.1  # ink below this (anti-aliasing halo, paper grain) does not count for the box


def ink_from_rgba(rgba: np.ndarray) -> np.ndarray:
    """Ink per pixel in [0, 1]: dark opaque pixels are ink; light or transparent ones are background."""
    pixels = np.asarray(rgba)
    if pixels.ndim != 3 or pixels.shape[2] != 4:
        raise ValueError(f"expected an RGBA array of shape (H, W, 4), got {pixels.shape}")
    # Rec. 601 luma: what a person sees as dark.
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if pixels.dtype == np.uint8:
        # The pad's own format: no NaN or out-of-range values possible, so skip the clean-up (5x faster).
        values = pixels.astype(np.float32)
        luma = values[..., :3] @ weights
        return (np.float32(255.0) - luma) * values[..., 3] * np.float32(1.0 / (255.0 * 255.0))
    pixels = np.nan_to_num(np.clip(pixels.astype(np.float32), 0.0, 1.0), nan=0.0)
    luma = pixels[..., :3] @ weights
    return ((1.0 - luma) * pixels[..., 3]).astype(np.float32)


def ink_box(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right), exclusive ends, of the pixels with ink; None when there is none."""
    return mask_box(ink > threshold)


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right), exclusive ends, of a boolean mask's True pixels; None when there are none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _area_weights(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) matrix: how much of each input cell falls into each output cell, rows sum to 1."""
    edges_in = np.arange(size_in + 1, dtype=np.float64) * (size_out / size_in)
    edges_out = np.arange(size_out + 1, dtype=np.float64)
    low = np.maximum(edges_out[:-1, None], edges_in[None, :-1])
    high = np.minimum(edges_out[1:, None], edges_in[None, 1:])
    weights = np.clip(high - low, 0.0, None)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def resize_area(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D array by area averaging (exact for shrinking, piecewise constant for growing)."""
    rows = _area_weights(image.shape[0], height)
    cols = _area_weights(image.shape[1], width)
    return rows @ image.astype(np.float32) @ cols.T


def scale_to_digit(crop: np.ndarray) -> np.ndarray:
    """Scale a cropped digit so its long side is DIGIT_SIDE px, keeping its aspect ratio."""
    height, width = crop.shape
    scale = DIGIT_SIDE / max(height, width)
    new_height = min(DIGIT_SIDE, max(1, round(height * scale)))
    new_width = min(DIGIT_SIDE, max(1, round(width * scale)))
    digit = resize_area(crop, new_height, new_width)
    peak = float(digit.max())
    # A thin pen on a big digit averages out to faint grey; MNIST strokes peak at full intensity.
    return np.clip(digit / peak, 0.0, 1.0) if peak > 0 else digit


def centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place a digit of at most DIGIT_SIDE px in a MODEL_SIDE frame, its centre of mass at the centre."""
    height, width = digit.shape
    total = float(digit.sum())
    if total > 0:
        centre_y = float((digit.sum(axis=1) * np.arange(height)).sum()) / total
        centre_x = float((digit.sum(axis=0) * np.arange(width)).sum()) / total
    else:
        centre_y, centre_x = (height - 1) / 2, (width - 1) / 2
    middle = MODEL_SIDE / 2  # MNIST's digits have their centre of mass at pixel (14, 14) on average
    # Integer shifts, as MNIST; clamped so the whole digit stays inside the frame.
    top = int(np.clip(round(middle - centre_y), 0, MODEL_SIDE - height))
    left = int(np.clip(round(middle - centre_x), 0, MODEL_SIDE - width))
    frame = np.zeros((MODEL_SIDE, MODEL_SIDE), dtype=np.float32)
    frame[top : top + height, left : left + width] = digit
    return frame


def normalise_ink(ink: np.ndarray) -> np.ndarray | None:
    """Ink of one digit (any size) -> the model's 28x28 float32 image in [0, 1]; None when there is no ink."""
    box = ink_box(ink)
    if box is None:
        return None
    top, left, bottom, right = box
    return centre_by_mass(scale_to_digit(ink[top:bottom, left:right]))


def to_model_input(rgba: np.ndarray) -> np.ndarray | None:
    """RGBA pixels of one digit -> the model's 28x28 image; None for an empty pad."""
    return normalise_ink(ink_from_rgba(rgba))
