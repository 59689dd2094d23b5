"""Startup faults in Chromium: each file the page needs, in turn, answers 404, arrives cut short or changed.

The page must reach `<html data-state="error">` quickly (never an endless spinner), say in [role=alert] which
part failed, offer Retry, and keep the drawing pad working (it needs no Python). A Pillow wheel that fails
when an image is opened later must leave the page ready with the drawing kept.

These pages log console errors on purpose (a 404 is one), so they are not opened through conftest's
open_page, which fails a test on any; requests to other hosts are still guarded and fail the test.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import guard_context, wait_until_ready
from tests.helpers import digit_pad, png_bytes
from tests.pad import dark_pixels, draw, wait_for_result

pytestmark = pytest.mark.browser

ERROR_WITHIN_MS = 60_000  # well under app.js's STARTUP_TIMEOUT_MS (90 s): the fault itself must be noticed
ORT_WASM = "vendor/ort/ort-wasm-simd-threaded.wasm"
STDLIB = "vendor/pyodide/python_stdlib.zip"
NUMPY_WHEEL = "vendor/pyodide/numpy-*.whl"
PILLOW_WHEEL = "vendor/pyodide/pillow-*.whl"

def not_found(route) -> None:
    route.fulfill(status=404, content_type="text/plain", body="Not found")


def truncated(route) -> None:
    """The first half of the real file, with a matching Content-Length: a download cut short."""
    response = route.fetch()
    body = response.body()
    route.fulfill(response=response, body=body[: len(body) // 2])


def corrupted(route) -> None:
    """The real file's length with its first 4 KiB changed: wrong bytes (and a wrong hash for a wheel)."""
    response = route.fetch()
    body = response.body()
    route.fulfill(response=response, body=bytes(byte ^ 0x5A for byte in body[:4096]) + body[4096:])


FAULTS = {"404": not_found, "truncated": truncated, "corrupted": corrupted}

# (file pattern relative to the site, fault, what the alert must say)
CASES = [
    ("model/digits.onnx", "404", "the model (model/digits.onnx): HTTP 404"),
    ("model/digits.onnx", "truncated", "the model (model/digits.onnx)"),
    ("model/digits.onnx", "corrupted", "the model (model/digits.onnx)"),
    ("model/digits.space.npz", "404", "the model (model/digits.space.npz): HTTP 404"),
    ("model/digits.space.npz", "truncated", "the model (model/digits.space.npz): the file is damaged"),
    ("vendor/pyodide/pyodide.asm.wasm", "404", "the Python runtime (vendor/pyodide/pyodide.asm.wasm): HTTP 404"),
    ("vendor/pyodide/pyodide.asm.wasm", "truncated", "the Python runtime (vendor/pyodide/pyodide.asm.wasm)"),
    (ORT_WASM, "404", f"the model runtime ({ORT_WASM}): HTTP 404"),
    (ORT_WASM, "truncated", f"the model runtime ({ORT_WASM})"),
    ("vendor/pyscript/core.js", "404", "PyScript (vendor/pyscript/core.js): HTTP 404"),
    ("vendor/pyscript/core.js", "truncated", "PyScript (vendor/pyscript/core.js)"),
    ("vendor/ort/ort.wasm.min.mjs", "404", "the model runtime (vendor/ort/ort.wasm.min.mjs): HTTP 404"),
    ("vendor/ort/ort.wasm.min.mjs", "truncated", "the model runtime (vendor/ort/ort.wasm.min.mjs)"),
    ("vendor/ort/ort-wasm-simd-threaded.mjs", "truncated", "the model runtime (vendor/ort/ort-wasm-simd-threaded.mjs)"),
    ("vendor/pyodide/pyodide.asm.js", "404", "the Python runtime (vendor/pyodide/pyodide.asm.js): HTTP 404"),
    ("vendor/pyodide/pyodide.asm.js", "truncated", "the Python runtime"),
    (STDLIB, "404", f"Python's standard library ({STDLIB}): HTTP 404"),
    (STDLIB, "truncated", "Python"),
    (NUMPY_WHEEL, "404", "numpy"),
    (NUMPY_WHEEL, "corrupted", "numpy"),  # Pyodide refuses it: its sha256 is not the one pyodide-lock.json names
    ("pyapp/web.py", "404", "the app's Python code (pyapp/web.py): HTTP 404"),
    ("pyapp/segment.py", "truncated", "the app's Python code (pyapp/segment.py)"),
]


class FaultyPage:
    """A page of its own context whose every request is guarded, with one file answered by a fault."""

    def __init__(self, browser, server: str) -> None:
        self.server = server
        self.context = browser.new_context(service_workers="block")
        self.problems = guard_context(self.context, server)
        self.page = self.context.new_page()

    def fault(self, pattern: str, fault: str) -> None:
        # Registered after the guard, so it is matched first (Playwright tries the newest route first).
        self.context.route(f"{self.server}/{pattern}", FAULTS[fault])

    def heal(self, pattern: str) -> None:
        self.context.unroute(f"{self.server}/{pattern}")

    def open(self) -> None:
        self.page.goto(self.server + "/")

    def close(self) -> None:
        self.context.close()
        assert not self.problems.foreign_requests, f"requests left the test server: {self.problems.foreign_requests}"


@pytest.fixture
def faulty_page(browser, server):
    opened = []

    def opener() -> FaultyPage:
        page = FaultyPage(browser, server)
        opened.append(page)
        return page

    yield opener
    for page in opened:
        page.close()


def wait_for_error(page) -> str:
    page.wait_for_selector("html[data-state=error]", state="attached", timeout=ERROR_WITHIN_MS)
    return page.locator("[role=alert]").text_content()


@pytest.mark.parametrize(("pattern", "fault", "says"), CASES, ids=[f"{p}-{f}" for p, f, _ in CASES])
def test_a_file_that_fails_to_load_gives_an_error_state_that_names_it(faulty_page, pattern, fault, says):
    faulty = faulty_page()
    faulty.fault(pattern, fault)
    faulty.open()
    page = faulty.page
    alert = wait_for_error(page)
    assert alert.startswith("Could not load "), alert
    assert says in alert, alert
    assert "Check your connection and retry." in alert
    assert "took too long" not in alert  # the fault itself was noticed, not the timeout
    assert page.get_by_role("button", name="Retry").is_visible()
    assert page.locator("#progress").is_hidden()
    assert not page.locator(".py-error").count(), "PyScript's raw error box is left on the page"
    # The pad needs no Python: it still draws.
    draw(page, "1")
    assert dark_pixels(page) > 0
    # And nothing later turns the error back into "ready" or "loading".
    page.wait_for_timeout(500)
    assert page.evaluate("document.documentElement.dataset.state") == "error"


def test_retry_reloads_the_page_and_recovers(faulty_page):
    faulty = faulty_page()
    faulty.fault("model/digits.onnx", "404")
    faulty.open()
    assert "the model" in wait_for_error(faulty.page)
    faulty.heal("model/digits.onnx")  # the connection is back
    with faulty.page.expect_navigation():
        faulty.page.get_by_role("button", name="Retry").click()
    wait_until_ready(faulty.page)
    assert faulty.page.locator("[role=alert]").text_content() == ""
    assert faulty.page.get_by_role("button", name="Retry").is_hidden()



@pytest.mark.parametrize("fault", ["404", "corrupted"])
def test_pillow_failing_when_an_image_is_opened_keeps_the_page_ready_and_the_drawing(faulty_page, fault):
    faulty = faulty_page()
    faulty.fault(PILLOW_WHEEL, fault)
    faulty.open()
    page = faulty.page
    wait_until_ready(page)
    draw(page, "7")
    wait_for_result(page, "7")
    ink = dark_pixels(page)

    three = {"name": "three.png", "mimeType": "image/png", "buffer": png_bytes(digit_pad(3))}
    page.locator("#file").set_input_files(three)
    page.wait_for_selector("[role=alert]:not(:empty)", state="attached", timeout=30_000)
    alert = page.locator("[role=alert]").text_content()
    assert "three.png" in alert and "Pillow" in alert, alert
    assert re.search(r"try again", alert, re.IGNORECASE), alert
    assert page.evaluate("document.documentElement.dataset.state") == "ready"
    assert page.get_by_role("button", name="Retry").is_hidden()  # nothing to reload: the page works
    assert not page.locator(".py-error").count()
    assert dark_pixels(page) == ink  # the drawing is kept, as it was
    wait_for_result(page, "7")

    # The next image tries again: once the wheel arrives, the image is read.
    faulty.heal(PILLOW_WHEEL)
    page.get_by_role("button", name="Clear").click()
    wait_for_result(page, "")
    three = {"name": "three.png", "mimeType": "image/png", "buffer": png_bytes(digit_pad(3))}
    page.locator("#file").set_input_files(three)
    wait_for_result(page, "3", timeout=30_000)
    assert page.locator("[role=alert]").text_content() == ""
