"""Pinyin: the toneless syllable of each Han character of a text, and Latin queries read as pinyin."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict

from .folding import HAN

_HAN_WORD = f"[{HAN}]+"

# Room between fields in the pinyin field's positions, so that a reading never runs from one field into the next.
PINYIN_FIELD_GAP = 10_000_000
_TONE_MARKS_RE = re.compile("[\u0300-\u036f]")
_PINYIN_QUERY_RE = re.compile(r"[a-z]+")


def pinyin_postings(text: str, base: int = 0) -> dict[str, list[int]]:
    """The toneless pinyin syllable of each Han character of normalised `text`, at `base` + its offset.

    Character by character (with pypinyin's phrase-aware readings), so a reading is found whatever jieba did with
    the word boundaries; ü is written v, as pypinyin does.
    """
    from pypinyin import Style, lazy_pinyin

    postings: dict[str, list[int]] = defaultdict(list)
    for run in re.finditer(_HAN_WORD, text):
        syllables = lazy_pinyin(run.group(), style=Style.NORMAL, errors="ignore")
        if len(syllables) != len(run.group()):
            continue  # a character without a reading shifts the alignment: skip the run rather than misplace it
        for i, syllable in enumerate(syllables):
            postings[syllable].append(base + run.start() + i)
    return postings


@functools.lru_cache(maxsize=1)
def pinyin_syllables() -> frozenset[str]:
    """Every toneless syllable pypinyin knows (about 420)."""
    from pypinyin.pinyin_dict import pinyin_dict

    syllables = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            syllables.add(_TONE_MARKS_RE.sub("", unicodedata.normalize("NFD", reading)).replace("ü", "v"))
    return frozenset(syllables)


def pinyin_splits(reading: str, syllables: frozenset[str], limit: int = 8) -> list[list[str]]:
    """Ways to read `reading` as a sequence of syllables (xian → [xian], [xi, an]), fewest syllables first."""
    splits: list[list[str]] = []

    def walk(at: int, sequence: list[str]) -> None:
        if len(splits) >= limit * 4:
            return
        if at == len(reading):
            splits.append(list(sequence))
            return
        for end in range(min(len(reading), at + 6), at, -1):
            if reading[at:end] in syllables:
                sequence.append(reading[at:end])
                walk(end, sequence)
                sequence.pop()

    if len(reading) <= 60:
        walk(0, [])
    return sorted(splits, key=len)[:limit]


def pinyin_query(text: str) -> str | None:
    """`text` as a pinyin reading (nèi tuì, nei tui, neitui → neitui), or None if it is not Latin letters only."""
    plain = _TONE_MARKS_RE.sub("", unicodedata.normalize("NFD", text.lower())).replace("ü", "v")
    plain = "".join(plain.split())
    return plain if _PINYIN_QUERY_RE.fullmatch(plain) else None
