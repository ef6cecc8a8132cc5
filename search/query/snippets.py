"""Snippets: an excerpt of a post around its best match, with the matched text marked.

The caller names the texts to mark (`needles`: a query term as typed, the pieces of a run of words, synonyms) and
which of the query's terms each one stands for. Matches are found by plain string search in the folded text (no
re-segmenting of the post), longest first, so a query for 马克思 marks 马克思 whole and never just 马克. The window
is the one whose matches stand for the most distinct terms (a run found whole stands for all its pieces), earliest
first; offsets map back through `folding.normalize` so the excerpt shows the text as written (全角, 繁體 and
capitals included).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from typing import NamedTuple

from ..text import folding

WINDOW = 90            # characters of the excerpt, about two terminal lines of CJK text
CONTEXT_BEFORE = 20    # how much to show before the first match in the window
MAX_OCCURRENCES = 200  # per matched text: enough to choose a window, bounded for huge posts


class Excerpt(NamedTuple):
    text: str
    highlights: tuple[tuple[int, int], ...]


def _spans(folded: str, needles: list[str]) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, needle) matches, longer needles taking precedence."""
    taken: list[tuple[int, int, str]] = []
    starts: list[int] = []  # of the spans taken so far, in order, and their ends
    ends: list[int] = []
    for needle in sorted(set(needles), key=lambda n: (-len(n), n)):  # longest first, then in a fixed order
        at = folded.find(needle)
        found = 0
        while at >= 0 and found < MAX_OCCURRENCES:
            end = at + len(needle)
            # Free unless a taken span starts before `end` and ends after `at` (spans taken don't overlap, so
            # only the one starting last before `end` can).
            i = bisect.bisect_left(starts, end)
            if i == 0 or ends[i - 1] <= at:
                starts.insert(i, at)
                ends.insert(i, end)
                taken.append((at, end, needle))
                found += 1
            at = folded.find(needle, at + 1)
    return sorted(taken)


def _best_window_start(spans: list[tuple[int, int, str]], covers: Mapping[str, frozenset[str]]) -> int:
    """The start of the first span whose window (WINDOW characters from it) stands for the most distinct terms."""
    # A sliding window: spans don't overlap, so their ends are in order too.
    best_start, best_count = spans[0][0], 0
    distinct = len(set().union(*(covers[needle] for _, _, needle in spans)))
    in_window: dict[str, int] = {}  # term → matches in the window standing for it
    end_of_window = 0  # spans[i:end_of_window] are those inside the window of span i
    for i, (start, _, _) in enumerate(spans):
        end_of_window = max(end_of_window, i)
        while end_of_window < len(spans) and spans[end_of_window][1] <= start + WINDOW:
            for term in covers[spans[end_of_window][2]]:
                in_window[term] = in_window.get(term, 0) + 1
            end_of_window += 1
        if len(in_window) > best_count:
            best_start, best_count = start, len(in_window)
            if best_count == distinct:  # no later window holds more, and the earliest wins ties
                break
        if end_of_window > i:  # span i leaves the window
            for term in covers[spans[i][2]]:
                in_window[term] -= 1
                if not in_window[term]:
                    del in_window[term]
    return best_start


def snippet_of_text(text: str, needles: Mapping[str, frozenset[str]]) -> Excerpt:
    """The excerpt of `text` around the folded `needles`, each mapped to the query terms it stands for, normalising
    all of `text` (what `snippet_of_folded` falls back to)."""
    norm = folding.normalize(text)
    return _excerpt(text, norm.text, norm, {n: terms for n, terms in needles.items() if n.strip()})


def snippet_of_folded(folded: str, needles: Mapping[str, frozenset[str]],
                      written: Callable[[int, int], str]) -> Excerpt:
    """The excerpt of a text known by its folded form: `written(start, end)` gives the text as written of the
    folded lines `folded[start:end]` (the index keeps it as the changes folding made: only these lines are rebuilt;
    `written(0, len(folded))` is the whole text)."""
    needles = {n: terms for n, terms in needles.items() if n.strip()}
    spans = _spans(folded, list(needles)) if needles else []
    low = max(0, _best_window_start(spans, needles) - CONTEXT_BEFORE) if spans else 0
    high = min(len(folded), low + WINDOW)
    # The lines the window spans (folding never adds, moves or removes a line feed).
    first = folded.rfind("\n", 0, low) + 1
    last = folded.find("\n", high)
    last = len(folded) if last < 0 else last
    text, lines = written(first, last), folded[first:last]
    try:
        norm = folding.LineOffsets(text, lines)
        start, end = norm.original_offset(low - first), norm.original_offset(high - first)
        highlights = [(norm.original_offset(s - first), norm.original_offset(e - first))
                      for s, e, _ in spans if s >= low and e <= high]
    except ValueError:  # a line fold() composed differently (e + ◌́): map the whole text instead
        return snippet_of_text(written(0, len(folded)), needles)
    prefix = "…" if first > 0 or start > 0 else ""
    suffix = "…" if last < len(folded) or end < len(text) else ""
    body = text[start:end].replace("\n", " ")
    shift = len(prefix) - start
    return Excerpt(prefix + body + suffix, tuple((s + shift, e + shift) for s, e in highlights))


def mark(text: str, needles: Mapping[str, frozenset[str]]) -> tuple[tuple[int, int], ...]:
    """Every match of the folded `needles` in a short text shown whole (a title), as spans of `text`."""
    norm = folding.normalize(text)
    spans = _spans(norm.text, [n for n in needles if n.strip()])
    return tuple((norm.original_offset(s), norm.original_offset(e)) for s, e, _ in spans)


def _excerpt(text: str, folded: str, norm: folding.Normalized | folding.LineOffsets,
             needles: Mapping[str, frozenset[str]]) -> Excerpt:
    spans = _spans(folded, list(needles)) if needles else []
    low = max(0, _best_window_start(spans, needles) - CONTEXT_BEFORE) if spans else 0
    high = min(len(folded), low + WINDOW)
    start, end = norm.original_offset(low), norm.original_offset(high)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    body = text[start:end].replace("\n", " ")
    shift = len(prefix) - start
    highlights = tuple((norm.original_offset(s) + shift, norm.original_offset(e) + shift)
                       for s, e, _ in spans if s >= low and e <= high)
    return Excerpt(prefix + body + suffix, highlights)
