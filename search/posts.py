"""Post files -> `Post`: one clean, typed record per Hexo/Jekyll post.

Parts, in the order a file goes through them:

* finding -- `find_posts` (corpus.py, re-exported) walks a corpus root: post suffixes only, symlinks checked
  against the root, loops and unreadable entries reported instead of followed;
* reading and decoding -- `read_post` reads at most `MAX_POST_BYTES`; `_decode` tries UTF-8, GB18030, Big5;
* front matter -- `_split_front_matter` finds the `---` block, `_load_yaml` runs a safe loader with guards
  against hostile YAML, the `_meta_*` helpers coerce its loose values (titles, lists, dates, URLs);
* body -- `_liquid_*` remove Liquid/Hexo template tags, `_render_markdown` turns Markdown into HTML
  (markdown-it, CommonMark), `_html_text` parses with BeautifulSoup+lxml once and walks the tree to plain text
  (blocks -> lines, inline elements joined, hidden elements dropped), picking up the Zhihu answer format's
  author and original URL on the way;
* `parse_post` ties them together; every degradation is a short sentence in `Post.problems`.
"""

from __future__ import annotations

import codecs
import datetime
import functools
import importlib
import os
import stat
import re
import sys
import types
import warnings
from dataclasses import dataclass
from typing import Any
from pathlib import Path, PurePosixPath

import yaml

from .corpus import POST_SUFFIXES, _reason, find_post_names, find_posts
from .errors import PostError

__all__ = ["MAX_POST_BYTES", "POST_SUFFIXES", "Post", "parse_post", "read_post", "find_posts", "find_post_names"]

MAX_POST_BYTES = 4 * 1024 * 1024
"""Bytes read from one post file; the rest of a larger file is dropped and reported as a problem."""

# Real front matter is well under 4 KiB; a huge one can only be hostile or broken, and the pure-Python YAML
# parser would spend seconds on it.
_MAX_FRONT_MATTER_CHARS = 64 * 1024
# markdown-it-py is pure Python: ~0.5 µs a character on real posts (the largest seen is 97 KB) but up to ~20 µs
# on hostile input such as 500,000 "*a" pairs. Beyond this size a body is parsed as HTML directly.
_MAX_MARKDOWN_CHARS = 512 * 1024
# Bounds for coercing front-matter values: YAML aliases can make a small file describe an exponential tree.
_MAX_META_ITEMS = 200
_MAX_META_DEPTH = 20


@dataclass(frozen=True)
class Post:
    """One post, ready for indexing."""

    path: str
    title: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    date: datetime.datetime | None
    url: str | None
    text: str
    draft: bool
    problems: tuple[str, ...]


# ---------------------------------------------------------------------------------------------------------------
# Reading and decoding

def read_post(file: Path, root: Path) -> Post:
    """Read `file` (at most `MAX_POST_BYTES`, a longer file is reported truncated) and parse it."""
    file = Path(file)
    try:
        rel = file.relative_to(root).as_posix()
    except ValueError:
        rel = file.as_posix()
    try:
        # Non-blocking, so that a FIFO swapped in after the corpus walk can't block the build; checked below.
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise PostError(f"{rel}: cannot read: {_reason(e)}") from e
    with open(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PostError(f"{rel}: not a regular file (a directory, FIFO, socket or device); not read")
        try:
            data = fh.read(MAX_POST_BYTES + 1)  # one byte more tells parse_post the file was longer
        except OSError as e:
            raise PostError(f"{rel}: cannot read: {_reason(e)}") from e
    return parse_post(data, rel)


@functools.lru_cache(maxsize=1)
def _common_hanzi() -> re.Pattern:
    """The everyday characters of both scripts: GB2312 level 1 (3,755) and Big5's frequent block (5,401)."""
    chars = set()
    for encoding, leads, trails in (("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF)),
                                    ("big5", range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)])):
        for lead in leads:
            for trail in trails:
                try:
                    chars.add(bytes((lead, trail)).decode(encoding))
                except UnicodeDecodeError:
                    pass
    # Python's big5 codec puts kana in row C6; only ideographs count.
    return re.compile("[" + "".join(sorted(c for c in chars if "\u4e00" <= c <= "\u9fff")) + "]")


def _common_share(text: str) -> float:
    """Share of non-ASCII characters that are everyday hanzi: high for a right guess, low for mojibake."""
    sample = text[:20000]
    others = len(sample.encode("utf-8")) - len(sample)  # cheap stand-in for a count of non-ASCII characters
    return len(_common_hanzi().findall(sample)) * 2 / others if others else 1.0


def _decode_as(data: bytes, encoding: str, truncated: bool) -> str | None:
    try:
        # Incremental, so that a character cut in half by truncation is dropped instead of failing the decode.
        return codecs.getincrementaldecoder(encoding)().decode(data, final=not truncated)
    except UnicodeDecodeError:
        return None


def _decode(data: bytes, path: str) -> tuple[str, list[str]]:
    """Bytes -> (text, problems): UTF-8 (BOM or not), else GB18030, else Big5; NULs and CRs removed."""
    problems = []
    truncated = len(data) > MAX_POST_BYTES
    if truncated:
        data = data[:MAX_POST_BYTES]
        cap = MAX_POST_BYTES
        problems.append(f"truncated at {cap // 1048576} MiB" if cap % 1048576 == 0 else f"truncated at {cap} bytes")
    text = _decode_as(data, "utf-8-sig", truncated)
    if text is None:
        text = _decode_as(data, "gb18030", truncated)
        encoding = "GB18030"
        # Almost every Big5 byte pair is valid GBK too, so both decodings usually succeed; the right one is the
        # one that reads as everyday hanzi rather than rare characters, kana and private-use code points.
        big5 = _decode_as(data, "big5", truncated)
        if big5 is not None and (text is None or _common_share(big5) > _common_share(text) + 0.1):
            text, encoding = big5, "Big5"
        if text is None:
            raise PostError(f"{path}: not UTF-8, GB18030 or Big5 text")
        problems.append(f"decoded as {encoding}")
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        problems.append(f"removed {text.count(chr(0))} NUL bytes")
        text = text.replace("\x00", "")
    # One line-ending convention for every later regex.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, problems


# ---------------------------------------------------------------------------------------------------------------
# Front matter

_FM_OPEN = re.compile(r"(?:[ \t]*\n)*---[ \t]*\n")
_FM_CLOSE = re.compile(r"^---[ \t]*$", re.M)


def _split_front_matter(text: str) -> tuple[str | None, int, str, str | None]:
    """(front matter or None, its first line number, body, problem)."""
    opening = _FM_OPEN.match(text)
    if not opening:
        return None, 0, text, None
    start = opening.end()
    closing = _FM_CLOSE.search(text, start)
    if not closing:
        return None, 0, text, "front matter has no closing '---' line; read as body"
    return text[start:closing.start()], text.count("\n", 0, start) + 1, text[closing.end() + 1:], None


def _safe_loader(base: type) -> type:
    """A subclass of a safe loader that never builds dates (we parse them ourselves, so one bad date can't
    break the whole front matter) and refuses merge keys (`<<: [*a, *a]` chains grow exponentially)."""

    def flatten_mapping(self, node):
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise yaml.constructor.ConstructorError(None, None, "merge keys (<<) are not supported",
                                                        key_node.start_mark)

    resolvers = {first: [(tag, rx) for tag, rx in entries if tag != "tag:yaml.org,2002:timestamp"]
                 for first, entries in base.yaml_implicit_resolvers.items()}
    return type("_PostLoader", (base,), {"flatten_mapping": flatten_mapping, "yaml_implicit_resolvers": resolvers})


_PY_LOADER = _safe_loader(yaml.SafeLoader)
_FAST_LOADER = _safe_loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader))


_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _load_yaml(source: str, first_line: int) -> tuple[dict | None, str | None]:
    """(mapping or None, problem or None)."""
    if len(source) > _MAX_FRONT_MATTER_CHARS:
        return None, f"front matter is larger than {_MAX_FRONT_MATTER_CHARS // 1024} KiB; ignored"
    # libyaml's composer recurses on the C stack and crashes the process on ~50,000 nested collections. Each
    # nesting level needs at least one of these characters, so a small count proves the C parser is safe;
    # otherwise the pure-Python parser runs and stops at Python's recursion limit instead.
    loader = _FAST_LOADER
    if sum(source.count(c) for c in "[{-?:\n") >= 1000:
        # The pure-Python scanner is quadratic in flow-collection depth (seconds at depth 2,000).
        depth = deepest = 0
        for bracket in _NOT_BRACKET.sub("", source):
            depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
            deepest = max(deepest, depth)
        if deepest > 100:
            return None, f"front matter nests too deeply ({deepest} levels of brackets); ignored"
        loader = _PY_LOADER
    try:
        data = yaml.load(source, Loader=loader)  # noqa: S506 -- a safe loader, see _safe_loader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f" (line {first_line + mark.line})" if mark else ""
        return None, f"front matter is not valid YAML{where}: {_short(e.problem or e.context or str(e))}"
    except (yaml.YAMLError, RecursionError, ValueError, TypeError, OverflowError, MemoryError) as e:
        return None, f"front matter is not valid YAML: {_short(str(e) or type(e).__name__)}"
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        return None, f"front matter is not a mapping (it is a {type(data).__name__})"
    return data, None


def _short(message: str, limit: int = 120) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _scalars(value: object) -> list[str]:
    """Every scalar in a (possibly nested, possibly aliased) YAML value as stripped non-empty strings, in order,
    without repeats; bounded in depth and count because aliases can describe huge or cyclic trees."""
    result: list[str] = []
    seen: set[str] = set()
    stack = [(value, 0)]
    budget = 50 * _MAX_META_ITEMS  # nodes visited: `&a [*b, *b]` chains double at every level
    while stack and len(result) < _MAX_META_ITEMS and budget:
        budget -= 1
        item, depth = stack.pop()
        if isinstance(item, (list, tuple, dict)):
            if depth < _MAX_META_DEPTH:
                children = list(item.items()) if isinstance(item, dict) else item
                stack.extend((child, depth + 1) for child in reversed(children[:_MAX_META_ITEMS]))
            continue
        if item is None:
            continue
        try:
            text = item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
        except ValueError:  # an int too long to print (sys.get_int_max_str_digits)
            continue
        text = " ".join(text.split())
        if text and text not in seen:
            seen.add(text)
            result.append(text)
    return result


_LIST_SEPARATORS = re.compile(r"[,，、;；]")


def _meta_list(meta: dict, *keys: str) -> list[str]:
    """Values of several keys (strings, comma strings, nested lists), flattened, de-duplicated, order kept."""
    values: list[str] = []
    for key in keys:
        value = meta.get(key)
        if isinstance(value, str):
            value = _LIST_SEPARATORS.split(value)
        values.extend(_scalars(value))
    return list(dict.fromkeys(values))


_ISO_DATE = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6})\d*)?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?", re.I)
_NAME_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})-")


def _parse_date(value: object) -> datetime.datetime | None:
    """A front-matter date (string, or date/datetime from an explicit YAML tag) -> datetime, else None."""
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day)
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    text = str(value).strip()
    match = _ISO_DATE.fullmatch(text)
    try:
        if match:
            year, month, day, hour, minute, second, fraction, zone = match.groups()
            micro = int(fraction.ljust(6, "0")) if fraction else 0
            tz = None
            if zone and zone.upper() in ("Z", "UTC", "GMT"):
                tz = datetime.timezone.utc
            elif zone:
                digits = zone[1:].replace(":", "")
                hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
                offset = datetime.timedelta(hours=hours, minutes=minutes)
                tz = datetime.timezone(-offset if zone[0] == "-" else offset)
            return datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                                     int(second or 0), micro, tzinfo=tz)
        import email.utils  # here: it imports socket, random and more (10 ms of an update), for a rare date form

        return email.utils.parsedate_to_datetime(text)  # RFC 2822: "Mon, 13 Dec 2021 14:40:19 GMT"
    except (ValueError, TypeError, OverflowError, IndexError):
        return None


def _name_date(stem: str) -> datetime.datetime | None:
    match = _NAME_DATE.match(stem)
    if not match:
        return None
    try:
        return datetime.datetime(*map(int, match.groups()))
    except ValueError:
        return None


def _http_url(value: object) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        if re.fullmatch(r"https?://\S+", value, re.I):
            return value
    return None


def _flag(value: object, wanted: bool) -> bool:
    """`value` is the YAML boolean `wanted`, or a string spelling it ("false", "no", "off" / "true", ...)."""
    words = ("true", "yes", "on") if wanted else ("false", "no", "off")
    return value is wanted or (isinstance(value, str) and value.strip().lower() in words)


# ---------------------------------------------------------------------------------------------------------------
# Liquid / Hexo template tags
#
# Jekyll runs Liquid over the whole source before Markdown, so `{% raw %}` works anywhere; its content must
# survive verbatim, including `{{ }}` that would otherwise be stripped. We swap its braces for a private-use
# character and swap them back in the final text.

_BRACE = "\ue000"
_LIQUID_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)(?:\{%-?\s*endraw\s*-?%\}|\Z)", re.S)
_LIQUID_COMMENT = re.compile(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}", re.S)
_LIQUID_CODE_OPEN = re.compile(r"\{%-?\s*(?:codeblock|highlight)\b[^%\n]{0,200}%\}")
_LIQUID_CODE_CLOSE = re.compile(r"\{%-?\s*end(?:codeblock|highlight)\s*-?%\}")
_LIQUID_TAG = re.compile(r"\{%[^\n]{0,500}?%\}|\{\{[^\n]{0,500}?\}\}")
# Footnote references `[^1]` (markdown-it core has no footnotes) and kramdown attribute lists `{: .cls}`, `{:toc}`.
_MARKDOWN_LEFTOVERS = re.compile(r"\[\^[^\]\s]{1,40}\]:?|\{:[^}\n]{0,200}\}")


def _liquid_protect(source: str, markdown: bool) -> str:
    """Source-level Liquid handling: raw blocks protected, comments dropped, code blocks made fences."""
    if "{%" not in source:
        return source
    source = _LIQUID_RAW.sub(lambda m: m.group(1).replace("{", _BRACE), source)
    source = _LIQUID_COMMENT.sub("", source)
    if markdown:  # a fence keeps the code out of Markdown and HTML parsing
        source = _LIQUID_CODE_OPEN.sub("\n```\n", source)
        source = _LIQUID_CODE_CLOSE.sub("\n```\n", source)
    return source


def _liquid_strip(text: str) -> str:
    return _LIQUID_TAG.sub("", text) if "{" in text else text


# ---------------------------------------------------------------------------------------------------------------
# Markdown -> HTML

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
                child.content = _STRAY_EMPHASIS.sub("", _MARKDOWN_LEFTOVERS.sub("", _liquid_strip(child.content)))
        elif child.type == "html_inline":
            child.content = _liquid_strip(child.content)
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
                token.content = _liquid_strip(token.content)
        elif token.type == "inline" and token.children:
            _clean_inline(token.children)
        previous = token.type
    return tokens


def _markdown_text(source: str) -> tuple[str, list[str], str | None, str | None]:
    """What `_html_text` returns for Markdown `source` rendered to HTML: only the parts with raw HTML go through
    HTML (see _html_runs), the rest from the tokens to text."""
    tokens = _markdown_tokens(source)
    if not _has_html(tokens):
        return _finish_text(_tokens_text(tokens)), [], None, None
    markdown = _markdown()
    runs = _html_runs(tokens)
    if runs is None:
        return _html_text(markdown.renderer.render(tokens, markdown.options, {}), want_title=False)
    htmls = [markdown.renderer.render(run, markdown.options, {}) for run, _ in runs]
    zhihu = any(_is_zhihu(html) for html in htmls)  # as _html_text decides it on the whole document
    parts: list[str] = []
    authors: list[str] = []
    url = None
    for (run, has_html), html in zip(runs, htmls):
        if has_html:
            text, run_authors, run_url, _ = _html_walk(html, False, zhihu)
            parts.append(text)
            authors += run_authors
            url = url or run_url
        else:
            parts.append(_tokens_text(run))
    return _finish_text("".join(parts)), authors, url, None


# Elements whose effect on the text _html_walk gives is the same in a part of the document as in the whole. Raw
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

    BeautifulSoup's tree of a 180 KB post is most of the time it takes to read, though its raw HTML may be a few
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
    """The text `_html_text` gives for the HTML markdown-it renders from `tokens`, without rendering or parsing it.

    Only for tokens without raw HTML (most Markdown posts): then every element is one of the few markdown-it writes,
    and walking the tokens is a third of the work of rendering and parsing again. Tests check both ways agree on
    every post of the blog corpus that has no raw HTML.
    """
    renderer = _markdown().renderer
    out: list[str] = []
    append = out.append
    control = _CONTROL.sub
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
                    append("\x00\x00\n")  # <br />: a block element in _html_text's eyes, and the newline after
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
        if token.tag in _BLOCK:
            append("\x00")
        elif token.tag in _CELL:
            append("\x01")
    return "".join(out)


# ---------------------------------------------------------------------------------------------------------------
# HTML -> text

class _ImportedOnUse(types.ModuleType):
    """Stands for a module until one of its attributes is asked for, then imports it and answers from it."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self.__name__), name)


# Modules bs4 imports for what zhsearch never asks of it: CSS selectors (soupsieve compiles its regexes on import)
# and guessing the encoding of bytes (zhsearch hands it text). Importing bs4 without them: 0.18-0.21 →
# 0.04-0.05 s (python -X importtime, three runs each), which an update of one HTML post pays.
_BS4_DEFERRED = (("soupsieve", "css", "soupsieve"), ("charset_normalizer", "dammit", "chardet_module"))


@functools.lru_cache(maxsize=1)
def _soup() -> Any:
    """The bs4 module, imported on first use (see `_markdown`), its optional helpers imported only when used.

    While bs4 is imported the helpers are blocked (bs4 takes them for not installed), then bs4's reference to each
    is pointed at a stand-in that imports the real module on first use: a program that imports zhsearch and
    uses bs4's CSS selectors or encoding detection itself still gets them (tests check both).
    """
    import importlib.util

    if "bs4" in sys.modules:
        import bs4

        return bs4
    deferred = [entry for entry in _BS4_DEFERRED
                if entry[0] not in sys.modules and importlib.util.find_spec(entry[0]) is not None]
    for name, _, _ in deferred:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` raise ImportError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "The soupsieve package is not installed"
            import bs4
    finally:
        for name, _, _ in deferred:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
    for name, module_name, attribute in deferred:
        module = getattr(bs4, module_name, None)
        if module is not None and getattr(module, attribute, False) is None:
            setattr(module, attribute, _ImportedOnUse(name))
    return bs4

_DROP = frozenset(("script", "style", "noscript", "template", "head", "iframe", "object", "embed", "svg",
                   "canvas", "select", "button"))
_BLOCK = frozenset((
    "address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "tfoot", "thead", "tr", "ul"))
_CELL = frozenset(("td", "th"))
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.I)
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f]")
_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff"
# A source line break inside a paragraph is a space in HTML, but not between two CJK characters.
_CJK_BREAK = re.compile(rf"(?<=[{_CJK}])[^\S\n]*\n\s*(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_LINE_BREAKS = re.compile(r" ?\x00[\x00 ]*")
_AUTHOR_TRAIL = "，,:： \t\u3000"


def _html_text(html: str, want_title: bool) -> tuple[str, list[str], str | None, str | None]:
    """(text, Zhihu answer authors, Zhihu answer URL, <title>) of an HTML document."""
    text, authors, url, title = _html_walk(html, want_title, _is_zhihu(html))
    return _finish_text(text), authors, url, title


def _is_zhihu(html: str) -> bool:
    return 'class="answer"' in html or "originUrl" in html


def _html_walk(html: str, want_title: bool, zhihu: bool) -> tuple[str, list[str], str | None, str | None]:
    """_html_text before _finish_text; `zhihu`: look for Zhihu's answer authors and URL.

    Parse once with lxml and walk the tree without recursion (hostile input can nest arbitrarily deep).

    Block elements emit a hard break (NUL) and table cells and image alt texts a hard space (\\x01); both were
    removed from the input earlier, so they can't clash. `<pre>` turns its newlines into hard breaks; other
    whitespace collapses afterwards in a few C-level regex passes.
    """
    html = _CONTROL.sub("", html)
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
                    url = url or _http_url(attrs.get("href"))
                elif name == "div" and "view-more" in classes:
                    continue  # the same "查看知乎讨论" link under every answer
            if name in _DROP or (attrs and ("hidden" in attrs or _DISPLAY_NONE.search(str(attrs.get("style", ""))))):
                continue
            if name == "img":
                alt = attrs.get("alt")
                if isinstance(alt, str) and alt.strip():
                    append(f"\x01{alt}\x01")
                continue
            if name in _BLOCK:
                append("\x00")
                close = "\x00"
            elif name in _CELL:
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


def _finish_text(text: str) -> str:
    """Hard breaks (NUL) and hard spaces (\\x01) made real, whitespace collapsed, Liquid raw braces restored."""
    if _BRACE in text:
        text = text.replace(_BRACE, "{")
    text = _CJK_BREAK.sub("", text)
    if "\x01" in text:
        text = text.replace("\x01", " ")
    text = _SPACES.sub(" ", text)
    return _LINE_BREAKS.sub("\n", text).strip()


# ---------------------------------------------------------------------------------------------------------------
# Putting it together

def prepare_parsers() -> None:
    """Import and set up what parsing a post needs (markdown-it, BeautifulSoup with lxml, PyYAML), ahead of it."""
    parse_post(b"---\ntitle: t\n---\n*a* <b>b</b>\n", "prepare.md")


def parse_post(data: bytes, path: str) -> Post:
    """Parse a post file's bytes; `path` is its path relative to the corpus root ("/" separators).

    Degrades instead of failing: broken front matter, odd encodings, NUL bytes and oversized files become
    entries in `Post.problems`. Raises `PostError` only when the bytes are not text in any supported encoding.
    """
    content, problems = _decode(data, path)
    name = PurePosixPath(path).name
    stem = name[: -len(Path(name).suffix)] if name.lower().endswith(POST_SUFFIXES) else name
    is_html = name.lower().endswith(".html")

    front, first_line, body, problem = _split_front_matter(content)
    if problem:
        problems.append(problem)
    meta: dict = {}
    if front is not None:
        loaded, problem = _load_yaml(front, first_line)
        if problem:
            problems.append(problem)
        meta = loaded or {}

    title = " ".join(_scalars(meta.get("title")))
    authors = _meta_list(meta, "author", "authors")
    categories = _meta_list(meta, "categories", "category")
    tags = _meta_list(meta, "tags", "tag", "keywords")
    url = next((u for u in map(_http_url, (meta.get(k) for k in ("link", "url", "source_url"))) if u), None)
    draft = _flag(meta.get("published"), False) or _flag(meta.get("draft"), True)
    raw_date = meta.get("date")
    date = None if raw_date is None or raw_date == "" else _parse_date(raw_date)
    if date is None and raw_date is not None and raw_date != "":
        problems.append(f"unparseable date {_short(repr(raw_date), 60)}"
                        + ("; used the date in the file name" if _name_date(stem) else ""))
    date = date or _name_date(stem)

    try:
        source = _liquid_protect(body, markdown=not is_html)
        if is_html:
            text, body_authors, body_url, html_title = _html_text(_liquid_strip(source), want_title=not title)
        elif len(source) > _MAX_MARKDOWN_CHARS:
            problems.append(f"body over {_MAX_MARKDOWN_CHARS // 1024} KiB: Markdown syntax not rendered")
            text, body_authors, body_url, html_title = _html_text(source, want_title=False)
        else:
            text, body_authors, body_url, html_title = _markdown_text(source)
    except (RecursionError, MemoryError, ValueError, TypeError, AssertionError) as e:
        # The libraries underneath are not hardened against hostile input; an unreadable body must not cost
        # the post its title and metadata.
        problems.append(f"body could not be converted to text ({type(e).__name__}); indexed without it")
        text, body_authors, body_url, html_title = "", [], None, None

    if not title:
        prefix = _NAME_DATE.match(stem)
        title = html_title or (stem[prefix.end():] if prefix else stem) or stem or "untitled"
    return Post(path=path, title=title, authors=tuple(dict.fromkeys(authors + body_authors)),
                categories=tuple(categories), tags=tuple(tags), date=date, url=body_url or url, text=text,
                draft=draft, problems=tuple(problems))
