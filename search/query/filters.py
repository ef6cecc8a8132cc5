"""A search's arguments checked, browsing by filters alone, and which filter emptied a result.

Parts: `checked` (the arguments of `Index.search` as a `SearchRequest`: `since`/`until` from a date, a datetime or
a string, names from one string or an iterable; TypeError or ValueError naming the argument), `SearchRequest`
(`browsing`: no query, filters only) and `emptied_by` (the sentence saying which filter left none of the posts the
query matched).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import QueryError
from . import syntax
from .results import SORTS

if TYPE_CHECKING:
    from .index import Index

DateLike = str | dt.date | dt.datetime
Names = str | Iterable[str]


class SearchRequest(NamedTuple):
    """A search's arguments, checked and in one form."""

    query: str                  # "" when browsing
    categories: tuple[str, ...]
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    since: str | None           # YYYY, YYYY-MM or YYYY-MM-DD
    until: str | None
    sort: str                   # newest when browsing with the default order

    @property
    def browsing(self) -> bool:
        """No query: every post passing the filters."""
        return not self.query


def _names(argument: str, value: Names | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    try:
        names = tuple(value)
    except TypeError:
        raise TypeError(f"{argument} must be a string or an iterable of strings, not {type(value).__name__}") from None
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{argument} must be a string or an iterable of strings, "
                            f"not an iterable holding {type(name).__name__}")
    return tuple(name for name in names if name.strip())


def _date(argument: str, value: DateLike | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):  # (a datetime is a date too: tested first) counted by its day
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a date, a datetime or a string like 2021-04-23, "
                        f"not {type(value).__name__}")
    if not value.strip():
        return None
    try:
        syntax.date_bounds(value)
    except ValueError as e:
        raise ValueError(f"{argument}: {e}") from None
    return value.strip()


def checked(query: str | None, limit: int | None, page: int, categories: Names | None, authors: Names | None,
            tags: Names | None, since: DateLike | None, until: DateLike | None, sort: str) -> SearchRequest:
    """`Index.search`'s arguments as a SearchRequest; TypeError or ValueError naming a wrong one, QueryError when
    there is neither a query nor a filter."""
    if query is not None and not isinstance(query, str):
        raise TypeError(f"query must be a string or None, not {type(query).__name__}")
    for name, value, least in (("limit", limit, 0), ("page", page, 1)):
        if name == "limit" and value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, not {type(value).__name__}")
        if value < least:
            raise ValueError("limit must be a positive number, 0 or None" if name == "limit" else "page counts from 1")
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}: choose one of {', '.join(SORTS)}")
    request = SearchRequest(query=(query or "").strip(), categories=_names("categories", categories),
                            authors=_names("authors", authors), tags=_names("tags", tags),
                            since=_date("since", since), until=_date("until", until), sort=sort)
    if request.since and request.until and \
            syntax.date_bounds(request.since)[0] > syntax.date_bounds(request.until)[1]:
        raise ValueError(f"since {request.since} is after until {request.until}: no date is in that range")
    if request.browsing:
        if not (request.categories or request.authors or request.tags or request.since or request.until):
            raise QueryError("the query is empty: give a word to search for, or a filter "
                             "(category, author, tag, since, until) to list its posts")
        if sort == "relevance":  # nothing to rank by: the newest first
            request = request._replace(sort="newest")
    return request


def _filter_phrases(request: SearchRequest) -> list[tuple[str, tuple[Any, ...]]]:
    """Each filter of `request`: how a sentence names it, and `Index._filter`'s arguments for it alone."""
    phrases = []
    for key, words in (("categories", "in category"), ("authors", "by author"), ("tags", "tagged")):
        names = getattr(request, key)
        if names:
            alone = tuple(names if k == key else () for k in ("categories", "authors", "tags"))
            phrases.append((f"{words} {' or '.join(names)}", (*alone, None, None)))
    if request.since or request.until:
        if request.since and request.until:
            dates = f"dated {request.since} to {request.until}"
        else:
            dates = f"dated {request.since} or later" if request.since else f"dated {request.until} or earlier"
        phrases.append((dates, ((), (), (), request.since, request.until)))
    return phrases


def emptied_by(index: Index, request: SearchRequest, matched: set[int], allowed: set[int] | None) -> str | None:
    """When the query matched posts and the filters (`allowed`) kept none of them, a sentence saying so and naming
    the filter that left none (all of them, when none does alone); else None."""
    if allowed is None or not matched or not matched.isdisjoint(allowed):
        return None
    phrases = _filter_phrases(request)
    alone = [phrase for phrase, arguments in phrases if matched.isdisjoint(index._filter(*arguments) or ())]
    named = alone[0] if alone else " and ".join(phrase for phrase, _ in phrases)
    count = len(matched)
    if request.browsing:
        return f"{count} post{'s' if count != 1 else ''} in the index, none of them {named}"
    if count == 1:
        return f"1 post matches {request.query}, not {named}"
    return f"{count} posts match {request.query}, none of them {named}"
