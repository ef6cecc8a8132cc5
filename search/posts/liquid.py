"""Liquid / Hexo template tags.

Jekyll runs Liquid over the whole source before Markdown, so `{% raw %}` works anywhere; its content must
survive verbatim, including `{{ }}` that would otherwise be stripped. Its braces are swapped for a private-use
character (`BRACE`) and swapped back in the final text.
"""

from __future__ import annotations

import re

BRACE = "\ue000"
_LIQUID_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)(?:\{%-?\s*endraw\s*-?%\}|\Z)", re.DOTALL)
_LIQUID_COMMENT = re.compile(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}", re.DOTALL)
_LIQUID_CODE_OPEN = re.compile(r"\{%-?\s*(?:codeblock|highlight)\b[^%\n]{0,200}%\}")
_LIQUID_CODE_CLOSE = re.compile(r"\{%-?\s*end(?:codeblock|highlight)\s*-?%\}")
_LIQUID_TAG = re.compile(r"\{%[^\n]{0,500}?%\}|\{\{[^\n]{0,500}?\}\}")


def protect(source: str, markdown: bool) -> str:
    """Source-level Liquid handling: raw blocks protected, comments dropped, code blocks made fences."""
    if "{%" not in source:
        return source
    source = _LIQUID_RAW.sub(lambda m: m.group(1).replace("{", BRACE), source)
    source = _LIQUID_COMMENT.sub("", source)
    if markdown:  # a fence keeps the code out of Markdown and HTML parsing
        source = _LIQUID_CODE_OPEN.sub("\n```\n", source)
        source = _LIQUID_CODE_CLOSE.sub("\n```\n", source)
    return source


def strip(text: str) -> str:
    return _LIQUID_TAG.sub("", text) if "{" in text else text
