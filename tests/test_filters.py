"""query/filters.py: a search's arguments forgiven or refused by name, browsing by filters alone, and the note
naming the filter that emptied a result; through the library and the CLI."""

from __future__ import annotations

import datetime
import json

import pytest
from click.testing import CliRunner

import search
from search.cli import main


def run(*args: str):
    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        runner = CliRunner()
    result = runner.invoke(main, list(args))
    assert "Traceback" not in result.output + result.stderr
    return result


def paths(results) -> list[str]:
    return [hit.path for hit in results]


# -- arguments: types forgiven, wrong ones named ------------------------------------------------------------------

@pytest.mark.parametrize("since", ["2022", "2022-01-01", datetime.date(2022, 1, 1),
                                   datetime.datetime(2022, 1, 1, 8, 30), datetime.datetime(2022, 1, 1, 8, 30,
                                                                                            tzinfo=datetime.timezone.utc)])
def test_filters_since_takes_a_date_a_datetime_or_a_string(ix, since):
    # Regression: a datetime.date was reported as a damaged index ("'datetime.date' object has no attribute 'strip'").
    assert sorted(paths(ix.search("内推", since=since))) == ["blog/body-neitui.md", "blog/title-neitui.md"]


def test_filters_until_takes_a_date(ix):
    assert paths(ix.search("内推", until=datetime.date(2021, 12, 31))) == ["zhihu/neitui.md"]


@pytest.mark.parametrize("categories", ["旅行", ["旅行"], ("旅行",), {"旅行"}, (c for c in ["旅行"]), ["旅行", " "]])
def test_filters_names_take_one_string_or_an_iterable(ix, categories):
    # Regression: categories='旅行' was read as the categories 旅 and 行, and silently gave no hit.
    assert sorted(paths(ix.search("台湾", categories=categories))) == ["blog/taiwan-simp.md", "blog/taiwan-trad.md"]


def test_filters_authors_and_tags_take_one_string(ix):
    assert paths(ix.search("马克思", authors="历史爱好者")) == ["blog/marx.md"]
    assert sorted(paths(ix.search("马克", tags="读书"))) == ["blog/marx.md", "blog/twain.md"]


@pytest.mark.parametrize("kwargs, named", [
    ({"since": 2022}, "since"), ({"until": 2021.5}, "until"), ({"categories": 5}, "categories"),
    ({"authors": [1, 2]}, "authors"), ({"tags": b"x"}, "tags"), ({"limit": "3"}, "limit"), ({"page": 1.0}, "page"),
])
def test_filters_wrong_type_is_a_type_error_naming_the_argument(ix, kwargs, named):
    with pytest.raises(TypeError, match=named):
        ix.search("内推", **kwargs)


def test_filters_query_of_the_wrong_type(ix):
    with pytest.raises(TypeError, match="query"):
        ix.search(["内推"])


@pytest.mark.parametrize("kwargs, named", [({"since": "yesterday"}, "since"), ({"until": "2021-13"}, "until")])
def test_filters_bad_date_is_a_value_error_naming_the_argument(ix, kwargs, named):
    with pytest.raises(ValueError, match=named) as caught:
        ix.search("内推", **kwargs)
    assert not isinstance(caught.value, search.SearchError)  # never reported as a damaged index


def test_filters_since_after_until_is_a_value_error(ix):
    with pytest.raises(ValueError, match="since 2022 is after until 2021"):
        ix.search("内推", since="2022", until="2021")
    assert ix.search("内推", since="2021-04", until="2021").total == 1  # a month inside the year: fine


def test_cli_filters_since_after_until_is_a_usage_error(index_dir):
    result = run("search", "内推", "--since", "2022", "--until", "2021", "--index", str(index_dir))
    assert result.exit_code == 2
    assert result.stderr == "zhsearch: since 2022 is after until 2021: no date is in that range\n"


# -- filters alone browse -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", [None, "", "  "])
def test_filters_alone_browse_newest_first(ix, query):
    results = ix.search(query, categories="旅行")
    assert paths(results) == ["blog/taiwan-simp.md", "blog/taiwan-trad.md"]  # 2019-08-08, then 2019-05-05
    assert results.total == 2 and results.query == ""


def test_filters_alone_browse_in_the_order_asked_for(ix):
    assert paths(ix.search(None, categories="旅行", sort="oldest")) == ["blog/taiwan-trad.md", "blog/taiwan-simp.md"]
    assert paths(ix.search(None, since="2022")) == ["blog/python.md", "blog/body-neitui.md", "blog/title-neitui.md"]


def test_filters_alone_browse_agrees_with_the_field_query(ix):
    assert sorted(paths(ix.search(None, categories="求职"))) == sorted(paths(ix.search("category:求职")))


def test_filters_alone_browse_facets_and_pages(ix):
    results = ix.search("", tags="读书", limit=1, page=2, facets=True)
    assert results.total == 2 and paths(results) == ["blog/marx.md"]
    assert results.facets.categories == {"历史": 1, "文学": 1}


@pytest.mark.parametrize("query", [None, "", " "])
def test_filters_no_query_and_no_filter_is_an_error(ix, query):
    with pytest.raises(search.QueryError, match="empty"):
        ix.search(query)


def test_cli_filters_alone_browse(index_dir):
    result = run("search", "--category", "旅行", "--index", str(index_dir))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.index("blog/taiwan-simp.md") < result.stdout.index("blog/taiwan-trad.md")
    assert "2 posts match" in result.stderr


def test_cli_filters_alone_json(index_dir):
    result = run("search", "--since", "2024", "--json", "--index", str(index_dir))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["query"] == "" and [h["path"] for h in doc["hits"]] == ["blog/python.md"]


def test_cli_no_query_and_no_filter_is_exit_2(index_dir):
    result = run("search", "--index", str(index_dir))
    assert result.exit_code == 2
    assert result.stderr.startswith("zhsearch: the query is empty") and result.stderr.count("\n") == 1


# -- the filter that emptied the result ---------------------------------------------------------------------------

@pytest.mark.parametrize("query, kwargs, note", [
    ("内推", {"categories": "不存在的分类"}, "3 posts match 内推, none of them in category 不存在的分类"),
    ("内推", {"categories": ["甲", "乙"]}, "3 posts match 内推, none of them in category 甲 or 乙"),
    ("内推", {"authors": "nobody"}, "3 posts match 内推, none of them by author nobody"),
    ("内推", {"tags": "读书"}, "3 posts match 内推, none of them tagged 读书"),
    ("内推", {"since": "2023"}, "3 posts match 内推, none of them dated 2023 or later"),
    ("内推", {"until": "2020"}, "3 posts match 内推, none of them dated 2020 or earlier"),
    ("内推", {"since": "2018", "until": "2020"}, "3 posts match 内推, none of them dated 2018 to 2020"),
    # The category alone leaves none: it is named, not the date.
    ("内推", {"categories": "旅行", "since": "2022"}, "3 posts match 内推, none of them in category 旅行"),
    # Each alone leaves some, together none: both named.
    ("内推", {"categories": "求职", "until": "2021"},
     "3 posts match 内推, none of them in category 求职 and dated 2021 or earlier"),
    ("马克思", {"authors": "nobody"}, "1 post matches 马克思, not by author nobody"),
    (None, {"categories": "旅行", "tags": "读书"}, "11 posts in the index, none of them in category 旅行 and tagged 读书"),
])
def test_filters_note_names_the_filter_that_emptied_the_result(ix, query, kwargs, note):
    results = ix.search(query, **kwargs)
    assert results.total == 0
    assert results.filter_note == note
    assert results.to_dict()["filter_note"] == note


def test_filters_no_note_when_the_query_matches_nothing_or_something(ix):
    assert ix.search("完全不存在的一句话", categories="旅行").filter_note is None
    assert ix.search("内推", categories="求职").filter_note is None
    assert "filter_note" not in ix.search("内推").to_dict()


def test_cli_filters_note(index_dir):
    result = run("search", "内推", "--category", "不存在的分类", "--index", str(index_dir))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "zhsearch: 3 posts match 内推, none of them in category 不存在的分类\n"


def test_cli_filters_note_json(index_dir):
    result = run("search", "内推", "--tag", "读书", "--json", "--index", str(index_dir))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["filter_note"] == "3 posts match 内推, none of them tagged 读书"
