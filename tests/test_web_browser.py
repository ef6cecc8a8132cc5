"""The search page in a real Chromium (Debian's `chromium`, driven by Playwright): results as you type, facets,
paging, a post's page, the `/` key, a phone's width, the page without its script, and no script error anywhere.

Skips, saying why, where Playwright or a Chromium is missing (`.ci/run` installs both).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT_CORPUS

import search

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install "
                                                                  "-e '.[test]')")
expect = playwright_api.expect
web = pytest.importorskip("search.web", reason="the web dependencies are not installed")


def chromium_path() -> str | None:
    """Debian's Chromium (or ZHSEARCH_CHROMIUM): Playwright's own browser builds cannot be downloaded here."""
    for candidate in (os.environ.get("ZHSEARCH_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"),
                      shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not PROJECT_CORPUS.is_dir():
        pytest.skip("the project's corpus/ is absent")
    index_dir = tmp_path_factory.mktemp("browser-index")
    search.build_index(PROJECT_CORPUS, index_dir, workers=1)
    with web.running(web.create_app(index_dir)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium found (apt-get install chromium, or set ZHSEARCH_CHROMIUM)")
    with playwright_api.sync_playwright() as p:
        try:
            launched = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        except playwright_api.Error as e:
            pytest.skip(f"Chromium at {path} does not start: {str(e).splitlines()[0]}")
        yield launched
        launched.close()


class Console:
    """Every script error and console error a page reports."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"script: {e}"))


@pytest.fixture()
def page(browser: Any) -> Iterator[tuple[Any, Console]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    console = Console(tab)
    yield tab, console
    context.close()
    assert console.errors == []


def summary(tab: Any) -> str:
    return tab.locator(".hits .summary").inner_text()


def test_browser_results_update_as_you_type(page, site):
    tab, _ = page
    tab.goto(site + "/")
    assert tab.evaluate("document.activeElement.id") == "q"
    tab.evaluate("window.notReloaded = true")
    tab.locator("#q").press_sequentially("内推", delay=30)
    tab.wait_for_selector(".hit")
    assert "找到" in summary(tab) and "用时" in summary(tab)
    assert tab.locator(".hit mark").first.inner_text() == "内推"
    tab.wait_for_url(re.compile(r"q=%E5%86%85%E6%8E%A8"))
    tab.locator("#q").fill("技术")
    expect(tab.locator(".hits .summary")).to_contain_text("20 篇")
    assert tab.evaluate("window.notReloaded") is True  # updated in place, not by loading the page again
    assert "q=%E6%8A%80%E6%9C%AF" in tab.url


def test_browser_facet_paging_and_back(page, site):
    tab, _ = page
    tab.goto(site + "/?q=技术")
    tab.evaluate("window.notReloaded = true")
    assert "20" in summary(tab)
    tab.locator(".facets a", has_text="Python").first.click()
    tab.wait_for_selector(".filters >> text=分类：Python")
    tab.wait_for_url(re.compile(r"category=Python"))
    assert tab.locator(".hit").count() == 3
    tab.locator(".filters a").first.click()  # remove the filter again
    expect(tab.locator(".filters")).to_have_count(0)
    tab.locator(".pages a", has_text="下一页").click()
    tab.wait_for_url(re.compile(r"page=2"))
    expect(tab.locator(".hits .summary")).to_contain_text("11–20")
    tab.go_back()
    expect(tab.locator(".hits .summary")).to_contain_text("1–10")
    assert tab.evaluate("window.notReloaded") is True


def test_browser_year_bar_filters(page, site):
    tab, _ = page
    tab.goto(site + "/?q=技术")
    tab.locator(".chart a").first.click()
    tab.wait_for_selector(".filters >> text=年份")
    assert "since=" in tab.url and "until=" in tab.url


def test_browser_open_a_post_and_slash_focuses(page, site):
    tab, _ = page
    tab.goto(site + "/?q=内推")
    tab.locator(".hit h3 a").first.click()
    tab.wait_for_selector("article h1")
    assert "/posts/" in tab.url
    assert tab.locator("article .text mark").count() > 0
    assert tab.evaluate("document.activeElement.id") != "q"
    tab.keyboard.press("/")
    assert tab.evaluate("document.activeElement.id") == "q"
    tab.locator("#q").fill("生活")
    tab.keyboard.press("Enter")
    tab.wait_for_selector(".hit")
    assert "q=%E7%94%9F%E6%B4%BB" in tab.url


def test_browser_zero_hits_help(page, site):
    tab, _ = page
    tab.goto(site + "/?q=内推 %2B完全没有的词")  # %2B: +, which a URL reads as a space
    assert "没有文章同时符合所有条件" in tab.locator(".zero").inner_text()


def test_browser_partial_notice(page, site):
    tab, _ = page
    tab.goto(site + "/?q=内推 完全没有的词")
    assert "只包含部分词语" in tab.locator(".notice").inner_text()


def test_browser_phone_width_has_no_sideways_scroll(browser, site):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    tab = context.new_page()
    console = Console(tab)
    for path in ("/", "/?q=知乎", "/?q=技术&page=2"):
        tab.goto(site + path)
        assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    tab.locator(".hit h3 a").first.click()
    tab.wait_for_selector("article h1")
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    context.close()
    assert console.errors == []


def test_browser_page_works_without_its_script(browser, site):
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.goto(site + "/")
    tab.fill("#q", "内推")
    tab.press("#q", "Enter")
    tab.wait_for_selector(".hit")
    tab.locator(".facets a", has_text="知乎日报").first.click()
    tab.wait_for_selector(".filters")
    assert "category=" in tab.url
    context.close()
