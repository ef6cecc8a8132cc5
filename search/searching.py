"""Answering queries: `open_index`, `Index.search`, and the typed `Results` and `Hit`.

How a query is answered:
- matching: every term of the query tree (query.py) becomes a set of documents: the posts that contain the term
  verbatim (verbatim.py, like grep) plus, unless it is quoted, the posts that contain all of its jieba words
  (Whoosh). AND, OR and NOT combine the sets; date ranges read the `stamp` column.
- ranking: posts are ordered first by how many of the query's terms they contain verbatim (so a post containing
  the query as typed ranks above one with its words scattered), then by Whoosh's BM25F over the word fields
  with field boosts (title above category/tag/author, above body), then by path. A question's best posts are
  re-scored from their text: how early its words stand, its word pairs side by side, the share of its
  bigrams in its best sentence.
- snippets (snippets.py) are cut from the stored text for the page of hits only.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import math
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any, Collection, Iterator, NamedTuple

from . import analysis, generations, query as querylang, segments, snippets
from .errors import IndexCorrupt, SearchError
from .fieldnames import PINYIN_FIELD, SEARCH_FIELDS, word_field
from .generations import WHOOSH_INDEX_NAME, check_compatible
from .lexicon import Lexicon, offer_emissions
from .verbatim import TextStore

# The field of a query term standing for a pinyin reading of several Latin terms (never typed by users).
PINYIN_TERM = "pinyin"
# Several words typed as one term. A keyword run of SOFT_MATCH_WORDS content words or more needs all of them when
# some post has them all, else SOFT_MATCH_SHARE of them (at least 2); a shorter one needs all. A question (a
# question word or mark, or QUESTION_WORDS content words or more) of QUESTION_MIN_WORDS content words or more
# needs QUESTION_SHARE of them (0: any one). Either way a post's BM25F score is multiplied by (the share of the
# term's content words it has) ** COVERAGE_POWER. Measured with bench/relevance.py (nDCG@10, 600-query samples
# of DRCD dev / cmrc2018 dev), from the first version (questions needed all their words when some post had them
# all, else half): 0.8902 / 0.9460. Any one word, no coverage factor: 0.8721 / 0.9455; with coverage ** 1:
# 0.9182 / 0.9545 (** 2: 0.9148 / 0.9521); and questions of two content words soft too: 0.9217 / 0.9715 (with
# ** 0.5: 0.9148 / 0.9722); and punctuation inside a question kept as text (query.py): 0.9350 / 0.9836.
# 300-query samples of DRCD / cmrc2018 / InsuranceQA valid with the final matching rules: words counted alike
# 0.9341 / 0.9811 / 0.2075; weighted by idf 0.9485 / 0.9834 / 0.2084 (chosen; ** 2: 0.9486 / 0.9820 / 0.2047).
SOFT_MATCH_WORDS = 3
SOFT_MATCH_SHARE = 0.5
QUESTION_WORDS = 5
QUESTION_MIN_WORDS = 2
QUESTION_SHARE = 0.0
COVERAGE_POWER = 1.0
# Whether the share of a term's content words a post has weighs each word by its rarity (idf), not counts them.
COVERAGE_IDF = True
# Whether a long word's search-mode sub-words (人寿保险: 人寿, 保险) score too, beside the word itself. On the
# 300-query samples: 0.9403 / 0.9798 / 0.2059 against 0.9341 / 0.9811 / 0.2075 without: left off.
SCORE_SUBWORDS = False
# BM25F field weights (query-time boosts, so they can be tuned without a rebuild) and parameters. Measured with
# bench/relevance.py (nDCG@10, 600-query samples of DRCD dev and cmrc2018 dev):
#   title 3 (others 2), K1 1.2: DRCD 0.9350, cmrc2018 0.9836;  title 1: 0.9409, 0.9833 (DRCD's titles are shared
#   by every paragraph of an article);  title 2, K1 1.6: 0.9378, 0.9854 (chosen: a post's title still counts
#   double);  K1 2.0: 0.9359, 0.9855;  B 0.6: 0.9365, 0.9842;  B 0.9: 0.9334, 0.9857.
FIELD_BOOSTS = {"title": 2.0, "category": 2.0, "tag": 2.0, "author": 2.0, "body": 1.0}
BM25_B = 0.75
BM25_K1 = 1.6
# Re-scoring a question's best RERANK_DEPTH posts from their stored text (_rerank_questions): how early its words
# first stand in a post's body (answers and posts about a question tend to say first what they are about), its
# adjacent word pairs side by side in the body, and the largest share of its character bigrams that one sentence
# of the body holds, each bigram weighted by its rarity among the posts re-scored (which also catches words jieba
# cut differently, and the question's own phrasing: 是什么, 多少). Keyword searches are not re-scored.
# History, nDCG@10 on 300-query samples of DRCD dev / cmrc2018 dev / InsuranceQA valid (bench/tune_ranking.py), from
# 0.9485 / 0.9834 / 0.2084 without re-scoring: words in the lead (first sentence) 0.5, pairs 0.5, bigrams in the
# lead 0.3 over the best 100: 0.9569 / 0.9850 / 0.2242; first offsets (idf-weighted sum, 1.5, 60 characters)
# instead of lead words, over the best 200: 0.9556 / 0.9848 / 0.2376 (full runs: DRCD 0.9545, cmrc2018 0.9912,
# InsuranceQA valid 0.2417).
# The present form was chosen on an offline numpy replica of the ranking: each question's best 400 first-pass posts
# and their features dumped once, weightings tried in memory (all 2000 InsuranceQA valid questions, 600-query
# samples of DRCD dev and cmrc2018 dev; the replica reads 0.2403 / 0.9581 / 0.9915 for the form above). With the
# offsets and the sentence share scaled by the best first-pass score and the offsets normalised by the question's
# total idf (so they weigh alike for every question, however many words it has), the first-pass score counts much
# less than before beside them. Replica, InsuranceQA valid / DRCD / cmrc2018: offsets 2.5 over 120 characters +
# unweighted sentence share 2.0 + pairs 0.5: 0.2499 / 0.9652 / 0.9921 (engine, all valid: 0.2506); offsets over
# 60 characters: at most 0.2490; the lead's bigram share 0.3 beside them: +0.0000; the sentence's bigrams weighted
# by log(1 + n / (1 + posts of the n re-scored holding them)) instead, offsets 3.0, share 2.5, pairs 0.25 (chosen):
# 0.2532 / 0.9655 / 0.9927 (with the unweighted share 0.5 too: +0.0006; squared weights 0.2493, BM25-style idf
# 0.2485, clauses (cut at commas too) 0.2521, 80-character windows 0.2513, the whole body 0.2483). Tried without
# gain beside these (each at most +0.002 on valid, or lost on DRCD/cmrc2018): the best 30/60/120-character
# window's idf share of the words, the best sentence's idf share, the shortest span holding every word found, the
# share of words found anywhere, partial credit for a missing word's search-mode sub-words (+0.0016, but DRCD
# -0.03) or its bigrams, words within a few characters rather than side by side, a length prior (log length,
# either sign), bigram shares weighted by corpus idf, answer-type cues (a number for 多少, 因为 for 为什么). All 37
# features fitted together on valid reach 0.2569 (test 0.2561): the lexical evidence in the best posts tops out
# near 0.25-0.26. Held out (InsuranceQA test, 2000 queries), replica: first pass 0.2046, previous form 0.2473,
# chosen 0.2594; engine (every query through Index.search, tuning indexes): valid 0.2541, test 0.2606 (0.2491
# before), DRCD dev 0.9610 (traditional queries) / 0.9609 (simplified), cmrc2018 dev 0.9924; CPU per InsuranceQA
# question 268 ms (valid, loaded machine) against 256 ms with the unweighted share; on test 284 / 242 ms against 279 /
# 274 ms before in two back-to-back pairs of runs (within the noise of a loaded machine).
# Tried on the replica earlier without gain (InsuranceQA valid, 2000 queries, from plain BM25 0.19-0.20): RM3-style
# feedback from the best 3-10 posts (+0.002 on the sample), character-bigram BM25 mixed in (0.1961 → 0.1977),
# other idf forms and K1/B (at most 0.2035), word pairs within 4-8 words rather than side by side (0.2131-0.2153
# against 0.2199).
RERANK_DEPTH = 200
EARLY_WEIGHT = 3.0
EARLY_CHARS = 120
PHRASE_WEIGHT = 0.25
SENTENCE_WEIGHT = 2.5
# Ordering equal posts by path reads each one's path from Whoosh's column, up to this many posts; more, and every
# path is read at once (Index._paths).
PATHS_LOOKED_UP = 256


def _length_of_byte(decoding: list[int] | None) -> list[int]:
    """Field length by Whoosh's length byte, as its doc_field_length gives it; 1 for none (BM25 needs a length).

    `decoding` is Whoosh's table as the index stores it (generations.LENGTH_DECODING); an index from before it
    was stored takes it from Whoosh."""
    if decoding is None:
        from whoosh.util.numeric import byte_to_length

        decoding = [byte_to_length(b) for b in range(256)]
    return [1] + [length or 1 for length in decoding[1:256]]


# The result types are named tuples and a plain class, not dataclasses: making a dataclass costs about 0.7 ms and
# importing the dataclasses module 7 ms (it brings inspect), which every cold `zhsearch search` would pay.
class Hit(NamedTuple):
    """One matching post."""

    path: str
    title: str
    author: str | None
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    date: str | None            # ISO 8601 as written in the post
    url: str | None
    score: float
    snippet: str
    highlights: tuple[tuple[int, int], ...]  # spans of `snippet` that matched

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "title": self.title, "author": self.author, "categories": list(self.categories),
                "tags": list(self.tags), "date": self.date, "url": self.url, "score": round(self.score, 4),
                "snippet": self.snippet, "highlights": [list(h) for h in self.highlights]}


class Facets(NamedTuple):
    """Counts over the whole result set (not just the page), most frequent first."""

    categories: dict[str, int]
    authors: dict[str, int]
    years: dict[str, int]

    def to_dict(self) -> dict[str, dict[str, int]]:
        return {"categories": dict(self.categories), "authors": dict(self.authors), "years": dict(self.years)}


class Results:
    """A page of hits, in the order asked for, and how many posts matched in all; iterating gives the hits.

    When nothing matched, `term_counts` says how many posts each term alone matches and `suggestion` is the
    query without the term that emptied it (None when there is no such query).
    """

    __slots__ = ("query", "total", "hits", "page", "facets", "term_counts", "suggestion")

    def __init__(self, query: str, total: int, hits: tuple[Hit, ...], page: int = 1, facets: Facets | None = None,
                 term_counts: tuple[tuple[str, int], ...] = (), suggestion: str | None = None) -> None:
        self.query = query
        self.total = total
        self.hits = hits
        self.page = page
        self.facets = facets
        self.term_counts = term_counts
        self.suggestion = suggestion

    def __repr__(self) -> str:
        return (f"Results(query={self.query!r}, total={self.total}, page={self.page}, hits={list(self.hits)!r}, "
                f"facets={self.facets!r}, term_counts={self.term_counts!r}, suggestion={self.suggestion!r})")

    def __eq__(self, other: object) -> bool:
        if type(other) is not Results:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, i: int) -> Hit:
        return self.hits[i]

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"query": self.query, "total": self.total, "page": self.page,
                               "hits": [h.to_dict() for h in self.hits]}
        if self.facets is not None:
            doc["facets"] = self.facets.to_dict()
        if not self.total and self.term_counts:
            doc["term_counts"] = dict(self.term_counts)
            doc["suggestion"] = self.suggestion
        return doc


class Document(NamedTuple):
    """A post as indexed: its metadata and clean text."""

    path: str
    title: str
    author: str | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    date: str | None
    url: str | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "title": self.title, "author": self.author, "categories": list(self.categories),
                "tags": list(self.tags), "date": self.date, "url": self.url, "text": self.text}


class IndexStats(NamedTuple):
    """What an index holds."""

    posts: int
    categories: dict[str, int]
    authors: dict[str, int]
    years: dict[str, int]
    first_date: str | None
    last_date: str | None
    size_bytes: int
    built: str
    updated: str
    corpus: str
    settings: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"posts": self.posts, "categories": self.categories, "authors": self.authors, "years": self.years,
                "first_date": self.first_date, "last_date": self.last_date, "size_bytes": self.size_bytes,
                "built": self.built, "updated": self.updated, "corpus": self.corpus, "settings": self.settings}


SORTS = ("relevance", "newest", "oldest")


def _distinct(names: Any) -> list[str]:
    """A post's names, each folded form once (a post counts once per category however it spells it)."""
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(analysis.fold(name).strip(), name)
    return list(seen.values())


def _counts(values: Any) -> dict[str, int]:
    """Counts of names, those that fold alike (臺灣, 台湾) counted as one, as the filters match them, under
    their smallest spelling (so the name shown doesn't depend on the order posts are read in)."""
    counts: dict[str, int] = {}
    spellings: dict[str, str] = {}
    for value in values:
        key = analysis.fold(value).strip()
        counts[key] = counts.get(key, 0) + 1
        spellings[key] = min(spellings.get(key, value), value)
    return dict(sorted(((spellings[k], n) for k, n in counts.items()), key=lambda item: (-item[1], item[0])))


# The share of a run of words each matching doc has (None for a term matched whole).
Coverage = dict[int, float] | None
# For one query term: (docs matching it verbatim, docs matching it literally, its coverage).
Seen = tuple[set[int], set[int], Coverage]


def _content_words(words: list[str]) -> list[str]:
    """The words of a run that carry its topic: without question words and particles (all, if that is all)."""
    return [w for w in dict.fromkeys(words) if w not in analysis.QUESTION_WORDS] or words


def _is_question(folded: str, words: list[str], content: list[str]) -> bool:
    """Whether a run of words reads as a question: a question word or mark, or many content words."""
    return (len(content) >= QUESTION_WORDS or folded.endswith("?")
            or not analysis.INTERROGATIVES.isdisjoint(words))


# Where a sentence ends: sentence-final marks as folded (！？； → !?;) or a line break.
# (Patterns compiled on first use, by re's cache: only questions need them, and a Han class takes ms to compile.)
_SENTENCE_END = r"[。!?;\n]"
_BIGRAM_RUN = rf"[{analysis._HAN}]+|[a-z0-9]+"


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
            run = "a-z0-9" if gram.isascii() else analysis._HAN
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


def _shown_fields(stored: dict[str, Any]) -> dict[str, Any]:
    """What a hit and a shown post both say about a post, from its stored fields."""
    meta = stored.get("meta", {})
    return {"path": stored["path"], "title": meta.get("title", ""),
            "author": ", ".join(meta.get("authors", ())) or None, "categories": tuple(meta.get("categories", ())),
            "tags": tuple(meta.get("tags", ())), "date": meta.get("date"), "url": meta.get("url")}


def open_index(index_dir: Path | str) -> "Index":
    """Open the live generation of the index at `index_dir`."""
    return Index(Path(index_dir))


class Index:
    """A read-only view of one generation of an index; it keeps answering from it while a writer makes the next."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._segmented: dict[str, list[str]] = {}
        self._postings_cache: dict[tuple[str, str], dict[int, float]] = {}
        self._length_columns: dict[str, bytes] = {}
        # The pin keeps writers from removing this generation while it is open: the text store, the posts'
        # metadata and Whoosh's files are read lazily, long after later commits may have replaced it.
        self.generation, self._pin = generations.open_generation(index_dir)
        try:
            self.meta = generations.read_json(self.generation / generations.META)
            check_compatible(self.meta)
            generations.check_files(self.generation, self.meta)
            generations.adopt_fold_table(self.generation)
            # Read once: the posts' table (read later, for filters and facets) takes its changes from here too.
            self._changes = generations.read_changes(self.generation)
            self._lexicon = Lexicon(self.generation / generations.LEXICON)
            offer_emissions(self.generation / generations.EMISSIONS)
            self._whoosh_reader: Any = None
            try:
                # Read without importing Whoosh (segments.py); what only Whoosh reads, through Whoosh's reader.
                try:
                    self._segments: list[Any] = segments.read_segments(self.generation, WHOOSH_INDEX_NAME)
                except segments.Unsupported:
                    self._segments = segments.whoosh_segments(self._whoosh())
            except Exception as e:  # damaged files raise many kinds, from struct, pickle, zlib or Whoosh
                self._lexicon.close()
                raise IndexCorrupt(f"the index at {index_dir} is damaged ({type(e).__name__}: {e}); "
                                   "rebuild it with `zhsearch index --rebuild`") from e
            try:
                # The text store keyed by document number: matching, ranking and snippets need no path.
                self._store = TextStore.from_columns(self.generation, self._document_ranges(), {})
            except (IndexError, TypeError, ValueError) as e:
                self.close()
                raise IndexCorrupt(f"the text ranges of {self.generation} are damaged ({type(e).__name__}: {e}); "
                                   "rebuild the index with `zhsearch index --rebuild`") from None
            except BaseException:
                self.close()
                raise
            self._segment_bases = [segment.base for segment in self._segments]
            self._doc_count_all = sum(segment.doc_count for segment in self._segments)
            self._field_lengths: dict[str, int] = {}
        except BaseException:
            self._unpin()
            raise

    def _document_ranges(self) -> generations.RangeColumns:
        """The live posts' text ranges by document number: as written at commit, or (indexes before format 5)
        worked out from the paths Whoosh stores."""
        found = generations.read_documents(self.generation, self._segments)
        if found is not None:
            return found
        columns, changes = generations.read_ranges(self.generation, self._changes)
        return generations.document_ranges(self._segments, columns, changes)

    def _unpin(self) -> None:
        # Forgotten before it is closed: closing the number twice would close whatever file reused it.
        pin, self._pin = getattr(self, "_pin", -1), -1
        if pin >= 0:
            os.close(pin)

    def _whoosh(self) -> Any:
        """Whoosh's reader of the index, opened on first use: pinyin phrases, and segments segments.py can't read.

        A reader, not a searcher: importing whoosh.searching (with whoosh.query) takes 50 ms."""
        if self._whoosh_reader is None:
            from whoosh import index as whoosh_index

            whoosh = whoosh_index.open_dir(str(self.generation), indexname=WHOOSH_INDEX_NAME, readonly=True)
            self._whoosh_reader = whoosh.reader()
        return self._whoosh_reader

    def close(self) -> None:
        if self._pin < 0:
            return
        for segment in self._segments:
            segment.close()
        if self._whoosh_reader is not None:
            self._whoosh_reader.close()
        store = getattr(self, "_store", None)  # (not made yet when opening failed)
        if store is not None:
            store.close()
        self._lexicon.close()
        self._unpin()

    def __del__(self) -> None:
        # An Index dropped without close() must not pin its generation (and hold a descriptor) for the life of
        # the process; Whoosh's searcher and the lexicon's mmap are released by their own finalizers.
        self._unpin()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- document numbers -------------------------------------------------------------------------------------

    @functools.cached_property
    def _docnums(self) -> dict[str, int]:
        """Path → Whoosh document number of every live post."""
        return segments.live_documents(self._segments)

    @functools.cached_property
    def _paths(self) -> dict[int, str]:
        """Whoosh document number → path of every live post."""
        return dict(zip(self._docnums.values(), self._docnums.keys()))

    @functools.cached_property
    def _all(self) -> frozenset[int]:
        """The document number of every live post."""
        live: list[int] = []
        for segment in self._segments:
            numbers = range(segment.base, segment.base + segment.doc_count)
            deleted = {segment.base + n for n in segment.deleted}
            live.extend(itertools.filterfalse(deleted.__contains__, numbers) if deleted else numbers)
        return frozenset(live)

    def __len__(self) -> int:
        return len(self._all)

    # -- matching ---------------------------------------------------------------------------------------------

    def _words(self, folded: str) -> list[str]:
        # Matching, ranking and snippets each ask for a term's words: segment it once per index.
        words = self._segmented.get(folded)
        if words is None:
            if len(self._segmented) > 4096:
                self._segmented.clear()
            words = self._segmented[folded] = analysis.main_words(folded, self._lexicon.tokenizer_for(folded))
        return words

    def _word_groups(self, folded: str) -> dict[str, list[str]]:
        """Each word of `folded` → itself and its search-mode sub-words."""
        groups: dict[int, list[str]] = {}
        for token in analysis.word_tokens(folded, self._lexicon.tokenizer_for(folded)):
            groups.setdefault(token.pos, []).append(token.text)
        return {words[0]: words for words in groups.values()}

    # -- postings and scoring -----------------------------------------------------------------------------------
    # Whoosh's query objects answer the same questions, but build a tree of union matchers (five fields per word)
    # for each query, which was about half of a warm query's time on the blog posts. Reading each posting list once
    # into a dict serves both matching and scoring; the score is Whoosh's own BM25F formula, checked equal to
    # Whoosh's in tests.

    def _postings(self, field: str, word: str) -> dict[int, float]:
        """Document number → occurrences of `word` in the word field of `field`, in live posts."""
        key = (field, word)
        found = self._postings_cache.get(key)
        if found is not None:
            return found
        found = {}
        name = word_field(field)
        for segment in self._segments:
            postings = segment.postings(name, word)
            if postings is None:
                continue
            ids, weights = postings
            base, deleted = segment.base, segment.deleted
            if deleted:  # a segment an update deleted posts from
                found.update((docnum + base, weight) for docnum, weight in zip(ids, weights) if docnum not in deleted)
            else:
                found.update(zip([docnum + base for docnum in ids], weights))
        self._postings_cache[key] = found
        return found

    def _word_docs(self, words: list[str], fields: tuple[str, ...]) -> set[int]:
        """Posts having any of `words` in any of `fields`."""
        docs: set[int] = set()
        for word in dict.fromkeys(words):
            for field in fields:
                docs.update(self._postings(field, word))
        return docs

    @functools.cached_property
    def _length_of_byte(self) -> list[int]:
        """A post's length in words of a field, as Whoosh stores it for scoring (one byte: long fields are
        approximate), by that byte: `_length_of_byte[_length_bytes(field)[docnum]]`."""
        return _length_of_byte(self.meta.get(generations.LENGTH_DECODING))

    def _length_bytes(self, field: str) -> bytes:
        """Every post's length byte in `field`, by document number (0: none stored).

        Read whole, one read per segment: asking Whoosh for each post's length took 28 ms of a 20k-post query
        that scored 2,800 posts."""
        found = self._length_columns.get(field)
        if found is not None:
            return found
        parts = [segment.length_bytes(word_field(field)) for segment in self._segments]
        found = self._length_columns[field] = b"".join(parts)
        return found

    def _idf(self, name: str, word: str) -> float:
        """Whoosh's idf of `word` in the Whoosh field `name` (as its BM25F uses it)."""
        frequency = sum(segment.doc_frequency(name, word) for segment in self._segments)
        return math.log(self._doc_count_all / (frequency + 1)) + 1

    def _total_length(self, name: str) -> int:
        """The Whoosh field's length summed over every post (deleted ones too, as Whoosh's BM25F reads it)."""
        total = self._field_lengths.get(name)
        if total is None:
            total = self._field_lengths[name] = sum(segment.field_length(name) for segment in self._segments)
        return total

    def _bm25f(self, words: list[tuple[str, tuple[str, ...]]], docs: set[int]) -> dict[int, float]:
        """BM25F of `docs` for (word, fields) pairs: Whoosh's scoring.BM25F summed over words and fields, each
        field's score times its FIELD_BOOSTS weight."""
        scores: dict[int, float] = {}
        for word, fields in words:
            for field in fields:
                postings = self._postings(field, word)
                if not postings:
                    continue
                name = word_field(field)
                idf = self._idf(name, word)
                average = self._total_length(name) / (self._doc_count_all or 1) or 1
                boost = FIELD_BOOSTS[field]
                # Looked up in place: two method calls a post were a third of this loop at 20k posts.
                length_bytes, length_of_byte = self._length_bytes(field), self._length_of_byte
                for n in postings.keys() & docs:
                    tf = postings[n]
                    norm = (1 - BM25_B) + BM25_B * length_of_byte[length_bytes[n]] / average
                    scores[n] = scores.get(n, 0.0) + boost * idf * (tf * (BM25_K1 + 1)) / (tf + BM25_K1 * norm)
        return scores

    def _literal_docs(self, folded: str, field: str | None, quoted: bool) -> tuple[set[int], set[int], Coverage]:
        """(docs containing the text verbatim or, unless quoted, its words; the verbatim ones; for a run of
        several words matched softly, the share of its content words each matching doc has, else None)."""
        fields = (field,) if field else SEARCH_FIELDS
        # A post whose word fields hold the text as one word contains it: the word was cut from the same folded text
        # the store holds. Only the others are scanned ("数据库" at 20k posts: 6k candidate posts → the few
        # hundred without the word).
        known = self._word_docs([folded], fields)
        verbatim = known | self._store.find(folded, None if field is None else fields, known)
        if quoted:
            return verbatim, verbatim, None
        words = self._words(folded)
        matched = set(verbatim)
        if not words or not self._all:
            return matched, verbatim, None
        content = _content_words(words)
        question = _is_question(folded, words, content)
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
        path = self.generation / generations.SYNONYMS
        groups = generations.read_json(path) if path.exists() else []
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
        from whoosh import query as wq

        splits = analysis.pinyin_splits(reading, analysis.pinyin_syllables())
        if not self._all or not splits:
            return set()
        phrases = [wq.Phrase(PINYIN_FIELD, split) if len(split) > 1 else wq.Term(PINYIN_FIELD, split[0])
                   for split in splits]
        from whoosh.searching import Searcher

        with Searcher(self._whoosh(), closereader=False) as searcher:
            return set(searcher.docs_for_query(wq.Or(phrases)))

    def _term_docs(self, term: querylang.Term) -> tuple[set[int], set[int], set[int], Coverage]:
        """(all matching docs, docs matching verbatim, docs matching literally rather than through pinyin, the
        share of a question's words each doc has)."""
        folded = analysis.fold(term.text).strip()
        if term.field == PINYIN_TERM:
            return self._pinyin_docs(folded), set(), set(), None
        matched, verbatim, coverage = self._literal_docs(folded, term.field, term.quoted)
        if term.quoted:
            return matched, verbatim, matched, None
        for synonym in self._synonyms.get(folded, ()):
            matched |= self._literal_docs(synonym, term.field, False)[0]
        literal = set(matched)
        # Only a query of Latin letters reads as pinyin: a Chinese query never matches through pinyin.
        reading = analysis.pinyin_query(term.text) if self.pinyin and term.field is None else None
        # One syllable alone (nei) would bring every post with any of its homophones: only longer readings.
        if reading and reading not in analysis.pinyin_syllables():
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
        readings = [analysis.pinyin_query(t.text) for t in terms]
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

    @functools.cached_property
    def _posts(self) -> dict[str, dict[str, Any]]:
        """Path → metadata of every live post (read only when filters, facets, stats or show need it)."""
        return generations.read_table(self.generation, generations.POSTS, self._changes)

    def _filter(self, categories: tuple[str, ...], authors: tuple[str, ...], tags: tuple[str, ...],
                since: str | None, until: str | None) -> set[int] | None:
        """Posts passing the filters (None: no filter). Names match as folded (case, width, 繁/简)."""
        allowed: set[int] | None = None
        for key, wanted in (("categories", categories), ("authors", authors), ("tags", tags)):
            names = {analysis.fold(n).strip() for n in wanted if n.strip()}
            if names:
                passing = {self._docnums[path] for path, meta in self._posts.items() if path in self._docnums
                           and names & {analysis.fold(v).strip() for v in meta.get(key, ())}}
                allowed = passing if allowed is None else allowed & passing
        if since or until:
            low = querylang.date_bounds(since)[0] if since else 0
            high = querylang.date_bounds(until)[1] if until else 99991231235959
            passing = self._date_docs(low, high)
            allowed = passing if allowed is None else allowed & passing
        return allowed

    def search(self, query: str, limit: int | None = 10, *, page: int = 1, categories: tuple[str, ...] = (),
               authors: tuple[str, ...] = (), tags: tuple[str, ...] = (), since: str | None = None,
               until: str | None = None, sort: str = "relevance", facets: bool = False) -> Results:
        """Posts matching `query`, best first (or by date with `sort`).

        `limit` is the page size (None or 0: every match), `page` counts from 1. `categories`, `authors` and `tags`
        keep posts having any of the names given for each; `since`/`until` (YYYY, YYYY-MM or YYYY-MM-DD, both
        inclusive) keep dated posts in that range. `facets=True` counts categories, authors and years over all
        matches.
        """
        if limit is not None and limit < 0:
            raise ValueError("limit must be a positive number, 0 or None")
        if page < 1:
            raise ValueError("page counts from 1")
        if sort not in SORTS:
            raise ValueError(f"unknown sort {sort!r}: choose one of {', '.join(SORTS)}")
        node = self._with_pinyin_reading(querylang.parse(query))
        terms = [t for t in querylang.positive_terms(node) if t.field != PINYIN_TERM]
        verbatim_of: dict[querylang.Term, Seen] = {}
        # Posting lists are read once per query, for matching and scoring both; not kept across queries, whose
        # cost must not depend on what was asked before.
        self._postings_cache.clear()
        try:
            allowed = self._filter(tuple(categories), tuple(authors), tuple(tags), since, until)
            matched = self._evaluate(node, verbatim_of)
            if allowed is not None:
                matched &= allowed
            size = limit or len(matched) or 1
            ranked = self._rank(matched, terms, verbatim_of, page * size if sort == "relevance" else None)
            if sort != "relevance":
                ranked = self._by_date(ranked, newest=sort == "newest")
            page_hits = ranked[(page - 1) * size: page * size]
            hits = tuple(self._hit(docnum, score, terms) for docnum, score in page_hits)
            counted = self._facets(matched) if facets else None
            help_counts, suggestion = ((), None) if matched else self._zero_hit_help(node, allowed)
        except (SearchError, ValueError):
            raise
        except Exception as e:
            raise IndexCorrupt(f"the index at {self.index_dir} could not be read ({type(e).__name__}: {e}); "
                               "rebuild it with `zhsearch index --rebuild`") from e
        return Results(query=query, total=len(matched), hits=hits, page=page, facets=counted,
                       term_counts=help_counts, suggestion=suggestion)

    def _by_date(self, ranked: list[tuple[int, float]], newest: bool) -> list[tuple[int, float]]:
        stamps = self._stamps
        order = {n: i for i, (n, _) in enumerate(ranked)}  # ties keep the relevance order
        sign = -1 if newest else 1
        return sorted(ranked, key=lambda item: (item[0] not in stamps, sign * stamps.get(item[0], 0), order[item[0]]))

    def _facets(self, matched: set[int]) -> Facets:
        paths = self._paths
        metas = [self._posts.get(paths[n], {}) for n in matched]
        return Facets(categories=_counts(c for m in metas for c in _distinct(m.get("categories", ()))),
                      authors=_counts(a for m in metas for a in _distinct(m.get("authors", ()))),
                      years=_counts(m["date"][:4] for m in metas if m.get("date")))

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

    def show(self, path: str) -> Document:
        """The indexed metadata and text of the post at `path` (as search prints it)."""
        from .errors import NotInIndex

        docnum = self._docnums.get(path)
        if docnum is None:
            raise NotInIndex(f"no post {path!r} in the index at {self.index_dir}")
        stored = self._stored_fields(docnum)
        return Document(**_shown_fields(stored), text=stored.get("text", ""))

    def is_current(self) -> bool:
        """Whether this is still the index's live generation (False once a writer has committed a newer one)."""
        try:
            return generations.current_generation(self.index_dir) == self.generation
        except SearchError:
            return False

    def stale_reason(self) -> str | None:
        """Why the index no longer matches its configuration (the user dictionary changed), or None."""
        settings = self.meta.get("settings", {})
        path = settings.get("user_dict")
        if not path:
            return None
        from .config import file_digest  # only here: the config module is not otherwise needed to search

        if file_digest(Path(path)) != settings.get("user_dict_sha1"):
            return f"the user dictionary {path} changed since the index was built; run `zhsearch index`"
        return None

    def analyze(self, text: str) -> list[analysis.AnalyzedToken]:
        """The tokens this index would store for `text`, under its own analysis settings (user dictionary too)."""
        tokens = analysis.analyze(text, self._lexicon.tokenizer_for(analysis.fold(text)))
        if self.pinyin:
            norm = analysis.normalize(text)
            readings = sorted((pos, syllable) for syllable, positions in analysis.pinyin_postings(norm.text).items()
                              for pos in positions)
            tokens.extend(analysis.AnalyzedToken("pinyin", syllable, pos, norm.original_offset(pos),
                                                 norm.original_offset(pos + 1)) for pos, syllable in readings)
        return tokens

    def stats(self) -> IndexStats:
        """Posts, top categories and authors, date range, size on disk, when built, analysis settings."""
        metas = list(self._posts.values())
        dates = sorted(m["date"] for m in metas if m.get("date"))
        size = sum(f.stat().st_size for f in self.generation.iterdir() if f.is_file())
        return IndexStats(posts=len(metas),
                          categories=_counts(c for m in metas for c in _distinct(m.get("categories", ()))),
                          authors=_counts(a for m in metas for a in _distinct(m.get("authors", ()))),
                          years=_counts(d[:4] for d in dates), first_date=dates[0] if dates else None,
                          last_date=dates[-1] if dates else None, size_bytes=size,
                          built=self.meta.get("built", ""), updated=self.meta.get("updated", ""),
                          corpus=self.meta.get("corpus", ""), settings=dict(self.meta.get("settings", {})))

    def _rank(self, matched: set[int], terms: list[querylang.Term], seen: dict[querylang.Term, Seen],
              best: int | None = None) -> list[tuple[int, float]]:
        """(post, score) of the matched posts, best first: all of them, or only the `best` first."""
        if not matched:
            return []
        scoring: list[tuple[str, tuple[str, ...]]] = []
        for term in terms:
            # Quoted terms too: among posts that all contain the text, BM25F over its words orders them.
            folded = analysis.fold(term.text).strip()
            words = [w for w in self._words(folded) if w not in analysis.QUESTION_WORDS]
            if SCORE_SUBWORDS and words:
                groups = self._word_groups(folded)
                words = list(dict.fromkeys(sub for w in words for sub in groups.get(w, [w])))
            if words:
                fields = (term.field,) if term.field else SEARCH_FIELDS
                scoring.extend((w, fields) for w in words)
        scores = self._bm25f(scoring, matched)
        if COVERAGE_POWER:
            for coverage in (seen[t][2] for t in terms if t in seen and seen[t][2]):
                for n, share in coverage.items():
                    if n in scores:
                        scores[n] *= share ** COVERAGE_POWER
        if RERANK_DEPTH and scores:
            self._rerank_questions(terms, seen, scores)
        empty: Seen = (set(), set(), None)
        # Posts matching more terms literally (not only through pinyin) first, then more terms verbatim. Counted
        # set by set (Counter counts in C): post by post, term by term, it was 20 ms of a 6k-hit query at 20k.
        literal, verbatim = Counter(), Counter()
        for term in terms:
            found = seen.get(term, empty)
            verbatim.update(found[0])
            literal.update(found[1])
        weight = len(terms) + 1
        tiers = {n: literal.get(n, 0) * weight + verbatim.get(n, 0) for n in matched}

        def order(n: int) -> tuple[int, float]:
            return -tiers[n], -scores.get(n, 0.0)

        # Only the page asked for is put in order (by relevance; the caller sorts all of them by date). Equal posts
        # go by path, which is looked up only for the posts that need it: the page, and the posts tied with its
        # last one when some of them fall beyond it (a map of every path was 10-20 ms of a query at 20k posts).
        pool: Collection[int] = matched
        if best is not None and best < len(matched):
            first = heapq.nsmallest(best + 1, matched, key=order)
            boundary = order(first[-1])
            if order(first[-2]) == boundary:
                pool = [n for n in first if order(n) != boundary] + [n for n in matched if order(n) == boundary]
            else:
                pool = first[:best]
        path = self._paths.__getitem__ if len(pool) > PATHS_LOOKED_UP else self._path
        ranked = sorted(pool, key=lambda n: (*order(n), path(n)))[:best]
        ceiling = max(scores.values(), default=0.0) + 1.0
        # One number that orders like the ranking: the tier counts above any BM25F difference.
        return [(n, tiers[n] * ceiling + scores.get(n, 0.0)) for n in ranked]

    def _rerank_questions(self, terms: list[querylang.Term], seen: dict[querylang.Term, Seen],
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
            coverage = seen.get(term, (set(), set(), None))[2]
            if not coverage or term.quoted or term.field not in (None, "body"):
                continue
            folded = analysis.fold(term.text).strip()
            words = self._words(folded)
            content = _content_words(words)
            if not _is_question(folded, words, content):
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

    def _segment_of(self, docnum: int) -> Any:
        return self._segments[bisect.bisect_right(self._segment_bases, docnum) - 1]

    def _stored_fields(self, docnum: int) -> dict[str, Any]:
        segment = self._segment_of(docnum)
        return segment.stored_fields(docnum - segment.base)

    def _path(self, docnum: int) -> str:
        segment = self._segment_of(docnum)
        return segment.path(docnum - segment.base)

    def _hit(self, docnum: int, score: float, terms: list[querylang.Term]) -> Hit:
        stored = self._stored_fields(docnum)
        text = stored.get("text", "")
        # The text store holds the body folded: only the lines of the excerpt are normalised again.
        folded = self._store.fields_of(docnum)["body"]
        excerpt = snippets.make_snippet(text, [analysis.fold(t.text).strip() for t in terms], self._words, folded)
        return Hit(**_shown_fields(stored), authors=tuple(stored.get("meta", {}).get("authors", ())), score=score,
                   snippet=excerpt.text, highlights=excerpt.highlights)

    def info(self) -> dict[str, Any]:
        """The index's metadata (format, settings, corpus, when built)."""
        return dict(self.meta)
