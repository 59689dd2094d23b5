"""The model card as a web page: model/card.html from the same markdown as model/README.md.

No markdown library: `to_html` converts exactly the subset `training.evaluate.model_card` writes, and
`page` wraps it in the site's look (../style.css, ../card.css; no inline style or script, so the page keeps
a strict Content-Security-Policy of its own). Standard library only.

The subset, block by block (blocks are separated by blank lines):

- ``# Title`` .. ``###### Title``: headings (each gets an id from its words);
- ``- item`` lines, an item going on on the indented lines below it: a list;
- ``| a | b |`` rows whose second line is ``|---|---|``: a table, the first row its column headers;
- anything else: a paragraph (its lines joined).

Inside a block: ```code```, ``**bold**``, ``![alt](src)`` images and ``[text](href)`` links; every other
character is text, escaped (html.escape), and so are code spans, alt texts and addresses.
"""

from __future__ import annotations

import html
import re
import struct
from collections.abc import Callable
from pathlib import Path

ImageSize = Callable[[str], tuple[int, int] | None]

HEADING = re.compile(r"(#{1,6}) +(.*?) *#* *$")
LIST_ITEM = re.compile(r"- +(.*)$")
TABLE_RULE = re.compile(r"\|? *:?-+:? *(\| *:?-+:? *)*\|? *$")
INLINE = re.compile(
    r"`(?P<code>[^`]+)`"
    r"|!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)\)"
    r"|\[(?P<text>[^\]]+)\]\((?P<href>[^)\s]+)\)"
    r"|\*\*(?P<bold>.+?)\*\*"
)
SAFE_URL = re.compile(r"(https?:|mailto:|[^:]*$)", re.IGNORECASE)  # a scheme we know, or a relative address


def _escape(text: str) -> str:
    """Text for an element's content: &, < and > escaped (quotes need not be, and read better as they are)."""
    return html.escape(text, quote=False)


def _attribute(text: str) -> str:
    """Text for a double-quoted attribute's value: quotes escaped too."""
    return html.escape(text, quote=True)


def inline(text: str, image_size: ImageSize | None = None) -> str:
    """One block's text as HTML: code, bold, images and links; everything else escaped."""
    out, at = [], 0
    for match in INLINE.finditer(text):
        out.append(_escape(text[at : match.start()]))
        at = match.end()
        if match["code"] is not None:
            out.append(f"<code>{_escape(match['code'])}</code>")
        elif match["src"] is not None and SAFE_URL.match(match["src"]):
            size = image_size(match["src"]) if image_size else None
            dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
            out.append(f'<img src="{_attribute(match["src"])}" alt="{_attribute(match["alt"])}"{dims}>')
        elif match["href"] is not None and SAFE_URL.match(match["href"]):
            out.append(f'<a href="{_attribute(match["href"])}">{inline(match["text"], image_size)}</a>')
        elif match["bold"] is not None:
            out.append(f"<strong>{inline(match['bold'], image_size)}</strong>")
        else:  # an image or link to an address of another scheme (javascript:, data:): shown as text
            out.append(_escape(match.group(0)))
    out.append(_escape(text[at:]))
    return "".join(out)


def _blocks(markdown: str) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in markdown.splitlines():
        if line.strip():
            blocks[-1].append(line.rstrip())
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]


def _cells(row: str) -> list[str]:
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") else row
    return [cell.strip() for cell in row.split("|")]


def _table(rows: list[str], image_size: ImageSize | None) -> list[str]:
    head, body = _cells(rows[0]), [_cells(row) for row in rows[2:]]
    out = ["<table>", "<thead>", "<tr>"]
    out += [f'<th scope="col">{inline(cell, image_size)}</th>' for cell in head]
    out += ["</tr>", "</thead>", "<tbody>"]
    for cells in body:
        cells = (cells + [""] * len(head))[: len(head)]
        out.append("<tr>" + "".join(f"<td>{inline(cell, image_size)}</td>" for cell in cells) + "</tr>")
    return out + ["</tbody>", "</table>"]


def _list(lines: list[str], image_size: ImageSize | None) -> list[str]:
    items: list[list[str]] = []
    for line in lines:
        item = LIST_ITEM.match(line)
        if item:
            items.append([item.group(1)])
        else:  # an indented (or lazy) continuation of the item above
            items[-1].append(line.strip())
    return ["<ul>", *(f"<li>{inline(' '.join(item), image_size)}</li>" for item in items), "</ul>"]


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug)
    return slug


def to_html(markdown: str, image_size: ImageSize | None = None) -> str:
    """The markdown subset above as an HTML fragment (one element per block, a line each)."""
    out: list[str] = []
    ids: set[str] = set()
    for block in _blocks(markdown):
        heading = HEADING.match(block[0])
        if heading:  # a heading is one line; what follows it at once is a block of its own
            level, words = len(heading.group(1)), heading.group(2)
            plain = re.sub(r"[`*]", "", words)
            out.append(f'<h{level} id="{_slug(plain, ids)}">{inline(words, image_size)}</h{level}>')
            block = block[1:]
        if not block:
            continue
        if LIST_ITEM.match(block[0]):
            out += _list(block, image_size)
        elif len(block) >= 2 and block[0].lstrip().startswith("|") and TABLE_RULE.match(block[1].strip()):
            out += _table(block, image_size)
        else:
            out.append(f"<p>{inline(' '.join(line.strip() for line in block), image_size)}</p>")
    return "\n".join(out) + "\n"


def png_size(path: Path) -> tuple[int, int] | None:
    """A PNG file's width and height from its header, or None when it is not one (or not there)."""
    try:
        with path.open("rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def title_of(markdown: str) -> str:
    """The first level-1 heading's words, without markup."""
    for line in markdown.splitlines():
        heading = HEADING.match(line)
        if heading and len(heading.group(1)) == 1:
            return re.sub(r"[`*]", "", heading.group(2))
    return "Model card"


# The card is a page of the site, one folder down (model/card.html): the app is "../". No script at all, so
# its policy is stricter than index.html's; style-src 'self' for the site's stylesheets, img-src 'self' for
# the confusion matrix and the favicon.
POLICY = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta http-equiv="Content-Security-Policy" content="{policy}">
  <title>{title} | Digit reader</title>
  <meta name="description" content="What the digit reader's model is, how it was trained and how well it reads, \
measured on the committed file.">
  <link rel="icon" href="../favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="../style.css">
  <link rel="stylesheet" href="../card.css">
</head>
<body class="card-page">
  <header>
    <p><a href="../">Back to the digit reader</a></p>
  </header>
  <main>
{content}  </main>
  <footer>
    <p>This page and <code>model/README.md</code> are written together by <code>python -m training.evaluate</code>.
      <a href="../">Back to the digit reader</a>.</p>
  </footer>
</body>
</html>
"""


def page(markdown: str, folder: Path | None = None) -> str:
    """The whole card page for markdown; images' sizes are read from `folder` (the card's own) when given."""

    def size(src: str) -> tuple[int, int] | None:
        if folder is None or "/" in src or ":" in src:
            return None
        return png_size(folder / src)

    content = "".join(f"    {line}\n" for line in to_html(markdown, size).splitlines())
    return PAGE.format(policy=POLICY, title=_escape(title_of(markdown)), content=content)
