"""Drawing digits on the page's pad the way a person does: pointer strokes through Playwright."""

from __future__ import annotations

import math

# Strokes of each digit in a unit box (x right, y down, 0..1), as a person writes them.
STROKES: dict[str, list[list[tuple[float, float]]]] = {
    "0": [[(0.5 + 0.42 * math.sin(t / 24 * 2 * math.pi), 0.5 - 0.5 * math.cos(t / 24 * 2 * math.pi))
           for t in range(25)]],
    "1": [[(0.35, 0.2), (0.6, 0.0), (0.6, 1.0)]],
    "2": [[(0.1, 0.25), (0.3, 0.02), (0.7, 0.02), (0.9, 0.25), (0.8, 0.5), (0.1, 1.0), (0.95, 1.0)]],
    "3": [[(0.1, 0.1), (0.5, 0.0), (0.9, 0.2), (0.5, 0.48), (0.9, 0.72), (0.5, 1.0), (0.1, 0.9)]],
    "4": [[(0.65, 0.0), (0.05, 0.7), (0.95, 0.7)], [(0.7, 0.3), (0.7, 1.0)]],
    "7": [[(0.05, 0.02), (0.95, 0.02), (0.35, 1.0)]],
}


COUNT_DARK_PIXELS = """() => {
    const c = document.getElementById('pad');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let dark = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 128) dark++;
    return dark;
}"""


def dark_pixels(page) -> int:
    """How many of the pad's pixels are ink (dark), whoever drew them."""
    return page.evaluate(COUNT_DARK_PIXELS)


def pad_box(page) -> dict:
    return page.locator("#pad").bounding_box()


def draw(
    page, digit: str, *, centre_x: float = 0.5, height: float = 0.7, steps: int = 4, strokes=None, aspect: float = 0.7
) -> None:
    """Draw one digit with the mouse, centred at centre_x (a fraction of the pad's width), `height` of the
    pad tall and `aspect` times that wide; `strokes` is the table to take it from (STROKES unless told)."""
    box = pad_box(page)
    size = box["height"] * height
    left = box["x"] + box["width"] * centre_x - size * aspect / 2
    top = box["y"] + (box["height"] - size) / 2
    for stroke in (strokes or STROKES)[digit]:
        points = [(left + x * size * aspect, top + y * size) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=steps)
        page.mouse.up()


def draw_number(page, text: str) -> None:
    for index, digit in enumerate(text):
        draw(page, digit, centre_x=(index + 0.5) / len(text), height=0.6)


def result(page) -> str:
    return page.locator("#result").get_attribute("data-value")


def wait_for_result(page, expected: str, timeout: int = 10_000) -> None:
    # A selector, not wait_for_function: that one evaluates strings, which a strict CSP may refuse.
    page.wait_for_selector(f'#result[data-value="{expected}"]', state="attached", timeout=timeout)


def wait_until_settled(page, quiet_ms: int = 600, timeout_ms: int = 10_000) -> None:
    """Until no reading has come for quiet_ms: a live read sent while the last stroke was drawn may be
    followed by one of the finished pad, which redraws the panel (and takes focus off its buttons)."""
    waited, last = 0, None
    while waited < timeout_ms:
        count = page.locator("#result").get_attribute("data-reads")
        if count == last:
            return
        last = count
        page.wait_for_timeout(quiet_ms)
        waited += quiet_ms


# Straight strokes with sharp corners in a unit box (x, y in 0..1, y down), and the range of their width /
# height: a 7 of two strokes (a long bar, then the diagonal: the one that read "" after Undo), a 4 with a
# crossing bar, a 1 with a base, a Z-shaped 2 and a 5 of three segments. The unit tests paint them in many
# sizes, pens and renderings (tests/test_recognize.py); the page tests draw them with the mouse.
STRAIGHT: dict[str, tuple[list[list[tuple[float, float]]], tuple[float, float]]] = {
    "7": ([[(0.0, 0.0), (1.0, 0.0)], [(1.0, 0.0), (0.3, 1.0)]], (0.8, 1.6)),
    "4": ([[(0.6, 0.0), (0.0, 0.65), (1.0, 0.65)], [(0.72, 0.25), (0.72, 1.0)]], (0.6, 1.1)),
    "1": ([[(0.15, 0.2), (0.5, 0.0), (0.5, 1.0)], [(0.1, 1.0), (0.9, 1.0)]], (0.5, 0.8)),
    "2": ([[(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]], (0.6, 1.2)),
    "5": (
        [[(1.0, 0.0), (0.08, 0.0)], [(0.08, 0.0), (0.05, 0.45)]]
        + [[(0.05, 0.45), (0.8, 0.42), (1.0, 0.7), (0.8, 1.0), (0.0, 0.98)]],
        (0.6, 1.0),
    ),
}


def send_file(page, data: bytes, name: str, mime: str, how: str) -> None:
    """Paste or drop a file the way the browser delivers one."""
    page.evaluate(
        """([bytes, name, mime, how]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, { type: mime }));
            const pad = document.getElementById('pad');
            if (how === 'paste') {
                pad.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true }));
            } else {
                const options = { dataTransfer: transfer, bubbles: true, cancelable: true };
                pad.dispatchEvent(new DragEvent('dragover', options));
                pad.dispatchEvent(new DragEvent('drop', options));
            }
        }""",
        [list(data), name, mime, how],
    )


def rub_points(page, left: float, top: float, width: float, height: float) -> list[tuple[float, float]]:
    """A zigzag in screen pixels covering a region of the pad given in fractions of its box."""
    box = pad_box(page)
    x0, x1 = box["x"] + box["width"] * left, box["x"] + box["width"] * (left + width)
    points = []
    for row in range(13):
        y = box["y"] + box["height"] * (top + height * row / 12)
        points += [(x0, y), (x1, y)]
    return points


def rub_with_mouse(page, points) -> None:
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=3)
    page.mouse.up()


def draw_strokes(page, strokes: list[list[tuple[float, float]]], *, steps: int = 4) -> None:
    """Draw strokes given in fractions of the pad's height (x right, y down), with the mouse."""
    page.locator("#pad").scroll_into_view_if_needed()  # the mouse draws in the viewport
    box = pad_box(page)
    side = box["height"]
    for stroke in strokes:
        points = [(box["x"] + x * side, box["y"] + y * side) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=steps)
        page.mouse.up()
