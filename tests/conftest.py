"""Shared fixtures: the built site, a server on loopback, and Debian's Chromium driven by Playwright.

Every request the page makes is routed: one that leaves the test server fails the test, and so does any
console error or uncaught page error.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_TIMEOUT_MS = 120_000  # cold Pyodide start on a busy 2-core machine


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The deployable folder, built once per session with the same build step as `python serve.py`."""
    import serve

    return serve.build(tmp_path_factory.mktemp("site") / "dist")


def start_server(root: Path) -> tuple[str, object]:
    import serve

    server = serve.SiteServer(root, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


@pytest.fixture(scope="session")
def server(built_site: Path) -> Iterator[str]:
    """Base URL (no trailing slash) of serve.py serving the built site on loopback."""
    url, running = start_server(built_site)
    yield url
    running.shutdown()


@pytest.fixture(scope="session")
def subpath_server(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same site served under /digit-reader/, as GitHub Pages serves a project site."""
    holder = tmp_path_factory.mktemp("pages")
    shutil.copytree(built_site, holder / "digit-reader")
    url, running = start_server(holder)
    yield f"{url}/digit-reader"
    running.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


class PageProblems:
    """What went wrong on a page: requests to other hosts, console errors, uncaught errors."""

    def __init__(self) -> None:
        self.foreign_requests: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []

    def check(self) -> None:
        assert not self.foreign_requests, f"requests left the test server: {self.foreign_requests}"
        assert not self.page_errors, f"uncaught errors: {self.page_errors}"
        assert not self.console_errors, f"console errors: {self.console_errors}"


def guard_context(context, base_url: str) -> PageProblems:
    """Route every request: anything not for the test server is aborted and recorded."""
    problems = PageProblems()
    allowed = urlparse(base_url).netloc

    def route(route, request) -> None:
        if urlparse(request.url).netloc == allowed or request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            problems.foreign_requests.append(request.url)
            route.abort()

    context.route("**/*", route)
    return problems


def watch_page(page, problems: PageProblems) -> None:
    def on_console(message) -> None:
        if message.type == "error":
            problems.console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.page_errors.append(str(error)))


@pytest.fixture
def open_page(browser, server):
    """open_page(url=server, **context_options) -> (page, problems); problems are checked at teardown."""
    opened = []

    def opener(url: str | None = None, *, wait_ready: bool = True, **context_options):
        target = url or server
        # The service worker precaches the whole site in the background; only the offline tests want it.
        context_options.setdefault("service_workers", "block")
        context = browser.new_context(**context_options)
        problems = guard_context(context, target)
        page = context.new_page()
        watch_page(page, problems)
        page.goto(target + "/")
        if wait_ready:
            wait_until_ready(page)
        opened.append((context, problems))
        return page, problems

    yield opener
    for context, problems in opened:
        context.close()
        problems.check()


def wait_until_ready(page) -> None:
    page.wait_for_selector("html:not([data-state=loading])", state="attached", timeout=READY_TIMEOUT_MS)
    state = page.evaluate("document.documentElement.dataset.state")
    alert = page.locator("[role=alert]").first.text_content()
    assert state == "ready", f"page state {state!r}: {alert}"


def wait_for_true(page, expression: str, arg=None, timeout_s: float = 60) -> None:
    """Poll an async JS function until it resolves truthy. Playwright's wait_for_function takes a returned
    Promise itself as truthy, so it cannot wait on anything asynchronous such as the Cache API."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression, arg):
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting for {expression}"
        time.sleep(0.2)
