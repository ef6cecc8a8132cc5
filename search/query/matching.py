"""Matching: each term of a query tree → the set of posts (document numbers) it matches.

A term matches the posts that contain it verbatim (the text store, like grep) plus, unless it is quoted, the posts
that contain its jieba words (all of them, or for a long run of words or a question a share of them, see
`SOFT_MATCH_WORDS`), its synonyms' posts, and with pinyin on, the posts whose Han text reads as a Latin term. AND,
OR and NOT combine the sets; date ranges read the `stamp` column.

`Matching` is a part of `Index` (index.py), whose posting lists, words and text store it reads.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..segments import access
from ..segments.fieldnames import PINYIN_FIELD, SEARCH_FIELDS
from ..store import fileio, layout
from ..text import folding, segmentation
from ..text.pinyin import pinyin_query, pinyin_splits, pinyin_syllables
from . import syntax as querylang
from .access_types import Coverage, Seen

# The field of a query term standing for a pinyin reading of several Latin terms (never typed by users).
PINYIN_TERM = "pinyin"
# Several words typed as one term. A keyword run of SOFT_MATCH_WORDS content words or more needs all of them when
# some post has them all, else SOFT_MATCH_SHARE of them (at least 2); a shorter one needs all. A question (a
# question word or mark, or QUESTION_WORDS content words or more) of QUESTION_MIN_WORDS content words or more
# needs QUESTION_SHARE of them (0: any one). Tuned with bench/relevance.py.
SOFT_MATCH_WORDS = 3
SOFT_MATCH_SHARE = 0.5
QUESTION_WORDS = 5
QUESTION_MIN_WORDS = 2
QUESTION_SHARE = 0.0
# Whether the share of a term's content words a post has weighs each word by its rarity (idf), not counts them.
COVERAGE_IDF = True


def content_words(words: list[str]) -> list[str]:
    """The words of a run that carry its topic: without question words and particles (all, if that is all)."""
    return [w for w in dict.fromkeys(words) if w not in segmentation.QUESTION_WORDS] or words


def is_question(folded: str, words: list[str], content: list[str]) -> bool:
    """Whether a run of words reads as a question: a question word or mark, or many content words."""
    return (len(content) >= QUESTION_WORDS or folded.endswith("?")
            or not segmentation.INTERROGATIVES.isdisjoint(words))


class Matching:
    """The matching half of `Index`."""

    if TYPE_CHECKING:  # provided by Index (index.py)
        generation: Path
        meta: dict[str, Any]
        _segments: list[Any]
        _store: Any

        @property
        def _all(self) -> frozenset[int]: ...
        def _whoosh(self) -> Any: ...
        def _words(self, folded: str) -> list[str]: ...
        def _word_groups(self, folded: str) -> dict[str, list[str]]: ...
        def _word_docs(self, words: list[str], fields: tuple[str, ...]) -> set[int]: ...

    def _literal_docs(self, folded: str, field: str | None, quoted: bool) -> tuple[set[int], set[int], Coverage]:
        """(docs containing the text verbatim or, unless quoted, its words; the verbatim ones; for a run of
        several words matched softly, the share of its content words each matching doc has, else None)."""
        fields = (field,) if field else SEARCH_FIELDS
        # A post whose word fields hold the text as one word contains it: the word was cut from the same folded text
        # the store holds. Only the others are scanned.
        known = self._word_docs([folded], fields)
        verbatim = known | self._store.find(folded, None if field is None else fields, known)
        if quoted:
            return verbatim, verbatim, None
        words = self._words(folded)
        matched = set(verbatim)
        if not words or not self._all:
            return matched, verbatim, None
        content = content_words(words)
        question = is_question(folded, words, content)
        if len(content) < (QUESTION_MIN_WORDS if question else SOFT_MATCH_WORDS):
            matched.update(set.intersection(*(self._word_docs([word], fields) for word in content)))
            return matched, verbatim, None
        # A run of several words typed as one term: a keyword run (数据库索引优化) needs all its words when some
        # post has them all, else SOFT_MATCH_SHARE of them; a question (定期人寿保险支付时会发生什么) needs
        # QUESTION_SHARE of them. _rank multiplies BM25F by the (idf-weighted) share a post has. A long word counts as present when one of its search-mode sub-words is
        # (人寿保险: 人寿 or 保险).
        groups = self._word_groups(folded)
        hits: dict[int, int] = {}
        weights: dict[int, float] = {}
        total_weight = 0.0
        for word in content:
            docs = self._word_docs(groups.get(word, [word]), fields)
            weight = math.log(1 + len(self._all) / (1 + len(docs))) if COVERAGE_IDF else 1.0
            total_weight += weight
            for n in docs:
                hits[n] = hits.get(n, 0) + 1
                weights[n] = weights.get(n, 0.0) + weight
        best = max(hits.values(), default=0)
        if question:
            needed = math.ceil(len(content) * QUESTION_SHARE)
        elif best == len(content):
            needed = best
        else:
            needed = max(2, math.ceil(len(content) * SOFT_MATCH_SHARE))
        needed = max(1, min(needed, best))  # rather the posts matching fewer words, ranked, than nothing
        matched.update(n for n, count in hits.items() if count >= needed)
        coverage = {n: weights.get(n, total_weight) / total_weight if total_weight else 1.0 for n in matched}
        return matched, verbatim, coverage

    @functools.cached_property
    def _synonyms(self) -> dict[str, list[str]]:
        """Folded word → the other words of its synonym groups (from the configuration the index was built with)."""
        path = self.generation / layout.SYNONYMS
        groups = fileio.read_json(path) if path.exists() else []
        expansions: dict[str, list[str]] = {}
        for group in groups:
            for word in group:
                expansions.setdefault(word, []).extend(w for w in group if w != word)
        return expansions

    @property
    def pinyin(self) -> bool:
        """Whether this index holds the pinyin of its posts (`pinyin = true` in zhsearch.toml)."""
        return bool(self.meta.get("settings", {}).get("pinyin"))

    def _pinyin_docs(self, reading: str) -> set[int]:
        """Posts in which some run of Han characters reads `reading` (any way of splitting it into syllables)."""
        splits = pinyin_splits(reading, pinyin_syllables())
        if not self._all or not splits:
            return set()
        return access.phrase_documents(self._whoosh(), PINYIN_FIELD, splits)

    def _term_docs(self, term: querylang.Term) -> tuple[set[int], set[int], set[int], Coverage]:
        """(all matching docs, docs matching verbatim, docs matching literally rather than through pinyin, the
        share of a question's words each doc has)."""
        folded = folding.fold(term.text).strip()
        if term.field == PINYIN_TERM:
            return self._pinyin_docs(folded), set(), set(), None
        matched, verbatim, coverage = self._literal_docs(folded, term.field, term.quoted)
        if term.quoted:
            return matched, verbatim, matched, None
        for synonym in self._synonyms.get(folded, ()):
            matched |= self._literal_docs(synonym, term.field, False)[0]
        literal = set(matched)
        # Only a query of Latin letters reads as pinyin: a Chinese query never matches through pinyin.
        reading = pinyin_query(term.text) if self.pinyin and term.field is None else None
        # One syllable alone (nei) would bring every post with any of its homophones: only longer readings.
        if reading and reading not in pinyin_syllables():
            matched |= self._pinyin_docs(reading)
        return matched, verbatim, literal, coverage

    def _evaluate(self, node: querylang.Node, seen: dict[querylang.Term, Seen]) -> set[int]:
        if isinstance(node, querylang.Term):
            matched, verbatim, literal, coverage = self._term_docs(node)
            seen[node] = (verbatim, literal, coverage)
            return matched
        if isinstance(node, querylang.DateRange):
            return self._date_docs(node.low, node.high)
        if isinstance(node, querylang.Not):
            return set(self._all) - self._evaluate(node.item, seen)
        sets = [self._evaluate(item, seen) for item in node.items]
        if isinstance(node, querylang.And):
            return set.intersection(*sets)
        return set.union(*sets)

    def _with_pinyin_reading(self, node: querylang.Node) -> querylang.Node:
        """`nei tui` also as the one reading `neitui`, when the whole query is plain Latin terms."""
        terms = [node] if isinstance(node, querylang.Term) else list(getattr(node, "items", ()))
        if (not self.pinyin or not isinstance(node, (querylang.Term, querylang.And)) or len(terms) < 2
                or not all(isinstance(t, querylang.Term) and not t.quoted and t.field is None for t in terms)):
            return node
        readings = [pinyin_query(t.text) for t in terms]
        if not all(readings):
            return node
        return querylang.Or((node, querylang.Term("".join(readings), PINYIN_TERM)))

    @functools.cached_property
    def _stamps(self) -> dict[int, int]:
        if not self._all:
            return {}
        column = [stamp for segment in self._segments for stamp in segment.stamps()]
        # An undated post reads as the column's default (0 or 2**64-1): only real YYYYMMDDhhmmss values count.
        return {n: column[n] for n in self._all if 0 < column[n] <= 99991231235959}

    def _date_docs(self, low: int, high: int) -> set[int]:
        return {n for n, stamp in self._stamps.items() if low <= stamp <= high}

    # -- search -----------------------------------------------------------------------------------------------


    def _zero_hit_help(self, node: querylang.Node,
                       allowed: set[int] | None) -> tuple[tuple[tuple[str, int], ...], str | None]:
        """How many posts each term alone matches, and the query without the first term that emptied it."""
        scratch: dict[querylang.Term, tuple[set[int], set[int]]] = {}
        counts = tuple((querylang.to_text(t), len(self._evaluate(t, scratch)))
                       for t in dict.fromkeys(querylang.positive_terms(node)))
        items = list(node.items) if isinstance(node, querylang.And) else [node]
        remaining = set(self._all) if allowed is None else set(allowed)
        for i, item in enumerate(items):
            narrowed = remaining & self._evaluate(item, scratch)
            if not narrowed:
                rest = items[:i] + items[i + 1:]
                if not rest:
                    return counts, None
                smaller = rest[0] if len(rest) == 1 else querylang.And(tuple(rest))
                scratch_rest = set(self._all) if allowed is None else set(allowed)
                if scratch_rest & self._evaluate(smaller, scratch):
                    return counts, querylang.to_text(smaller)
                return counts, None
            remaining = narrowed
        return counts, None
