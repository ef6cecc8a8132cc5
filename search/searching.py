"""Answering queries: `open_index`, `Index.search`, and the typed `Results` and `Hit`.

How a query is answered:
- matching: every term of the query tree (query.py) becomes a set of documents: the posts that contain the term
  verbatim (verbatim.py, like grep) plus, unless it is quoted, the posts that contain all of its jieba words
  (Whoosh). AND, OR and NOT combine the sets; date ranges read the `stamp` column.
- ranking: posts are ordered first by how many of the query's terms they contain verbatim (so a post containing
  the query as typed ranks above one with its words scattered), then by Whoosh's BM25F over the word fields
  with field boosts (title above category/tag/author, above body), then by path.
- snippets (snippets.py) are cut from the stored text for the page of hits only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from . import analysis, generations, query as querylang, snippets
from .errors import IndexCorrupt, SearchError
from .generations import WHOOSH_INDEX_NAME, check_compatible
from .lexicon import Lexicon
from .schema import SEARCH_FIELDS, word_field
from .verbatim import TextStore

# BM25F field weights (query-time boosts, so they can be tuned without a rebuild).
FIELD_BOOSTS = {"title": 3.0, "category": 2.0, "tag": 2.0, "author": 2.0, "body": 1.0}


@dataclass(frozen=True)
class Hit:
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


@dataclass(frozen=True)
class Results:
    """A page of hits, best first, and how many posts matched in all."""

    query: str
    total: int
    hits: tuple[Hit, ...]

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, i: int) -> Hit:
        return self.hits[i]

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "total": self.total, "hits": [h.to_dict() for h in self.hits]}


def open_index(index_dir: Path | str) -> "Index":
    """Open the live generation of the index at `index_dir`."""
    return Index(Path(index_dir))


class Index:
    """A read-only view of one generation of an index; it keeps answering from it while a writer makes the next."""

    def __init__(self, index_dir: Path) -> None:
        from whoosh import index as whoosh_index

        self.index_dir = index_dir
        self.generation = generations.current_generation(index_dir)
        self.meta = generations.read_json(self.generation / generations.META)
        check_compatible(self.meta)
        ranges = generations.read_json(self.generation / generations.RANGES)
        self._store = TextStore(self.generation, {k: tuple(v) for k, v in ranges.items()})
        self._lexicon = Lexicon(self.generation / generations.LEXICON)
        try:
            self._whoosh = whoosh_index.open_dir(str(self.generation), indexname=WHOOSH_INDEX_NAME, readonly=True)
            self._searcher = self._whoosh.searcher()
        except Exception as e:  # Whoosh raises many kinds on damaged files
            raise IndexCorrupt(f"the index at {index_dir} is damaged ({type(e).__name__}: {e}); "
                               "rebuild it with `zhsearch index --rebuild`") from e

    def close(self) -> None:
        self._searcher.close()
        self._lexicon.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- document numbers -------------------------------------------------------------------------------------

    @functools.cached_property
    def _docnums(self) -> dict[str, int]:
        """Path → Whoosh document number of every live post."""
        reader = self._searcher.reader()
        if reader.doc_count_all() == 0:  # an empty corpus: Whoosh's empty reader has no columns
            return {}
        paths = reader.column_reader("path")
        deleted = reader.has_deletions()
        return {paths[n]: n for n in range(reader.doc_count_all()) if not (deleted and reader.is_deleted(n))}

    @functools.cached_property
    def _all(self) -> frozenset[int]:
        return frozenset(self._docnums.values())

    def __len__(self) -> int:
        return len(self._docnums)

    # -- matching ---------------------------------------------------------------------------------------------

    def _words(self, folded: str) -> list[str]:
        return analysis.main_words(folded, self._lexicon.tokenizer_for(folded))

    def _words_query(self, words: list[str], fields: tuple[str, ...], boost: bool) -> Any:
        from whoosh import query as wq

        per_word = [wq.Or([wq.Term(word_field(f), w, boost=FIELD_BOOSTS[f] if boost else 1.0) for f in fields])
                    for w in words]
        return per_word[0] if len(per_word) == 1 else wq.And(per_word)

    def _term_docs(self, term: querylang.Term) -> tuple[set[int], set[int]]:
        """(all matching docs, the docs matching verbatim) of one term."""
        folded = analysis.fold(term.text).strip()
        fields = (term.field,) if term.field else SEARCH_FIELDS
        docnums = self._docnums
        verbatim = {docnums[k] for k in self._store.find(folded, None if term.field is None else fields)
                    if k in docnums}
        if term.quoted:
            return verbatim, verbatim
        words = self._words(folded)
        matched = set(verbatim)
        if words and docnums:
            matched.update(self._searcher.docs_for_query(self._words_query(words, fields, boost=False)))
        return matched, verbatim

    def _evaluate(self, node: querylang.Node, verbatim_of: dict[querylang.Term, set[int]]) -> set[int]:
        if isinstance(node, querylang.Term):
            matched, verbatim = self._term_docs(node)
            verbatim_of[node] = verbatim
            return matched
        if isinstance(node, querylang.DateRange):
            return self._date_docs(node.low, node.high)
        if isinstance(node, querylang.Not):
            return set(self._all) - self._evaluate(node.item, verbatim_of)
        sets = [self._evaluate(item, verbatim_of) for item in node.items]
        if isinstance(node, querylang.And):
            return set.intersection(*sets)
        return set.union(*sets)

    @functools.cached_property
    def _stamps(self) -> dict[int, int]:
        reader = self._searcher.reader()
        if not self._all or not reader.has_column("stamp"):
            return {}
        column = reader.column_reader("stamp")
        return {n: column[n] for n in self._all if column[n]}

    def _date_docs(self, low: int, high: int) -> set[int]:
        return {n for n, stamp in self._stamps.items() if low <= stamp <= high}

    # -- search -----------------------------------------------------------------------------------------------

    def search(self, query: str, limit: int | None = 10) -> Results:
        """Posts matching `query`, best first; `limit=None` returns every match."""
        if limit is not None and limit < 0:
            raise ValueError("limit must be a positive number, 0 or None")
        node = querylang.parse(query)
        verbatim_of: dict[querylang.Term, set[int]] = {}
        try:
            matched = self._evaluate(node, verbatim_of)
            ranked = self._rank(matched, querylang.positive_terms(node), verbatim_of)
        except SearchError:
            raise
        except Exception as e:
            raise IndexCorrupt(f"the index at {self.index_dir} could not be read ({type(e).__name__}: {e}); "
                               "rebuild it with `zhsearch index --rebuild`") from e
        page = ranked if not limit else ranked[:limit]
        terms = querylang.positive_terms(node)
        hits = tuple(self._hit(docnum, score, terms) for docnum, score in page)
        return Results(query=query, total=len(matched), hits=hits)

    def _rank(self, matched: set[int], terms: list[querylang.Term],
              verbatim_of: dict[querylang.Term, set[int]]) -> list[tuple[int, float]]:
        from whoosh import query as wq

        if not matched:
            return []
        scores: dict[int, float] = {}
        scoring = []
        for term in terms:
            # Quoted terms too: among posts that all contain the text, BM25F over its words orders them.
            words = self._words(analysis.fold(term.text).strip())
            if words:
                fields = (term.field,) if term.field else SEARCH_FIELDS
                scoring.extend(self._words_query([w], fields, boost=True) for w in words)
        if scoring:
            results = self._searcher.search(wq.Or(scoring), limit=None, filter=matched, scored=True)
            scores = {hit.docnum: hit.score for hit in results}
        paths = {n: p for p, n in self._docnums.items() if n in matched}
        verbatim_counts = {n: sum(1 for t in terms if n in verbatim_of.get(t, ())) for n in matched}
        ceiling = max(scores.values(), default=0.0) + 1.0
        ranked = sorted(matched, key=lambda n: (-verbatim_counts[n], -scores.get(n, 0.0), paths[n]))
        # One number that orders like the ranking: verbatim terms count above any BM25F difference.
        return [(n, verbatim_counts[n] * ceiling + scores.get(n, 0.0)) for n in ranked]

    def _hit(self, docnum: int, score: float, terms: list[querylang.Term]) -> Hit:
        stored = self._searcher.stored_fields(docnum)
        meta = stored.get("meta", {})
        excerpt = snippets.make_snippet(stored.get("text", ""), [analysis.fold(t.text).strip() for t in terms],
                                        self._words)
        authors = tuple(meta.get("authors", ()))
        return Hit(path=stored["path"], title=meta.get("title", ""), author=", ".join(authors) or None,
                   authors=authors, categories=tuple(meta.get("categories", ())), tags=tuple(meta.get("tags", ())),
                   date=meta.get("date"), url=meta.get("url"), score=score, snippet=excerpt.text,
                   highlights=excerpt.highlights)

    def info(self) -> dict[str, Any]:
        """The index's metadata (format, settings, corpus, when built)."""
        return dict(self.meta)
