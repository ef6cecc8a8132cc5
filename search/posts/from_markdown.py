"""Markdown → text: markdown-it's tokens walked to text, or rendered and sent through from_html."""

from __future__ import annotations

import functools
import re
from typing import Any

from . import liquid
from .from_html import BLOCK, CELL, CONTROL, ImageText, finish_text, html_text

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
_HTML_CONTAINER_OPEN = re.compile(rf"<{_CONTAINERS}\b", re.IGNORECASE)
_HTML_CONTAINER_CLOSE = re.compile(rf"</{_CONTAINERS}\s*>", re.IGNORECASE)
_HTML_START = re.compile(r"\s*<[a-zA-Z][^>]*>")
# CommonMark makes a line starting with any tag an HTML block, so `<br>\n**bold**` stays raw; kramdown (Jekyll)
# reads such span-level tags as part of a paragraph and still renders the Markdown after them.
_SPAN_LEVEL_START = re.compile(r"\s*<(?:a|b|br|code|em|font|i|img|kbd|s|small|span|strong|sub|sup|u)\b", re.IGNORECASE)
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
    """What `html_text` returns for Markdown `source` rendered to HTML. Markdown with raw HTML is rendered and
    parsed whole; without, markdown-it's tokens go straight to text (see _tokens_text)."""
    tokens = _markdown_tokens(source)
    if _has_html(tokens):
        markdown = _markdown()
        return html_text(markdown.renderer.render(tokens, markdown.options, {}), want_title=False)
    return finish_text(_tokens_text(tokens)), [], None, None


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
    image = ImageText(out)
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
                    image.add(control("", renderer.renderInlineAsText(child.children or [], {}, {})))
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
