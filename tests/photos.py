"""Photos of handwritten numbers as people take them, generated (seeded, deterministic) for tests and measures.

Kinds (KINDS): the sheet filling the frame with uneven light ("flat"), pencil on plain paper ("pencil"),
ruled paper ("ruled": blue or grey lines, several spacings, sometimes a red margin), squared paper
("squared": several colours and spacings), and the sheet lying on a darker table with its edges in the
frame, turned up to 10 degrees, with a mild perspective and a shadow ("table": half the sheets plain, the
others ruled or squared). Numbers have 2-5 digits:
MNIST test digits (tests/helpers.mnist_test) or stroke-drawn ones (helpers.paint), in blue, black or pencil
grey, with several pen widths. Every photo is a 1600x1200 JPEG (quality 60-90) unless a size is given.

    python -m tests.photos [--count 40] [--seed 14] [--size 1600x1200] [--save DIR] [--decoder MODULE]

reads `count` photos per kind through the CLI's path (images.decode_image -> recognize.read with the
shipped model) and prints the share read right per kind, next to the share of the same numbers read right
when drawn on a clean pad (what the digits themselves allow: some MNIST test digits are misread anywhere).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from tests.helpers import mnist_number, mnist_test, paint, to_rgba

KINDS = ("flat", "pencil", "ruled", "squared", "table")
SIZE = (1600, 1200)
SEED = 14

PENS = {  # RGB of the ink, and the opacity range of its core
    "blue": ((25, 45, 150), (0.85, 0.97)),
    "black": ((25, 25, 30), (0.85, 0.97)),
    "pencil": ((85, 85, 90), (0.55, 0.8)),
}
LINE_COLOURS = {
    "blue": (135, 170, 225),
    "grey": (165, 165, 170),
    "green": (140, 195, 160),
    "pink": (225, 160, 170),
}


@dataclass(frozen=True)
class Photo:
    kind: str
    data: bytes  # the JPEG file
    text: str  # the number written on it
    pad: np.ndarray  # the same number as drawn, on a clean pad (RGBA uint8): what the photo's writing is


def _stroke_number(digits: list[int], height: float, pen_share: float, rng: np.random.Generator) -> np.ndarray:
    """Stroke-drawn digits (helpers.paint) as ink in [0, 1], `height` px tall, pen = pen_share * height."""
    gap = rng.uniform(0.15, 0.4) * height
    width = int(len(digits) * (0.6 * height + gap) + height)
    pad = np.full((int(height * 1.6), width, 4), 255, dtype=np.uint8)
    left = 0.5 * height
    for digit in digits:
        top = 0.3 * height + rng.uniform(-0.08, 0.08) * height
        paint(pad, digit, top, left, height * rng.uniform(0.9, 1.05), max(2.0, pen_share * height))
        left += 0.6 * height + gap
    ink = 1 - pad[..., 0].astype(np.float32) / 255
    return _slant(ink, rng.uniform(-0.15, 0.2))


def _slant(ink: np.ndarray, shear: float) -> np.ndarray:
    """Handwriting leans: shear the number horizontally (x += shear * (height - y))."""
    height, width = ink.shape
    extra = int(abs(shear) * height) + 1
    image = Image.fromarray(ink).transform(
        (width + extra, height), Image.AFFINE, (1, shear, -shear * height - (extra if shear < 0 else 0), 0, 1, 0),
        Image.BILINEAR,
    )
    return np.asarray(image, dtype=np.float32)


def _mnist_number(images: np.ndarray, height: float, rng: np.random.Generator) -> np.ndarray:
    """MNIST test digits side by side, scaled to about `height` px, thickened or not (pen widths)."""
    ink, _ = mnist_number(images, scale=1, gap=rng.uniform(0.15, 0.4), rng=rng)
    scale = height / 20  # MNIST digits are about 20 px tall inside their 28 px frame
    image = Image.fromarray(ink).resize((round(ink.shape[1] * scale), round(ink.shape[0] * scale)), Image.BICUBIC)
    ink = np.clip(np.asarray(image, dtype=np.float32), 0, 1)
    widen = int(rng.integers(0, 3))  # 0: MNIST's own width; 1, 2: a broader pen
    if widen:
        ink = np.asarray(Image.fromarray(ink).filter(ImageFilter.MaxFilter(2 * widen + 1)), dtype=np.float32)
    return ink


def _number(height: float, rng: np.random.Generator, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, str]:
    count = int(rng.integers(2, 6))
    if rng.random() < 0.5:
        chosen = rng.integers(0, len(images), count)
        return _mnist_number(images[chosen], height, rng), "".join(str(v) for v in labels[chosen])
    digits = [int(d) for d in rng.integers(0, 10, count)]
    return _stroke_number(digits, height, rng.uniform(0.06, 0.13), rng), "".join(map(str, digits))


def _paper(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Off-white paper with a little grain, RGB float32 0..255."""
    tint = np.array([rng.uniform(238, 252), rng.uniform(236, 250), rng.uniform(228, 246)], dtype=np.float32)
    grain = rng.normal(0, 1.5, (height, width, 1)).astype(np.float32)
    return np.broadcast_to(tint, (height, width, 3)) + grain


def _lines(sheet: np.ndarray, kind: str, rng: np.random.Generator) -> None:
    """Print ruled or squared paper's lines on the sheet (in place)."""
    height, width = sheet.shape[:2]
    image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(image)
    if kind == "ruled":
        colour = LINE_COLOURS[str(rng.choice(["blue", "grey"]))]
        spacing = rng.uniform(40, 80)
        thickness = int(rng.integers(1, 4))
        for y in np.arange(rng.uniform(0, spacing), height, spacing):
            draw.line([(0, y), (width, y)], fill=255, width=thickness)
    else:
        colour = LINE_COLOURS[str(rng.choice(list(LINE_COLOURS)))]
        spacing = rng.uniform(22, 45)
        thickness = int(rng.integers(1, 3))
        for y in np.arange(rng.uniform(0, spacing), height, spacing):
            draw.line([(0, y), (width, y)], fill=255, width=thickness)
        for x in np.arange(rng.uniform(0, spacing), width, spacing):
            draw.line([(x, 0), (x, height)], fill=255, width=thickness)
    strength = np.asarray(image, dtype=np.float32)[..., None] / 255 * rng.uniform(0.6, 1.0)
    sheet[...] = sheet * (1 - strength) + np.array(colour, dtype=np.float32) * strength
    if kind == "ruled" and rng.random() < 0.4:  # a red margin line
        x = int(rng.uniform(0.08, 0.15) * width)
        sheet[:, x : x + thickness + 1] = sheet[:, x : x + thickness + 1] * 0.3 + np.array([220, 110, 120]) * 0.7


def _write(sheet: np.ndarray, ink: np.ndarray, pen: str, top: int, left: int, rng: np.random.Generator) -> None:
    """Put the number's ink on the sheet with the pen's colour (in place); pencil gets a grainy texture."""
    colour, (low, high) = PENS[pen]
    alpha = ink * rng.uniform(low, high)
    if pen == "pencil":
        alpha = alpha * np.clip(rng.normal(1.0, 0.15, alpha.shape), 0.5, 1.2).astype(np.float32)
    region = sheet[top : top + ink.shape[0], left : left + ink.shape[1]]
    alpha = alpha[: region.shape[0], : region.shape[1], None]
    region[...] = region * (1 - alpha) + np.array(colour, dtype=np.float32) * alpha


def _coefficients(source: np.ndarray, target: np.ndarray) -> list[float]:
    """Pillow's PERSPECTIVE coefficients mapping each target (output) corner to its source corner."""
    rows, values = [], []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return list(np.linalg.solve(np.array(rows, dtype=np.float64), np.array(values, dtype=np.float64)))


def _quad(width: int, height: int, centre: tuple[float, float], turn: float, skew: float, rng) -> np.ndarray:
    """Corners of a width x height sheet turned by `turn` degrees around `centre`, each moved by up to skew."""
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64) * [width / 2, height / 2]
    angle = np.radians(turn)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = corners @ rotation.T + centre
    return moved + rng.uniform(-skew, skew, moved.shape) * max(width, height)


def _table(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A darker table: wood grain or a dark textured surface, RGB float32."""
    y = np.arange(height, dtype=np.float32)[:, None]
    x = np.arange(width, dtype=np.float32)[None, :]
    if rng.random() < 0.5:
        base = np.array([rng.uniform(110, 160), rng.uniform(70, 100), rng.uniform(35, 60)], dtype=np.float32)
        wave = np.sin(y / rng.uniform(6, 14) + 3 * np.sin(x / rng.uniform(150, 300)) + rng.uniform(0, 6))
        shade = 1 + 0.12 * wave + 0.05 * np.sin(x / rng.uniform(20, 60))
    else:
        base = np.full(3, rng.uniform(35, 95), dtype=np.float32) * [1.0, 1.0, rng.uniform(0.95, 1.15)]
        blotch = Image.fromarray(rng.normal(0, 1, (height // 16, width // 16)).astype(np.float32))
        shade = 1 + 0.15 * np.asarray(blotch.resize((width, height), Image.BICUBIC), dtype=np.float32)
    noise = rng.normal(0, 6, (height, width, 1)).astype(np.float32)
    return np.asarray(shade[..., None] * base, dtype=np.float32) + noise


def _light(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Uneven light: a gradient in a random direction and a soft vignette, factor in about [0.55, 1]."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * (x / width - 0.5) + np.sin(angle) * (y / height - 0.5)) + 0.5
    radius = np.hypot(x / width - rng.uniform(0.3, 0.7), y / height - rng.uniform(0.3, 0.7))
    light = 1 - rng.uniform(0.1, 0.35) * ramp - rng.uniform(0.05, 0.2) * radius
    return np.clip(light, 0.4, 1.0)[..., None]


def _warp(sheet: np.ndarray, size: tuple[int, int], quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sheet pixels placed on the frame at `quad` (bilinear), and where the sheet covers (0..1)."""
    height, width = sheet.shape[:2]
    source = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    coefficients = _coefficients(source, quad)
    channels = [
        np.asarray(Image.fromarray(sheet[..., c]).transform(size, Image.PERSPECTIVE, coefficients, Image.BILINEAR))
        for c in range(3)
    ]
    cover = Image.fromarray(np.ones((height, width), np.float32)).transform(
        size, Image.PERSPECTIVE, coefficients, Image.BILINEAR
    )
    return np.dstack(channels), np.asarray(cover, dtype=np.float32)[..., None]


def make_photo(
    kind: str,
    rng: np.random.Generator,
    mnist: tuple[np.ndarray, np.ndarray],
    size: tuple[int, int] = SIZE,
    turn: float | None = None,
    skew: float | None = None,
) -> Photo:
    """One photo of the given kind (see KINDS), drawn from rng; turn (degrees) and skew (each corner moved by
    up to this share of the sheet's long side) override the kind's own, to probe the limits."""
    frame_w, frame_h = size
    unit = frame_h / 1200  # sizes below are for a 1200 px tall photo
    on_table = kind == "table"
    if on_table:
        share = rng.uniform(0.6, 0.8)
        sheet_w, sheet_h = int(frame_w * share), int(frame_h * share * rng.uniform(0.9, 1.1))
    else:
        sheet_w, sheet_h = int(frame_w * 1.25), int(frame_h * 1.25)
    sheet = _paper(sheet_w, sheet_h, rng)
    paper = kind
    if on_table:  # half the sheets on a table are plain, the others ruled or squared
        paper = str(rng.choice(["plain", "plain", "ruled", "squared"]))
    if paper in ("ruled", "squared"):
        _lines(sheet, paper, rng)
    height = rng.uniform(90, 180) * unit if on_table else rng.uniform(100, 220) * unit
    ink, text = _number(height, rng, *mnist)
    if ink.shape[1] > 0.8 * min(sheet_w, frame_w):  # a long number: written smaller
        factor = 0.8 * min(sheet_w, frame_w) / ink.shape[1]
        ink = np.asarray(
            Image.fromarray(ink).resize((int(ink.shape[1] * factor), int(ink.shape[0] * factor)), Image.BILINEAR)
        )
    pen = "pencil" if kind == "pencil" else str(rng.choice(["blue", "black", "blue", "black", "pencil"]))
    # Where the number goes: inside the visible part of the sheet, clear of its edges.
    visible_w = sheet_w if on_table else frame_w
    visible_h = sheet_h if on_table else frame_h
    offset_x = 0 if on_table else (sheet_w - frame_w) // 2
    offset_y = 0 if on_table else (sheet_h - frame_h) // 2
    room_x = max(1, visible_w - ink.shape[1] - int(0.1 * visible_w))
    room_y = max(1, visible_h - ink.shape[0] - int(0.1 * visible_h))
    left = offset_x + int(0.05 * visible_w) + int(rng.integers(0, room_x))
    top = offset_y + int(0.05 * visible_h) + int(rng.integers(0, room_y))
    _write(sheet, ink, pen, top, left, rng)
    if on_table:
        centre = (frame_w / 2 + rng.uniform(-0.08, 0.08) * frame_w, frame_h / 2 + rng.uniform(-0.08, 0.08) * frame_h)
        drawn = rng.uniform(-10, 10)
        quad = _quad(sheet_w, sheet_h, centre, drawn if turn is None else turn, 0.03 if skew is None else skew, rng)
        paper, cover = _warp(sheet, size, quad)
        table = _table(frame_w, frame_h, rng)
        shift = rng.uniform(4, 14) * unit
        shadow = Image.fromarray(np.round(255 * cover[..., 0]).astype(np.uint8))
        shadow = shadow.transform(size, Image.AFFINE, (1, 0, -shift, 0, 1, -shift))
        shadow = np.asarray(shadow.filter(ImageFilter.GaussianBlur(8 * unit)), dtype=np.float32)[..., None] / 255
        table = table * (1 - 0.45 * shadow)
        photo = paper * cover + table * (1 - cover)
    else:
        centre = (frame_w / 2, frame_h / 2)
        drawn = rng.uniform(-4, 4)
        quad = _quad(sheet_w, sheet_h, centre, drawn if turn is None else turn, 0.01 if skew is None else skew, rng)
        photo, _ = _warp(sheet, size, quad)
    photo = photo * _light(frame_w, frame_h, rng) + rng.normal(0, rng.uniform(1.5, 4), (frame_h, frame_w, 1))
    image = Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8), "RGB")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.2) * unit))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(60, 91)))
    return Photo(kind, buffer.getvalue(), text, to_rgba(ink))


def photos(kind: str, count: int, seed: int = SEED, size: tuple[int, int] = SIZE) -> list[Photo]:
    """`count` photos of one kind; the same seed gives the same photos."""
    mnist = mnist_test()
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    return [make_photo(kind, rng, mnist, size) for _ in range(count)]


def _main() -> None:
    import argparse
    import importlib
    import time

    from pyapp.model import load_model
    from pyapp.recognize import read

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--size", default="1600x1200")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--save", type=Path, help="also write the photos (and the misread ones' names) here")
    parser.add_argument("--decoder", default="pyapp.images", help="module with decode_image (to compare)")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    decode_image = importlib.import_module(args.decoder).decode_image
    predict = load_model()
    print("| photo | read right | the same numbers on a clean pad | seconds per photo |\n|---|---|---|---|")
    for kind in args.kinds.split(","):
        right, clean, spent = 0, 0, 0.0
        for index, photo in enumerate(photos(kind, args.count, seed=args.seed, size=size)):
            start = time.perf_counter()
            text = read(decode_image(photo.data), predict).text
            spent += time.perf_counter() - start
            right += text == photo.text
            clean += read(photo.pad, predict).text == photo.text
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                mark = "" if text == photo.text else f"-read-{text or 'nothing'}"
                (args.save / f"{kind}-{index:03d}-{photo.text}{mark}.jpg").write_bytes(photo.data)
        share = f"{right}/{args.count} = {100 * right / args.count:.1f}%"
        print(f"| {kind} | {share} | {100 * clean / args.count:.1f}% | {spent / args.count:.2f} |", flush=True)


if __name__ == "__main__":
    _main()
