"""Digits of straight strokes with sharp corners read the same after Undo as before the stroke it took back.

The bug this guards: a 7 of two dead-straight strokes read "7"; a stray stroke, then Undo, redrew the very
same 7 (only anti-aliasing differs from the live drawing) and it read "" ("the 1st mark looks like a line").
"""

from __future__ import annotations

import pytest

from tests.pad import STRAIGHT, draw, pad_box, wait_for_result

pytestmark = pytest.mark.browser


def reads(page) -> int:
    return int(page.locator("#result").get_attribute("data-reads") or 0)


def wait_for_a_new_reading(page, after: int) -> str:
    page.wait_for_selector(f'#result:not([data-reads="{after}"])', state="attached")
    page.wait_for_timeout(300)  # a live read may be followed by the stroke end's read
    return page.locator("#result").get_attribute("data-value")


def stray_stroke(page) -> None:
    box = pad_box(page)
    x, y = box["x"] + box["width"] * 0.85, box["y"] + box["height"] * 0.2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + box["height"] * 0.08, y + box["height"] * 0.1, steps=3)
    page.mouse.up()


def draw_straight(page, digit: str, brush: int) -> None:
    """The digit at its widest proportions (the hardest to read whole), with the given brush."""
    page.evaluate("width => { document.getElementById('brush').value = width; }", brush)
    strokes, (_, widest) = STRAIGHT[digit]
    draw(page, digit, centre_x=0.35, height=0.55, strokes={digit: strokes}, aspect=widest)


def draw_the_issues_seven(page) -> None:
    """The 7 of the report: a 161 px bar, then the diagonal, pen 11, on a pad 280 px tall."""
    box = pad_box(page)
    scale = box["height"] / 280
    page.evaluate("width => { document.getElementById('brush').value = width; }", 11)
    for stroke in [[(174, 85), (335, 85)], [(335, 85), (232, 195)]]:
        points = [(box["x"] + x * scale, box["y"] + y * scale) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        page.mouse.move(*points[1], steps=6)
        page.mouse.up()


CASES = [(digit, brush) for digit in STRAIGHT for brush in (11, 24)] + [("the issue's 7", 11)]


@pytest.mark.parametrize(("digit", "brush"), CASES)
def test_undo_gives_back_the_reading_before_the_extra_stroke(open_page, digit, brush):
    page, _ = open_page()
    if digit == "the issue's 7":
        draw_the_issues_seven(page)
        digit = "7"
    else:
        draw_straight(page, digit, brush)
    wait_for_result(page, digit)

    count = reads(page)
    stray_stroke(page)
    wait_for_a_new_reading(page, count)

    count = reads(page)
    page.get_by_role("button", name="Undo").click()
    assert wait_for_a_new_reading(page, count) == digit
