"""A search request from a URL's query string: the parameters of `zhsearch search`, checked and capped.

`parse_search` gives a `SearchRequest` or raises `BadRequest` naming what is wrong.
"""

from __future__ import annotations

from typing import NamedTuple

from starlette.datastructures import QueryParams

import search

MAX_QUERY_CHARS = 256
MAX_LIMIT = 100
SORTS = ("relevance", "newest", "oldest")
_TRUE, _FALSE = ("", "1", "true", "yes", "on"), ("0", "false", "no", "off")


class BadRequest(ValueError):
    """A request parameter is missing, malformed or out of range."""


class SearchRequest(NamedTuple):
    """The parameters of one search, as `Index.search` takes them."""

    query: str
    limit: int
    page: int
    categories: tuple[str, ...]
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    since: str | None
    until: str | None
    sort: str
    facets: bool

    @property
    def filtered(self) -> bool:
        """Whether any filter is given (filters alone list their posts, newest first)."""
        return bool(self.categories or self.authors or self.tags or self.since or self.until)

    def run(self, ix: search.Index) -> search.Results:
        return ix.search(self.query, limit=self.limit, page=self.page, categories=self.categories,
                         authors=self.authors, tags=self.tags, since=self.since, until=self.until, sort=self.sort,
                         facets=self.facets)


def _number(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {value[:20]!r}") from None
    if not low <= number <= high:
        raise BadRequest(f"{name} must be between {low} and {high}")
    return number


def parse_search(params: QueryParams, *, facets: bool = False) -> SearchRequest:
    """A search from the query string (the parameters of `zhsearch search`); BadRequest says what is wrong."""
    query = params.get("q", "")
    if len(query) > MAX_QUERY_CHARS:
        raise BadRequest(f"the query is longer than {MAX_QUERY_CHARS} characters")
    sort = params.get("sort") or "relevance"
    if sort not in SORTS:
        raise BadRequest(f"unknown sort {sort[:20]!r}: choose one of {', '.join(SORTS)}")
    flag = params.get("facets")
    if flag is not None:
        if flag.lower() not in _TRUE + _FALSE:
            raise BadRequest("facets must be 1 or 0")
        facets = flag.lower() in _TRUE

    def names(key: str) -> tuple[str, ...]:
        values = tuple(v for v in params.getlist(key) if v)
        if len(values) > 20 or any(len(v) > MAX_QUERY_CHARS for v in values):
            raise BadRequest(f"too many or too long {key} values")
        return values

    return SearchRequest(query=query, limit=_number(params, "limit", 10, 1, MAX_LIMIT),
                         page=_number(params, "page", 1, 1, 10_000), categories=names("category"),
                         authors=names("author"), tags=names("tag"), since=params.get("since") or None,
                         until=params.get("until") or None, sort=sort, facets=facets)
