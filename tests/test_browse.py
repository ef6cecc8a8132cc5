"""Browsing a result set: filters, date sort, paging, facets, zero-hit help, `show` and `stats`.

Every behaviour is checked through the library (`Index.search`, `Index.show`, `Index.stats`) and through the CLI
(click's CliRunner), on a small corpus written below whose dates sit on year and month boundaries.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import search
from search.cli import main
from search.errors import NotInIndex, QueryError
from search.query.results import Document

ZHIHU_DAILY = "[社交媒体, 知乎, 知乎日报]"

# Relative path → content. Every post contains 咖啡, so `咖啡` matches the whole corpus.
BROWSE_POSTS: dict[str, str] = {
    # The last second of 2016 and the first of 2017: a year filter must split them exactly.
    "zhihu/eve.md": f"""---
title: 跨年夜的咖啡
categories: {ZHIHU_DAILY}
author: 知乎
tags: [求职]
date: 2016-12-31 23:59:59
---
跨年夜喝一杯咖啡，聊聊内推。
""",
    "zhihu/newyear.md": f"""---
title: 新年第一杯咖啡
categories: {ZHIHU_DAILY}
author: 知乎
tags: [求职, 面试]
date: 2017-01-01 00:00:00
---
新年第一天的咖啡，还有一次面试。
""",
    "zhihu/column.md": """---
title: 专栏里的咖啡
categories: [社交媒体, 知乎, 知乎专栏]
author: 知乎
date: 2017-12-31
---
年末的专栏写咖啡和拿铁。
""",
    "weibo/post.md": """---
title: 微博上的咖啡
categories: [社交媒体, 微博]
author: 小王
date: 2018-06-15 12:00:00
---
微博上有人晒咖啡。
""",
    # Authors and tags; a tag written with capitals (matched folded).
    "tech/python.md": """---
title: Python 与咖啡
categories: [技术]
author: Alice
tags: [Python, 工具]
date: 2021-04-01 09:00:00
---
一边喝咖啡一边写 Python。
""",
    "tech/rust.md": """---
title: Rust 与咖啡
categories: [技术]
author: Bob, 小王
tags: [Rust]
date: 2021-04-30 23:59:59
---
写 Rust 的时候来一杯摩卡咖啡。
""",
    "tech/go.md": """---
title: Go 与咖啡
categories: [技术]
author: Alice
tags: [Go, 工具]
date: 2021-05-01 00:00:00
---
Go 程序员也喝咖啡。
""",
    # A +0800 time near midnight: the date as written (2021-01-01) counts, not UTC (2020-12-31). 臺灣 and 台湾 are
    # one category once folded.
    "travel/taipei.md": """---
title: 臺北的咖啡館
categories: [旅行, 臺灣]
author: Alice
date: 2021-01-01 00:30:00 +0800
---
在臺北的咖啡館跨年。
""",
    "travel/tainan.md": """---
title: 台南的咖啡
categories: [旅行, 台湾]
author: Bob
date: 2020-12-31 23:30:00 +08:00
---
台南的咖啡很甜。
""",
    # The date comes from the file name only.
    "notes/2019-03-05-named.md": """---
title: 文件名里的日期
categories: [随笔]
---
日期只写在文件名里，咖啡也是。
""",
    # No date anywhere: never passes a date filter, last in date order.
    "notes/undated-a.md": """---
title: 没有日期的咖啡
categories: [随笔]
---
这篇没有日期，只有咖啡。
""",
    "notes/undated-b.md": """---
title: 也没有日期
author: Alice
---
这篇也没有日期，还是咖啡。
""",
    # Two posts alike but for their path: the same score and date, so only the path can order them.
    "misc/tie-a.md": """---
title: 一样的咖啡
categories: [杂项]
date: 2022-02-02 10:00:00
---
完全一样的正文，咖啡。
""",
    "misc/tie-b.md": """---
title: 一样的咖啡
categories: [杂项]
date: 2022-02-02 10:00:00
---
完全一样的正文，咖啡。
""",
}

ALL = sorted(BROWSE_POSTS)
UNDATED = {"notes/undated-a.md", "notes/undated-b.md"}
DATED = sorted(set(ALL) - UNDATED)
SORTS = ("relevance", "newest", "oldest")


@pytest.fixture(scope="module")
def browse_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browse")
    corpus = root / "corpus"
    for rel, text in BROWSE_POSTS.items():
        file = corpus / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    index_dir = root / "index"
    report = search.build_index(corpus, index_dir, workers=1)
    assert report.indexed == len(BROWSE_POSTS)
    return index_dir


@pytest.fixture(scope="module")
def bix(browse_index: Path):
    with search.open_index(browse_index) as index:
        yield index


def paths(results: search.Results) -> list[str]:
    return [hit.path for hit in results]


def found(bix, query: str = "咖啡", **kwargs) -> set[str]:
    return set(paths(bix.search(query, limit=None, **kwargs)))


def run(index_dir: Path, *args: str):
    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        runner = CliRunner()  # click >= 8.2 keeps stderr apart
    result = runner.invoke(main, [*args, "--index", str(index_dir)])
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def cli_paths(index_dir: Path, *args: str) -> list[str]:
    result = run(index_dir, "search", *args, "--json")
    assert result.exit_code in (0, 1), result.stderr
    return [hit["path"] for hit in json.loads(result.stdout)["hits"]]


# -- filters ----------------------------------------------------------------------------------------------------

ZHIHU = {"zhihu/eve.md", "zhihu/newyear.md", "zhihu/column.md"}
SOCIAL = ZHIHU | {"weibo/post.md"}
TECH = {"tech/python.md", "tech/rust.md", "tech/go.md"}
TRAVEL = {"travel/taipei.md", "travel/tainan.md"}


@pytest.mark.parametrize(("names", "expected"), [
    (("社交媒体",), SOCIAL),                                  # top of the hierarchy
    (("知乎",), ZHIHU),                                       # middle
    (("知乎日报",), {"zhihu/eve.md", "zhihu/newyear.md"}),    # leaf
    (("知乎专栏", "微博"), {"zhihu/column.md", "weibo/post.md"}),  # repeated: any
    (("技术", "随笔"), TECH | {"notes/2019-03-05-named.md", "notes/undated-a.md"}),
    (("知乎日報",), {"zhihu/eve.md", "zhihu/newyear.md"}),    # traditional spelling of 知乎日报
    (("台湾",), TRAVEL),                                      # 臺灣 and 台湾 fold together
    (("臺灣",), TRAVEL),
    (("不存在",), set()),
])
def test_filter_categories(bix, browse_index, names, expected):
    assert found(bix, categories=names) == expected
    args = [a for name in names for a in ("--category", name)]
    assert set(cli_paths(browse_index, "咖啡", "-n", "0", *args)) == expected


@pytest.mark.parametrize(("authors", "expected"), [
    (("Alice",), {"tech/python.md", "tech/go.md", "travel/taipei.md", "notes/undated-b.md"}),
    (("ALICE",), {"tech/python.md", "tech/go.md", "travel/taipei.md", "notes/undated-b.md"}),  # case folded
    (("小王",), {"weibo/post.md", "tech/rust.md"}),   # one of two authors of tech/rust.md
    (("Bob", "知乎"), {"tech/rust.md", "travel/tainan.md"} | ZHIHU),
])
def test_filter_authors(bix, browse_index, authors, expected):
    assert found(bix, authors=authors) == expected
    args = [a for name in authors for a in ("--author", name)]
    assert set(cli_paths(browse_index, "咖啡", "-n", "0", *args)) == expected


@pytest.mark.parametrize(("tags", "expected"), [
    (("python",), {"tech/python.md"}),          # written Python
    (("工具",), {"tech/python.md", "tech/go.md"}),
    (("求职", "Rust"), {"zhihu/eve.md", "zhihu/newyear.md", "tech/rust.md"}),
])
def test_filter_tags(bix, browse_index, tags, expected):
    assert found(bix, tags=tags) == expected
    args = [a for name in tags for a in ("--tag", name)]
    assert set(cli_paths(browse_index, "咖啡", "-n", "0", *args)) == expected


def test_filter_kinds_combine_with_and(bix):
    assert found(bix, categories=("技术",), authors=("Alice",), tags=("工具", "Rust")) == {"tech/python.md",
                                                                                          "tech/go.md"}
    assert found(bix, categories=("知乎",), since="2017") == {"zhihu/newyear.md", "zhihu/column.md"}


DATE_CASES = [
    ("2016", "2016", {"zhihu/eve.md"}),
    ("2017", "2017", {"zhihu/newyear.md", "zhihu/column.md"}),
    ("2016", "2017", ZHIHU),                                            # both whole years
    ("2016-12-31", "2016-12-31", {"zhihu/eve.md"}),                     # 23:59:59 is still that day
    ("2017-01-01", "2017-01-01", {"zhihu/newyear.md"}),
    ("2017-12", "2017-12", {"zhihu/column.md"}),
    ("2021-04", "2021-04", {"tech/python.md", "tech/rust.md"}),         # 04-30 23:59:59 in, 05-01 00:00 out
    ("2021-05", None, {"tech/go.md", "misc/tie-a.md", "misc/tie-b.md"}),
    ("2021", "2021", {"tech/python.md", "tech/rust.md", "tech/go.md", "travel/taipei.md"}),  # +0800 as written
    ("2020-12-31", "2020-12-31", {"travel/tainan.md"}),
    (None, "2017-01-01", {"zhihu/eve.md", "zhihu/newyear.md"}),
    ("2019-03-05", "2019-03-05", {"notes/2019-03-05-named.md"}),        # date from the file name
    ("1000", None, set(DATED)),                                         # open end: never the undated posts
    (None, "9999", set(DATED)),
]


@pytest.mark.parametrize(("since", "until", "expected"), DATE_CASES)
def test_filter_dates(bix, browse_index, since, until, expected):
    assert found(bix, since=since, until=until) == expected
    args = (["--since", since] if since else []) + (["--until", until] if until else [])
    assert set(cli_paths(browse_index, "咖啡", "-n", "0", *args)) == expected


@pytest.mark.parametrize(("since", "until", "expected"), DATE_CASES)
def test_query_date_agrees_with_since_until(bix, since, until, expected):
    query = f"咖啡 date:{since or ''}..{until or ''}"
    assert found(bix, query) == expected
    if since == until:
        assert found(bix, f"咖啡 date:{since}") == expected
        assert found(bix, f"date:{since}") == expected   # a date alone is a whole query


def test_undated_posts_never_pass_a_date_filter(bix):
    assert found(bix, "咖啡 date:..") == set(DATED)
    assert found(bix, "咖啡 -date:2016..2017") == set(ALL) - ZHIHU    # NOT a date range keeps the undated ones
    assert found(bix, categories=("随笔",), since="1900") == {"notes/2019-03-05-named.md"}


@pytest.mark.parametrize("bad", ["2021-13", "2021-02-30", "2021-4-31", "yesterday", "21", "2021/04",
                                 "2021-04-01T00:00"])
def test_bad_date_filter(bix, browse_index, bad):
    for kwargs in ({"since": bad}, {"until": bad}):
        with pytest.raises(ValueError):
            bix.search("咖啡", **kwargs)
    for option in ("--since", "--until"):
        result = run(browse_index, "search", "咖啡", option, bad)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.startswith("zhsearch: ") and result.stderr.count("\n") == 1


@pytest.mark.parametrize("query", ["咖啡 date:2021-13", "date:2021-02-30", "咖啡 date:2018..2017", "date:soon"])
def test_bad_query_date(bix, browse_index, query):
    with pytest.raises(QueryError):
        bix.search(query)
    result = run(browse_index, "search", query)
    assert result.exit_code == 2
    assert result.stderr.startswith("zhsearch: ") and result.stderr.count("\n") == 1


# -- sort ---------------------------------------------------------------------------------------------------------

OLDEST = ["zhihu/eve.md", "zhihu/newyear.md", "zhihu/column.md", "weibo/post.md", "notes/2019-03-05-named.md",
          "travel/tainan.md", "travel/taipei.md", "tech/python.md", "tech/rust.md", "tech/go.md",
          "misc/tie-a.md", "misc/tie-b.md"]


def undated_by_relevance(bix) -> list[str]:
    return [p for p in paths(bix.search("咖啡", limit=None)) if p in UNDATED]


def test_sort_oldest(bix, browse_index):
    expected = OLDEST + undated_by_relevance(bix)
    assert paths(bix.search("咖啡", limit=None, sort="oldest")) == expected
    assert cli_paths(browse_index, "咖啡", "-n", "0", "--sort", "oldest") == expected


def test_sort_newest_undated_last(bix, browse_index):
    # Posts of the same moment (misc/tie-*) keep the relevance order, which for equal scores is by path.
    expected = ["misc/tie-a.md", "misc/tie-b.md", "tech/go.md", "tech/rust.md", "tech/python.md",
                "travel/taipei.md", "travel/tainan.md", "notes/2019-03-05-named.md", "weibo/post.md",
                "zhihu/column.md", "zhihu/newyear.md", "zhihu/eve.md"] + undated_by_relevance(bix)
    assert paths(bix.search("咖啡", limit=None, sort="newest")) == expected
    assert cli_paths(browse_index, "咖啡", "-n", "0", "--sort", "newest") == expected


def test_sort_newest_orders_dated_posts(bix):
    dated = [p for p in paths(bix.search("咖啡", limit=None, sort="newest")) if p not in UNDATED]
    assert dated == ["misc/tie-a.md", "misc/tie-b.md"] + OLDEST[-3::-1]


@pytest.mark.parametrize("sort", SORTS)
def test_sort_is_deterministic(bix, browse_index, sort):
    first = bix.search("咖啡", limit=None, sort=sort)
    again = bix.search("咖啡", limit=None, sort=sort)
    assert [(h.path, h.score) for h in first] == [(h.path, h.score) for h in again]
    assert sorted(paths(first)) == ALL
    assert cli_paths(browse_index, "咖啡", "-n", "0", "--sort", sort) == paths(first)
    order = paths(first)
    assert order.index("misc/tie-a.md") + 1 == order.index("misc/tie-b.md")   # equal in everything but path


def test_sort_relevance_is_the_default(bix):
    assert paths(bix.search("咖啡", limit=None)) == paths(bix.search("咖啡", limit=None, sort="relevance"))
    scores = [h.score for h in bix.search("咖啡", limit=None)]
    assert scores == sorted(scores, reverse=True)


def test_sort_unknown(bix, browse_index):
    with pytest.raises(ValueError, match="relevance"):
        bix.search("咖啡", sort="random")
    assert run(browse_index, "search", "咖啡", "--sort", "random").exit_code == 2


# -- paging -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("limit", [1, 3, 5, 13, 14])
def test_page_is_a_slice_of_the_full_list(bix, sort, limit):
    full = [(h.path, h.score) for h in bix.search("咖啡", limit=None, sort=sort)]
    pages = []
    for page in range(1, len(full) // limit + 3):
        results = bix.search("咖啡", limit=limit, page=page, sort=sort)
        assert results.total == len(full)
        assert results.page == page
        chunk = [(h.path, h.score) for h in results]
        assert chunk == full[(page - 1) * limit: page * limit]
        pages.extend(chunk)
    assert pages == full
    assert list(bix.search("咖啡", limit=limit, page=100, sort=sort)) == []


@pytest.mark.parametrize(("limit", "page"), [(5, 1), (5, 3), (4, 2), (1, 14)])
def test_cli_page(bix, browse_index, limit, page):
    full = paths(bix.search("咖啡", limit=None, sort="oldest"))
    got = cli_paths(browse_index, "咖啡", "--sort", "oldest", "-n", str(limit), "--page", str(page))
    assert got == full[(page - 1) * limit: page * limit]
    result = run(browse_index, "search", "咖啡", "--sort", "oldest", "-n", str(limit), "--page", str(page))
    assert result.exit_code == 0, result.stderr
    first = (page - 1) * limit + 1
    assert f"14 posts match; showing {first}–{first + len(got) - 1}" in result.stderr
    assert f"{first:>3}. " in result.stdout                       # ranks count across pages
    assert got[0] in result.stdout


def test_cli_page_past_the_end(browse_index):
    result = run(browse_index, "search", "咖啡", "-n", "5", "--page", "4", "--json")
    assert result.exit_code == 0, result.stderr                # the query matched; only the page is empty
    doc = json.loads(result.stdout)
    assert (doc["total"], doc["page"], doc["hits"]) == (14, 4, [])
    result = run(browse_index, "search", "咖啡", "-n", "5", "--page", "4")
    assert result.stdout == ""
    assert "14 posts match; page 4 is empty" in result.stderr


def test_bad_page(bix, browse_index):
    with pytest.raises(ValueError):
        bix.search("咖啡", page=0)
    assert run(browse_index, "search", "咖啡", "--page", "0").exit_code == 2


# -- facets -------------------------------------------------------------------------------------------------------

FULL_FACETS = {
    "categories": {"社交媒体": 4, "技术": 3, "知乎": 3, "台湾": 2, "旅行": 2, "杂项": 2, "知乎日报": 2, "随笔": 2,
                   "微博": 1, "知乎专栏": 1},  # 臺灣 and 台湾 fold together, as the filter matches them
    "authors": {"Alice": 4, "知乎": 3, "Bob": 2, "小王": 2},
    "years": {"2021": 4, "2017": 2, "2022": 2, "2016": 1, "2018": 1, "2019": 1, "2020": 1},
}


def test_facets_exact(bix):
    results = bix.search("咖啡", limit=2, facets=True)
    assert len(results) == 2
    assert results.facets.to_dict() == FULL_FACETS
    # most frequent first, then by name
    assert list(results.facets.categories) == list(FULL_FACETS["categories"])
    assert bix.search("咖啡").facets is None


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize(("limit", "page"), [(1, 1), (3, 2), (5, 9), (None, 1)])
def test_facets_count_the_whole_result_set(bix, sort, limit, page):
    results = bix.search("咖啡", limit=limit, page=page, sort=sort, facets=True)
    assert results.facets.to_dict() == FULL_FACETS


FILTERS = [{}, {"categories": ("社交媒体",)}, {"authors": ("Alice", "小王")}, {"since": "2017", "until": "2021-04"},
           {"tags": ("工具", "求职")}, {"categories": ("技术", "旅行"), "until": "2021-04"}]


@pytest.mark.parametrize("filters", FILTERS)
def test_facets_agree_with_filters(bix, filters):
    results = bix.search("咖啡", limit=2, facets=True, **filters)
    facets = results.facets
    everything = bix.search("咖啡", limit=None, **filters)
    assert results.total == len(everything)
    # recount from the hits of the full filtered list: facets count only filtered posts
    from search.text import folding

    def has(names, name):  # names match as folded (臺灣 = 台湾), as the category filter does
        return folding.fold(name) in {folding.fold(n) for n in names}

    assert facets.categories == {c: sum(has(h.categories, c) for h in everything) for c in facets.categories}
    assert sum(facets.years.values()) == sum(1 for h in everything if h.date)
    for category in facets.categories:
        narrowed = dict(filters, categories=(category,))
        if "categories" in filters and category not in filters["categories"]:
            # a second category filter would widen (any), so narrow the full list instead
            expected = sum(has(h.categories, category) for h in everything)
            assert facets.categories[category] == expected
            continue
        assert facets.categories[category] == bix.search("咖啡", **narrowed).total, category
    for author, count in facets.authors.items():
        if "authors" not in filters:
            assert count == bix.search("咖啡", **dict(filters, authors=(author,))).total, author
        assert count == sum(author in h.authors for h in everything), author
    for year, count in facets.years.items():
        if "since" not in filters and "until" not in filters:
            assert count == bix.search("咖啡", **dict(filters, since=year, until=year)).total, year
        assert count == len(found(bix, f"咖啡 date:{year}", **filters)), year


def test_facets_fold_like_the_category_filter(bix):
    facets = bix.search("咖啡", facets=True).facets
    for category, count in facets.categories.items():
        assert count == bix.search("咖啡", categories=(category,)).total, category


def test_facets_of_a_filtered_search(bix):
    facets = bix.search("咖啡", categories=("知乎",), facets=True).facets
    assert facets.to_dict() == {"categories": {"知乎": 3, "社交媒体": 3, "知乎日报": 2, "知乎专栏": 1},
                                "authors": {"知乎": 3}, "years": {"2017": 2, "2016": 1}}
    facets = bix.search("咖啡", since="2021", facets=True).facets
    assert facets.years == {"2021": 4, "2022": 2}
    assert facets.authors == {"Alice": 3, "Bob": 1, "小王": 1}


def test_cli_facets_json(browse_index):
    result = run(browse_index, "search", "咖啡", "-n", "1", "--facets", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["facets"] == FULL_FACETS
    assert doc["total"] == 14 and len(doc["hits"]) == 1
    result = run(browse_index, "search", "咖啡", "--json")
    assert "facets" not in json.loads(result.stdout)


def test_cli_facets_human(browse_index):
    result = run(browse_index, "search", "咖啡", "--author", "Alice", "--facets")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "categories: 技术 2, 旅行 1, 臺灣 1" in lines  # the only spelling among Alice's posts
    assert "authors: Alice 4" in lines
    assert "years: 2021 3" in lines


# -- filters, sort, paging and facets together --------------------------------------------------------------------

@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("sort", SORTS)
def test_pages_of_a_filtered_search_make_the_filtered_list(bix, filters, sort):
    full = bix.search("咖啡", limit=None, sort=sort, facets=True, **filters)
    union = []
    for page in range(1, 6):
        results = bix.search("咖啡", limit=3, page=page, sort=sort, facets=True, **filters)
        assert results.total == full.total
        assert results.facets == full.facets
        union.extend(paths(results))
    assert union == paths(full)
    assert set(union) == found(bix, **filters)


def test_cli_combined(bix, browse_index):
    expected = paths(bix.search("咖啡", limit=None, sort="oldest", categories=("社交媒体", "技术"),
                                since="2017", until="2021-04"))
    assert expected == ["zhihu/newyear.md", "zhihu/column.md", "weibo/post.md", "tech/python.md", "tech/rust.md"]
    result = run(browse_index, "search", "咖啡", "--category", "社交媒体", "--category", "技术", "--since", "2017",
                 "--until", "2021-04", "--sort", "oldest", "-n", "2", "--page", "2", "--facets", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [h["path"] for h in doc["hits"]] == expected[2:4]
    assert doc["total"] == 5
    assert doc["facets"]["years"] == {"2017": 2, "2018": 1, "2021": 2}
    assert doc["facets"]["categories"] == {"社交媒体": 3, "技术": 2, "知乎": 2, "微博": 1, "知乎专栏": 1,
                                           "知乎日报": 1}


# -- zero hits ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "filters", "counts", "suggestion"), [
    ("咖啡 +麒麟果", {}, (("咖啡", 14), ("+麒麟果", 0)), "咖啡"),
    ("+拿铁 +摩卡", {}, (("+拿铁", 1), ("+摩卡", 1)), "+拿铁"),         # each alone matches, not together
    ("咖啡 title:麒麟果", {}, (("咖啡", 14), ("title:麒麟果", 0)), "咖啡"),
    ("咖啡 date:2030", {}, (("咖啡", 14),), "咖啡"),
    ("咖啡 +拿铁", {"categories": ("技术",)}, (("咖啡", 14), ("+拿铁", 1)), "咖啡"),  # the filter emptied it
    ("麒麟果", {}, (("麒麟果", 0),), None),                            # nothing smaller to suggest
])
def test_zero_hits_library(bix, query, filters, counts, suggestion):
    results = bix.search(query, facets=True, **filters)
    assert (results.total, results.hits) == (0, ())
    assert results.term_counts == counts
    for term, count in counts:
        assert bix.search(term).total == count
    assert results.suggestion == suggestion
    if suggestion is not None:
        assert bix.search(suggestion, **filters).total > 0
    assert results.to_dict()["suggestion"] == suggestion


def test_partial_hits_cli_say_which_word_they_lack(browse_index):
    result = run(browse_index, "search", "咖啡", "麒麟果", "-n", "3")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[:2] == ["14 posts match; showing 1–3",
                                              "zhsearch: no post holds every word; 14 hold some: without 麒麟果"]
    doc = json.loads(run(browse_index, "search", "咖啡", "麒麟果", "-n", "3", "--json").stdout)
    assert (doc["total"], doc["complete"]) == (14, 0)
    assert doc["notice"] == "no post holds every word; 14 hold some: without 麒麟果"
    assert [h["matched_terms"] for h in doc["hits"]] == [["咖啡"]] * 3


def test_zero_hits_cli(browse_index):
    result = run(browse_index, "search", "咖啡", "+麒麟果")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["zhsearch: nothing matches 咖啡 +麒麟果 (posts per term: 咖啡: 14, +麒麟果: 0)",
                                          "zhsearch: try: zhsearch search 咖啡"]
    result = run(browse_index, "search", "麒麟果")
    assert result.exit_code == 1
    assert "try:" not in result.stderr


def test_zero_hits_cli_json(browse_index):
    result = run(browse_index, "search", "+拿铁", "+摩卡", "--json", "--facets")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["total"] == 0 and doc["hits"] == []
    assert doc["term_counts"] == {"+拿铁": 1, "+摩卡": 1}
    assert doc["suggestion"] == "+拿铁"
    assert doc["facets"] == {"categories": {}, "authors": {}, "years": {}}


def test_zero_hits_cli_filtered(browse_index):
    result = run(browse_index, "search", "咖啡", "--since", "2030", "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert (doc["total"], doc["hits"]) == (0, [])


# -- show ---------------------------------------------------------------------------------------------------------

SHOW_KEYS = {"path", "title", "author", "categories", "tags", "date", "url", "text"}


def test_show_library(bix):
    doc = bix.show("tech/rust.md")
    assert doc == Document(path="tech/rust.md", title="Rust 与咖啡", author="Bob, 小王", categories=("技术",),
                           tags=("Rust",), date="2021-04-30T23:59:59", url=None, text="写 Rust 的时候来一杯摩卡咖啡。",
                           authors=("Bob", "小王"))
    assert bix.show("travel/taipei.md").date == "2021-01-01T00:30:00+08:00"
    undated = bix.show("notes/undated-b.md")
    assert (undated.date, undated.categories, undated.author) == (None, (), "Alice")
    with pytest.raises(NotInIndex, match="notes/nothing.md"):
        bix.show("notes/nothing.md")
    assert issubclass(NotInIndex, search.SearchError)


def test_show_error_is_exported():
    assert search.NotInIndex is NotInIndex


def test_show_cli_json(bix, browse_index):
    result = run(browse_index, "show", "zhihu/newyear.md", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == SHOW_KEYS
    assert doc == {"path": "zhihu/newyear.md", "title": "新年第一杯咖啡", "author": "知乎",
                   "categories": ["社交媒体", "知乎", "知乎日报"], "tags": ["求职", "面试"],
                   "date": "2017-01-01T00:00:00", "url": None, "text": "新年第一天的咖啡，还有一次面试。"}
    assert doc == bix.show("zhihu/newyear.md").to_dict()


def test_show_cli_human(browse_index):
    result = run(browse_index, "show", "zhihu/newyear.md")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["新年第一杯咖啡", "path: zhihu/newyear.md", "author: 知乎",
                                          "date: 2017-01-01T00:00:00", "categories: 社交媒体 / 知乎 / 知乎日报",
                                          "tags: 求职, 面试", "", "新年第一天的咖啡，还有一次面试。"]


def test_show_paths_printed_by_search(bix, browse_index):
    for hit in bix.search("咖啡", limit=None):
        assert bix.show(hit.path).title == hit.title
    result = run(browse_index, "show", "notes/2019-03-05-named.md")
    assert result.exit_code == 0, result.stderr
    assert "date: 2019-03-05T00:00:00" in result.stdout.splitlines()


@pytest.mark.parametrize("path", ["notes/nothing.md", "tech", "/tech/rust.md", "tech\\rust.md"])
def test_show_unknown_path(browse_index, path):
    for extra in ((), ("--json",)):
        result = run(browse_index, "show", path, *extra)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.startswith("zhsearch: ") and result.stderr.count("\n") == 1


# -- stats --------------------------------------------------------------------------------------------------------

def test_stats_library(bix):
    stats = bix.stats()
    assert stats.posts == 14
    assert stats.categories == FULL_FACETS["categories"]
    assert stats.authors == FULL_FACETS["authors"]
    assert stats.years == FULL_FACETS["years"]
    assert (stats.first_date, stats.last_date) == ("2016-12-31", "2022-02-02")  # one form: the day
    assert stats.size_bytes > 0
    datetime.datetime.fromisoformat(stats.built)
    datetime.datetime.fromisoformat(stats.updated)


def test_stats_cli_json(bix, browse_index):
    result = run(browse_index, "stats", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert isinstance(doc["posts"], int) and doc["posts"] == 14
    assert doc["categories"] == FULL_FACETS["categories"]
    assert doc["authors"] == FULL_FACETS["authors"]
    assert isinstance(doc["size_bytes"], int) and doc["size_bytes"] > 0
    built = datetime.datetime.fromisoformat(doc["built"])
    assert abs(datetime.datetime.now(datetime.timezone.utc) - built.astimezone(datetime.timezone.utc)) \
        < datetime.timedelta(days=1)
    assert doc == bix.stats().to_dict()


def test_stats_cli_human(browse_index):
    result = run(browse_index, "stats")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "posts: 14" in lines
    assert "dates: 2016-12-31 … 2022-02-02" in lines
    assert "authors: Alice 4, 知乎 3, Bob 2, 小王 2" in lines


def test_stats_facets_of_everything(bix):
    """The facets of a query matching every post are the index's stats."""
    facets = bix.search("咖啡", facets=True).facets
    stats = bix.stats()
    assert (facets.categories, facets.authors, facets.years) == (stats.categories, stats.authors, stats.years)
