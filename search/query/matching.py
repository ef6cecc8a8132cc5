"""Matching: each term of a query tree → the set of posts (document numbers) holding it.

A term is cut into the pieces a post must hold verbatim (units.py: 内卷 whole, 量子纠缠 as 量子 + 纠缠); a post
holds a piece where the text store finds it (like grep), a Latin word where it stands as a word. A question typed as
a query matches posts holding any of its content words, and ranking weighs the share they hold. Synonyms' posts
hold the term too, and with pinyin on, posts whose Han text reads as a Latin term. What the user insisted on
(quotes, +word, fields, groups, -word, dates) must match; of the plain terms, posts holding them all come first and,
when fewer than a page do, posts holding some follow (`Matching.match`).

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
from ..text.pinyin import PINYIN_FIELD_GAP, pinyin_query, pinyin_splits, pinyin_syllables
from . import syntax as querylang, units
from .matches import Matched, TermMatch, WordShare

# A question (a question word or mark, or QUESTION_WORDS content words or more) of QUESTION_MIN_WORDS content
# words or more needs QUESTION_SHARE of them (0: any one). Tuned with bench/relevance.py.
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
        _pinyin_cache: dict[str, dict[int, list[tuple[str, int, int]]]]
        _verbatim_cache: dict[tuple[str, tuple[str, ...]], set[int]]

        @property
        def _all(self) -> frozenset[int]: ...
        def _whoosh(self) -> Any: ...
        def _words(self, folded: str) -> list[str]: ...
        def _word_groups(self, folded: str) -> dict[str, list[str]]: ...
        def _word_docs(self, words: list[str], fields: tuple[str, ...]) -> set[int]: ...
        def _lexicon_tokens(self, folded: str) -> list[segmentation.WordToken]: ...

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

    def _verbatim_docs(self, folded: str, fields: tuple[str, ...], among: set[int] | None = None) -> set[int]:
        """Posts whose folded `fields` hold `folded` as typed, like grep (scanned once per query); with `among`,
        only those of the posts `among` (only they are read)."""
        found = self._verbatim_cache.get((folded, fields))
        if found is not None:
            return found if among is None else found & among
        # A post whose word fields hold the text as one word contains it: the word was cut from the same folded
        # text the store holds. Only the others are scanned.
        known = self._word_docs([folded], fields)
        store_fields = None if fields == SEARCH_FIELDS else fields
        if among is not None:
            return (known & among) | self._store.find(folded, store_fields, known, among)
        found = known | self._store.find(folded, store_fields, known)
        self._verbatim_cache[(folded, fields)] = found
        return found

    def _unit_docs(self, unit: str, fields: tuple[str, ...]) -> set[int]:
        """Posts holding one piece of a term: a Latin word as a word (vs is not in vscode), unless no post has it
        as one; any other text verbatim."""
        if segmentation.is_latin_word(unit):
            docs = self._word_docs([unit], fields)
            if docs:
                return docs
        return self._verbatim_docs(unit, fields)

    def _question_docs(self, folded: str, fields: tuple[str, ...]) -> tuple[set[int], WordShare] | None:
        """For a question typed as a query: the posts holding enough of its content words and the (idf-weighted)
        share each holds; None when `folded` does not read as a question."""
        words = self._words(folded)
        content = content_words(words)
        if not words or len(content) < QUESTION_MIN_WORDS or not is_question(folded, words, content):
            return None
        # A long word counts as present when one of its search-mode sub-words is (人寿保险: 人寿 or 保险).
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
        needed = max(1, min(math.ceil(len(content) * QUESTION_SHARE), max(hits.values(), default=0)))
        matched = {n for n, count in hits.items() if count >= needed}
        share = {n: weights.get(n, total_weight) / total_weight if total_weight else 1.0 for n in matched}
        return matched, share

    def _match_term(self, term: querylang.Term) -> TermMatch:
        """Which posts hold `term`, and how (see TermMatch)."""
        folded = folding.fold(term.text).strip()
        fields = (term.field,) if term.field else SEARCH_FIELDS
        if term.quoted:
            verbatim = self._verbatim_docs(folded, fields)
            return TermMatch(verbatim, verbatim, verbatim, None, ())
        # Synonyms: posts holding another word of the term's group hold the term (and every piece of it).
        also: set[int] = set()
        for synonym in self._synonyms.get(folded, ()):
            also |= self._verbatim_docs(synonym, fields)
        reading = self._term_reading(term)
        pinyin = self._pinyin_docs(reading) if reading else set()
        pieces = units.term_units(folded, self._lexicon_tokens(folded))
        question = self._question_docs(folded, fields) if len(pieces) > 1 else None
        if question is not None:
            docs, share = question
            verbatim = self._verbatim_docs(folded, fields)
            literal = docs | verbatim | also
            return TermMatch(literal | pinyin, verbatim, literal, share, ())
        unit_docs = tuple((unit, self._unit_docs(unit, fields)) for unit in pieces)
        held = set.intersection(*(docs for _, docs in unit_docs))
        # The text as typed is only looked for in the posts holding its every piece: a Han text's posts all hold
        # them, and a Latin piece counts where it stands as a word (a full scan for `pow` reads half the store).
        verbatim = held if pieces == [folded] else self._verbatim_docs(folded, fields, held)
        if len(pieces) == 1:
            literal = held | also
            return TermMatch(literal | pinyin, verbatim, literal, None, ())
        unit_docs = tuple((unit, docs | also | pinyin) for unit, docs in unit_docs)
        held = (held | also | pinyin)
        literal = held - (pinyin - verbatim - also)
        return TermMatch(held, verbatim, literal, None, unit_docs)

    def _evaluate(self, node: querylang.Node, seen: dict[querylang.Term, TermMatch]) -> set[int]:
        """The posts matching `node` strictly: every term of an AND, each term with all its pieces."""
        if isinstance(node, querylang.Term):
            match = seen.get(node)
            if match is None:
                match = seen[node] = self._match_term(node)
            return match.docs
        if isinstance(node, querylang.DateRange):
            return self._date_docs(node.low, node.high)
        if isinstance(node, querylang.Not):
            return set(self._all) - self._evaluate(node.item, seen)
        sets = [self._evaluate(item, seen) for item in node.items]
        if isinstance(node, querylang.And):
            return set.intersection(*sets)
        return set.union(*sets)

    def match(self, node: querylang.Node, allowed: set[int] | None, page_size: int,
              seen: dict[querylang.Term, TermMatch]) -> Matched:
        """The posts matching `node` among `allowed` (None: all), the plain terms and the posts holding each.

        The parts the user insisted on must all match. Of the plain terms, posts holding every one come first;
        when fewer than `page_size` do, posts holding some of them follow (never a post holding none)."""
        required, plain = units.split_query(node)
        # None: every post (not copied: a large index's set of posts costs a query more than its terms).
        base = None if allowed is None else set(allowed)
        for item in required:
            docs = self._evaluate(item, seen)
            base = set(docs) if base is None else base & docs
        readings = [r for t in querylang.positive_terms(node) if (r := self._term_reading(t))]
        items: list[tuple[str, set[int]]] = []
        for term in plain:
            self._evaluate(term, seen)
            items.extend(self._plain_items(term, seen[term], len(plain)))
        if not items:  # only particles (的, 和): they count then
            items = [(term.text, seen[term].docs) for term in plain]
        reading = self._query_reading(plain) if not required else None
        if reading is not None:  # `nei tui` also as the one reading neitui: such posts hold every term
            extra = self._pinyin_docs(reading)
            items = [(label, docs | extra) for label, docs in items]
            readings.append(reading)
        if not items:
            base = set(self._all) if base is None else base
            return Matched(base, items, len(base), readings)
        sets = [docs for _, docs in items]
        complete = set.intersection(*sets) if base is None else base.intersection(*sets)
        if len(items) == 1 or len(complete) >= page_size:
            return Matched(complete, items, len(complete), readings)
        some = set().union(*sets)
        return Matched(some if base is None else some & base, items, len(complete), readings)

    def _plain_items(self, term: querylang.Term, match: TermMatch, terms: int) -> list[tuple[str, set[int]]]:
        """What a post may hold of a plain term, as (label, posts holding it): its pieces, or the term whole.

        Beside other terms, a particle typed alone (和) counts for nothing, and a question counts by its pieces
        (as a keyword run would); a question typed alone is matched by any of its words and ranked by its share."""
        if match.units:
            return list(match.units)
        folded = folding.fold(term.text).strip()
        if terms > 1 and all(w in segmentation.QUESTION_WORDS for w in self._words(folded)):
            return []
        if terms > 1 and match.share is not None:
            pieces = units.term_units(folded, self._lexicon_tokens(folded))
            return [(piece, self._unit_docs(piece, SEARCH_FIELDS) | match.verbatim) for piece in pieces]
        return [(term.text, match.docs)]

    def _term_reading(self, term: querylang.Term) -> str | None:
        """The pinyin reading a term is also matched by: a Latin term of two syllables or more (pinyin indexes)."""
        if not self.pinyin or term.field is not None or term.quoted:
            return None
        # Only a query of Latin letters reads as pinyin: a Chinese query never matches through pinyin. One
        # syllable alone (nei) would bring every post with any of its homophones: only longer readings.
        reading = pinyin_query(term.text)
        return reading if reading and reading not in pinyin_syllables() else None

    def _query_reading(self, plain: list[querylang.Term]) -> str | None:
        """`nei tui` as one reading, when the query is two or more plain Latin terms and the index has pinyin."""
        if not self.pinyin or len(plain) < 2:
            return None
        readings = [pinyin_query(t.text) for t in plain]
        return "".join(r for r in readings if r) if all(readings) else None

    def _pinyin_docs(self, reading: str) -> set[int]:
        """Posts in which some run of Han characters reads `reading` (any way of splitting it into syllables)."""
        return set(self.pinyin_places(reading))

    def pinyin_places(self, reading: str) -> dict[int, list[tuple[str, int, int]]]:
        """Post → where a run of Han characters reads `reading`: (field, start, end) in its folded text.

        Read from the pinyin field's positions (each Han character's offset in its field, the fields
        PINYIN_FIELD_GAP apart), trying each way to split `reading` into syllables."""
        cached = self._pinyin_cache.get(reading)
        if cached is not None:
            return cached
        places: dict[int, list[tuple[str, int, int]]] = {}
        live = self._all
        for split in pinyin_splits(reading, pinyin_syllables()) if live else ():
            starts: dict[int, set[int]] | None = None
            for i, syllable in enumerate(split):
                at = {n: {p - i for p in positions}
                      for n, positions in access.term_positions(self._whoosh(), PINYIN_FIELD, syllable).items()
                      if n in live and (starts is None or n in starts)}
                starts = at if starts is None else {n: starts[n] & at[n] for n in at if starts[n] & at[n]}
                if not starts:
                    break
            for n, found in (starts or {}).items():
                places.setdefault(n, []).extend(
                    (SEARCH_FIELDS[p // PINYIN_FIELD_GAP], p % PINYIN_FIELD_GAP, p % PINYIN_FIELD_GAP + len(split))
                    for p in sorted(found))
        self._pinyin_cache[reading] = places
        return places

    def _pinyin_hint(self, terms: list[querylang.Term]) -> str | None:
        """Say that pinyin is off when a query that found nothing reads as pinyin (xinpian) and the index has none."""
        if self.pinyin or not terms:
            return None
        readings = [pinyin_query(t.text) for t in terms if not t.quoted]
        if len(readings) != len(terms) or not all(readings):
            return None
        if not pinyin_splits("".join(r for r in readings if r), pinyin_syllables()):
            return None
        return "pinyin is off for this index: zhsearch index --pinyin"

    @functools.cached_property
    def _stamps(self) -> dict[int, int]:
        if not self._all:
            return {}
        column = [stamp for segment in self._segments for stamp in segment.stamps()]
        # An undated post reads as the column's default (0 or 2**64-1): only real YYYYMMDDhhmmss values count.
        return {n: column[n] for n in self._all if 0 < column[n] <= 99991231235959}

    def _date_docs(self, low: int, high: int) -> set[int]:
        return {n for n, stamp in self._stamps.items() if low <= stamp <= high}

    def _zero_hit_help(self, node: querylang.Node,
                       allowed: set[int] | None) -> tuple[tuple[tuple[str, int], ...], str | None]:
        """How many posts each term alone matches, and the query without the first term that emptied it."""
        scratch: dict[querylang.Term, TermMatch] = {}
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
