"""The model card as a page of the site: training.card's markdown subset, model/card.html in the build,
served as HTML, linked from the page's footer, in step with model/evaluation.json, and readable offline."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

import sitebuild
from tests.conftest import ROOT, wait_for_true
from training import card

MODEL = ROOT / "model"
CARD, IMAGE = sitebuild.MODEL_CARD  # "model/card.html", "model/confusion.png"

IMAGE_LOADED = """() => {
    const image = document.querySelector("main img");
    return image !== null && image.complete && image.naturalWidth > 0;
}"""


class Page(HTMLParser):
    """What a page holds: its language, title, meta tags, links, images, table headers, inline code."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self.text: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def parsed(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


# --- The markdown subset ---------------------------------------------------------------------------------

SAMPLE = """# A <title> & more

A paragraph with `a < b && c > d` code, **bold `x`** and a [link](other.html?a=1&b=2)
that goes on. Not a link: [x](javascript:alert(1)).

- one item
  that continues here
- two: 1 < 2 & 3 > 2

| name | value |
|---|---|
| `<b>` | 5 & 6 |
| short |

![A "quoted" <alt>](plot.png)
"""


def test_the_converter_renders_the_subset_and_escapes_the_rest() -> None:
    html = card.to_html(SAMPLE, lambda src: (64, 32) if src == "plot.png" else None)
    assert html.splitlines() == [
        '<h1 id="a-title-more">A &lt;title&gt; &amp; more</h1>',
        "<p>A paragraph with <code>a &lt; b &amp;&amp; c &gt; d</code> code, <strong>bold <code>x</code></strong>"
        ' and a <a href="other.html?a=1&amp;b=2">link</a> that goes on. Not a link: [x](javascript:alert(1)).</p>',
        "<ul>",
        "<li>one item that continues here</li>",
        "<li>two: 1 &lt; 2 &amp; 3 &gt; 2</li>",
        "</ul>",
        "<table>",
        "<thead>",
        "<tr>",
        '<th scope="col">name</th>',
        '<th scope="col">value</th>',
        "</tr>",
        "</thead>",
        "<tbody>",
        "<tr><td><code>&lt;b&gt;</code></td><td>5 &amp; 6</td></tr>",
        "<tr><td>short</td><td></td></tr>",  # a short row is filled up to the header's columns
        "</tbody>",
        "</table>",
        '<p><img src="plot.png" alt="A &quot;quoted&quot; &lt;alt&gt;" width="64" height="32"></p>',
    ]
    assert card.title_of(SAMPLE) == "A <title> & more"


def test_png_size_reads_the_header(tmp_path: Path) -> None:
    assert card.png_size(MODEL / "confusion.png") is not None
    (tmp_path / "not.png").write_bytes(b"GIF89a" + bytes(30))
    assert card.png_size(tmp_path / "not.png") is None
    assert card.png_size(tmp_path / "missing.png") is None


# --- The committed card and what evaluate writes ----------------------------------------------------------


def test_card_only_writes_readme_and_page_from_evaluation_json(tmp_path: Path) -> None:
    """`python -m training.evaluate --card-only` measures nothing: both files come from evaluation.json."""
    for name in ("evaluation.json", "training.json", "confusion.png"):
        shutil.copyfile(MODEL / name, tmp_path / name)
    subprocess.run(
        [sys.executable, "-m", "training.evaluate", "--card-only", "--model", str(tmp_path / "digits.onnx")],
        cwd=ROOT, check=True, capture_output=True,
    )
    markdown = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert (tmp_path / "card.html").read_text(encoding="utf-8") == card.page(markdown, tmp_path)
    # The committed page is what evaluate writes from the committed measurements (rerun --card-only after
    # `python -m training.evaluate` if this fails).
    assert (MODEL / "card.html").read_text(encoding="utf-8") == card.page(markdown, tmp_path)


def test_the_card_is_an_accessible_page_of_the_site() -> None:
    text = (MODEL / "card.html").read_text(encoding="utf-8")
    page = parsed(text)
    assert page.all("html") == [{"lang": "en"}]
    assert page.title.strip()
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in page.all("meta")
    [policy] = [m["content"] for m in page.all("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert not page.all("script") and not page.all("style")
    assert not [tag for tag, attrs in page.tags if "style" in attrs or any(a.startswith("on") for a in attrs)]
    assert {a["href"] for a in page.all("link") if a.get("rel") == "stylesheet"} == {"../style.css", "../card.css"}
    assert "../" in [a["href"] for a in page.all("a")], "a link back to the app"
    [image] = page.all("img")
    assert image["src"] == "confusion.png" and len(image["alt"] or "") > 40
    assert (image["width"], image["height"]) == tuple(str(n) for n in card.png_size(MODEL / "confusion.png"))
    headers = page.all("th")
    assert headers and all(h.get("scope") == "col" for h in headers)
    levels = [int(tag[1]) for tag, _ in page.tags if re.fullmatch(r"h[1-6]", tag)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), f"headings skip a level: {levels}"


# --- The build -------------------------------------------------------------------------------------------


def test_the_build_ships_the_card_and_its_image(built_site: Path) -> None:
    for name in (CARD, IMAGE):
        assert (built_site / name).read_bytes() == (ROOT / name).read_bytes(), name
    assert (built_site / "card.css").is_file()
    precached = json.loads(re.search(r"const FILES = (\[.*?\]);", (built_site / "sw.js").read_text()).group(1))
    assert {CARD, IMAGE, "card.css", "style.css", "favicon.svg"} <= set(precached)
    footer = [a["href"] for a in parsed((built_site / "index.html").read_text()).all("a")]
    assert "./model/card.html" in footer
    sitebuild.check_links(built_site, CARD)  # every file the card refers to is built


def test_the_build_refuses_a_card_that_refers_to_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "card.html").write_text('<img src="gone.png" alt="x"><a href="../">back</a>')
    (tmp_path / "index.html").write_text("<title>app</title>")
    with pytest.raises(sitebuild.BuildError, match="gone.png"):
        sitebuild.check_links(tmp_path, "model/card.html")
    (tmp_path / "model" / "gone.png").write_bytes(b"png")
    sitebuild.check_links(tmp_path, "model/card.html")
    (tmp_path / "model" / "card.html").write_text('<a href="../../secret">x</a>')
    with pytest.raises(sitebuild.BuildError, match="outside the site"):
        sitebuild.check_links(tmp_path, "model/card.html")


def test_the_card_and_its_image_are_served_as_html_and_png(server: str) -> None:
    for name, kind in ((CARD, "text/html"), (IMAGE, "image/png"), ("card.css", "text/css")):
        with urllib.request.urlopen(f"{server}/{name}") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].split(";")[0] == kind, name


def test_the_cards_figures_are_evaluation_jsons(built_site: Path) -> None:
    facts = json.loads((MODEL / "evaluation.json").read_text())
    text = " ".join(parsed((built_site / CARD).read_text(encoding="utf-8")).text)
    figures = [f"{facts['pad_accuracy']:.2%}", f"{facts['raw_accuracy']:.2%}", f"{facts['bytes']:,} bytes",
               facts["sha256"], f"{facts['test_digits']:,} MNIST test digits", f"{facts['ms_per_image']:.3f} ms"]
    figures += [f"{digit}: {share:.2%}" for digit, share in enumerate(facts["per_class"])]
    figures += [f"{values[0]:.2%}" for values in facts["robustness"].values()]
    if "app_correct" in facts:
        figures.append(f"{facts['app_correct']:.2%} correct")
    for figure in figures:
        assert figure in text, figure


# --- In the browser --------------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_footer_link_opens_the_card_with_its_image(open_page, server: str) -> None:
    page, _ = open_page()
    page.get_by_role("link", name="Model card").click()
    page.wait_for_url(f"{server}/{CARD}")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "model card" in page.locator("h1").text_content()
    page.wait_for_function(IMAGE_LOADED)
    back = page.get_by_role("link", name="Back to the digit reader").first
    assert back.evaluate("a => a.href") == f"{server}/"
    # No request left the test server and nothing was logged as an error (open_page checks at teardown).


@pytest.mark.browser
def test_the_card_reads_offline_once_the_site_is_cached(open_page, server: str) -> None:
    page, _ = open_page(service_workers="allow")
    wait_for_true(page, """async () => {
        await navigator.serviceWorker.ready;
        if (!navigator.serviceWorker.controller) return false;
        const names = (await caches.keys()).filter((name) => name.startsWith("digits-"));
        return names.length === 1 && (await (await caches.open(names[0])).match("./model/card.html")) !== undefined;
    }""", timeout_s=120)
    page.context.set_offline(True)
    page.goto(f"{server}/{CARD}")
    assert "model card" in page.locator("h1").text_content()
    page.wait_for_function(IMAGE_LOADED)
    assert page.evaluate("navigator.serviceWorker.controller !== null")
