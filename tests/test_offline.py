"""Return visits and offline use: the service worker's cache serves the page, and a new build replaces it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, start_server, wait_for_true, wait_until_ready
from tests.pad import draw, wait_for_result

pytestmark = pytest.mark.browser

WAIT_FOR_CACHE = """async () => {
    const registration = await navigator.serviceWorker.ready;
    while (!navigator.serviceWorker.controller) await new Promise((resolve) => setTimeout(resolve, 100));
    return (await caches.keys()).filter((name) => name.startsWith('digits-'));
}"""


COUNT_CACHED_AND_LISTED = """async () => {
    const [name] = await caches.keys();
    const cached = (await (await caches.open(name)).keys()).length;
    const worker = await (await fetch('./sw.js')).text();
    return [cached, JSON.parse(worker.match(/FILES = (\\[.*?\\]);/)[1]).length];
}"""


def cached_version(page) -> list[str]:
    return page.evaluate(WAIT_FOR_CACHE)


def test_a_second_visit_works_with_the_network_off(open_page):
    page, _ = open_page(service_workers="allow")
    version = json.loads(page.evaluate("fetch('./version.json', {cache: 'no-store'}).then(r => r.text())"))
    assert cached_version(page) == [f"digits-{version['version']}"]
    cached, listed = page.evaluate(COUNT_CACHED_AND_LISTED)
    assert cached == listed > 30
    page.context.set_offline(True)
    page.reload()
    wait_until_ready(page)
    draw(page, "7")
    wait_for_result(page, "7")


def build_with_title(repo_copy: Path, title: str, dest: Path) -> str:
    import serve

    index = repo_copy / "site" / "index.html"
    text = index.read_text()
    index.write_text(text.replace("<title>", f"<title>{title} ", 1))
    serve.build(dest, repo=repo_copy, log=lambda _: None)
    return json.loads((dest / "version.json").read_text())["version"]


def test_a_new_build_replaces_the_cached_files(browser, tmp_path):
    repo_copy = tmp_path / "repo"
    for part in ("site", "pyapp", "model"):
        shutil.copytree(ROOT / part, repo_copy / part)
    served = tmp_path / "served"
    first = build_with_title(repo_copy, "First", served)
    url, server = start_server(served)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url + "/")
        wait_until_ready(page)
        assert cached_version(page) == [f"digits-{first}"]

        second = build_with_title(repo_copy, "Second", tmp_path / "second")
        shutil.copytree(tmp_path / "second", served, dirs_exist_ok=True)
        assert second != first
        page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
        wait_for_true(
            page,
            "expected => caches.keys().then((names) => names.length === 1 && names[0] === expected)",
            f"digits-{second}",
            timeout_s=120,
        )
        page.reload()
        wait_until_ready(page)
        assert page.title().startswith("Second")
    finally:
        context.close()
        server.shutdown()
