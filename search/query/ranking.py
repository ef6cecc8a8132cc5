"""Ranking: the order of the matched posts.

Posts are ordered first by how many of the query's plain terms they hold, each weighted by its rarity (posts
holding every term first), then by how many terms they hold as text rather than only through pinyin, then as typed
(so a post containing the query as typed ranks above one with its words apart), then by BM25F over the word fields
with field boosts (title above category/tag/author, above body; Whoosh's own formula, read from the posting lists
directly), times the share of a question's words a post has, then by path. Posts matched through pinyin alone are
scored by BM25 of the reading over the pinyin field. A question's best posts are re-scored from their text:
how early its words stand, its word pairs side by side, the share of its bigrams in its best sentence.

`Ranking` is a part of `Index` (index.py), whose posting lists and text store it reads. The constants were tuned
with bench/relevance.py and bench/tune_ranking.py (figures in docs/decisions.md).
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
from collections import defaultdict
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from ..segments.fieldnames import PINYIN_FIELD, SEARCH_FIELDS, word_field
from ..text import folding, segmentation
from . import syntax as querylang
from .matches import Matched, TermMatch
from .matching import content_words, is_question

# A post's BM25F score is multiplied by (the share of a question's content words it has) ** COVERAGE_POWER.
COVERAGE_POWER = 1.0
# BM25F field weights (query-time boosts, so they can be tuned without a rebuild) and parameters.
FIELD_BOOSTS = {"title": 2.0, "category": 2.0, "tag": 2.0, "author": 2.0, "body": 1.0}
BM25_B = 0.75
BM25_K1 = 1.6
# Re-scoring a question's best RERANK_DEPTH posts from their stored text (_rerank_questions): how early its words
# first stand in a post's body (answers tend to say first what they are about), its adjacent word pairs side by
# side in the body, and the largest share of its character bigrams that one sentence of the body holds, each
# bigram weighted by its rarity among the posts re-scored. Keyword searches are not re-scored.
RERANK_DEPTH = 200
EARLY_WEIGHT = 3.0
EARLY_CHARS = 120
PHRASE_WEIGHT = 0.25
SENTENCE_WEIGHT = 2.5
# Ordering equal posts by path reads each one's path from Whoosh's column, up to this many posts; more, and every
# path is read at once (Index._paths).
PATHS_LOOKED_UP = 256


# Where a sentence ends: sentence-final marks as folded (！？； → !?;) or a line break.
# (Patterns compiled on first use, by re's cache: only questions need them, and a Han class takes ms to compile.)
_SENTENCE_END = r"[。!?;\n]"
_BIGRAM_RUN = rf"[{folding.HAN}]+|[a-z0-9]+"


def _char_bigrams(text: str) -> set[str]:
    """The character bigrams of the Han runs of folded `text` (a lone character as itself), Latin tokens whole."""
    grams: set[str] = set()
    for run in re.findall(_BIGRAM_RUN, text):
        if run[0].isascii() or len(run) == 1:
            grams.add(run)
        else:
            grams.update(run[i:i + 2] for i in range(len(run) - 1))
    return grams


def _gram_finders(grams: set[str]) -> list[str | re.Pattern[str]]:
    """How to find each of `grams` in a text as _char_bigrams cuts it: a Han bigram as a substring, a Latin token
    or a lone Han character only where it stands alone (not inside a longer run)."""
    finders: list[str | re.Pattern[str]] = []
    for gram in sorted(grams):
        if len(gram) == 2 and not gram.isascii():
            finders.append(gram)
        else:
            run = "a-z0-9" if gram.isascii() else folding.HAN
            finders.append(re.compile(rf"(?<![{run}]){re.escape(gram)}(?![{run}])"))
    return finders


def _found(text: str, finder: str | re.Pattern[str]) -> bool:
    return finder in text if isinstance(finder, str) else finder.search(text) is not None


def _sentence_share(text: str, finders: list[str | re.Pattern[str]], weights: list[float]) -> float:
    """The largest weighted share of a question's bigrams (`finders`, from _gram_finders, with their `weights`)
    that one sentence of folded `text` holds: for the best sentence, the weights of the bigrams it has over the
    weights of all (with equal weights, `len(grams & _char_bigrams(sentence)) / len(grams)`). Each bigram is
    searched in the whole text (C speed) and its hits counted per sentence: no per-character work in Python."""
    total = sum(weights)
    if not total:
        return 0.0
    ends: list[int] | None = None
    held: dict[int, float] = {}
    for finder, weight in zip(finders, weights):
        if isinstance(finder, str):
            hits = []
            at = text.find(finder)
            while at >= 0:
                hits.append(at)
                at = text.find(finder, at + 1)
        else:
            hits = [m.start() for m in finder.finditer(text)]
        if not hits:
            continue
        if ends is None:
            ends = [m.start() for m in re.finditer(_SENTENCE_END, text)]
        for sentence in {bisect.bisect_left(ends, at) for at in hits}:
            held[sentence] = held.get(sentence, 0.0) + weight
    return max(held.values(), default=0.0) / total


def _saturated(tf: int) -> float:
    return tf * (BM25_K1 + 1) / (tf + BM25_K1)


class Ranking:
    """The ranking half of `Index`."""

    if TYPE_CHECKING:  # provided by Index (index.py)
        _doc_count_all: int
        _store: Any

        @property
        def _paths(self) -> dict[int, str]: ...
        @property
        def _length_of_byte(self) -> list[int]: ...
        def _path(self, docnum: int) -> str: ...
        def _idf(self, name: str, word: str) -> float: ...
        def _total_length(self, name: str) -> int: ...
        def _length_bytes_of(self, name: str) -> bytes: ...
        def _postings_of(self, name: str, word: str) -> dict[int, float]: ...
        def pinyin_places(self, reading: str) -> dict[int, list[tuple[str, int, int]]]: ...
        def _words(self, folded: str) -> list[str]: ...
        @property
        def _all(self) -> frozenset[int]: ...

    def _bm25f(self, words: list[tuple[str, tuple[str, ...]]], docs: set[int]) -> dict[int, float]:
        """BM25F of `docs` for (word, fields) pairs: Whoosh's scoring.BM25F summed over words and fields, each
        field's score times its FIELD_BOOSTS weight."""
        scores: dict[int, float] = {}
        for word, fields in words:
            for field in fields:
                name = word_field(field)
                counts = self._postings_of(name, word)
                if not counts:
                    continue
                for n, score in self._bm25(name, self._idf(name, word), counts, docs, FIELD_BOOSTS[field]).items():
                    scores[n] = scores.get(n, 0.0) + score
        return scores

    def _bm25(self, name: str, idf: float, counts: dict[int, float], docs: set[int],
              boost: float) -> dict[int, float]:
        """Whoosh's BM25 in the Whoosh field `name` of the `docs` among `counts` (post → occurrences of a word
        whose idf is `idf`)."""
        average = self._total_length(name) / (self._doc_count_all or 1) or 1
        # BM25's length normalisation of each length byte (256 of them), not of each post.
        normalised = [BM25_K1 * ((1 - BM25_B) + BM25_B * length / average) for length in self._length_of_byte]
        length_bytes, factor = self._length_bytes_of(name), boost * idf * (BM25_K1 + 1)
        return {n: factor * counts[n] / (counts[n] + normalised[length_bytes[n]]) for n in counts.keys() & docs}

    def _pinyin_scores(self, readings: list[str], docs: set[int]) -> dict[int, float]:
        """BM25 of `docs` over the pinyin field, each reading counted as one word: its occurrences in a post."""
        scores: dict[int, float] = {}
        for reading in dict.fromkeys(readings):
            places = self.pinyin_places(reading)
            counts = {n: float(len(found)) for n, found in places.items()}
            idf = math.log(self._doc_count_all / (len(places) + 1)) + 1  # Whoosh's idf, the reading as one word
            for n, score in self._bm25(PINYIN_FIELD, idf, counts, docs, 1.0).items():
                scores[n] = scores.get(n, 0.0) + score
        return scores

    def rank(self, found: Matched, terms: list[querylang.Term], seen: dict[querylang.Term, TermMatch],
             best: int | None = None) -> list[tuple[int, float]]:
        """(post, score) of the matched posts, best first: all of them, or only the `best` first."""
        matched = found.docs
        if not matched:
            return []
        scoring: list[tuple[str, tuple[str, ...]]] = []
        for term in terms:
            # Quoted terms too: among posts that all contain the text, BM25F over its words orders them.
            folded = folding.fold(term.text).strip()
            words = [w for w in self._words(folded) if w not in segmentation.QUESTION_WORDS]
            if words:
                fields = (term.field,) if term.field else SEARCH_FIELDS
                scoring.extend((w, fields) for w in words)
        scores = self._bm25f(scoring, matched)
        for term in terms:
            share = seen[term].share if term in seen else None
            for n, part in (share or {}).items():
                if n in scores:
                    scores[n] *= part ** COVERAGE_POWER
        if RERANK_DEPTH and scores:
            self._rerank_questions(terms, seen, scores)
        if found.readings:
            literal = set().union(*(seen[t].literal for t in terms if t in seen))
            scores.update(self._pinyin_scores(found.readings, matched - literal))
        tiers = self._tiers(found, terms, seen)
        # One number that orders like the ranking: the tier counts above any score difference.
        ceiling = max(scores.values(), default=0.0) + 1.0
        score_of: defaultdict[int, float] = defaultdict(float, scores)  # a post without a score: 0
        ranked: list[tuple[int, float]] = []
        for tier, members in tiers:
            wanted = None if best is None else best - len(ranked)
            ranked.extend((n, tier * ceiling + score_of[n]) for n in self._best_of(members, score_of, wanted))
            if best is not None and len(ranked) >= best:
                break
        return ranked

    def _tiers(self, found: Matched, terms: list[querylang.Term],
               seen: dict[querylang.Term, TermMatch]) -> list[tuple[int, set[int]]]:
        """The matched posts in tiers, best first, each with its number (higher: better): posts holding the same
        rarity-weighted plain terms, as many terms as text and as many as typed, rank together.

        Made by splitting the posts with each term's sets (set operations, in C), not post by post."""
        splits: list[tuple[set[int], int, float]] = []  # (posts, which part of the tier's key, weight)
        if len(found.items) > 1:
            splits.extend((docs, 0, math.log(1 + len(self._all) / (1 + len(docs)))) for _, docs in found.items)
        for term in terms:
            if term in seen:
                splits.extend(((seen[term].literal, 1, 1.0), (seen[term].verbatim, 2, 1.0)))
        groups: list[tuple[tuple[float, ...], set[int]]] = [((0.0, 0.0, 0.0), found.docs)]
        for docs, part, weight in splits:
            parted: list[tuple[tuple[float, ...], set[int]]] = []
            for key, members in groups:
                inside = members & docs
                if inside:
                    parted.append((key[:part] + (key[part] + weight,) + key[part + 1:], inside))
                if len(inside) < len(members):
                    parted.append((key, members - inside))
            groups = parted
        merged: dict[tuple[float, ...], set[int]] = {}
        for key, members in groups:
            merged.setdefault(key, set()).update(members)
        keys = sorted(merged)
        return [(tier, merged[key]) for tier, key in reversed(list(enumerate(keys)))]

    def _best_of(self, members: set[int], score_of: defaultdict[int, float], wanted: int | None) -> list[int]:
        """The `wanted` best of one tier's posts by score (all of them if None), equal scores by path.

        Paths are looked up only for the posts that need them: those taken, and those tied with the last one
        taken when some of them are left out (a map of every path costs a large index's query)."""
        pool: Collection[int] = members
        if wanted is not None and wanted < len(members):
            first = heapq.nlargest(wanted + 1, members, key=score_of.__getitem__)
            boundary = score_of[first[-1]]
            if score_of[first[-2]] == boundary:
                pool = [n for n in first if score_of[n] != boundary] + [n for n in members if score_of[n] == boundary]
            else:
                pool = first[:wanted]
        path = self._paths.__getitem__ if len(pool) > PATHS_LOOKED_UP else self._path
        return sorted(pool, key=lambda n: (-score_of[n], path(n)))[:wanted]

    def _rerank_questions(self, terms: list[querylang.Term], seen: dict[querylang.Term, TermMatch],
                          scores: dict[int, float]) -> None:
        """Re-score the best RERANK_DEPTH posts of each question from their stored body text.

        A post gains, with `top` the best first-pass score: top * EARLY_WEIGHT * (the mean over the question's
        content words, weighted by idf, of exp(-(offset of its first occurrence in the body) / EARLY_CHARS), 0 for
        a word the body lacks); plus its coverage of the question times PHRASE_WEIGHT * the sum over pairs of
        adjacent content words found side by side in its body of (the pair's idfs summed) * sat(tf); plus
        top * SENTENCE_WEIGHT * the largest share of the question's character bigrams held by one sentence of its
        body, each bigram weighted by log(1 + posts re-scored / (1 + those of them containing it)). sat(tf) =
        tf * (K1 + 1) / (tf + K1) and idf is Whoosh's over the body. Words are counted as substrings of the folded
        text (no segmenting of each post at query time).
        """
        body = word_field("body")
        for term in terms:
            coverage = seen[term].share if term in seen else None
            if not coverage or term.quoted or term.field not in (None, "body"):
                continue
            folded = folding.fold(term.text).strip()
            words = self._words(folded)
            content = content_words(words)
            if not is_question(folded, words, content):
                continue
            weights = {w: self._idf(body, w) for w in content}
            total = sum(weights.values()) or 1.0
            pairs = {a + b: weights[a] + weights[b] for a, b in zip(words, words[1:])
                     if a in weights and b in weights and a != b}
            finders = _gram_finders(_char_bigrams(folded))
            candidates = heapq.nlargest(RERANK_DEPTH, scores, key=scores.__getitem__)
            top = scores[candidates[0]] if candidates else 0.0
            texts = [self._store.fields_of(n).get("body", "") for n in candidates]
            # A bigram weighs by its rarity among the posts being re-scored (every one of them may hold 保险).
            held = [sum(1 for text in texts if _found(text, finder)) for finder in finders] if SENTENCE_WEIGHT else []
            gram_weights = [math.log(1 + len(texts) / (1 + k)) for k in held]
            for n, text in zip(candidates, texts):
                early = 0.0
                for w, weight in weights.items():
                    at = text.find(w)
                    if at >= 0:
                        early += weight * math.exp(-at / EARLY_CHARS)
                phrase = sum(weight * _saturated(text.count(p)) for p, weight in pairs.items())
                share = _sentence_share(text, finders, gram_weights) if SENTENCE_WEIGHT else 0.0
                scores[n] += (coverage.get(n, 1.0) ** COVERAGE_POWER * PHRASE_WEIGHT * phrase
                              + top * (EARLY_WEIGHT * early / total + SENTENCE_WEIGHT * share))
