"""search/query/ (with store/verbatim.py and query/snippets.py): what a query finds, in what order, with what snippet."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

import search
from search.segments import schema
from search.text import folding
from search.segments.fieldnames import SEARCH_FIELDS

from conftest import POSTS, VISIBLE


def paths(results: search.Results) -> list[str]:
    return [hit.path for hit in results]


def found(ix: search.Index, query: str) -> set[str]:
    return set(paths(ix.search(query, limit=None)))


def folded_fields(corpus: Path, rel: str) -> list[str]:
    post = search.read_post(corpus / rel, corpus)
    return [folding.fold(text) for text in schema.field_texts(post).values()]


# -- verbatim and words -----------------------------------------------------------------------------------------

def test_search_verbatim_across_jieba_words(ix):
    # jieba cuts 人脉背书 as 人/脉/背书; 脉背 is no word, yet it stands in the post.
    assert paths(ix.search('"脉背"')) == ["zhihu/neitui.md"]
    assert "zhihu/neitui.md" in found(ix, "脉背")


def test_search_words_scattered_also_match(ix):
    assert paths(ix.search("人脉背书")) == ["zhihu/neitui.md", "blog/scattered.md"]


def test_search_quoted_needs_the_exact_text(ix):
    assert paths(ix.search('"人脉背书"')) == ["zhihu/neitui.md"]


def test_search_quoted_is_grep_of_folded_text(ix, corpus_dir):
    """For many substrings of the posts, a quoted search finds exactly the posts whose folded text has them."""
    texts = {rel: folded_fields(corpus_dir, rel) for rel in VISIBLE}
    rng = random.Random(20240423)
    needles: set[str] = set()
    for fields in texts.values():
        body = fields[-1]
        for _ in range(25):
            size = rng.randint(1, 6)
            at = rng.randrange(0, max(1, len(body) - size))
            needle = body[at:at + size]
            if needle.strip() == needle and needle and not set(needle) & set('"“”「」\n\x1e\x1f'):
                needles.add(needle)
    assert len(needles) > 100
    for needle in sorted(needles):
        expected = {rel for rel, fields in texts.items() if any(needle in f for f in fields)}
        assert found(ix, f'"{needle}"') == expected, needle


def test_search_folded_query_matches_any_form(ix):
    assert found(ix, "臺灣") == {"blog/taiwan-trad.md", "blog/taiwan-simp.md"}
    assert found(ix, "台湾") == {"blog/taiwan-trad.md", "blog/taiwan-simp.md"}
    assert found(ix, '"臺灣"') == {"blog/taiwan-trad.md", "blog/taiwan-simp.md"}
    assert found(ix, "5G") == {"blog/python.md"}
    assert found(ix, "２０２４年") == {"blog/python.md"}
    assert found(ix, "FILE") == {"blog/python.md"}
    assert found(ix, "c++") == {"blog/python.md"}


def test_search_metadata_is_searchable(ix):
    assert found(ix, "章牧之") == {"zhihu/neitui.md"}       # span.author of the Zhihu format
    assert found(ix, "历史爱好者") == {"blog/marx.md"}      # author: in front matter
    assert found(ix, "游记") == {"blog/taiwan-trad.md", "blog/taiwan-simp.md"}  # tag


def test_search_html_script_not_indexed(ix):
    assert found(ix, "苹果") == {"blog/html-post.html"}
    assert ix.search("看不见").total == 0


def test_search_drafts_and_undecodable_left_out(ix):
    assert ix.search("独角兽").total == 0
    assert len(ix) == len(VISIBLE)


def test_search_broken_front_matter_still_indexed(ix):
    assert found(ix, "麒麟") == {"blog/broken-yaml.md"}


# -- boolean operators ------------------------------------------------------------------------------------------

def test_search_and_ranks_posts_holding_every_word_first(ix):
    results = ix.search("内推 简历", limit=None)
    assert paths(results)[0] == "zhihu/neitui.md"
    # Fewer than a page hold both: posts holding one of them follow, and say which.
    assert set(paths(results)) == {"zhihu/neitui.md", "blog/title-neitui.md", "blog/body-neitui.md"}
    assert [h.matched_terms for h in results] == [("内推", "简历"), ("内推",), ("内推",)]
    assert results.coverage == search.Coverage(complete=1, partial=2, missing=("简历",))
    assert results.notice == "1 post holds every word; 2 more hold some: without 简历"


def test_search_plus_requires_a_word(ix):
    assert found(ix, "内推 +简历") == {"zhihu/neitui.md"}
    assert found(ix, '内推 "简历"') == {"zhihu/neitui.md"}
    assert ix.search("内推 +简历").notice is None


def test_search_and_of_plain_words_is_strict_when_a_page_holds_them_all(ix):
    # With a page of one, the one post holding both words fills it: no partial posts.
    results = ix.search("内推 简历", limit=1)
    assert (paths(results), results.total, results.notice) == (["zhihu/neitui.md"], 1, None)


def test_search_never_returns_a_post_holding_no_word(ix):
    for hit in ix.search("内推 简历 鲲鹏展翅", limit=None):
        assert hit.matched_terms


def test_search_or(ix):
    assert found(ix, "马克思 OR 台湾") == {"blog/marx.md", "blog/taiwan-trad.md", "blog/taiwan-simp.md"}


def test_search_not_and_minus(ix):
    assert found(ix, "内推 NOT 求职") == {"zhihu/neitui.md"}
    assert found(ix, "内推 -知乎") == {"blog/title-neitui.md", "blog/body-neitui.md"}
    assert found(ix, "内推 -求职") == found(ix, "内推 NOT 求职")


def test_search_group(ix):
    assert found(ix, "(马克思 OR 台湾) 旅行") == {"blog/taiwan-trad.md", "blog/taiwan-simp.md"}


def test_search_not_alone_is_everything_else(ix):
    assert found(ix, "NOT 内推") == set(VISIBLE) - {"zhihu/neitui.md", "blog/title-neitui.md",
                                                    "blog/body-neitui.md"}


def test_search_dates(ix):
    assert found(ix, "date:2021") == {"zhihu/neitui.md"}
    assert found(ix, "date:2016..2017") == {"blog/scattered.md", "blog/marx.md", "blog/twain.md"}
    assert found(ix, "date:2017-03") == {"blog/marx.md"}
    assert found(ix, "读书 date:2017-11") == {"blog/twain.md"}


FIELD_CASES = [("title:内推", {"blog/title-neitui.md", "zhihu/neitui.md"}),
               ("body:内推", {"blog/body-neitui.md", "zhihu/neitui.md"}),
               ("author:章牧之", {"zhihu/neitui.md"}),
               ("category:旅行", {"blog/taiwan-trad.md", "blog/taiwan-simp.md"}),
               ("tag:读书", {"blog/marx.md", "blog/twain.md"}),
               ('title:"札記"', {"blog/taiwan-trad.md"})]


@pytest.mark.parametrize("query, expected", FIELD_CASES)
def test_search_field_restricts(ix, query, expected):
    assert found(ix, query) == expected


def test_search_field_word_not_in_field(ix):
    # A field query for text only in other fields finds nothing; independent of the mmap bug when no text matches.
    assert ix.search("author:不存在的人").total == 0


# -- ranking ----------------------------------------------------------------------------------------------------

def test_rank_verbatim_above_scattered(ix):
    hits = ix.search("人脉背书").hits
    assert [h.path for h in hits] == ["zhihu/neitui.md", "blog/scattered.md"]
    assert hits[0].score > hits[1].score


def test_rank_title_above_body(ix):
    assert paths(ix.search("内推 -知乎")) == ["blog/title-neitui.md", "blog/body-neitui.md"]


def test_rank_title_above_body_quoted(ix):
    assert paths(ix.search('"内推" -知乎')) == ["blog/title-neitui.md", "blog/body-neitui.md"]


def test_rank_scores_descend(ix):
    scores = [h.score for h in ix.search("内推 OR 台湾 OR 马克", limit=None)]
    assert scores == sorted(scores, reverse=True)


def test_rank_bm25f_is_whooshs(ix):
    # The score is computed from the posting lists directly; it must stay Whoosh's BM25F with our field boosts.
    from whoosh import query as wq
    from whoosh.scoring import BM25F
    from whoosh.searching import Searcher

    from search.query.ranking import BM25_B, BM25_K1, FIELD_BOOSTS, SEARCH_FIELDS

    for text in ("台湾", "马克思的台湾", "python的人脉背书"):
        words = ix._words(text)
        whoosh_query = wq.Or([wq.Or([wq.Term(schema.word_field(f), w, boost=FIELD_BOOSTS[f]) for f in SEARCH_FIELDS])
                              for w in words])
        with Searcher(ix._whoosh(), weighting=BM25F(B=BM25_B, K1=BM25_K1), closereader=False) as searcher:
            expected = {hit.docnum: hit.score for hit in searcher.search(whoosh_query, limit=None)}
        ix._postings_cache.clear()
        ours = ix._bm25f([(w, SEARCH_FIELDS) for w in words], set(ix._all))
        assert len(expected) > 1, words
        assert ours.keys() == expected.keys()
        assert all(ours[n] == pytest.approx(expected[n], rel=1e-9) for n in expected)


def test_field_lengths_are_whooshs_after_updates(fresh_corpus, tmp_path):
    # Field lengths are read a column at a time; they must be what Whoosh gives post by post, in every segment.
    index_dir = tmp_path / "index"
    search.build_index(fresh_corpus, index_dir, workers=1)
    (fresh_corpus / "blog" / "marx.md").write_text("---\ntitle: 伦敦\n---\n台湾的凤凰。" * 40 + "\n", encoding="utf-8")
    (fresh_corpus / "blog" / "new.md").write_text("---\ntitle: 新\n---\n只有正文。\n", encoding="utf-8")
    search.update_index(fresh_corpus, index_dir)
    with search.open_index(index_dir) as index:
        assert len(index._segments) > 1
        checked = 0
        for leaf, base in index._whoosh().leaf_readers():
            for n in range(leaf.doc_count_all()):
                for field in SEARCH_FIELDS:
                    expected = leaf.doc_field_length(n, schema.word_field(field), 0) or 1
                    found = index._length_of_byte[index._length_bytes_of(schema.word_field(field))[base + n]]
                    assert found == expected, (base + n, field)
                    checked += expected > 1
        assert checked > 10


def test_postings_leave_out_posts_deleted_by_updates(fresh_corpus, tmp_path):
    # After an update the older segments have deletions; the postings read block by block must be those Whoosh's
    # own (filtered) matcher gives, one posting at a time.
    index_dir = tmp_path / "index"
    search.build_index(fresh_corpus, index_dir, workers=1)
    (fresh_corpus / "blog" / "marx.md").write_text("---\ntitle: 伦敦\n---\n台湾的凤凰。\n", encoding="utf-8")
    (fresh_corpus / "blog" / "twain.md").unlink()
    search.update_index(fresh_corpus, index_dir)
    with search.open_index(index_dir) as index:
        assert any(segment.deleted for segment in index._segments)
        for field, word in (("body", "台湾"), ("body", "的"), ("title", "伦敦"), ("body", "马克思"), ("body", "凤凰")):
            expected: dict[int, float] = {}
            for leaf, base in index._whoosh().leaf_readers():
                if (schema.word_field(field), word) not in leaf:
                    continue
                matcher = leaf.postings(schema.word_field(field), word)
                while matcher.is_active():
                    expected[matcher.id() + base] = matcher.weight()
                    matcher.next()
            assert index._postings(field, word) == expected, word
            assert set(expected) <= set(index._all)


# -- snippets ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["第一段讲内推。\n第二段…也讲內推和臺灣，ＡＢＣ内推\n" * 20,
                                  "ﬁrst ﬁle…\n\n" + "无关的一行\n" * 50 + "最后才有人脉背书…和 Python",
                                  "cafe\u0301 内推\n第二行…内推", "没有命中的文本" * 40])
def test_snippet_from_stored_folded_text_equals_folding_here(text):
    # Hits cut snippets from the body as the text store holds it folded, mapping back only the lines shown.
    from search.query import snippets
    from search.text import unfolding

    needles = {"内推": frozenset(["内推"]), "台湾": frozenset(["台湾"]), "人脉背书": frozenset(["人脉", "背书"]),
               "人脉": frozenset(["人脉"]), "背书": frozenset(["背书"]), "python": frozenset(["python"])}
    folded = folding.fold(text)
    from_folded = snippets.snippet_of_folded(folded, needles, lambda a, b: unfolding.lines_of(text, folded, a, b))
    assert from_folded == snippets.snippet_of_text(text, needles)


def highlighted(hit: search.Hit) -> list[str]:
    return [hit.snippet[s:e] for s, e in hit.highlights]


def test_snippet_marks_whole_word(ix):
    hit = ix.search("马克思")[0]
    assert hit.path == "blog/marx.md"
    assert highlighted(hit) == ["马克思"]


def test_snippet_highlights_verbatim_query(ix):
    hit = ix.search("人脉背书")[0]
    assert highlighted(hit) == ["人脉背书"]


def test_snippet_shows_original_forms(ix):
    hit = next(h for h in ix.search("台湾") if h.path == "blog/taiwan-trad.md")
    assert highlighted(hit) == ["臺灣"]
    hit = ix.search("2024年")[0]
    assert "２０２４年" in highlighted(hit)


def test_snippet_highlights_cover_query_text(ix):
    for query in ("内推", "人脉背书", "马克", "臺灣", "c++ 5g", "苹果 OR 雪花"):
        words = {folding.fold(w) for w in query.split() if w != "OR"}
        for hit in ix.search(query, limit=None):
            for text in highlighted(hit):
                folded = folding.fold(text)
                assert any(folded in w or w in folded for w in words), (query, hit.path, text)


# -- results ----------------------------------------------------------------------------------------------------

def test_results_limit_and_total(ix):
    everything = ix.search("NOT 不存在的词", limit=None)
    assert everything.total == len(VISIBLE)
    assert len(everything) == len(VISIBLE)
    assert sorted(paths(everything)) == VISIBLE
    page = ix.search("NOT 不存在的词", limit=3)
    assert page.total == len(VISIBLE)
    assert len(page.hits) == 3
    assert paths(page) == paths(everything)[:3]


def test_results_negative_limit(ix):
    with pytest.raises(ValueError):
        ix.search("内推", limit=-1)


def test_results_nothing(ix):
    results = ix.search("完全不存在的一句话")
    assert (results.query, results.total, results.hits) == ("完全不存在的一句话", 0, ())


def test_hit_fields(ix):
    hit = ix.search("人脉背书")[0]
    assert hit.path == "zhihu/neitui.md"
    assert hit.title == "大家都内推，内推还有什么意义？"
    assert hit.authors == ("知乎", "章牧之")
    assert hit.author == "知乎, 章牧之"
    assert hit.categories == ("社交媒体", "知乎日报")
    assert hit.tags == ()
    assert hit.date == "2021-04-23T04:10:59"
    assert hit.url == "https://www.zhihu.com/question/417500350/answer/1846693784"
    assert isinstance(hit.score, float)
    assert isinstance(hit.snippet, str) and "人脉背书" in hit.snippet
    assert all(isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= len(hit.snippet)
               for s, e in hit.highlights)
    as_dict = hit.to_dict()
    assert set(as_dict) == {"path", "title", "author", "categories", "tags", "date", "url", "score", "snippet",
                            "highlights", "title_highlights", "matched_terms"}
    assert as_dict["matched_terms"] == ["人脉", "背书"]


def test_hit_without_metadata(ix):
    hit = ix.search("麒麟")[0]
    assert (hit.author, hit.authors, hit.url, hit.date) == (None, (), None, None)


def test_search_same_results_with_two_workers(corpus_dir, ix, tmp_path):
    search.build_index(corpus_dir, tmp_path / "index", workers=2)
    with search.open_index(tmp_path / "index") as two:
        assert len(two) == len(ix)
        for query in ("内推", "人脉背书", '"脉背"', "NOT 内推", "date:2016..2017", "臺灣", "c++"):
            assert found(two, query) == found(ix, query), query


# -- the project's own corpus -----------------------------------------------------------------------------------

def test_project_corpus_renmai_beishu(project_ix):
    hits = project_ix.search('"人脉背书"', limit=None)
    assert hits.total >= 1
    assert any("人脉背书" in h.path for h in hits)
    for hit in hits:
        assert "人脉背书" in highlighted(hit) or "人脉背书" in hit.title


def test_project_corpus_marx_not_twain(project_ix):
    for hit in project_ix.search("马克思", limit=None):
        assert "马克" not in highlighted(hit)
    top = project_ix.search("马克思")[0]
    assert "马克思" in top.path


# -- questions and keyword runs ---------------------------------------------------------------------------------

def _small_index(base: Path, posts: dict[str, tuple[str, str]]):
    """Build and open an index of `posts` (file name → (title, body)) under `base`."""
    corpus = base / "corpus"
    for name, (title, body) in posts.items():
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / name).write_text(f"---\ntitle: {title}\n---\n{body}\n", encoding="utf-8")
    search.build_index(corpus, base / "index", workers=1)
    return search.open_index(base / "index")


def test_equal_posts_go_by_path_across_pages(tmp_path, monkeypatch):
    # Seven posts alike but for their paths, and one better (the word in its title): each page holds the next
    # posts by path, whether the tie ends inside the page or beyond it, and whether the paths are read one by one
    # or all at once.
    from search.query import ranking

    posts = {f"{name}.md": ("帖子", "这里写了鲲鹏的故事。") for name in ("g", "c", "a", "f", "b", "e", "d")}
    posts["z.md"] = ("鲲鹏", "这里写了鲲鹏的故事。")
    with _small_index(tmp_path, posts) as ix:
        assert paths(ix.search("鲲鹏", limit=None)) == ["z.md", "a.md", "b.md", "c.md", "d.md", "e.md", "f.md", "g.md"]
        pages = [paths(ix.search("鲲鹏", limit=3, page=n)) for n in (1, 2, 3)]
        assert pages == [["z.md", "a.md", "b.md"], ["c.md", "d.md", "e.md"], ["f.md", "g.md"]]
        assert paths(ix.search("鲲鹏", limit=1)) == ["z.md"]
        monkeypatch.setattr(ranking, "PATHS_LOOKED_UP", 0)
        assert [paths(ix.search("鲲鹏", limit=3, page=n)) for n in (1, 2, 3)] == pages


@pytest.fixture(scope="module")
def qa_ix(tmp_path_factory):
    bodies = {
        "all.md": "华氏温标由华伦海特制定，是一种气温的表示法。",
        "some.md": "英国国会制定了新的法令。",
        "none.md": "今天天气很好，我们去公园散步。",
    }
    with _small_index(tmp_path_factory.mktemp("qa"), {n: (n[:-3], b) for n, b in bodies.items()}) as ix:
        yield ix


def test_question_matches_any_content_word_ranked_by_share(qa_ix):
    # no post has every word of the question: posts with more of them (by rarity) come first
    assert paths(qa_ix.search("华氏温标是哪一人所制定的气温表示法则？")) == ["all.md", "some.md"]


def test_question_words_alone_match_nothing_more(qa_ix):
    # 是/哪/的/什么 are left out of matching: they don't bring in every post
    assert paths(qa_ix.search("英国国会是什么")) == ["some.md"]


def test_keyword_run_holding_all_words_first(qa_ix):
    # 华氏温标制定: all.md holds both words; some.md only 制定, after it
    assert paths(qa_ix.search("华氏温标制定")) == ["all.md", "some.md"]
    assert paths(qa_ix.search("华氏温标制定", limit=1)) == ["all.md"]
    # 国会天气: no post holds both; each post holding one follows, never one holding neither
    assert set(paths(qa_ix.search("国会天气"))) == {"some.md", "none.md"}


def test_keyword_run_without_a_post_having_all_ranks_by_the_words_held(qa_ix):
    # four words, no post has them all: the post with two (公园, 散步) before those with one
    results = qa_ix.search("华氏温标国会公园散步")
    assert paths(results)[0] == "none.md"
    assert results.hits[0].matched_terms == ("公园", "散步")
    assert set(paths(results)) == {"none.md", "all.md", "some.md"}


def test_question_with_quotes_and_parentheses_inside_is_one_term(qa_ix):
    assert paths(qa_ix.search("“华氏温标”是谁（哪一人）制定的？")) == ["all.md", "some.md"]


# -- re-scoring the best posts of a question from their text -------------------------------------------------------

@pytest.fixture(scope="module")
def lead_ix(tmp_path_factory):
    # The same two sentences in both posts, in the other order: the same words, counts and length, so the same
    # BM25F score and coverage; only where the question's words stand differs.
    topic = "长期护理保险的费用取决于投保时的年龄和健康状况。"
    other = "很多家庭在退休以前都会认真比较几家公司提供的方案和条款。"
    posts = {"a-late.md": ("帖子", other + topic), "z-lead.md": ("帖子", topic + other)}
    with _small_index(tmp_path_factory.mktemp("lead"), posts) as ix:
        yield ix


def test_question_ranks_the_post_that_opens_with_it_first(lead_ix):
    assert paths(lead_ix.search("长期护理保险的费用是多少？")) == ["z-lead.md", "a-late.md"]


def test_keyword_search_is_not_rescored_from_the_text(lead_ix):
    # not a question: equal scores, ordered by path as before
    assert paths(lead_ix.search("长期护理保险费用")) == ["a-late.md", "z-lead.md"]
    assert paths(lead_ix.search("护理 费用")) == ["a-late.md", "z-lead.md"]


def test_question_rescoring_off_leaves_the_tie(lead_ix, monkeypatch):
    from search.query import ranking

    monkeypatch.setattr(ranking, "RERANK_DEPTH", 0)
    assert paths(lead_ix.search("长期护理保险的费用是多少？")) == ["a-late.md", "z-lead.md"]


@pytest.fixture(scope="module")
def sentence_ix(tmp_path_factory):
    # The same characters and words in both posts: the question's words in one sentence, or in two.
    posts = {"a-split.md": ("帖子", "护理保险取决于年龄和条款。家庭会比较方案的费用。"),
             "z-together.md": ("帖子", "护理保险的费用取决于年龄。家庭会比较方案和条款。")}
    with _small_index(tmp_path_factory.mktemp("sentence"), posts) as ix:
        yield ix


def test_question_ranks_the_post_holding_it_in_one_sentence_first(sentence_ix, monkeypatch):
    from search.query import ranking

    question = "护理保险的费用是多少？"
    assert paths(sentence_ix.search(question)) == ["z-together.md", "a-split.md"]
    # the sentence share alone decides it; without it the posts tie (ordered by path)
    monkeypatch.setattr(ranking, "EARLY_WEIGHT", 0.0)
    monkeypatch.setattr(ranking, "PHRASE_WEIGHT", 0.0)
    assert paths(sentence_ix.search(question)) == ["z-together.md", "a-split.md"]
    monkeypatch.setattr(ranking, "SENTENCE_WEIGHT", 0.0)
    assert paths(sentence_ix.search(question)) == ["a-split.md", "z-together.md"]


@pytest.mark.parametrize("text", ["长期护理保险很贵。费用取决于年龄!", "费用\n长期护理 保险的费用", "j代码。j 代码;python3 车,险", "",
                                  "没有相关的字"])
def test_sentence_share_counts_bigrams_as_each_sentence_cuts_them(text):
    from search.query.ranking import _char_bigrams, _gram_finders, _sentence_share

    for question in ("长期护理保险的费用?", "j代码是什么?", "车?险 python"):
        grams = _char_bigrams(question)
        sentences = re.findall(r"[^。!?;\n]+[。!?;\n]?", text) or [text]
        expected = max(len(grams & _char_bigrams(s)) / len(grams) for s in sentences)
        finders = _gram_finders(grams)
        assert _sentence_share(text, finders, [1.0] * len(finders)) == pytest.approx(expected)


def test_sentence_share_weighs_each_bigram():
    from search.query.ranking import _gram_finders, _sentence_share

    finders = _gram_finders({"保险", "费用"})  # sorted: 保险, 费用
    text = "保险很多。费用很少。"
    assert _sentence_share(text, finders, [1.0, 3.0]) == pytest.approx(0.75)  # the second sentence, with 费用
    assert _sentence_share("保险的费用。", finders, [1.0, 3.0]) == pytest.approx(1.0)
    assert _sentence_share("没有。", finders, [1.0, 3.0]) == 0.0


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="lists open files through /proc")
def test_closing_an_index_closes_every_file_it_opened(index_dir):
    # A program that opens the index for each query must not run out of descriptors (nor keep a deleted
    # generation's files on disk): the text store's files and sidecars close with the index.
    def open_in_index() -> list[str]:
        paths = []
        for fd in Path("/proc/self/fd").iterdir():
            try:
                target = fd.readlink()
            except OSError:
                continue
            if target.is_relative_to(index_dir.resolve()):
                paths.append(target.name)
        return paths

    before = open_in_index()
    for _ in range(3):
        with search.open_index(index_dir) as ix:
            assert ix.search('"人脉背书"', limit=None) and ix.search("内推", limit=None)
            assert any(name.endswith(".pairs") for name in open_in_index())  # (the sidecars were used)
    assert open_in_index() == before


# -- exact short terms, runs cut into units, partial matches --------------------------------------------------------

@pytest.fixture(scope="module")
def exact_ix(tmp_path_factory):
    posts = {
        "involution.md": ("教育", "东亚的教育越来越内卷，大家都很累。"),
        "scattered.md": ("容器", "虚拟内存不够了。考卷上写着存储卷的用法。"),
        "referral.md": ("求职", "前面一大段讲虚拟内存和推送。" + "无关的话。" * 40 + "最后说到内推的好处。"),
        "quantum.md": ("量子纠缠入门", "量子纠缠是一种物理现象。"),
        "apart.md": ("物理", "量子力学里，粒子可以纠缠在一起。"),
        "half.md": ("物理", "量子计算机很贵。"),
        "vscode.md": ("编辑器", "我用 vscode 写代码。"),
        "versus.md": ("对比", "5G vs WiFi 的区别。"),
    }
    with _small_index(tmp_path_factory.mktemp("exact"), posts) as ix:
        yield ix


@pytest.mark.parametrize(("query", "expected"), [
    ("内卷", {"involution.md"}),          # jieba cuts 内/卷: not 内存 + 考卷
    ("内存", {"scattered.md", "referral.md"}),
    ("存储卷", {"scattered.md"}),
    ("卷的用", {"scattered.md"}),          # three characters: verbatim
    ("内推", {"referral.md"}),
])
def test_short_term_matches_only_where_it_stands(exact_ix, query, expected):
    assert found(exact_ix, query) == expected


def test_short_latin_word_matches_as_a_word(exact_ix):
    assert found(exact_ix, "vs") == {"versus.md"}      # not the vs of vscode
    assert found(exact_ix, "vsco") == {"vscode.md"}    # no post has it as a word: verbatim, like grep


def test_run_cut_into_units_verbatim_first(exact_ix):
    results = exact_ix.search("量子纠缠", limit=None)
    # quantum.md holds it as typed, apart.md holds 量子 and 纠缠 apart; half.md only 量子, and comes last
    assert paths(results) == ["quantum.md", "apart.md", "half.md"]
    assert [h.matched_terms for h in results] == [("量子", "纠缠"), ("量子", "纠缠"), ("量子",)]
    assert results.coverage == search.Coverage(complete=2, partial=1, missing=("纠缠",))


def test_run_typed_with_or_without_spaces_alike(exact_ix):
    assert paths(exact_ix.search("量子纠缠", limit=None)) == paths(exact_ix.search("量子 纠缠", limit=None))
    results = exact_ix.search("量子纠缠xyz")
    assert paths(results)[:2] == ["quantum.md", "apart.md"]
    assert results.notice == "no post holds every word; 3 hold some: without xyz, 纠缠"


def test_snippet_shows_the_term_whole(exact_ix):
    hit = exact_ix.search("内推")[0]
    assert highlighted(hit) == ["内推"]                 # never the 内 of 内存 or the 推 of 推送
    assert "最后说到内推的好处" in hit.snippet


def test_snippet_prefers_the_run_as_typed(exact_ix):
    hit = exact_ix.search("量子纠缠")[0]
    assert highlighted(hit)[0] == "量子纠缠"
    assert hit.title_highlights == ((0, 4),)


def test_snippet_of_a_run_apart_marks_its_units(exact_ix):
    hit = next(h for h in exact_ix.search("量子纠缠") if h.path == "apart.md")
    assert highlighted(hit) == ["量子", "纠缠"]


def test_particle_typed_alone_counts_for_nothing_beside_other_words(exact_ix):
    # 和 stands in many posts: it neither lets posts in nor ranks them
    assert paths(exact_ix.search("量子 和 纠缠", limit=None)) == paths(exact_ix.search("量子 纠缠", limit=None))


def test_question_beside_other_words_counts_by_its_pieces(exact_ix):
    results = exact_ix.search("物理 量子纠缠是什么？", limit=None)
    assert paths(results)[0] == "quantum.md"
    assert results.hits[0].matched_terms == ("物理", "量子", "纠缠")
