"""The page end to end in Debian's Chromium: load, draw with the mouse, read.

Every request is routed (one to another host fails the test) and console errors fail it too (conftest).
"""

from __future__ import annotations

import pytest

from tests.pad import dark_pixels, draw, result, wait_for_result

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("digit", ["1", "7", "0"])
def test_a_drawn_digit_is_read_after_predict(open_page, digit):
    page, _ = open_page()
    draw(page, digit)
    page.get_by_role("button", name="Predict").click()
    wait_for_result(page, digit)
    assert page.locator("#result").text_content() == digit


def test_an_empty_pad_reads_nothing_and_says_what_to_do(open_page):
    page, _ = open_page()
    page.get_by_role("button", name="Predict").click()
    page.wait_for_selector("#hint:not(:empty)", state="attached")
    assert result(page) == ""
    assert "draw" in page.locator("#hint").text_content().lower()


def test_clear_empties_the_pad_and_the_result(open_page):
    page, _ = open_page()
    draw(page, "7")
    wait_for_result(page, "7")
    page.get_by_role("button", name="Clear").click()
    wait_for_result(page, "")
    assert dark_pixels(page) == 0


def test_the_pad_is_dark_ink_on_light_paper(open_page):
    page, _ = open_page()
    draw(page, "1")
    corner, ink = page.evaluate(
        "() => { const c = document.getElementById('pad'); const x = c.getContext('2d');"
        " const all = x.getImageData(0, 0, c.width, c.height).data; let min = 255;"
        " for (let i = 0; i < all.length; i += 4) min = Math.min(min, all[i]);"
        " return [Array.from(x.getImageData(0, 0, 1, 1).data), min]; }"
    )
    assert corner == [255, 255, 255, 255]
    assert ink < 60


def test_predict_reads_pixels_put_on_the_pad_by_anyone(open_page):
    """Predict reads whatever pixels the pad holds, not only strokes drawn through the page."""
    page, _ = open_page()
    page.evaluate(
        "() => { const c = document.getElementById('pad'); const x = c.getContext('2d');"
        " x.fillStyle = '#000'; const h = c.height;"
        " x.fillRect(c.width / 2 - h * 0.04, h * 0.15, h * 0.08, h * 0.7); }"
    )
    page.get_by_role("button", name="Predict").click()
    wait_for_result(page, "1")


def test_drawing_before_python_is_ready_is_read_once_ready(open_page):
    page, _ = open_page(wait_ready=False)
    page.wait_for_selector("#pad")
    draw(page, "7")
    wait_for_result(page, "7", timeout=120_000)


def test_the_site_works_under_a_sub_path(open_page, subpath_server):
    page, _ = open_page(subpath_server)
    draw(page, "7")
    page.get_by_role("button", name="Predict").click()
    wait_for_result(page, "7")


def test_the_way_to_python_has_no_unused_plugins_and_no_late_request(open_page):
    """index.html's <py-config> and <mpy-config> (one for each of PyScript's script types, the same list) leave
    PyScript's editor, terminal, game, donkey, codemirror and deprecation plugins out: they were six requests
    on the way to Python. The error plugin stays (app.js reads it). worker.py is preloaded, and PyScript's own
    fetch of it takes that response: one request, by the link."""
    page, _ = open_page()
    configs = page.evaluate("['py-config', 'mpy-config'].map((tag) => document.querySelector(tag).textContent)")
    assert configs[0] == configs[1], configs
    entries = "performance.getEntriesByType('resource').map((e) => [new URL(e.name).pathname, e.initiatorType])"
    loaded = page.evaluate(entries)
    assert [kind for path, kind in loaded if path.endswith("/worker.py")] == ["link"]
    pyscript = [path.rsplit("/", 1)[-1] for path, _ in loaded if "/vendor/pyscript/" in path]
    assert any(name.startswith("error-") for name in pyscript), pyscript  # the one plugin kept is seen loading
    unused = ("codemirror", "deprecations-manager-", "donkey-", "py-editor-", "py-game-", "py-terminal-")
    assert not [name for name in pyscript if name.startswith(unused)], pyscript
