"""HTML → text: BeautifulSoup (with lxml) parses once, and the tree is walked to plain text."""

from __future__ import annotations

import functools
import re
import warnings
from typing import Any

from .frontmatter import http_url
from .liquid import BRACE

@functools.lru_cache(maxsize=1)
def _soup() -> Any:
    """The bs4 module, imported on first use: a query never parses HTML."""
    import bs4

    return bs4

_DROP = frozenset(("script", "style", "noscript", "template", "head", "iframe", "object", "embed", "svg",
                   "canvas", "select", "button"))
BLOCK = frozenset((
    "address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "tfoot", "thead", "tr", "ul"))
CELL = frozenset(("td", "th"))
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.I)
CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f]")
_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff"
# A source line break inside a paragraph is a space in HTML, but not between two CJK characters.
_CJK_BREAK = re.compile(rf"(?<=[{_CJK}])[^\S\n]*\n\s*(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_LINE_BREAKS = re.compile(r" ?\x00[\x00 ]*")
_AUTHOR_TRAIL = "，,:： \t\u3000"


def html_text(html: str, want_title: bool) -> tuple[str, list[str], str | None, str | None]:
    """(text, Zhihu answer authors, Zhihu answer URL, <title>) of an HTML document."""
    text, authors, url, title = html_walk(html, want_title, is_zhihu(html))
    return finish_text(text), authors, url, title


def is_zhihu(html: str) -> bool:
    return 'class="answer"' in html or "originUrl" in html


def html_walk(html: str, want_title: bool, zhihu: bool) -> tuple[str, list[str], str | None, str | None]:
    """html_text before finish_text; `zhihu`: look for Zhihu's answer authors and URL.

    Parse once with lxml and walk the tree without recursion (hostile input can nest arbitrarily deep).

    Block elements emit a hard break (NUL) and table cells and image alt texts a hard space (\\x01); both were
    removed from the input earlier, so they can't clash. `<pre>` turns its newlines into hard breaks; other
    whitespace collapses afterwards in a few C-level regex passes.
    """
    html = CONTROL.sub("", html)
    # Class lists stay plain strings: splitting every element's class attribute is ~10% of the parse.
    bs4 = _soup()
    text_node, element = bs4.NavigableString, bs4.Tag
    with warnings.catch_warnings():
        # A post that happens to look like a file name or an XML document is still a post: the warnings are noise.
        warnings.simplefilter("ignore", bs4.MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", bs4.XMLParsedAsHTMLWarning)
        soup = bs4.BeautifulSoup(html, "lxml", multi_valued_attributes=None)
    authors: list[str] = []
    url = None
    title = None
    if want_title and soup.title is not None:
        title = " ".join(soup.title.get_text().split()) or None
    out: list[str] = []
    append = out.append
    # Each frame: (children iterator, text appended when the element ends, element is a <pre>).
    stack = [(iter(soup.contents), "", False)]
    pre_depth = 0
    while stack:
        for node in stack[-1][0]:
            if isinstance(node, text_node):
                if type(node) is text_node:  # not a comment, CDATA, doctype, ...
                    append(node.replace("\n", "\x00") if pre_depth else node)
                continue
            if not isinstance(node, element):
                continue
            name = node.name
            attrs = node.attrs
            if zhihu and attrs:
                classes = str(attrs.get("class") or "").split()
                if name == "span" and "author" in classes:
                    author = node.get_text().strip().rstrip(_AUTHOR_TRAIL).strip()
                    if author:
                        authors.append(author)
                elif name == "a" and "originUrl" in classes:
                    url = url or http_url(attrs.get("href"))
                elif name == "div" and "view-more" in classes:
                    continue  # the same "查看知乎讨论" link under every answer
            if name in _DROP or (attrs and ("hidden" in attrs or _DISPLAY_NONE.search(str(attrs.get("style", ""))))):
                continue
            if name == "img":
                alt = attrs.get("alt")
                if isinstance(alt, str) and alt.strip():
                    append(f"\x01{alt}\x01")
                continue
            if name in BLOCK:
                append("\x00")
                close = "\x00"
            elif name in CELL:
                append("\x01")
                close = "\x01"
            else:
                close = ""
            is_pre = name == "pre"
            pre_depth += is_pre
            stack.append((iter(node.contents), close, is_pre))
            break
        else:
            _, close, is_pre = stack.pop()
            pre_depth -= is_pre
            if close:
                append(close)
    return "".join(out), authors, url, title


def finish_text(text: str) -> str:
    """Hard breaks (NUL) and hard spaces (\\x01) made real, whitespace collapsed, Liquid raw braces restored."""
    if BRACE in text:
        text = text.replace(BRACE, "{")
    text = _CJK_BREAK.sub("", text)
    if "\x01" in text:
        text = text.replace("\x01", " ")
    text = _SPACES.sub(" ", text)
    return _LINE_BREAKS.sub("\n", text).strip()


# ---------------------------------------------------------------------------------------------------------------
