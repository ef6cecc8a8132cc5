"""Save screenshots of the search page (desktop and phone widths) to docs/, for the README's "Web" section.

    python docs/screenshots.py            # indexes corpus/ into a temporary directory, serves it, shoots

Needs Playwright, a Chromium (Debian's `chromium`, or the path in ZHSEARCH_CHROMIUM) and a CJK font
(`apt-get install fonts-noto-cjk`), without which the Chinese text shows as boxes.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import search
from search.web import create_app, running

SHOTS = [  # file name, path, viewport width, height
    ("web-desktop.png", "/?q=知乎 工作", 1280, 860),
    ("web-desktop-post.png", "/posts/{post}?q=内推", 1280, 860),
    ("web-phone.png", "/?q=技术", 390, 844),
    ("web-phone-home.png", "/", 390, 844),
]


def main() -> None:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("ZHSEARCH_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        sys.exit("screenshots: no Chromium (apt-get install chromium, or set ZHSEARCH_CHROMIUM)")
    with tempfile.TemporaryDirectory() as tmp:
        search.build_index(ROOT / "corpus", Path(tmp) / "index")
        with search.open_index(Path(tmp) / "index") as ix:
            post = ix.search("内推", limit=1).hits[0].path
        with running(create_app(Path(tmp) / "index")) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            for name, path, width, height in SHOTS:
                context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                              device_scale_factor=1 if width > 600 else 2,
                                              is_mobile=width < 600)
                page = context.new_page()
                page.goto(url + path.format(post=post))
                page.screenshot(path=str(ROOT / "docs" / name))
                print(f"docs/{name}")
                context.close()
            browser.close()


if __name__ == "__main__":
    main()
