"""query.py: the query language → trees; malformed queries → QueryError, never anything else."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from search import QueryError, Results
from search.query.syntax import And, DateRange, Not, Or, Term, parse, positive_terms


def test_parse_single_term():
    assert parse("内推") == Term("内推")


def test_parse_implicit_and():
    assert parse("内推 简历") == And((Term("内推"), Term("简历")))


def test_parse_explicit_and_is_the_same():
    assert parse("内推 AND 简历") == parse("内推 简历")


def test_parse_or_binds_looser_than_and():
    assert parse("a b OR c") == Or((And((Term("a"), Term("b"))), Term("c")))


def test_boolean_nodes_equal_only_their_own_kind():
    # The nodes are named tuples; a plain tuple comparison would make an AND of two terms equal to their OR.
    a, b = Term("a"), Term("b")
    assert And((a, b)) != Or((a, b))
    assert parse("a b") != parse("a OR b")
    assert Not(a) != And((a,))
    assert And((a, b)) == And((Term("a"), Term("b")))
    assert len({And((a, b)), And((a, b)), Or((a, b))}) == 2


def test_parse_not_and_minus():
    assert parse("内推 NOT 校招") == And((Term("内推"), Not(Term("校招"))))
    assert parse("内推 -校招") == And((Term("内推"), Not(Term("校招"))))


def test_parse_minus_quote_and_group():
    assert parse('a -"b c"') == And((Term("a"), Not(Term("b c", quoted=True))))
    assert parse("a -(b OR c)") == And((Term("a"), Not(Or((Term("b"), Term("c"))))))


def test_parse_parentheses():
    assert parse("(a OR b) c") == And((Or((Term("a"), Term("b"))), Term("c")))


def test_parse_full_width_parentheses_and_colon():
    assert parse("（a OR b） 标题：x") == parse("(a OR b) 标题:x")
    assert parse("title：简历") == Term("简历", "title")


def test_parse_quotes():
    assert parse('"人脉 背书"') == Term("人脉 背书", quoted=True)
    assert parse("“人脉背书”") == Term("人脉背书", quoted=True)
    assert parse("「人脉背书」") == Term("人脉背书", quoted=True)


@pytest.mark.parametrize("query", ["“孔雀女”这一称呼指什么？", "谁称黄衫女子为「杨姊姊」？", "汇丰银行（巴拿马）的总部", "汇丰银行(巴拿马)",
                                   "a)b", '说"你好"的人'])
def test_parse_punctuation_inside_a_word_is_text(query):
    # a question typed as a sentence stays one term: cut at its quotes, each piece would be required
    assert parse(query) == Term(query.replace("（", "(").replace("）", ")"))


def test_parse_group_around_word_with_parentheses():
    assert parse("(汇丰银行(巴拿马) OR 花旗)") == Or((Term("汇丰银行(巴拿马)"), Term("花旗")))


def test_parse_unclosed_quote_closes_at_end():
    assert parse('"人脉背书') == Term("人脉背书", quoted=True)


def test_parse_unclosed_parenthesis_closes_at_end():
    assert parse("(a OR b") == Or((Term("a"), Term("b")))


@pytest.mark.parametrize("name, field", [("title", "title"), ("author", "author"), ("category", "category"),
                                         ("categories", "category"), ("tag", "tag"), ("tags", "tag"),
                                         ("body", "body"), ("TITLE", "title")])
def test_parse_fields(name, field):
    assert parse(f"{name}:简历") == Term("简历", field)


def test_parse_field_with_quote_and_group():
    assert parse('title:"人脉 背书"') == Term("人脉 背书", "title", quoted=True)
    assert parse("tag:(a OR -b)") == Or((Term("a", "tag"), Not(Term("b", "tag"))))


def test_parse_unknown_field_is_literal_text():
    assert parse("http://x") == Term("http://x")
    assert parse("foo:bar") == Term("foo:bar")


def test_parse_dates():
    assert parse("date:2021") == DateRange(20210101000000, 20211231235959)
    assert parse("date:2021-02") == DateRange(20210201000000, 20210228235959)
    assert parse("date:2024-02-29") == DateRange(20240229000000, 20240229235959)
    assert parse("date:2016..2017") == DateRange(20160101000000, 20171231235959)
    assert parse("date:..2017") == DateRange(0, 20171231235959)
    assert parse("date:2016..") == DateRange(20160101000000, 99991231235959)


@pytest.mark.parametrize("query", ["date:2021-13", "date:2023-02-29", "date:yesterday", "date:2018..2017"])
def test_parse_bad_date_is_query_error(query):
    with pytest.raises(QueryError):
        parse(query)


@pytest.mark.parametrize("query", [")", "a )", "a ) b", "(a))"])
def test_parse_stray_close_parenthesis(query):
    with pytest.raises(QueryError, match="parenthes"):
        parse(query)


@pytest.mark.parametrize("query", ["", "   ", "OR", "NOT", "-", '""', "()", "title:", "AND OR NOT"])
def test_parse_empty(query):
    with pytest.raises(QueryError, match="empty"):
        parse(query)


def test_parse_too_long():
    with pytest.raises(QueryError, match="too long"):
        parse("内" * 10_000)


def test_positive_terms_skip_negated():
    assert positive_terms(parse("a (b OR c) -d NOT e date:2020")) == [Term("a"), Term("b"), Term("c")]


QUERY_PIECES = list('ab内推人脉背书 ()"“”-:：（）') + [" OR ", " NOT ", " AND ", "title:", "date:", "-(", "date:2016..", " "]
QUERY_TEXT = st.lists(st.sampled_from(QUERY_PIECES), max_size=20).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), QUERY_TEXT))
def test_parse_any_text_gives_node_or_query_error(text):
    try:
        node = parse(text)
    except QueryError:
        return
    assert isinstance(node, (Term, DateRange, And, Or, Not))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=40), QUERY_TEXT.filter(lambda q: "title:" not in q)))
def test_search_any_text_gives_results_or_query_error(ix, text):
    try:
        results = ix.search(text)
    except QueryError:
        return
    assert isinstance(results, Results)
    assert results.total >= len(results.hits)
