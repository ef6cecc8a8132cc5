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


# (<head> itself is walked: libxml2 puts a <script> or <style> that opens a document in it, and one left open holds
# the rest of the document.)
_DROP = frozenset(("script", "style", "noscript", "template", "title", "iframe", "object", "svg", "canvas",
                   "select", "button"))
BLOCK = frozenset((
    "address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "tfoot", "thead", "tr", "ul"))
CELL = frozenset(("td", "th"))
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.IGNORECASE)
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

    Parse with lxml and walk the tree without recursion (hostile input can nest arbitrarily deep). A raw-text
    element left open (`<iframe>` without `</iframe>`) holds the rest of the document as one string: that string is
    parsed and walked in turn, so that what follows it is not lost.

    Block elements emit a hard break (NUL) and table cells and image texts a hard space (\\x01); both were
    removed from the input earlier, so they can't clash. `<pre>` turns its newlines into hard breaks; other
    whitespace collapses afterwards in a few C-level regex passes.
    """
    source: str | None = CONTROL.sub("", html)
    walk = _Walk(zhihu)
    title = None
    for _ in range(_MAX_PARSES):
        if source is None:
            break
        soup = _parse(source)
        if want_title and title is None and soup.title is not None:
            title = " ".join(soup.title.get_text().split()) or None
        source = walk.tree(soup, source)
    return "".join(walk.out), walk.authors, walk.url, title


def _parse(html: str) -> Any:
    # Class lists stay plain strings: splitting every element's class attribute is ~10% of the parse.
    bs4 = _soup()
    with warnings.catch_warnings():
        # A post that happens to look like a file name or an XML document is still a post: the warnings are noise.
        warnings.simplefilter("ignore", bs4.MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", bs4.XMLParsedAsHTMLWarning)
        return bs4.BeautifulSoup(html, "lxml", multi_valued_attributes=None)


# A post that opens raw-text elements over and over (`<iframe><iframe>…`) would be parsed once for each of them.
_MAX_PARSES = 20


# Void in HTML, but libxml2 nests what follows some of them (`<embed>`, `<source>`, `<track>`, `<wbr>`) inside
# them: their contents are what comes after them, never dropped with them.
_VOID = frozenset(("area", "base", "col", "embed", "input", "keygen", "link", "meta", "param", "source", "track",
                   "wbr"))
# Read by libxml2 as raw text up to their end tag: left open, one holds the rest of the document.
_RAW_TEXT = frozenset(("iframe", "noembed", "noframes", "plaintext", "script", "style", "textarea", "title", "xmp"))
# End tags HTML lets a writer leave out: such an element left open ends at the next block, not at its parent's end.
_OPTIONAL_END = frozenset(("body", "caption", "colgroup", "dd", "dt", "head", "html", "li", "optgroup", "option",
                           "p", "rp", "rt", "tbody", "td", "tfoot", "th", "thead", "tr"))
_TAG_NAME = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _unclosed(source: str) -> frozenset[str]:
    """Names of elements with more start tags than end tags in `source`: one of them may be open to the end."""
    balance: dict[str, int] = {}
    for closing, name in _TAG_NAME.findall(_HTML_COMMENT.sub("", source)):
        name = name.lower()
        balance[name] = balance.get(name, 0) + (-1 if closing else 1)
    return frozenset(name for name, count in balance.items() if count > 0 and name not in _OPTIONAL_END)


class _Walk:
    """The text of one document's trees, the Zhihu answer authors and URL found in them."""

    def __init__(self, zhihu: bool) -> None:
        self.zhihu = zhihu
        self.out: list[str] = []
        self.authors: list[str] = []
        self.url: str | None = None
        self.image = ImageText(self.out)

    def tree(self, soup: Any, source: str) -> str | None:
        """Walk `soup` (parsed from `source`); the text of a raw-text element left open, to be parsed next."""
        bs4 = _soup()
        text_node, element = bs4.NavigableString, bs4.Tag
        append = self.out.append
        unclosed: frozenset[str] | None = None  # worked out on first need: most documents drop nothing
        rest = None
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
                if self.zhihu and attrs and self._zhihu_parts(name, attrs, node):
                    continue
                if name in _VOID:
                    if node.contents:
                        stack.append((iter(node.contents), "", False))
                        break
                    continue
                if name == "img":
                    self.image.add(image_text(attrs))
                    continue
                raw = name in _RAW_TEXT
                dropped = name in _DROP or bool(attrs and (
                    "hidden" in attrs or _DISPLAY_NONE.search(str(attrs.get("style", "")))))
                if raw or dropped:
                    if unclosed is None:
                        unclosed = _unclosed(source)
                    if name in unclosed:
                        text = str(node.string or "") if raw else ""
                        if text.strip() and source.rstrip().endswith(text.rstrip()):
                            rest = text  # the open element's "text" is the rest of the document
                            continue
                        if not raw:
                            dropped = False  # one of these may be open to its parent's end: keep its text
                    if dropped:
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
        return rest

    def _zhihu_parts(self, name: str, attrs: dict, node: Any) -> bool:
        """Pick up a Zhihu answer's author or URL from this element; True when the element is to be skipped."""
        classes = str(attrs.get("class") or "").split()
        if name == "span" and "author" in classes:
            author = node.get_text().strip().rstrip(_AUTHOR_TRAIL).strip()
            if author:
                self.authors.append(author)
        elif name == "a" and "originUrl" in classes:
            self.url = self.url or http_url(attrs.get("href"))
        elif name == "div" and "view-more" in classes:
            return True  # the same "查看知乎讨论" link under every answer
        return False


def image_text(attrs: dict) -> str:
    """An `<img>`'s text: a Zhihu formula's TeX (`eeimg`, `src` with `tex=`), else its alt text."""
    alt = attrs.get("alt")
    if "eeimg" in attrs:
        src = attrs.get("src")
        if isinstance(src, str) and "tex=" in src:
            from urllib.parse import parse_qs, urlsplit

            tex = parse_qs(urlsplit(src).query).get("tex")
            if tex and tex[0].strip():
                return CONTROL.sub("", tex[0])
    return alt if isinstance(alt, str) else ""


class ImageText:
    """Appends images' texts to `out`, once where several images in a row say the same (one per `srcset` size or
    wrapper in some news posts)."""

    def __init__(self, out: list[str]) -> None:
        self.out = out
        self.last = ""
        self.end = 0  # len(out) after the last image's text

    def add(self, text: str) -> None:
        if not text.strip():
            return
        out = self.out
        if text == self.last and not "".join(out[self.end:]).strip(_BLANK):
            self.end = len(out)
            return
        out.append(f"\x01{text}\x01")
        self.last, self.end = text, len(out)


_BLANK = " \t\n\r\f\v\x00\x01\u3000"


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
