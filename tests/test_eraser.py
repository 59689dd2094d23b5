"""The eraser in Chromium: a toggle next to Brush that paints paper, with the mouse, a finger or a pen, and
that Undo takes back like any stroke."""

from __future__ import annotations

import pytest

from tests.pad import dark_pixels, draw, rub_points, rub_with_mouse, wait_for_result

pytestmark = pytest.mark.browser


def rub_with(page, kind: str, points) -> None:
    """Rub through Chromium's own input pipeline: touch events, or mouse events from a pen."""
    client = page.context.new_cdp_session(page)
    if kind == "touch":
        for index, (x, y) in enumerate(points):
            kind = "touchStart" if index == 0 else "touchMove"
            client.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
        client.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        return
    pen = {"pointerType": "pen", "button": "left"}
    x, y = points[0]
    client.send("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y, "clickCount": 1, **pen})
    for x, y in points[1:]:
        client.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y, "buttons": 1, **pen})
    client.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x, "y": y, "clickCount": 1, **pen})


def eraser_on(page) -> bool:
    return page.get_by_role("button", name="Eraser").get_attribute("aria-pressed") == "true"


def test_the_eraser_rubs_out_a_digit_and_undo_brings_it_back(open_page):
    page, _ = open_page()
    draw(page, "7", centre_x=0.25, height=0.6)
    draw(page, "1", centre_x=0.75, height=0.6)
    wait_for_result(page, "71")
    ink = dark_pixels(page)

    page.get_by_role("button", name="Eraser").click()
    assert eraser_on(page)
    rub_with_mouse(page, rub_points(page, 0.55, 0.15, 0.4, 0.7))
    wait_for_result(page, "7")
    assert 0 < dark_pixels(page) < ink

    page.get_by_role("button", name="Undo").click()  # the rubbing is a stroke like any other
    wait_for_result(page, "71")
    # Redrawn in one pass, the strokes' anti-aliased edges differ a little from the live-drawn ones.
    assert abs(dark_pixels(page) - ink) <= 0.03 * ink

    page.keyboard.press("e")  # off again: the pen draws ink
    assert not eraser_on(page)
    draw(page, "1", centre_x=0.75, height=0.6)
    assert dark_pixels(page) > ink


@pytest.mark.parametrize("kind", ["touch", "pen"])
def test_the_eraser_works_with_a_finger_and_a_pen(open_page, kind):
    phone = {"has_touch": True, "is_mobile": True, "viewport": {"width": 390, "height": 844}}
    page, _ = open_page(**(phone if kind == "touch" else {}))
    draw(page, "7", centre_x=0.25, height=0.6)
    draw(page, "1", centre_x=0.75, height=0.6)
    wait_for_result(page, "71")
    page.get_by_role("button", name="Eraser").click()
    rub_with(page, kind, rub_points(page, 0.55, 0.15, 0.4, 0.7))
    wait_for_result(page, "7")
    page.get_by_role("button", name="Undo").click()
    wait_for_result(page, "71")
