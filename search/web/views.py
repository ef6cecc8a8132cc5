"""What the page templates show, worked out from the library's results: highlighted parts, links and counts.

Every link is a URL of the search page with one thing changed (a filter added or removed, another sort, another
page), so each view can be shared and works without the script. Text goes to the templates as plain strings,
which Jinja2 escapes; highlights go as (text, matched) parts, never as markup.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from starlette.datastructures import QueryParams

import search

from .params import SearchRequest

Parts = list[tuple[str, bool]]
SORT_LABELS = {"relevance": "相关度", "newest": "最新", "oldest": "最早"}
_OPERATORS = {"OR", "AND", "NOT"}
# A query's words as the user typed them: an optional `-`, an optional `field:`, a quoted phrase or a word.
_QUERY_WORD = re.compile(r'(-?)(?:[A-Za-z_]+:)?(?:"([^"]*)"?|(\S+))')


def query_words(query: str) -> list[str]:
    """The words and phrases of `query` a matching post holds: not the excluded ones, nor operators or fields."""
    words: list[str] = []
    excluded = False
    for minus, phrase, word in _QUERY_WORD.findall(query):
        text = (phrase or word).strip('+()"')
        if text in _OPERATORS:
            excluded = text == "NOT"
            continue
        if text and not minus and not excluded:
            words.append(text)
        excluded = False
    return sorted(dict.fromkeys(words), key=len, reverse=True)[:20]  # longest first: a regex tries them in order


def mark_words(text: str, words: Sequence[str]) -> Parts:
    """`text` cut into parts, those that are one of `words` (ignoring case) marked."""
    if not words or not text:
        return [(text, False)]
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    return mark_spans(text, [m.span() for m in pattern.finditer(text)])


def mark_spans(text: str, spans: Iterable[Sequence[int]]) -> Parts:
    """`text` cut into parts, the (start, end) `spans` marked."""
    parts: Parts = []
    last = 0
    for start, end in spans:
        if start < last:
            continue
        if start > last:
            parts.append((text[last:start], False))
        parts.append((text[start:end], True))
        last = end
    if last < len(text) or not parts:
        parts.append((text[last:], False))
    return parts


def link(params: QueryParams, *, path: str = "/", add: tuple[str, str] | None = None,
         remove: tuple[str, str] | None = None, **replace: str | None) -> str:
    """The URL of `path` with the current parameters changed; a new filter or sort starts again at page 1."""
    pairs = [(k, v) for k, v in params.multi_items()
             if v and k not in replace and k != "page" and (k, v) != remove and (k, v) != add]
    pairs += [(k, v) for k, v in replace.items() if v]
    if add:
        pairs.append(add)
    return path + ("?" + urlencode(pairs) if pairs else "")


def post_link(path: str, query: str) -> str:
    return "/posts/" + quote(path) + ("?" + urlencode({"q": query}) if query else "")


def _safe_url(url: str | None) -> str | None:
    # A post's url is shown as a link only when it is a web address: never javascript: or data:.
    return url if url and re.match(r"https?://", url, re.IGNORECASE) else None


def _notice(results: search.Results) -> str | None:
    """The partial-match notice, in the page's language: some hits lack some of the query's words."""
    coverage = results.coverage
    if coverage is None or not coverage.partial:
        return None
    first = f"{coverage.complete} 篇包含全部词语" if coverage.complete else "没有文章包含全部词语"
    lacking = f"（缺少：{'、'.join(coverage.missing)}）" if coverage.missing else ""
    return f"{first}；{'另有 ' if coverage.complete else ''}{coverage.partial} 篇只包含部分词语{lacking}。"


def _year_chart(years: dict[str, int], params: QueryParams, active: str | None, *,
                by_query: bool = False) -> dict[str, Any] | None:
    """Bars of posts per year, oldest first, each a link filtering by its year."""
    if not years:
        return None
    ordered = sorted(years.items())
    first, last = ordered[0][0], ordered[-1][0]
    if first.isdigit() and last.isdigit() and int(last) - int(first) < 100:  # years without posts: empty bars
        ordered = [(str(y), years.get(str(y), 0)) for y in range(int(first), int(last) + 1)]
    top = max(years.values())
    bars = []
    for i, (year, count) in enumerate(ordered):
        height = 48 * count / top if count else 0.0
        if by_query:
            url = link(QueryParams(), q=f"date:{year}")
        elif year == active:
            url = link(params, since=None, until=None)
        else:
            url = link(params, since=year, until=year)
        bars.append({"year": year, "count": count, "url": url, "active": year == active,
                     "x": i * 10 + 1, "y": round(50 - height, 1), "height": round(height, 1)})
    return {"bars": bars, "width": len(bars) * 10, "first": ordered[0][0], "last": ordered[-1][0]}


def _hidden(params: QueryParams) -> list[tuple[str, str]]:
    """The filters and sort the search form carries along when submitted without the script."""
    return [(k, v) for k, v in params.multi_items() if k not in ("q", "page") and v]


def _base(params: QueryParams) -> dict[str, Any]:
    return {"query": params.get("q", ""), "hidden": _hidden(params), "error": None, "results": None,
            "landing": None}


def landing_context(stats: search.IndexStats | None, params: QueryParams) -> dict[str, Any]:
    """The search page before a query: what the index holds, with a way in by category and by year."""
    context = _base(params)
    if stats is not None:
        categories = [(name, count, link(QueryParams(), q=f'category:"{name}"'))
                      for name, count in list(stats.categories.items())[:16]]
        context["landing"] = {"posts": stats.posts, "first": (stats.first_date or "")[:10],
                              "last": (stats.last_date or "")[:10], "categories": categories,
                              "chart": _year_chart(stats.years, params, None, by_query=True)}
    return context


def _hit_view(hit: search.Hit, words: list[str], query: str) -> dict[str, Any]:
    title_spans = getattr(hit, "title_highlights", None)
    title = hit.title or hit.path
    return {"title": mark_spans(title, title_spans) if title_spans is not None else mark_words(title, words),
            "url": post_link(hit.path, query), "path": hit.path, "date": (hit.date or "")[:10],
            "categories": list(hit.categories), "author": hit.author or "",
            "snippet": mark_spans(hit.snippet, hit.highlights)}


def _pages(params: QueryParams, page: int, count: int) -> list[tuple[str, str | None, bool]]:
    """Page links: the first, the last and two either side of the current one, gaps shown as …."""
    shown = sorted({1, count, *range(max(1, page - 2), min(count, page + 2) + 1)})
    links: list[tuple[str, str | None, bool]] = []
    for i, number in enumerate(shown):
        if i and number > shown[i - 1] + 1:
            links.append(("…", None, False))
        links.append((str(number), link(params, page=str(number)) if number != page else None, number == page))
    return links


def _facet(counts: dict[str, int], chosen: tuple[str, ...], key: str, params: QueryParams,
           shown: int = 12) -> list[dict[str, Any]]:
    items = []
    for name, count in list(counts.items())[:shown]:
        active = name in chosen
        url = link(params, remove=(key, name)) if active else link(params, add=(key, name))
        items.append({"name": name, "count": count, "url": url, "active": active})
    return items


def results_context(results: search.Results, wanted: SearchRequest, params: QueryParams, ms: float) -> dict[str, Any]:
    """The search page with results: hits, facets, filters, sorts, pages, and help when nothing matched."""
    context = _base(params)
    words = query_words(wanted.query)
    year = wanted.since if wanted.since and wanted.since == wanted.until and len(wanted.since) == 4 else None
    filters = [(f"分类：{c}", link(params, remove=("category", c))) for c in wanted.categories]
    filters += [(f"作者：{a}", link(params, remove=("author", a))) for a in wanted.authors]
    filters += [(f"标签：{t}", link(params, remove=("tag", t))) for t in wanted.tags]
    if year:
        filters.append((f"年份：{year}", link(params, since=None, until=None)))
    else:
        filters += [(f"起：{wanted.since}", link(params, since=None))] if wanted.since else []
        filters += [(f"止：{wanted.until}", link(params, until=None))] if wanted.until else []
    page_count = max(1, math.ceil(results.total / wanted.limit))
    first = (results.page - 1) * wanted.limit + 1
    facets = results.facets
    zero = None
    if not results.total:
        suggestion = results.suggestion
        zero = {"term_counts": list(results.term_counts),
                "suggestion": (suggestion, link(params, q=suggestion)) if suggestion else None,
                "filtered": bool(filters), "filter_note": bool(results.filter_note),
                "pinyin_off": results.hint is not None}
    context["results"] = {
        "total": results.total, "ms": f"{ms:.1f}", "page": results.page, "first": first,
        "last": first + len(results.hits) - 1,
        "hits": [_hit_view(hit, words, wanted.query) for hit in results.hits],
        "notice": _notice(results), "zero": zero, "filters": filters,
        "sorts": [(label, link(params, sort=None if name == "relevance" else name), name == wanted.sort)
                  for name, label in SORT_LABELS.items()],
        "pages": _pages(params, results.page, page_count) if page_count > 1 else [],
        "prev": link(params, page=str(results.page - 1)) if results.page > 1 else None,
        "next": link(params, page=str(results.page + 1)) if results.page < page_count else None,
        "categories": _facet(facets.categories, wanted.categories, "category", params) if facets else [],
        "authors": _facet(facets.authors, wanted.authors, "author", params, 8) if facets else [],
        "chart": _year_chart(facets.years, params, year) if facets else None,
    }
    return context


def post_context(document: search.Document, params: QueryParams) -> dict[str, Any]:
    """A post's page: its clean text, the query's words marked, and a link to where it was published."""
    query = params.get("q", "")
    words = query_words(query)
    return {"query": query, "hidden": [], "error": None, "title": mark_words(document.title or document.path, words),
            "plain_title": document.title or document.path, "path": document.path, "author": document.author or "",
            "date": (document.date or "")[:10], "categories": list(document.categories), "tags": list(document.tags),
            "url": _safe_url(document.url), "text": mark_words(document.text, words),
            "back": link(QueryParams(), q=query) if query else "/"}
