"""Markdown → text: markdown-it's tokens walked to text, raw HTML runs sent through from_html."""

from __future__ import annotations

import functools
import re
from typing import Any

from . import liquid
from .from_html import BLOCK, CELL, CONTROL, finish_text, html_text, html_walk, is_zhihu

# Footnote references `[^1]` (markdown-it core has no footnotes) and kramdown attribute lists `{: .cls}`, `{:toc}`.
_MARKDOWN_LEFTOVERS = re.compile(r"\[\^[^\]\s]{1,40}\]:?|\{:[^}\n]{0,200}\}")


@functools.lru_cache(maxsize=1)
def _markdown() -> Any:
    """The Markdown parser, made on first use: markdown-it and BeautifulSoup are most of `zhsearch index`'s start-up,
    which an update that finds nothing changed doesn't need."""
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    # Without text_join, characters written as entities or backslash escapes stay separate `text_special` tokens,
    # so `&#123;&#123; x &#125;&#125;` is not mistaken for a Liquid tag by the stripping below.
    markdown.disable("text_join")
    return markdown


_CONTAINERS = "(?:div|p|blockquote|table|section|article|figure|ul|ol|dl|details|center)"
_HTML_CONTAINER_OPEN = re.compile(rf"<{_CONTAINERS}\b", re.I)
_HTML_CONTAINER_CLOSE = re.compile(rf"</{_CONTAINERS}\s*>", re.I)
_HTML_START = re.compile(r"\s*<[a-zA-Z][^>]*>")
# CommonMark makes a line starting with any tag an HTML block, so `<br>\n**bold**` stays raw; kramdown (Jekyll)
# reads such span-level tags as part of a paragraph and still renders the Markdown after them.
_SPAN_LEVEL_START = re.compile(r"\s*<(?:a|b|br|code|em|font|i|img|kbd|s|small|span|strong|sub|sup|u)\b", re.I)
# Emphasis markers CommonMark leaves unmatched next to CJK punctuation: `，**不过……**所以`.
_STRAY_EMPHASIS = re.compile(r"\*\*+|~~")


def _clean_inline(children: list) -> None:
    """Strip Liquid tags and Markdown leftovers from an inline token's text children; code is left alone."""
    previous = None
    for child in children:
        if child.type == "text":
            if previous == "link_open" and child.content.startswith("^"):
                child.content = ""  # a footnote reference that matched a `[^1]: url` definition
            else:
                child.content = _STRAY_EMPHASIS.sub("", _MARKDOWN_LEFTOVERS.sub("", liquid.strip(child.content)))
        elif child.type == "html_inline":
            child.content = liquid.strip(child.content)
        elif child.type == "text_special":
            child.type = "text"  # its content is the decoded character; render it as text
        previous = child.type


def _render_markdown(source: str) -> str:
    """Markdown -> HTML, with Liquid tags and Markdown leftovers removed from everything but code."""
    markdown = _markdown()
    return markdown.renderer.render(_markdown_tokens(source), markdown.options, {})


def _markdown_tokens(source: str) -> list:
    """markdown-it's tokens of `source`, with Liquid tags and Markdown leftovers removed from everything but code."""
    markdown = _markdown()
    tokens = markdown.parse(source)
    open_html = 0  # block-level HTML elements opened by earlier HTML blocks and not closed yet
    previous = None
    for token in tokens:
        after_html = previous == "html_block" and _HTML_START.match(token.content)
        if token.type == "code_block" and (open_html or after_html):
            # kramdown keeps an HTML block open until its closing tag; CommonMark ends it at a blank line and
            # reads the indented HTML after it as a code block, which would put the tags into the text.
            token.type = "html_block"
        if token.type == "html_block":
            open_html = max(0, open_html + len(_HTML_CONTAINER_OPEN.findall(token.content))
                            - len(_HTML_CONTAINER_CLOSE.findall(token.content)))
            if _SPAN_LEVEL_START.match(token.content):
                inline = markdown.parseInline(token.content.strip())
                for part in inline:
                    _clean_inline(part.children or [])
                token.content = "<p>" + markdown.renderer.render(inline, markdown.options, {}) + "</p>"
            else:
                token.content = liquid.strip(token.content)
        elif token.type == "inline" and token.children:
            _clean_inline(token.children)
        previous = token.type
    return tokens


def markdown_text(source: str) -> tuple[str, list[str], str | None, str | None]:
    """What `html_text` returns for Markdown `source` rendered to HTML: only the parts with raw HTML go through
    HTML (see _html_runs), the rest from the tokens to text."""
    tokens = _markdown_tokens(source)
    if not _has_html(tokens):
        return finish_text(_tokens_text(tokens)), [], None, None
    markdown = _markdown()
    runs = _html_runs(tokens)
    if runs is None:
        return html_text(markdown.renderer.render(tokens, markdown.options, {}), want_title=False)
    htmls = [markdown.renderer.render(run, markdown.options, {}) for run, _ in runs]
    zhihu = any(is_zhihu(html) for html in htmls)  # as html_text decides it on the whole document
    parts: list[str] = []
    authors: list[str] = []
    url = None
    for (run, has_html), html in zip(runs, htmls):
        if has_html:
            text, run_authors, run_url, _ = html_walk(html, False, zhihu)
            parts.append(text)
            authors += run_authors
            url = url or run_url
        else:
            parts.append(_tokens_text(run))
    return finish_text("".join(parts)), authors, url, None


# Elements whose effect on the text html_walk gives is the same in a part of the document as in the whole. Raw
# HTML with any other tag (`<title>`, `<script>`, unknown ones) sends the whole post through HTML.
_RUN_TAGS = frozenset((
    "a", "abbr", "b", "big", "blockquote", "br", "caption", "center", "cite", "code", "col", "colgroup", "dd",
    "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "font", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "iframe", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul",
    "var", "video", "audio", "source", "section", "article", "aside", "header", "footer", "nav", "main"))
# Block elements that only separate text: one left open (with no attribute that could hide it or mark a Zhihu
# answer) may end a run.
_PLAIN_CONTAINERS = frozenset(("article", "aside", "blockquote", "center", "details", "div", "figure", "footer",
                               "header", "main", "nav", "section", "summary"))
_SPECIAL_ATTRIBUTE = re.compile(r"hidden|style|class", re.I)
_VOID = frozenset(("br", "col", "hr", "img", "source"))  # the elements of _RUN_TAGS that have no end tag
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)(?=[\s/>])(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(/?)>")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
# A run of Markdown blocks may start at a top-level token of these kinds: each begins with an element that ends an
# open paragraph (one libxml2 opens around loose text), so the text before it is separated as in the whole.
_RUN_STARTS = frozenset(("paragraph_open", "heading_open", "bullet_list_open", "ordered_list_open",
                         "blockquote_open", "table_open", "fence", "code_block", "hr"))


def _html_runs(tokens: list) -> list[tuple[list, bool]] | None:
    """`tokens` cut into runs of top-level blocks, each with whether it has raw HTML; None when they can't be cut.

    BeautifulSoup's tree of a long post is most of the time it takes to read, though its raw HTML may be a few
    `<details>` or `<kbd>` in it. A run with raw HTML goes on until every element its tags open is closed, so that
    it can be parsed alone, and ends before a Markdown block (see _RUN_STARTS); runs without raw HTML go from the
    tokens to text. Tests check both ways agree on every blog post with raw HTML.
    """
    tags: list[list[tuple[str, bool, str]]] = []  # each token's tags: (name, is an end tag, the tag)
    has_raw_html: list[bool] = []  # each token's
    last_end: dict[str, int] = {}  # the token of each element's last end tag
    for i, token in enumerate(tokens):
        if token.type == "html_block":
            fragments = [token.content]
        elif token.type == "inline" and token.children:
            fragments = [child.content for child in token.children if child.type == "html_inline"]
        else:
            fragments = []
        found = []
        for fragment in fragments:
            fragment = _HTML_COMMENT.sub("", fragment)
            if "<" in _TAG.sub("", fragment):
                return None  # an unclosed comment, a doctype, a "<" that is no tag: libxml2 may read on past it
            for match in _TAG.finditer(fragment):
                closing, name, self_closing = match.groups()
                name = name.lower()
                if name not in _RUN_TAGS:
                    return None
                if name not in _VOID and not self_closing:
                    found.append((name, bool(closing), match.group(0)))
                    if closing:
                        last_end[name] = i
        tags.append(found)
        has_raw_html.append(bool(fragments))

    runs: list[tuple[list, bool]] = []
    start = 0
    depth = 0
    has_html = False
    open_elements: dict[str, list[bool]] = {}  # each element's open ones, innermost last: whether it is plain
    for i, token in enumerate(tokens):
        if (depth == 0 and i > start and token.type in _RUN_STARTS
                and all(all(opened) and last_end.get(name, -1) < i for name, opened in open_elements.items())):
            # (plain containers left open are closed at the end of the document, after its last text: the walk
            # gives the same text whether they end there or here, if no later end tag could end them instead)
            runs.append((tokens[start:i], has_html))
            start, has_html = i, False
        depth += token.nesting
        has_html = has_html or has_raw_html[i]
        for name, closing, tag in tags[i]:
            opened = open_elements.setdefault(name, [])
            if not closing:
                opened.append(name in _PLAIN_CONTAINERS and not _SPECIAL_ATTRIBUTE.search(tag))
            elif opened:
                opened.pop()
            elif name == "p":
                # An end tag of no open element (as in a post cut from a longer one) is ignored by libxml2, here
                # or in the whole; but a paragraph may be open that libxml2 opened itself around loose text.
                return None
    runs.append((tokens[start:], has_html))
    merged: list[tuple[list, bool]] = []
    for run, run_has_html in runs:
        if merged and merged[-1][1] == run_has_html:
            merged[-1][0].extend(run)
        else:
            merged.append((list(run), run_has_html))
    return merged


def _has_html(tokens: list) -> bool:
    return any(t.type == "html_block" or (t.children and any(c.type == "html_inline" for c in t.children))
               for t in tokens)


def _tokens_text(tokens: list) -> str:
    """The text `html_text` gives for the HTML markdown-it renders from `tokens`, without rendering or parsing it.

    Only for tokens without raw HTML (most Markdown posts): then every element is one of the few markdown-it writes,
    and walking the tokens is a third of the work of rendering and parsing again. Tests check both ways agree on
    every post of the blog corpus that has no raw HTML.
    """
    renderer = _markdown().renderer
    out: list[str] = []
    append = out.append
    control = CONTROL.sub
    for token in tokens:
        kind = token.type
        if kind == "inline":
            for child in token.children or ():
                ckind = child.type
                if ckind == "text" or ckind == "code_inline":
                    append(control("", child.content))
                elif ckind == "softbreak":
                    append("\n")
                elif ckind == "hardbreak":
                    append("\x00\x00\n")  # <br />: a block element in html_text's eyes, and the newline after
                elif ckind == "image":
                    alt = control("", renderer.renderInlineAsText(child.children or [], {}, {}))
                    if alt.strip():
                        append(f"\x01{alt}\x01")
            continue
        if kind == "code_block" or kind == "fence":
            append("\x00" + control("", token.content).replace("\n", "\x00") + "\x00")
            continue
        if kind == "hr":
            append("\x00\x00")
            continue
        if token.hidden or not token.tag:
            continue
        if token.tag in BLOCK:
            append("\x00")
        elif token.tag in CELL:
            append("\x01")
    return "".join(out)
