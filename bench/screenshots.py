"""Take the README's screenshots: the page reading "701" at desktop and phone sizes.

    python bench/screenshots.py      # writes docs/screenshot-desktop.png and docs/screenshot-phone.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import serve  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, wait_until_ready  # noqa: E402
from tests.pad import draw_number, wait_for_result  # noqa: E402

SIZES = {
    "desktop": {"viewport": {"width": 1200, "height": 720}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}


def main() -> None:
    base, server = start_server(serve.build(Path(tempfile.mkdtemp()) / "dist"))
    url = base + "/"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for name, options in SIZES.items():
            page = browser.new_page(**options)
            page.goto(url)
            wait_until_ready(page)
            draw_number(page, "701")
            wait_for_result(page, "701")
            target = ROOT / "docs" / f"screenshot-{name}.png"
            page.screenshot(path=str(target), full_page=name == "phone")
            print(f"wrote {target.relative_to(ROOT)}")
            page.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
