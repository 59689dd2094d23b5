"""Photos as people take them, in Chromium: dropped onto the page, cleaned in the worker (pyapp.photo), read
right; a stray mark beside the number is rubbed out with the eraser, and Undo brings it back."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from tests.pad import draw, rub_points, rub_with_mouse, send_file, wait_for_result

pytestmark = pytest.mark.browser

FIXTURES = ROOT / "tests" / "fixtures"  # made by tests/photos.py; the number is in the name


@pytest.mark.parametrize("name", ["squared-1253.jpg", "table-13539.jpg"])
def test_a_dropped_photo_is_read_and_a_stray_mark_erased(open_page, name):
    page, _ = open_page()
    number = name.split("-")[1].split(".")[0]
    send_file(page, (FIXTURES / name).read_bytes(), name, "image/jpeg", "drop")
    wait_for_result(page, number, timeout=30_000)

    # A slip of the pen in the pad's top-left corner, away from the number.
    draw(page, "1", centre_x=0.04, height=0.3)
    page.wait_for_selector(f'#result:not([data-value="{number}"])', state="attached")
    stray = page.locator("#result").get_attribute("data-value")

    page.get_by_role("button", name="Eraser").click()
    rub_with_mouse(page, rub_points(page, 0.0, 0.25, 0.09, 0.5))
    wait_for_result(page, number)

    page.get_by_role("button", name="Undo").click()
    wait_for_result(page, stray)
