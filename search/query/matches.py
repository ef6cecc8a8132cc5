"""What matching hands to ranking and to the result: the posts holding each term, and how."""

from __future__ import annotations

from typing import NamedTuple

# The share of a question's content words each matching post holds (None for other terms).
WordShare = dict[int, float] | None


class TermMatch(NamedTuple):
    """The posts holding one query term, and how."""

    docs: set[int]          # every post holding it (for a run of words, every piece of it; or through pinyin)
    verbatim: set[int]      # the posts holding its text as typed
    literal: set[int]       # the posts holding it as text, not only through its pinyin reading
    share: WordShare        # a question's share of content words per post
    units: tuple[tuple[str, set[int]], ...]  # a run's pieces (units.term_units) and the posts holding each


class Matched(NamedTuple):
    """What a query matched: the posts, its plain terms with the posts holding each, and the pinyin readings."""

    docs: set[int]
    items: list[tuple[str, set[int]]]
    complete: int           # posts holding every plain term
    readings: list[str]     # pinyin readings matched (for scoring and marking such posts)
