"""A calm panel (issue 19, item 3): before the first reading the panel shows what helps a newcomer (the
loading progress, what to do) and none of what cannot be used yet; the selected digit's part (choice of
digit, "Correct this digit", the 28x28 view, the bars, Why?) comes with a reading that has a digit and goes
with Clear; the taught examples' Export and Import stay reachable in a disclosure at the panel's foot; the
keyboard order of the pad's controls is what it was before the panel changed.

Hidden means hidden from everyone: not shown, not in the accessibility tree, not in the tab order.
"""

from __future__ import annotations

import pytest

from tests.pad import draw, draw_number, wait_for_result, wait_until_settled

pytestmark = pytest.mark.browser

# Tab order from the page's start, recorded on the page before the panel changed (desktop, nothing drawn):
# pad, Predict, Undo, Clear, Eraser, Brush, Open image, then "Import examples" and the footer's link. The
# pad's controls keep theirs; what follows them is the panel's.
PAD_CONTROLS = ["pad", "predict", "undo", "clear", "eraser", "brush", "file"]
KEYS = [f"key {digit}" for digit in range(10)]

FOCUSED = """() => {
    const e = document.activeElement;
    if (!e || e === document.body) return "body";
    if (e.tagName === "SUMMARY") return "summary: " + e.textContent.trim();
    if (e.tagName === "A") return "link: " + e.textContent.trim();
    if (e.dataset.label !== undefined) return "key " + e.dataset.label;
    if (e.dataset.index !== undefined) return "digit " + e.dataset.index;
    return e.id || e.tagName.toLowerCase();
}"""


def tab_order(page, limit: int = 40) -> list[str]:
    """What Tab reaches from the page's start, once round (until it leaves the page)."""
    page.locator("h1").click()  # the sequential focus navigation starts here, before the pad
    order = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused == "body" or focused in order:
            break
        order.append(focused)
    return order


def panel(page) -> str:
    """The result panel's accessibility tree, as Playwright's aria snapshot writes it."""
    return page.locator(".result-area").aria_snapshot()


def assert_no_digit_controls(page) -> None:
    for hidden in ("#digit-panel", "#correct", "#bars", "#seen", "#why", "#digits"):
        assert page.locator(hidden).is_hidden(), f"{hidden} is shown with no digit read"
    tree = panel(page)
    for absent in ("Correct this digit", "Why?", "Probability of each digit", "radiogroup", "[disabled]"):
        assert absent not in tree, f"{absent!r} in the panel's accessibility tree:\n{tree}"
    assert 'button "7"' not in tree, tree
    assert page.get_by_role("button", name="7", exact=True).count() == 0


def test_before_a_reading_the_panel_says_what_to_do_and_shows_no_digit_controls(open_page):
    page, _ = open_page(wait_ready=False)
    page.wait_for_selector("#pad")
    if page.evaluate("document.documentElement.dataset.state") == "loading":  # Python takes seconds to load
        assert page.locator("#progress").is_visible() and page.locator("#status-text").is_visible()
        assert page.locator("#how-to").is_visible()
        assert_no_digit_controls(page)
    page.wait_for_selector("html[data-state=ready]", state="attached", timeout=120_000)
    assert page.locator("#status").is_hidden()  # loaded: the progress has done its job
    assert page.locator("#how-to").is_visible() and "whole number" in page.locator("#how-to").text_content()
    assert page.locator("#hint").text_content() == "Draw a digit"
    assert_no_digit_controls(page)
    # Taught examples: a closed disclosure, its controls out of sight and out of the tab order.
    assert page.locator("#examples").get_attribute("open") is None
    assert page.locator("#import-examples").is_hidden()
    assert "Import examples" not in panel(page)
    # The panel is short: before, its ten greyed keys, empty view and bars made it 590 px tall on a desktop.
    assert page.locator(".result-area").bounding_box()["height"] < 300


def test_the_digit_controls_come_with_a_reading_and_go_with_clear(open_page):
    page, _ = open_page()
    draw(page, "7")
    wait_for_result(page, "7")
    for shown in ("#digit-panel", "#correct", "#bars", "#seen", "#why"):
        assert page.locator(shown).is_visible(), f"{shown} is not shown with a reading"
    keys = page.get_by_role("group", name="Correct this digit").get_by_role("button")
    assert keys.count() == 10 and all(keys.nth(i).is_enabled() for i in range(10))
    assert page.get_by_role("button", name="Why?").is_enabled()
    assert page.locator("#how-to").is_hidden()  # a newcomer's help: a digit has been read
    tree = panel(page)
    assert 'group "Correct this digit"' in tree and 'button "7"' in tree and "[disabled]" not in tree, tree

    page.get_by_role("button", name="Clear").click()
    wait_for_result(page, "")
    page.wait_for_selector("#digit-panel", state="hidden")
    assert_no_digit_controls(page)
    assert page.locator("#how-to").is_hidden()  # not again on this page
    assert page.locator("#hint").text_content() == "Draw a digit"

    # A reading with no digit (a line) shows none either; the next digit brings them back.
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.5, steps=6)
    page.mouse.up()
    page.wait_for_selector("#hint:text('not a digit')", state="attached")
    assert_no_digit_controls(page)
    page.get_by_role("button", name="Clear").click()
    wait_for_result(page, "")
    draw(page, "1")
    wait_for_result(page, "1")
    page.wait_for_selector("#digit-panel", state="visible")


def test_keyboard_order_of_the_pad_controls_is_unchanged_and_the_panel_follows(open_page):
    page, _ = open_page()
    examples = "summary: Your taught examples"
    footer = "link: Model card"
    assert tab_order(page) == PAD_CONTROLS + [examples, footer]

    draw_number(page, "71")
    wait_for_result(page, "71")
    wait_until_settled(page)
    assert tab_order(page) == PAD_CONTROLS + ["digit 0", "digit 1"] + KEYS + ["why", examples, footer]

    # Escape on a correction key clears the pad; the key goes with the panel and focus goes to the pad,
    # not to the page's start.
    page.locator('#correct button[data-label="3"]').focus()
    page.keyboard.press("Escape")
    wait_for_result(page, "")
    page.wait_for_selector("#digit-panel", state="hidden")
    assert page.evaluate(FOCUSED) == "pad"
    assert tab_order(page) == PAD_CONTROLS + [examples, footer]


def test_export_and_import_stay_reachable_in_the_examples_disclosure(open_page):
    page, _ = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    summary = page.locator("#examples summary")
    assert summary.is_visible() and page.locator("#import-examples").is_hidden()
    # By keyboard: the summary is the one stop; Enter opens it and Import examples comes next.
    summary.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#examples[open]", state="attached")
    assert page.locator("#examples-status").text_content() == "Nothing taught yet."
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "import-examples"  # Forget and Export: nothing to
    assert page.locator("#forget").is_hidden() and page.locator("#export-examples").is_hidden()  # act on yet
    assert page.get_by_text("Import examples…").is_visible()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    assert chooser.value is not None
    # Closed again, its controls leave the tab order.
    summary.click()
    page.wait_for_selector("#examples:not([open])", state="attached")
    assert page.locator("#import-examples").is_hidden()


def test_enter_presses_the_disclosure_and_the_link_rather_than_reading(open_page):
    """Enter reads the pad from anywhere (the page's shortcut) but on what Enter itself presses: the examples'
    summary opens, the footer's link is followed, and neither reads."""
    page, _ = open_page()
    reads = page.locator("#result").get_attribute("data-reads")
    page.locator("#examples summary").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#examples[open]", state="attached")
    page.keyboard.press("Enter")
    page.wait_for_selector("#examples:not([open])", state="attached")
    assert page.locator("#result").get_attribute("data-reads") == reads
    page.get_by_role("link", name="Model card").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/model/card.html")


def test_a_new_reading_of_the_pad_keeps_keyboard_focus_on_its_digit_choice(open_page):
    """A later reading redraws the digit choices (a live read overtaken by the finished drawing, Predict):
    the choice a keyboard user is on keeps the focus, rather than dropping it to the page's start."""
    page, _ = open_page()
    draw_number(page, "71")
    wait_for_result(page, "71")
    wait_until_settled(page)
    page.locator('#digits [data-index="1"]').focus()
    before = page.locator("#result").get_attribute("data-reads")
    page.evaluate("() => document.getElementById('predict').click()")  # a click that leaves focus where it is
    page.wait_for_selector(f'#result:not([data-reads="{before}"])', state="attached")
    assert page.evaluate(FOCUSED) == "digit 1"
