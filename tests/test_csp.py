"""The strict page: index.html's Content-Security-Policy, and a whole session under it without one violation.

The policy is checked as served (present, default-src 'self', no 'unsafe-inline', nothing but the relaxations
the comment in index.html explains), the markup has no inline script, style or event handler, and a full
session (load, draw, read, undo, open an image, read it) raises no `securitypolicyviolation` event and no
console message about the policy. Requests to other hosts and console errors fail the test (conftest).
"""

from __future__ import annotations

import urllib.request
from html.parser import HTMLParser

import pytest

from tests.conftest import guard_context, wait_for_true, wait_until_ready, watch_page
from tests.helpers import digit_pad, png_bytes
from tests.pad import draw, wait_for_result

pytestmark = pytest.mark.browser

# The policy, directive by directive: a change here is a change of the page's security; say why in index.html.
EXPECTED_POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'", "'wasm-unsafe-eval'", "'unsafe-eval'"},
    "style-src": {"'self'"},
    "img-src": {"'self'"},
    "connect-src": {"'self'"},
    # blob: for the reader's worker, which PyScript starts from a blob: URL it writes (index.html says why).
    "worker-src": {"'self'", "blob:"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
    "form-action": {"'none'"},
}

# Recorded in the page before any of its scripts runs (an init script is not subject to the page's CSP).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
        + ` at ${event.sourceFile}:${event.lineNumber} (${event.sample})`);
}, true);
"""


class Markup(HTMLParser):
    """What the served index.html holds: its CSP, scripts, style elements and attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.policies: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.inline_scripts: list[str] = []
        self.style_elements = 0
        self.style_attributes: list[str] = []
        self.event_handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "content-security-policy":
            self.policies.append(attributes.get("content") or "")
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = True
        if tag == "style":
            self.style_elements += 1
        if "style" in attributes:
            self.style_attributes.append(tag)
        self.event_handlers += [f"{tag} {name}" for name in attributes if name.startswith("on")]

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data.strip()[:80])


def served_markup(server: str) -> Markup:
    with urllib.request.urlopen(server + "/") as response:
        markup = Markup()
        markup.feed(response.read().decode("utf-8"))
    return markup


def parse_policy(policy: str) -> dict[str, set[str]]:
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name.lower()] = set(values)
    return directives


def test_the_page_declares_a_strict_content_security_policy(server):
    markup = served_markup(server)
    assert len(markup.policies) == 1, "one CSP meta tag"
    policy = parse_policy(markup.policies[0])
    assert policy["default-src"] == {"'self'"}
    assert not any("'unsafe-inline'" in values for values in policy.values())
    wide_open = {"*", "data:", "blob:", "http:", "https:"}
    # The one scheme allowed anywhere: blob: workers (a blob: URL is made by the page itself, never fetched).
    opened = {name: values & wide_open for name, values in policy.items() if values & wide_open}
    assert opened == {"worker-src": {"blob:"}}, f"a scheme or wildcard source: {opened}"
    assert policy == EXPECTED_POLICY


def test_the_markup_has_no_inline_script_style_or_handler(server):
    markup = served_markup(server)
    assert not markup.inline_scripts, f"inline script: {markup.inline_scripts}"
    assert all(script.get("src") for script in markup.scripts), "every <script> (the Python one too) has a src"
    assert not markup.style_elements, "a <style> element"
    assert not markup.style_attributes, f"style attributes on {markup.style_attributes}"
    assert not markup.event_handlers, f"inline event handlers: {markup.event_handlers}"


@pytest.fixture
def strict_page(browser, server):
    """A guarded page (foreign requests, console errors and page errors fail the test) that records CSP
    violations from its first script on, and console messages about the policy of any level."""
    context = browser.new_context(service_workers="allow")  # sw.js registers under the policy too
    problems = guard_context(context, server)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    watch_page(page, problems)
    policy_messages: list[str] = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and policy_messages.append(message.text),
    )
    yield page, policy_messages
    context.close()
    problems.check()



def run_session(page, server: str) -> None:
    """Load, draw, read, undo, open an image and read it, and let the service worker register."""
    page.goto(server + "/")
    wait_until_ready(page)

    draw(page, "7")
    wait_for_result(page, "7")
    page.get_by_role("button", name="Predict").click()
    wait_for_result(page, "7")
    page.get_by_role("button", name="Undo").click()
    wait_for_result(page, "")

    # An image through the file input: Pillow is loaded now, then the image is drawn on the pad and read.
    three = {"name": "three.png", "mimeType": "image/png", "buffer": png_bytes(digit_pad(3))}
    page.locator("#file").set_input_files(three)
    wait_for_result(page, "3", timeout=30_000)
    assert page.locator("[role=alert]").text_content() == ""

    # offline.js registers sw.js once Python is ready: a worker under the policy as well.
    wait_for_true(page, "async () => Boolean(await navigator.serviceWorker.getRegistration())", timeout_s=30)


def test_a_whole_session_raises_no_policy_violation(strict_page, server):
    page, policy_messages = strict_page
    run_session(page, server)
    assert page.evaluate("window.__cspViolations") == []
    assert policy_messages == []
