"""The `Post` record, and reading a post file into one: `read_post`, `parse_post`."""

from __future__ import annotations

import codecs
import contextlib
import datetime
import functools
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import PostError
from . import frontmatter, liquid
from .corpus import POST_SUFFIXES, reason
from .from_html import html_text
from .from_markdown import markdown_text

__all__ = ["MAX_POST_BYTES", "Post", "parse_post", "prepare_parsers", "read_post"]

MAX_POST_BYTES = 4 * 1024 * 1024
"""Bytes read from one post file; the rest of a larger file is dropped and reported as a problem."""

# markdown-it-py is pure Python and far slower on hostile input (500,000 "*a" pairs) than on real posts: beyond
# this size a body is parsed as HTML directly.
_MAX_MARKDOWN_CHARS = 512 * 1024

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
        raise PostError(f"{rel}: cannot read: {reason(e)}") from e
    with open(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PostError(f"{rel}: not a regular file (a directory, FIFO, socket or device); not read")
        try:
            data = fh.read(MAX_POST_BYTES + 1)  # one byte more tells parse_post the file was longer
        except OSError as e:
            raise PostError(f"{rel}: cannot read: {reason(e)}") from e
    return parse_post(data, rel)


@functools.lru_cache(maxsize=1)
def _common_hanzi() -> re.Pattern:
    """The everyday characters of both scripts: GB2312 level 1 (3,755) and Big5's frequent block (5,401)."""
    chars = set()
    for encoding, leads, trails in (("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF)),
                                    ("big5", range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)])):
        for lead in leads:
            for trail in trails:
                with contextlib.suppress(UnicodeDecodeError):
                    chars.add(bytes((lead, trail)).decode(encoding))
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

    meta, body, front_problems = frontmatter.read_front_matter(content)
    problems += front_problems

    title = " ".join(frontmatter.scalars(meta.get("title")))
    authors = frontmatter.meta_list(meta, "author", "authors")
    categories = frontmatter.meta_list(meta, "categories", "category")
    tags = frontmatter.meta_list(meta, "tags", "tag", "keywords")
    url = next((u for u in map(frontmatter.http_url, (meta.get(k) for k in ("link", "url", "source_url"))) if u), None)
    draft = (frontmatter.flag(meta.get("published"), False) or frontmatter.flag(meta.get("draft"), True)
             or "_drafts" in PurePosixPath(path).parts[:-1])  # Hexo's and Jekyll's drafts folder
    raw_date = meta.get("date")
    date = None if raw_date is None or raw_date == "" else frontmatter.parse_date(raw_date)
    if date is None and raw_date is not None and raw_date != "":
        problems.append(f"unparseable date {frontmatter.short(repr(raw_date), 60)}"
                        + ("; used the date in the file name" if frontmatter.name_date(stem) else ""))
    date = date or frontmatter.name_date(stem)

    try:
        source = liquid.protect(body, markdown=not is_html)
        if is_html:
            text, body_authors, body_url, html_title = html_text(liquid.strip(source), want_title=not title)
        elif len(source) > _MAX_MARKDOWN_CHARS:
            problems.append(f"body over {_MAX_MARKDOWN_CHARS // 1024} KiB: Markdown syntax not rendered")
            text, body_authors, body_url, html_title = html_text(source, want_title=False)
        else:
            text, body_authors, body_url, html_title = markdown_text(source)
    except (RecursionError, MemoryError, ValueError, TypeError, AssertionError) as e:
        # The libraries underneath are not hardened against hostile input; an unreadable body must not cost
        # the post its title and metadata.
        problems.append(f"body could not be converted to text ({type(e).__name__}); indexed without it")
        text, body_authors, body_url, html_title = "", [], None, None

    if not title:
        prefix = frontmatter.NAME_DATE.match(stem)
        title = html_title or (stem[prefix.end():] if prefix else stem) or stem or "untitled"
    return Post(path=path, title=title, authors=tuple(dict.fromkeys(authors + body_authors)),
                categories=tuple(categories), tags=tuple(tags), date=date, url=body_url or url, text=text,
                draft=draft, problems=tuple(problems))
