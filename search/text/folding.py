"""Folding text for matching: NFKC, lower case, traditional → simplified characters.

Parts:
- the fold table (OpenCC's character table, or the one an index was built with: `adopt_fold_table`);
- `normalize`: folded text with a map from each folded character back to its original offset, so snippets show
  the text as written; `LineOffsets` does the same for a few offsets of a text folded earlier;
- `fold`: the folded form alone (what the index stores and queries are matched in).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from typing import NamedTuple

# The Han characters (CJK unified ideographs, extension A, compatibility ideographs).
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u3099\u309a]")

# The table in use: computed from OpenCC on first use, or taken from the index being searched (adopt_fold_table).
_fold_table_in_use: dict[int, str] | None = None


def _fold_table() -> dict[int, str]:
    global _fold_table_in_use
    if _fold_table_in_use is None:
        _fold_table_in_use = _opencc_fold_table()
    return _fold_table_in_use


def _opencc_fold_table() -> dict[int, str]:
    """Traditional → simplified, character by character.

    Character-level on purpose: OpenCC's phrase tables convert a character differently by context (乾隆 keeps 乾,
    乾燥 becomes 干燥), so a substring searched alone could fold differently from the same characters inside a
    post and stop matching. One character in, one character out also keeps offsets unchanged.
    """
    import opencc

    chars = [chr(c) for lo, hi in ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00)) for c in range(lo, hi)]
    # Newlines keep OpenCC from matching phrases across characters: each one converts alone.
    folded = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    return {ord(a): b for a, b in zip(chars, folded) if a != b and len(b) == 1}


def fold_table_record() -> dict[str, str]:
    """The fold table as an index stores it: the characters changed and what each becomes, in two strings."""
    table = _fold_table()
    return {"from": "".join(map(chr, table)), "to": "".join(table.values())}


def adopt_fold_table(record: dict[str, str]) -> None:
    """Fold with the table an index was built with (fold_table_record), unless this process already folded.

    Reading the table from the index is much faster than building it from OpenCC; it also keeps
    a query folded exactly as the posts were, whatever OpenCC version is installed now.
    """
    global _fold_table_in_use
    source, target = record.get("from"), record.get("to")
    if not isinstance(source, str) or not isinstance(target, str) or len(source) != len(target):
        raise ValueError("not a fold table")
    if _fold_table_in_use is None:
        _fold_table_in_use = dict(zip(map(ord, source), target))


@functools.lru_cache(maxsize=1)
def _traditional_re() -> re.Pattern[str]:
    # Finding the first traditional character first is far cheaper than str.translate on the simplified text most
    # posts are; compiling the class of 4,221 characters pays only in a process that folds a lot (a build).
    return re.compile("[" + "".join(map(chr, _fold_table())) + "]")


# Characters a process folds with str.translate alone before it compiles _traditional_re (about its compile time).
_TRANSLATE_BUDGET = 100_000
_translated = 0


def _fold_chinese(text: str) -> str:
    global _translated
    if _translated < _TRANSLATE_BUDGET:
        _translated += len(text)
        return text.translate(_fold_table())
    return text.translate(_fold_table()) if _traditional_re().search(text) else text


class Normalized(NamedTuple):
    """Normalised text and, when lengths differ, the original offset of each normalised character."""

    text: str
    origin: tuple[int, ...] | None  # None: character i of text is character i of the original
    original_length: int

    def original_offset(self, index: int) -> int:
        """The offset in the original text of normalised offset `index` (an end offset may equal the length)."""
        if self.origin is None:
            return index
        if index >= len(self.origin):
            return self.original_length
        return self.origin[index]


def normalize(text: str) -> Normalized:
    """Fold `text` for matching: NFKC (全角 ２０２４ → 2024), lower case, traditional → simplified characters."""
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) == len(text) and not _COMBINING_RE.search(text):
        # The common case: NFKC changed characters one for one (full-width forms, compatibility ideographs).
        return Normalized(_fold_chinese(folded), None, len(text))
    # NFKC expanded or composed something (ligatures, ㍿, …, combining marks): rebuild character by character,
    # but only the lines where it happened (it never composes across a line break).
    pieces: list[str] = []
    origin: list[int] = []
    line_start = 0
    for line in text.splitlines(keepends=True):
        piece = unicodedata.normalize("NFKC", line).lower()
        if len(piece) == len(line) and not _COMBINING_RE.search(line):
            pieces.append(piece)
            origin.extend(range(line_start, line_start + len(line)))
        else:
            # Only the characters between runs that map one for one are normalised one by one.
            at = 0
            for run in re.finditer(_ONE_FOR_ONE, line):
                _normalize_chars(line, at, run.start(), line_start, pieces, origin)
                pieces.append(unicodedata.normalize("NFKC", run.group()).lower())
                origin.extend(range(line_start + run.start(), line_start + run.end()))
                at = run.end()
            _normalize_chars(line, at, len(line), line_start, pieces, origin)
        line_start += len(line)
    return Normalized(_fold_chinese("".join(pieces)), tuple(origin), len(text))


# Characters that NFKC and lower case map one for one, whatever stands beside them: ASCII, CJK unified
# ideographs, CJK punctuation (but not its combining tone marks 〪-〯), full-width ASCII, and the dashes and
# quotes of General Punctuation before the ellipsis ‥ … (which expand).
# Like the other rarely used patterns, compiled on first use by re's own cache, not by every cold query at import.
_ONE_FOR_ONE = ("[\x00-\x7f\u4e00-\u9fff\u3000-\u3029\u3030-\u303f\uff01-\uff5e"
                "\u2010-\u2016\u2018-\u2024]+")


def _normalize_chars(line: str, start: int, end: int, line_start: int, pieces: list[str], origin: list[int]) -> None:
    for offset in range(start, end):
        piece = unicodedata.normalize("NFKC", line[offset]).lower()
        pieces.append(piece)
        origin.extend([line_start + offset] * len(piece))


class LineOffsets:
    """Original offsets of `fold(text)` (given, as the index stores it), computed only for the lines asked about.

    A snippet maps a handful of offsets; normalising a whole post to map them was most of a warm query's time.
    Folding never adds, removes or moves a line feed and never composes across
    one, so line k of the folded text is `normalize` of line k of the original, except where fold() composes
    characters that normalize keeps apart: `original_offset` raises ValueError for such a line.
    """

    def __init__(self, text: str, folded: str) -> None:
        self._text = text
        self._folded = folded
        self._identity = len(text) == len(folded) and not _COMBINING_RE.search(text)
        self._line_starts: list[int] | None = None
        self._lines: dict[int, Normalized] = {}
        if not self._identity and text.count("\n") != folded.count("\n"):
            raise ValueError("`folded` is not the folded form of `text`")

    def original_offset(self, index: int) -> int:
        """The offset in the original text of folded offset `index` (an end offset may equal the length)."""
        if self._identity:
            return index
        if index >= len(self._folded):
            return len(self._text)
        folded_line_start = self._folded.rfind("\n", 0, index) + 1
        number = self._folded.count("\n", 0, folded_line_start)
        if self._line_starts is None:
            # Each line's start: the running sum of the line lengths plus their line feeds, all in C.
            self._line_starts = list(itertools.accumulate(map((1).__add__, map(len, self._text.split("\n"))),
                                                          initial=0))
        start = self._line_starts[number]
        line = self._lines.get(number)
        if line is None:
            end = self._line_starts[number + 1] if number + 1 < len(self._line_starts) else len(self._text)
            line = normalize(self._text[start:end])
            folded_line_end = self._folded.find("\n", folded_line_start) + 1 or len(self._folded)
            if line.text != self._folded[folded_line_start:folded_line_end]:
                # fold() composes across characters (e + ◌́ → é, conjoining jamo) where normalize's map keeps
                # them apart: this line's offsets can't be mapped from the folded text.
                raise ValueError("`folded` is not the folded form of `text`")
            self._lines[number] = line
        return start + line.original_offset(index - folded_line_start)


def fold(text: str) -> str:
    """The normalised form of `text`, without the offset map (what the index stores and queries are matched in)."""
    return _fold_chinese(unicodedata.normalize("NFKC", text).lower())
