"""`open_index` and `Index`: one generation of an index opened for reading, and `Index.search`.

An `Index` pins its generation (writers keep it while it is open), reads the segments without Whoosh
(segments/reader.py), and holds what matching and ranking read: posting lists (read once per query), field
lengths, the text store, the words of each term. `search` parses the query (syntax.py), matches (matching.py),
ranks (ranking.py), and cuts snippets (snippets.py) for the page of hits only.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import os
import pickle
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import IndexClosed, IndexCorrupt, NotInIndex, SearchError
from ..segments import access
from ..segments.fieldnames import word_field
from ..segments.reader import live_documents
from ..store import fileio, generations, layout, path_tables, text_ranges
from ..store.generations import check_compatible
from ..store.verbatim import TextStore
from ..text import folding, segmentation, unfolding
from ..text.lexicon import Lexicon, offer_emissions
from ..text.pinyin import pinyin_postings
from . import filters, snippets, syntax as querylang
from .matches import Matched, TermMatch
from .matching import Matching, content_words
from .ranking import Ranking
from .results import Coverage, Document, Facets, Hit, IndexStats, Results, distinct_names, name_counts, shown_fields

SORTS = ("relevance", "newest", "oldest")

# When fewer posts than this (or than the page size asked for) hold every plain term of a query, posts holding
# some of them follow.
DEFAULT_PAGE = 10


def _coverage(found: Matched, hits: tuple[Hit, ...]) -> Coverage | None:
    """How many posts hold every plain term, and the terms some hits of the page lack (those fewest posts hold
    first); None for a query of one plain term or none."""
    if len(found.items) < 2:
        return None
    lacking = {label for hit in hits for label, _ in found.items if label not in hit.matched_terms}
    held = sorted((len(docs & found.docs), label) for label, docs in found.items if label in lacking)
    missing = tuple(dict.fromkeys(label for _, label in held))[:3]
    return Coverage(found.complete, len(found.docs) - found.complete, missing)


def open_index(index_dir: Path | str) -> Index:
    """Open the live generation of the index at `index_dir`."""
    return Index(Path(index_dir))


class Index(Matching, Ranking):
    """A read-only view of one generation of an index; it keeps answering from it while a writer makes the next."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._segmented: dict[str, list[str]] = {}
        self._postings_cache: dict[tuple[str, str], dict[int, float]] = {}
        self._pinyin_cache: dict[str, dict[int, list[tuple[str, int, int]]]] = {}
        self._verbatim_cache: dict[tuple[str, tuple[str, ...]], set[int]] = {}
        self._length_columns: dict[str, bytes] = {}
        # The pin keeps writers from removing this generation while it is open: the text store, the posts'
        # metadata and Whoosh's files are read lazily, long after later commits may have replaced it.
        self.generation, self._pin = generations.open_generation(index_dir)
        try:
            self.meta = fileio.read_json(self.generation / layout.META)
            check_compatible(self.meta)
            generations.check_files(self.generation, self.meta)
            generations.adopt_fold_table(self.generation)
            # Read once: the posts' table (read later, for filters and facets) takes its changes from here too.
            self._changes = path_tables.read_changes(self.generation)
            self._lexicon = Lexicon(self.generation / layout.LEXICON)
            offer_emissions(self.generation / layout.EMISSIONS)
            self._whoosh_reader: Any = None
            try:
                # Read without importing Whoosh (segments/reader.py); what only Whoosh reads, through Whoosh's reader.
                self._segments: list[Any] = access.read_segments(self.generation, self._whoosh)
            except Exception as e:  # damaged files raise many kinds, from struct, pickle, zlib or Whoosh
                self._lexicon.close()
                raise IndexCorrupt(f"the index at {index_dir} is damaged ({type(e).__name__}: {e}); "
                                   "rebuild it with `zhsearch index --rebuild`") from e
            try:
                # The text store keyed by document number: matching, ranking and snippets need no path.
                self._store = TextStore.from_columns(
                    self.generation, text_ranges.read_documents(self.generation, self._segments), {})
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

    def _unpin(self) -> None:
        # Forgotten before it is closed: closing the number twice would close whatever file reused it.
        pin, self._pin = getattr(self, "_pin", -1), -1
        if pin >= 0:
            os.close(pin)

    def _whoosh(self) -> Any:
        """Whoosh's reader of the index, opened on first use: pinyin phrases, and segments reader.py can't read.

        A reader, not a searcher: whoosh.searching (with whoosh.query) is slow to import."""
        if self._whoosh_reader is None:
            self._whoosh_reader = access.open_whoosh_reader(self.generation)
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
        generations.remove_if_old(self.generation)  # the last reader of a replaced generation removes it

    def _check_open(self) -> None:
        if self._pin < 0:
            raise IndexClosed(f"the index at {self.index_dir} was closed; open it again with search.open_index")

    @property
    def corpus(self) -> Path | None:
        """The corpus folder the index was built from (posts' paths are relative to it)."""
        corpus = self.meta.get("corpus")
        return Path(corpus) if corpus else None

    def __del__(self) -> None:
        # An Index dropped without close() must not pin its generation (and hold a descriptor) for the life of
        # the process; Whoosh's searcher and the lexicon's mmap are released by their own finalizers.
        self._unpin()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- document numbers -------------------------------------------------------------------------------------

    @functools.cached_property
    def _docnums(self) -> dict[str, int]:
        """Path → Whoosh document number of every live post."""
        return live_documents(self._segments)

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
            words = self._segmented[folded] = segmentation.main_words(folded, self._lexicon.tokenizer_for(folded))
        return words

    def _lexicon_tokens(self, folded: str) -> list[segmentation.WordToken]:
        """The word tokens of folded query text, with their offsets, cut with this index's lexicon."""
        return list(segmentation.word_tokens(folded, self._lexicon.tokenizer_for(folded)))

    def _word_groups(self, folded: str) -> dict[str, list[str]]:
        """Each word of `folded` → itself and its search-mode sub-words."""
        groups: dict[int, list[str]] = {}
        for token in self._lexicon_tokens(folded):
            groups.setdefault(token.pos, []).append(token.text)
        return {words[0]: words for words in groups.values()}

    # -- postings and scoring -----------------------------------------------------------------------------------
    # Whoosh's query objects answer the same questions, but build a tree of union matchers (five fields per word)
    # for each query, which was about half of a warm query's time on the blog posts. Reading each posting list once
    # into a dict serves both matching and scoring; the score is Whoosh's own BM25F formula, checked equal to
    # Whoosh's in tests.

    def _postings(self, field: str, word: str) -> dict[int, float]:
        """Document number → occurrences of `word` in the word field of `field`, in live posts."""
        return self._postings_of(word_field(field), word)

    def _postings_of(self, name: str, word: str) -> dict[int, float]:
        """Document number → occurrences of `word` in the Whoosh field `name`, in live posts."""
        key = (name, word)
        found = self._postings_cache.get(key)
        if found is not None:
            return found
        found = {}
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
        approximate), by that byte: `_length_of_byte[_length_bytes_of(name)[docnum]]`."""
        return access.length_of_byte(self.meta.get(layout.LENGTH_DECODING))

    def _length_bytes_of(self, name: str) -> bytes:
        """Every post's length byte in the Whoosh field `name`, by document number (0: none stored).

        Read whole, one read per segment, rather than asked of Whoosh post by post."""
        found = self._length_columns.get(name)
        if found is not None:
            return found
        parts = [segment.length_bytes(name) for segment in self._segments]
        found = self._length_columns[name] = b"".join(parts)
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

    @functools.cached_property
    def _posts(self) -> dict[str, dict[str, Any]]:
        """Path → metadata of every live post (read only when filters, facets, stats or show need it)."""
        return path_tables.read_table(self.generation, layout.POSTS, self._changes)

    def _filter(self, categories: tuple[str, ...], authors: tuple[str, ...], tags: tuple[str, ...],
                since: str | None, until: str | None) -> set[int] | None:
        """Posts passing the filters (None: no filter). Names match as folded (case, width, 繁/简)."""
        allowed: set[int] | None = None
        for key, wanted in (("categories", categories), ("authors", authors), ("tags", tags)):
            names = {folding.fold(n).strip() for n in wanted if n.strip()}
            if names:
                passing = {self._docnums[path] for path, meta in self._posts.items() if path in self._docnums
                           and names & {folding.fold(v).strip() for v in meta.get(key, ())}}
                allowed = passing if allowed is None else allowed & passing
        if since or until:
            low = querylang.date_bounds(since)[0] if since else 0
            high = querylang.date_bounds(until)[1] if until else 99991231235959
            passing = self._date_docs(low, high)
            allowed = passing if allowed is None else allowed & passing
        return allowed

    def search(self, query: str | None = None, limit: int | None = 10, *, page: int = 1,
               categories: filters.Names | None = (), authors: filters.Names | None = (),
               tags: filters.Names | None = (), since: filters.DateLike | None = None,
               until: filters.DateLike | None = None, sort: str = "relevance", facets: bool = False) -> Results:
        """Posts matching `query`, best first (or by date with `sort`).

        `limit` is the page size (None or 0: every match), `page` counts from 1. `categories`, `authors` and `tags`
        (one name or several) keep posts having any of the names given for each; `since`/`until` (a date, a
        datetime, or YYYY, YYYY-MM or YYYY-MM-DD; both inclusive) keep dated posts in that range. With no query
        (None or ""), the posts passing the filters, newest first. `facets=True` counts categories, authors and
        years over all matches.
        """
        self._check_open()
        request = filters.checked(query, limit, page, categories, authors, tags, since, until, sort)
        node = None if request.browsing else querylang.parse(request.query)
        terms = querylang.positive_terms(node) if node else []
        seen: dict[querylang.Term, TermMatch] = {}
        # Posting lists are read once per query, for matching and scoring both; not kept across queries, whose
        # cost must not depend on what was asked before.
        self._postings_cache.clear()
        self._pinyin_cache.clear()
        self._verbatim_cache.clear()
        try:
            allowed = self._filter(request.categories, request.authors, request.tags, request.since, request.until)
            if node is None:  # browsing: every post the filters keep
                found = Matched(set(self._all) if allowed is None else set(allowed), [], 0, [])
            else:
                found = self.match(node, allowed, limit or DEFAULT_PAGE, seen)
            matched = found.docs
            filter_note = None
            if not matched and allowed is not None:  # say which filter left none of the posts the query matches
                unfiltered = self.match(node, None, limit or DEFAULT_PAGE, seen).docs if node else set(self._all)
                filter_note = filters.emptied_by(self, request, unfiltered, allowed)
            size = limit or len(matched) or 1
            sort = request.sort
            ranked = self.rank(found, terms, seen, page * size if sort == "relevance" else None)
            if sort != "relevance":
                ranked = self._by_date(ranked, newest=sort == "newest")
            needles = self._needles(terms, seen)
            hits = tuple(self._hit(docnum, score, found, needles)
                         for docnum, score in ranked[(page - 1) * size: page * size])
            counted = self._facets(matched) if facets else None
            help_counts, suggestion = ((), None) if matched or not node else self._zero_hit_help(node, allowed)
        except (OSError, EOFError, UnicodeDecodeError, struct.error, zlib.error, pickle.UnpicklingError) as e:
            # What reading a damaged index file raises; any other exception is a bug and surfaces as itself.
            raise IndexCorrupt(f"the index at {self.index_dir} could not be read ({type(e).__name__}: {e}); "
                               "rebuild it with `zhsearch index --rebuild`") from e
        return Results(query=request.query, total=len(matched), hits=hits, page=page, facets=counted,
                       term_counts=help_counts, suggestion=suggestion, coverage=_coverage(found, hits),
                       hint=None if matched or not node else self._pinyin_hint(terms), filter_note=filter_note)

    def _by_date(self, ranked: list[tuple[int, float]], newest: bool) -> list[tuple[int, float]]:
        stamps = self._stamps
        order = {n: i for i, (n, _) in enumerate(ranked)}  # ties keep the relevance order
        sign = -1 if newest else 1
        return sorted(ranked, key=lambda item: (item[0] not in stamps, sign * stamps.get(item[0], 0), order[item[0]]))

    def _facets(self, matched: set[int]) -> Facets:
        paths = self._paths
        metas = [self._posts.get(paths[n], {}) for n in matched]
        return Facets(categories=name_counts(c for m in metas for c in distinct_names(m.get("categories", ()))),
                      authors=name_counts(a for m in metas for a in distinct_names(m.get("authors", ()))),
                      years=name_counts(m["date"][:4] for m in metas if m.get("date")))


    def show(self, path: str | os.PathLike[str]) -> Document:
        """The indexed metadata and text of the post at `path`: as search prints it, or its file's path (absolute
        or relative to the current folder)."""
        self._check_open()
        docnum = self._docnums.get(str(path))
        if docnum is None:
            docnum = self._docnums.get(self._path_in_corpus(path) or "")
        if docnum is None:
            raise NotInIndex(f"no post {str(path)!r} in the index at {self.index_dir} (give the path as search "
                             "prints it, or the post file's path)")
        stored = self._stored_fields(docnum)
        return Document(**shown_fields(stored), text=self._text_as_written(docnum, stored),
                        authors=tuple(stored.get("meta", {}).get("authors", ())))

    def paths(self) -> list[str]:
        """The path of every live post (as search prints it), sorted: with `show`, how to read every post."""
        self._check_open()
        return sorted(self._docnums)

    def _path_in_corpus(self, path: str | os.PathLike[str]) -> str | None:
        """A file path (absolute, or relative to the current folder) as the index names the post, or None."""
        if self.corpus is None:
            return None
        file = Path(path).expanduser()
        for candidate in (Path(os.path.abspath(file)), file.resolve()):
            try:
                return candidate.relative_to(self.corpus).as_posix()
            except ValueError:
                continue
        return None

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
        from ..config import file_digest  # only here: the config module is not otherwise needed to search

        if file_digest(Path(path)) != settings.get("user_dict_sha1"):
            return f"the user dictionary {path} changed since the index was built; run `zhsearch index`"
        return None

    def analyze(self, text: str) -> list[segmentation.AnalyzedToken]:
        """The tokens this index would store for `text`, under its own analysis settings (user dictionary too)."""
        self._check_open()
        tokens = segmentation.analyze(text, self._lexicon.tokenizer_for(folding.fold(text)))
        if self.pinyin:
            norm = folding.normalize(text)
            readings = sorted((pos, syllable) for syllable, positions in pinyin_postings(norm.text).items()
                              for pos in positions)
            tokens.extend(segmentation.AnalyzedToken("pinyin", syllable, pos, norm.original_offset(pos),
                                                 norm.original_offset(pos + 1)) for pos, syllable in readings)
        return tokens

    def stats(self) -> IndexStats:
        """Posts, top categories and authors, date range (days, YYYY-MM-DD), what the index folder takes on disk,
        when built, analysis settings."""
        self._check_open()
        metas = list(self._posts.values())
        # The day as written: posts' dates are naive or carry a time zone, as each post gives it.
        dates = sorted(m["date"][:10] for m in metas if m.get("date"))
        return IndexStats(posts=len(metas),
                          categories=name_counts(c for m in metas for c in distinct_names(m.get("categories", ()))),
                          authors=name_counts(a for m in metas for a in distinct_names(m.get("authors", ()))),
                          years=name_counts(d[:4] for d in dates), first_date=dates[0] if dates else None,
                          last_date=dates[-1] if dates else None, size_bytes=generations.disk_usage(self.index_dir),
                          built=self.meta.get("built", ""), updated=self.meta.get("updated", ""),
                          corpus=self.meta.get("corpus", ""), settings=dict(self.meta.get("settings", {})))

    def _segment_of(self, docnum: int) -> Any:
        return self._segments[bisect.bisect_right(self._segment_bases, docnum) - 1]

    def _stored_fields(self, docnum: int) -> dict[str, Any]:
        segment = self._segment_of(docnum)
        return segment.stored_fields(docnum - segment.base)

    def _text_as_written(self, docnum: int, stored: dict[str, Any]) -> str:
        """A post's body as written."""
        folded = self._store.fields_of(docnum)["body"]
        return self._lines_as_written(stored, folded)(0, len(folded))

    @staticmethod
    def _lines_as_written(stored: dict[str, Any], folded: str) -> Callable[[int, int], str]:
        """The text as written of the lines `folded[start:end]` of a post's folded body (from the text store): from
        the whole text the index kept, or rebuilt with the changes folding made."""
        if "text" in stored:
            whole = str(stored["text"])
            return lambda start, end: unfolding.lines_of(whole, folded, start, end)
        changes = stored.get("changes", unfolding.UNCHANGED)
        return lambda start, end: unfolding.unfold_lines(folded, changes, start, end)

    def _path(self, docnum: int) -> str:
        segment = self._segment_of(docnum)
        return segment.path(docnum - segment.base)

    def _needles(self, terms: list[querylang.Term], seen: dict[querylang.Term, TermMatch]) -> dict[str, frozenset[str]]:
        """The folded texts a snippet marks, each with the terms it stands for: a term as typed stands for all its
        pieces, a piece of a run for itself, a synonym for the term, a question's words for themselves."""
        needles: dict[str, frozenset[str]] = {}

        def add(needle: str, labels: frozenset[str]) -> None:
            needles[needle] = needles.get(needle, frozenset()) | labels

        for term in terms:
            folded = folding.fold(term.text).strip()
            match = seen.get(term)
            pieces = [unit for unit, _ in match.units] if match and match.units else []
            labels = frozenset(pieces or [folded])
            add(folded, labels)
            for unit in pieces:
                add(unit, frozenset([unit]))
            if not term.quoted:
                for synonym in self._synonyms.get(folded, ()):
                    add(synonym, labels)
            if match is not None and match.share is not None:  # a question: its content words
                for word in content_words(self._words(folded)):
                    if len(word) > 1 or word.isascii():
                        add(word, frozenset([word]))
        return needles

    def _hit(self, docnum: int, score: float, found: Matched, needles: dict[str, frozenset[str]]) -> Hit:
        stored = self._stored_fields(docnum)
        # The text store holds the body folded: only the lines of the excerpt are rebuilt as written.
        fields = self._store.fields_of(docnum)
        folded = fields["body"]
        if found.readings and not any(n in folded or n in fields.get("title", "") for n in needles):
            # Matched through pinyin: mark the Han text whose reading matched.
            needles = {**needles, **{fields.get(field, "")[start:end]: frozenset([reading])
                                     for reading in found.readings
                                     for field, start, end in self.pinyin_places(reading).get(docnum, ())}}
        excerpt = snippets.snippet_of_folded(folded, needles, self._lines_as_written(stored, folded))
        meta = stored.get("meta", {})
        return Hit(**shown_fields(stored), authors=tuple(meta.get("authors", ())), score=score,
                   snippet=excerpt.text, highlights=excerpt.highlights,
                   title_highlights=snippets.mark(meta.get("title", ""), needles),
                   matched_terms=tuple(label for label, docs in found.items if docnum in docs))

    def info(self) -> dict[str, Any]:
        """The index's metadata (format, settings, corpus, when built)."""
        return dict(self.meta)
