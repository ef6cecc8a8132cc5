"""What a search returns: `Hit`, `Results`, `Facets`, `Coverage`; and `Document` (a shown post), `IndexStats`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..text import folding


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
    title_highlights: tuple[tuple[int, int], ...] = ()  # spans of `title` that matched
    matched_terms: tuple[str, ...] = ()  # the query's plain terms this post holds (all, unless some hits lack some)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "title": self.title, "author": self.author, "categories": list(self.categories),
                "tags": list(self.tags), "date": self.date, "url": self.url, "score": round(self.score, 4),
                "snippet": self.snippet, "highlights": [list(h) for h in self.highlights],
                "title_highlights": [list(h) for h in self.title_highlights],
                "matched_terms": list(self.matched_terms)}


class Facets(NamedTuple):
    """Counts over the whole result set (not just the page), most frequent first."""

    categories: dict[str, int]
    authors: dict[str, int]
    years: dict[str, int]

    def to_dict(self) -> dict[str, dict[str, int]]:
        return {"categories": dict(self.categories), "authors": dict(self.authors), "years": dict(self.years)}


class Coverage(NamedTuple):
    """How many posts hold every plain term of the query, and which terms the other hits lack."""

    complete: int          # posts holding every term
    partial: int           # posts holding only some of them (shown after the complete ones)
    missing: tuple[str, ...]  # terms some partial hits lack, the most often missing first

    def notice(self) -> str | None:
        """One line for the user when some hits lack terms, else None."""
        if not self.partial:
            return None
        if self.complete:
            first = f"{self.complete} posts hold every word" if self.complete > 1 else "1 post holds every word"
        else:
            first = "no post holds every word"
        lacking = f": without {', '.join(self.missing)}" if self.missing else ""
        return f"{first}; {self.partial} {'more ' if self.complete else ''}hold some{lacking}"


@dataclass(frozen=True)
class Results:
    """A page of hits, in the order asked for, and how many posts matched in all; iterating gives the hits.

    When nothing matched, `term_counts` says how many posts each term alone matches, `suggestion` is the query
    without the term that emptied it (None when there is no such query) and `hint` may say more (pinyin is off);
    when the query matched posts and the filters kept none, `filter_note` says so and names the filter.
    `coverage` (for a query of several plain terms) says how many posts hold them all and which terms the others
    lack; `notice` is that in one line, or None when every hit holds every term.
    """

    query: str
    total: int
    hits: tuple[Hit, ...]
    page: int = 1
    facets: Facets | None = None
    term_counts: tuple[tuple[str, int], ...] = ()
    suggestion: str | None = None
    coverage: Coverage | None = None
    hint: str | None = None
    filter_note: str | None = None

    @property
    def notice(self) -> str | None:
        """One line saying that some hits lack some of the query's terms, or None."""
        return self.coverage.notice() if self.coverage is not None else None

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
        doc["complete"] = self.coverage.complete if self.coverage is not None else self.total
        doc["notice"] = self.notice
        if not self.total and self.term_counts:
            doc["term_counts"] = dict(self.term_counts)
            doc["suggestion"] = self.suggestion
        if self.hint:
            doc["hint"] = self.hint
        if self.filter_note:
            doc["filter_note"] = self.filter_note
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
    authors: tuple[str, ...] = ()  # each author apart (`author` joins them for display)

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


def distinct_names(names: Any) -> list[str]:
    """A post's names, each folded form once (a post counts once per category however it spells it)."""
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(folding.fold(name).strip(), name)
    return list(seen.values())


def name_counts(values: Any) -> dict[str, int]:
    """Counts of names, those that fold alike (臺灣, 台湾) counted as one, as the filters match them, under
    their smallest spelling (so the name shown doesn't depend on the order posts are read in)."""
    counts: dict[str, int] = {}
    spellings: dict[str, str] = {}
    for value in values:
        key = folding.fold(value).strip()
        counts[key] = counts.get(key, 0) + 1
        spellings[key] = min(spellings.get(key, value), value)
    return dict(sorted(((spellings[k], n) for k, n in counts.items()), key=lambda item: (-item[1], item[0])))


def shown_fields(stored: dict[str, Any]) -> dict[str, Any]:
    """What a hit and a shown post both say about a post, from its stored fields."""
    meta = stored.get("meta", {})
    return {"path": stored["path"], "title": meta.get("title", ""),
            "author": ", ".join(meta.get("authors", ())) or None, "categories": tuple(meta.get("categories", ())),
            "tags": tuple(meta.get("tags", ())), "date": meta.get("date"), "url": meta.get("url")}
