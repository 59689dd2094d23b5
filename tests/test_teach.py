"""Teaching the page a handwriting, end to end in Chromium: corrections change the next readings, stay across
a reload, go with "Forget what I taught", and travel as an exported file; bad files change nothing.

The style is a "V" (the Eastern Arabic seven), which the model alone reads as something else: drawn with the
mouse, as one stroke or two, every drawing jittered differently (size, place, apex, arm lengths, a bow in
each arm, the brush's speed).
"""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest

from tests.conftest import wait_until_ready
from tests.pad import draw_strokes, result, wait_for_result

pytestmark = pytest.mark.browser

EXAMPLES_KEY = "digit-reader:examples"  # site/teach.js
STORED = f"() => localStorage.getItem({json.dumps(EXAMPLES_KEY)})"
SETTLED_S = 0.5  # no new reading for this long after a drawing: the last one is of the finished drawing


# A seed whose "V" the model alone reads as one mark on the page: the pair "11" (so do 6 and 9; with the
# eleven-class model before pairs, a "4"). A key on either half teaches the whole mark as that digit. Others
# (1, 2, 4, 5, 7, 11 of 0-11 in CPython) read "11" cut at the apex, each arm a sure 1: correcting one of
# those teaches that arm alone (see the expected failure below).
ONE_MARK = 3


def v_strokes(seed: int) -> list[list[tuple[float, float]]]:
    """A hand-drawn "V" in the pad's units (fractions of its height; the pad is twice as wide as tall)."""
    rng = np.random.default_rng(seed)
    height = rng.uniform(0.5, 0.75)
    width = rng.uniform(0.5, 0.85) * height
    top = rng.uniform(0.08, 0.92 - height)
    left = rng.uniform(0.3, 1.7 - width)
    apex = (left + rng.uniform(0.4, 0.6) * width, top + height)
    ends = [(left, top + rng.uniform(0, 0.12) * height), (left + width, top + rng.uniform(0, 0.12) * height)]

    def arm(end: tuple[float, float]) -> list[tuple[float, float]]:
        """From the arm's free end down to the apex, bowed a little sideways."""
        bow = rng.uniform(-0.05, 0.05) * height
        middle = ((end[0] + apex[0]) / 2 + bow, (end[1] + apex[1]) / 2)
        return [end, middle, apex]

    left_arm, right_arm = arm(ends[0]), arm(ends[1])
    if rng.random() < 0.5:
        return [left_arm + right_arm[::-1][1:]]  # one stroke: down the left arm, up the right one
    return [left_arm, right_arm]  # two strokes, each from the top down


def wait_until(page, expression: str, timeout_s: float = 30) -> None:
    """Poll a JS expression (page.evaluate, as the other tests: not wait_for_function's strings)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.1)


def reads(page) -> int:
    return int(page.locator("#result").get_attribute("data-reads") or 0)


def settle(page, timeout_s: float = 30) -> str:
    """The reading once the page has stopped reading (live reads come while a stroke is drawn)."""
    deadline = time.monotonic() + timeout_s
    count = reads(page)
    while True:
        time.sleep(SETTLED_S)
        now = reads(page)
        if now == count:
            return result(page)
        assert time.monotonic() < deadline, "the page kept reading"
        count = now


def draw_v(page, seed: int) -> str:
    page.get_by_role("button", name="Clear").click()
    wait_for_result(page, "")
    before = reads(page)
    draw_strokes(page, v_strokes(seed), steps=int(np.random.default_rng(seed).integers(3, 7)))
    wait_until(page, f"() => Number(document.getElementById('result').dataset.reads) > {before}")
    return settle(page)


def bars(page) -> list[str]:
    return page.locator("#bars .pct").all_text_contents()


def correct(page, label: str) -> None:
    page.get_by_role("group", name="Correct this digit").get_by_role("button", name=label, exact=True).click()


def open_examples(page) -> None:
    """Open the "Your taught examples" disclosure at the panel's foot, as a person does to reach Forget,
    Export and Import (closed on each visit)."""
    if page.locator("#examples").get_attribute("open") is None:
        page.locator("#examples summary").click()
    page.wait_for_selector("#examples[open]", state="attached")


def forget_button(page):
    open_examples(page)
    return page.get_by_role("button", name=re.compile(r"^Forget what I taught"))


def taught_count(page) -> int:
    """The count the page shows: in the disclosure's summary, and on Forget (hidden with none)."""
    summary = page.locator("#examples summary").text_content()
    forget = page.locator("#forget")
    if forget.get_attribute("hidden") is not None:
        assert summary == "Your taught examples", summary
        return 0
    count = int(re.search(r"\((\d+)\)", forget.text_content()).group(1))
    assert summary == f"Your taught examples ({count})", summary
    return count


def wait_for_count(page, count: int) -> None:
    page.wait_for_selector(f"#forget:text('({count})')" if count else "#forget[hidden]", state="attached")


def teach_seven(page, seed: int, count: int) -> None:
    draw_v(page, seed)
    correct(page, "7")
    wait_for_count(page, count)
    wait_for_result(page, "7")
    page.wait_for_selector("#hint:text('7, as you taught')", state="attached")


def test_three_corrections_teach_a_v_as_seven_until_forgotten(open_page):
    page, _ = open_page()
    group = page.get_by_role("group", name="Correct this digit")
    assert group.count() == 0  # nothing read yet: no keys to press (tests/test_panel.py)
    assert taught_count(page) == 0
    open_examples(page)
    assert not page.get_by_role("button", name="Export examples").is_visible()  # nothing to export

    alone = draw_v(page, seed=ONE_MARK)
    assert group.get_by_role("button").count() == 10
    model_bars = bars(page)
    assert alone != "7", "the model alone must misread this style, or teaching shows nothing"

    # The first correction changes the reading in front of the person; the bars stay the model's own: for
    # the whole mark now, one digit, where they were the pair's left digit's.
    correct(page, "7")
    wait_for_result(page, "7")
    assert page.locator("#hint").text_content() == "7, as you taught"
    assert bars(page)[7] != "100%"  # not the taught label's
    assert page.locator("#taught-note").is_visible()
    assert taught_count(page) == 1
    for count, seed in ((2, 6), (3, 9)):  # two more, drawn a little differently
        teach_seven(page, seed, count=count)

    new_drawings = [draw_v(page, seed) for seed in range(100, 110)]
    assert sum(text == "7" for text in new_drawings) >= 9, new_drawings

    # Kept in this browser: a reload reads the same way.
    stored = page.evaluate(STORED)
    assert len(json.loads(stored)["examples"]) == 3
    page.reload()
    wait_until_ready(page)
    wait_for_count(page, 3)
    assert draw_v(page, seed=ONE_MARK) == "7"
    assert page.locator("#hint").text_content() == "7, as you taught"

    # Forgotten: the model reads alone again, on the pad as it is.
    forget_button(page).click()
    wait_for_count(page, 0)
    wait_for_result(page, alone)
    assert settle(page) == alone and bars(page) == model_bars
    assert "as you taught" not in page.locator("#hint").text_content()
    assert page.locator("#taught-note").is_hidden()
    assert page.evaluate(STORED) is None


def import_file(page, name: str, data: bytes) -> str:
    """Import a file; the alert's text once the worker has answered (empty when it was taken).

    The answer names the file, in the alert when refused and in the examples' status when taken. (The page
    clears the alert as soon as a file is chosen, so a cleared alert alone says nothing about the answer.)
    """
    page.locator("#import-examples").set_input_files({"name": name, "mimeType": "application/json", "buffer": data})
    named = json.dumps(f"“{name}”")
    answered = f"['alert', 'examples-status'].some(id => document.getElementById(id).textContent.includes({named}))"
    wait_until(page, f"() => {answered}")
    return page.locator("[role=alert]").text_content()


def test_examples_export_and_import_and_bad_files_change_nothing(open_page, tmp_path):
    page, _ = open_page(accept_downloads=True)
    # By keyboard: the keys are real buttons, Enter presses one.
    draw_v(page, seed=ONE_MARK)
    page.get_by_role("group", name="Correct this digit").get_by_role("button", name="7", exact=True).focus()
    page.keyboard.press("Enter")
    wait_for_count(page, 1)
    wait_for_result(page, "7")
    stored = page.evaluate(STORED)

    open_examples(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export examples").click()
    path = tmp_path / "taught.json"
    download.value.save_as(path)
    assert download.value.suggested_filename.endswith(".json")
    assert path.read_text() == stored

    exported = json.loads(stored)
    other_model = dict(exported, model="0" * 64)
    bad_files = {
        "broken.json": (stored[: len(stored) // 2].encode(), "not readable JSON"),
        "photo.png": (b"\x89PNG\r\n\x1a\n" + bytes(64), "not readable JSON"),
        "settings.json": (json.dumps({"theme": "dark"}).encode(), "not a set of taught examples from this"),
        "other-model.json": (json.dumps(other_model).encode(), "different version of the model"),
    }
    for name, (data, says) in bad_files.items():
        alert = import_file(page, name, data)
        assert f"Could not import “{name}”" in alert and says in alert and "unchanged" in alert, alert
        assert page.evaluate(STORED) == stored and taught_count(page) == 1
    page.get_by_role("button", name="Predict").click()
    assert settle(page) == "7"  # still taught

    # To another browser: with nothing taught, importing the exported file reads the same way again.
    forget_button(page).focus()
    page.keyboard.press("Enter")
    wait_for_count(page, 0)
    assert page.evaluate("document.activeElement.id") == "examples-status"  # not lost with the hidden button
    assert import_file(page, "taught.json", path.read_bytes()) == ""
    wait_for_count(page, 1)
    wait_for_result(page, "7")
    assert page.locator("#hint").text_content() == "7, as you taught"
    assert json.loads(page.evaluate(STORED)) == exported


def test_stored_examples_of_another_model_are_set_aside_with_a_message(open_page):
    page, _ = open_page()
    teach_seven(page, seed=ONE_MARK, count=1)
    document = json.loads(page.evaluate(STORED))
    document["model"] = "f" * 64  # as if the model had been retrained since
    page.evaluate("([key, value]) => localStorage.setItem(key, value)", [EXAMPLES_KEY, json.dumps(document)])
    page.reload()
    wait_until_ready(page)
    page.wait_for_selector("[role=alert]:text('could not be used')", state="attached")
    assert "different version of the model" in page.locator("[role=alert]").text_content()
    assert taught_count(page) == 0 and page.evaluate(STORED) is None
    assert draw_v(page, seed=ONE_MARK) != "7"


@pytest.mark.xfail(strict=True, reason="a V read as two 1s is taught piece by piece: no 'these are one digit' yet")
def test_a_v_read_as_two_ones_is_taught_whole_by_correcting_it(open_page):
    page, _ = open_page()
    assert draw_v(page, seed=1) == "11"  # cut at its apex
    correct(page, "7")
    wait_for_count(page, 1)
    assert settle(page) == "7"  # it reads "71": the first arm alone was taught
