"""The drawing experience in Chromium: live reading, numbers, undo, touch, keyboard, images in."""

from __future__ import annotations

import struct
import zlib

import pytest

from tests.helpers import digit_pad, png_bytes
from tests.pad import dark_pixels, draw, draw_number, pad_box, result, send_file, wait_for_result

pytestmark = pytest.mark.browser


def huge_png_header(side: int = 20000) -> bytes:
    """A PNG that claims side x side pixels: only its header is needed to refuse it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_number_is_read_live_without_pressing_predict(open_page):
    page, _ = open_page()
    draw_number(page, "701")
    wait_for_result(page, "701")
    assert page.locator("#digits [role=radio]").count() == 3


def test_each_stroke_end_updates_the_reading(open_page):
    page, _ = open_page()
    draw(page, "1", centre_x=0.25, height=0.6)
    wait_for_result(page, "1")
    draw(page, "7", centre_x=0.75, height=0.6)
    wait_for_result(page, "17")


def test_undo_button_and_ctrl_z_take_back_strokes(open_page):
    page, _ = open_page()
    draw(page, "1", centre_x=0.25, height=0.6)
    draw(page, "7", centre_x=0.75, height=0.6)
    wait_for_result(page, "17")
    page.get_by_role("button", name="Undo").click()
    wait_for_result(page, "1")
    page.keyboard.press("Control+z")
    wait_for_result(page, "")
    assert dark_pixels(page) == 0


def test_a_dot_reads_nothing_with_a_hint(open_page):
    page, _ = open_page()
    box = pad_box(page)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#result[data-reads]", state="attached")
    assert result(page) == ""
    assert page.locator("#hint").text_content().strip()


def test_probabilities_and_the_models_input_are_shown(open_page):
    page, _ = open_page()
    draw(page, "7")
    wait_for_result(page, "7")
    top = page.locator("#bars li.top")
    assert top.get_attribute("data-digit") == "7"
    share = int(top.locator(".pct").text_content().rstrip("%"))
    assert share > 50
    lit = page.evaluate(
        "() => Array.from(document.getElementById('seen').getContext('2d')"
        ".getImageData(0, 0, 28, 28).data).filter((v, i) => i % 4 === 0 && v > 128).length"
    )
    assert 10 < lit < 400


def test_choosing_a_digit_shows_its_probabilities(open_page):
    page, _ = open_page()
    draw_number(page, "17")
    wait_for_result(page, "17")
    page.locator("#digits [role=radio]").nth(1).click()
    page.wait_for_selector('#bars li.top[data-digit="7"]', state="attached")
    assert page.locator("#digits [role=radio]").nth(1).get_attribute("aria-checked") == "true"


def test_touch_draws_without_scrolling(open_page, browser):
    page, _ = open_page(has_touch=True, is_mobile=True, viewport={"width": 390, "height": 844})
    box = pad_box(page)
    client = page.context.new_cdp_session(page)
    x = box["x"] + box["width"] / 2
    points = [(x + 10, box["y"] + box["height"] * 0.2), (x + 25, box["y"] + box["height"] * 0.12)]
    points += [(x + 25, box["y"] + box["height"] * (0.12 + 0.76 * i / 10)) for i in range(1, 11)]
    scroll_before = page.evaluate("window.scrollY")
    client.send(
        "Input.dispatchTouchEvent",
        {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]},
    )
    for px, py in points[1:]:
        client.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": px, "y": py}]})
    client.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    wait_for_result(page, "1")
    assert page.evaluate("window.scrollY") == scroll_before


def test_every_control_works_from_the_keyboard(open_page):
    page, _ = open_page()
    # Ink put on the pad without a pointer: a keyboard user opens images the same way.
    page.evaluate(
        "() => { const c = document.getElementById('pad'); const x = c.getContext('2d'); const h = c.height;"
        " x.fillStyle = '#000'; x.fillRect(c.width / 2 - h * 0.04, h * 0.15, h * 0.08, h * 0.7); }"
    )
    page.locator("body").focus()
    page.keyboard.press("Enter")
    wait_for_result(page, "1")
    reached = set()
    for _ in range(12):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.id"))
    assert {"pad", "predict", "undo", "clear", "brush", "file"} <= reached
    page.locator("#predict").focus()
    page.keyboard.press("Escape")
    wait_for_result(page, "")
    with page.expect_file_chooser() as chooser:
        page.locator("#file").focus()
        page.keyboard.press("Space")
    assert chooser.value is not None


def test_brush_width_control_thickens_the_pen(open_page):
    page, _ = open_page()
    draw(page, "1")
    thin = dark_pixels(page)
    page.get_by_role("button", name="Clear").click()
    page.locator("#brush").fill("40")
    draw(page, "1")
    assert dark_pixels(page) > 1.5 * thin


def test_the_drawing_survives_resize_and_high_dpi(open_page):
    page, _ = open_page(device_scale_factor=2)
    size = page.evaluate("(c => [c.width, c.getBoundingClientRect().width])(document.getElementById('pad'))")
    assert size[0] == round(size[1] * 2)
    draw(page, "7")
    wait_for_result(page, "7")
    page.set_viewport_size({"width": 700, "height": 900})  # one column: the pad changes size
    page.wait_for_function("width => document.getElementById('pad').width !== width", arg=size[0])
    assert dark_pixels(page) > 0
    page.get_by_role("button", name="Predict").click()
    wait_for_result(page, "7")


@pytest.mark.parametrize("how", ["paste", "drop"])
def test_a_pasted_or_dropped_image_lands_on_the_pad_and_is_read(open_page, how):
    page, _ = open_page()
    send_file(page, png_bytes(digit_pad(7, size=200, pen=14)), "seven.png", "image/png", how)
    wait_for_result(page, "7", timeout=30_000)
    assert dark_pixels(page) > 0


def test_an_opened_image_file_is_read(open_page):
    page, _ = open_page()
    data = png_bytes(digit_pad(4, size=240, pen=16))
    page.locator("#file").set_input_files({"name": "four.png", "mimeType": "image/png", "buffer": data})
    wait_for_result(page, "4", timeout=30_000)


@pytest.mark.parametrize(
    ("name", "data"),
    [("junk.png", b"this is not an image at all" * 10), ("empty.png", b""), ("huge.png", huge_png_header())],
)
def test_a_bad_file_gets_a_message_and_keeps_the_drawing(open_page, name, data):
    page, _ = open_page()
    draw(page, "1")
    wait_for_result(page, "1")
    before = dark_pixels(page)
    page.locator("#file").set_input_files({"name": name, "mimeType": "image/png", "buffer": data})
    page.wait_for_selector("[role=alert]:not(:empty)", state="attached", timeout=30_000)
    assert name in page.locator("[role=alert]").text_content()
    assert dark_pixels(page) == before
    assert result(page) == "1"
    assert page.evaluate("document.documentElement.dataset.state") == "ready"


def test_a_scribble_over_the_pad_reads_nothing(open_page):
    page, _ = open_page()
    box = pad_box(page)
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    for row in range(12):
        y = box["y"] + 20 + row * (box["height"] - 40) / 11
        page.mouse.move(box["x"] + (box["width"] - 20 if row % 2 == 0 else 20), y, steps=3)
    page.mouse.up()
    page.wait_for_selector("#result[data-reads]", state="attached")
    page.get_by_role("button", name="Predict").click()
    wait_for_result(page, "")
    assert page.locator("#hint").text_content().strip()


def test_dark_mode_and_reduced_motion_keep_dark_ink_on_white_paper(open_page):
    page, _ = open_page(color_scheme="dark", reduced_motion="reduce")
    draw(page, "1")
    wait_for_result(page, "1")
    corner = page.evaluate("Array.from(document.getElementById('pad').getContext('2d').getImageData(0, 0, 1, 1).data)")
    assert corner == [255, 255, 255, 255]
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background != "rgb(245, 247, 251)"  # the light scheme's paper-grey page
    transition = page.evaluate("getComputedStyle(document.querySelector('#bars .fill')).transitionDuration")
    assert transition in ("0s", "0.001s")
