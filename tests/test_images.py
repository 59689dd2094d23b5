"""decode_image: polarity, EXIF orientation, transparency, uneven light, size limits, files that are not images."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from pyapp.images import ImageError, decode_image
from tests.helpers import blank, number_pad


def encode(image: Image.Image | np.ndarray, fmt: str = "PNG", **options) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header without the pixels to go with it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + body + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def drawing() -> np.ndarray:
    return number_pad([3, 8], height=280, pen=18)


def _ink(rgba: np.ndarray) -> np.ndarray:
    return 1 - rgba[..., 0].astype(np.float32) / 255


def test_clean_drawing_is_unchanged(drawing: np.ndarray) -> None:
    out = decode_image(encode(drawing))
    assert out.dtype == np.uint8 and out.shape == drawing.shape
    assert (out[..., 3] == 255).all() and (out[..., 0] == out[..., 2]).all()
    assert np.array_equal(out[..., 0], drawing[..., 0])


def test_clean_anti_aliased_drawing_keeps_its_rim(drawing: np.ndarray) -> None:
    # A pad saved as PNG is read like the pad: no stretch that would thicken strokes or drop the faint rim.
    smooth = np.asarray(Image.fromarray(drawing).resize((drawing.shape[1] // 2, drawing.shape[0] // 2)))
    out = decode_image(encode(smooth))
    assert np.array_equal(out[..., 0], np.asarray(Image.fromarray(smooth).convert("L")))


def test_grey_levels_are_kept(drawing: np.ndarray) -> None:
    smooth = Image.fromarray(drawing).resize((drawing.shape[1] // 2, drawing.shape[0] // 2), Image.BILINEAR)
    values = np.unique(decode_image(encode(smooth))[..., 0])
    assert values.size > 10  # anti-aliased edges, not a binary image


@pytest.mark.parametrize("paper", [255, 215])
def test_small_digit_crop_filling_its_frame(paper: int) -> None:
    # A dataset's 16x16 crop (USPS-style, the digit stretched to the edges): the tile-wise paper estimate of
    # a photo would take the digit for paper and find no ink.
    digit = Image.fromarray(number_pad([8], height=280, pen=40)).convert("L").crop((90, 50, 190, 230))
    darkness = 1 - np.asarray(digit.resize((16, 16), Image.BILINEAR), dtype=np.float32) / 255
    shown = np.round(paper - (paper - 20) * darkness).astype(np.uint8)  # ink at 20 on paper at `paper`
    out = _ink(decode_image(encode(shown)))
    assert out.max() > 0.9 and np.corrcoef(out.ravel(), darkness.ravel())[0, 1] > 0.95


def test_light_ink_on_dark_is_inverted(drawing: np.ndarray) -> None:
    inverted = drawing.copy()
    inverted[..., :3] = 255 - inverted[..., :3]
    out = decode_image(encode(inverted))
    assert np.abs(_ink(out) - _ink(drawing)).mean() < 0.01


def test_uneven_light_is_flattened(drawing: np.ndarray) -> None:
    shade = np.linspace(0.35, 1.0, drawing.shape[1])[None, :, None]
    shaded = drawing.copy()
    shaded[..., :3] = (drawing[..., :3] * shade).astype(np.uint8)
    ink = _ink(decode_image(encode(shaded)))
    strokes = _ink(drawing) > 0.5
    assert ink[~strokes].mean() < 0.01  # the shadow is paper, not ink
    assert ink[strokes].mean() > 0.8  # the strokes in the shadow stay ink


def test_photo_of_grey_paper_with_noise(drawing: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    strokes = _ink(drawing) > 0.5
    photo = (190 - strokes * 130 + rng.normal(0, 8, strokes.shape)).clip(0, 255).astype(np.uint8)
    ink = _ink(decode_image(encode(photo, "JPEG", quality=80)))
    assert (ink[~strokes] > 0.25).mean() < 0.01 and ink[strokes].mean() > 0.7


def test_exif_orientation_is_applied() -> None:
    stored = blank(100, 200)[..., :3].copy()
    stored[5:20, 20:180] = 0  # a bar along the top of the stored pixels
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": the top becomes the right side
    out = decode_image(encode(image, "JPEG", exif=exif.tobytes()))
    assert out.shape[:2] == (200, 100)
    ink = _ink(out)
    assert ink[:, 80:].mean() > 0.3 and ink[:, :60].mean() < 0.02


def test_transparency_is_paper() -> None:
    rgba = np.zeros((120, 120, 4), dtype=np.uint8)  # transparent black background
    rgba[20:100, 55:65] = (0, 0, 0, 255)
    ink = _ink(decode_image(encode(rgba)))
    assert ink[:, :40].max() < 0.05 and ink[30:90, 57:63].mean() > 0.9


def test_palette_and_16_bit_images() -> None:
    grey = np.full((60, 60), 255, dtype=np.uint8)
    grey[10:50, 28:32] = 0
    for image in (Image.fromarray(grey).convert("P"), Image.fromarray(grey.astype(np.uint16) * 257)):
        ink = _ink(decode_image(encode(image)))
        assert ink[15:45, 29:31].mean() > 0.9 and ink[:, :20].max() < 0.05


def test_large_images_are_scaled_down() -> None:
    big = np.full((3000, 2000), 255, dtype=np.uint8)
    big[500:2500, 900:1100] = 0
    out = decode_image(encode(big, "JPEG"), max_side=800)
    assert max(out.shape[:2]) == 800 and out.shape[0] > out.shape[1]


def test_huge_claimed_size_is_refused_quickly() -> None:
    start = time.perf_counter()
    with pytest.raises(ImageError, match="too large"):
        decode_image(png_header(20000, 20000))  # 400 MP: never allocated
    assert time.perf_counter() - start < 1.0


def test_bomb_just_over_the_limit_is_refused() -> None:
    with pytest.raises(ImageError, match="too large"):
        decode_image(png_header(8000, 6000))  # 48 MP > 40 MP


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"this is not an image, just text named digits.png", "not an image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, None),
    ],
)
def test_files_that_are_not_images(data: bytes, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        decode_image(data)


def test_truncated_image(drawing: np.ndarray) -> None:
    data = encode(drawing[..., :3], "JPEG")
    with pytest.raises(ImageError):
        decode_image(data[: len(data) // 3])


def test_image_error_is_a_value_error_with_a_short_message() -> None:
    with pytest.raises(ValueError) as caught:
        decode_image(b"junk")
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 80


def test_one_pixel_and_blank_images() -> None:
    assert decode_image(encode(np.zeros((1, 1), np.uint8))).shape == (1, 1, 4)
    blank_out = decode_image(encode(np.full((50, 50), 255, np.uint8)))
    assert (blank_out[..., :3] == 255).all()
