"""The build's run cutter with rjieba (segmentation._cut_with_rjieba) gives jieba's own words, jieba's cut being the
reference: on hand-written runs, and on every run of Han characters in the real blog posts."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from search.text import folding, lexicon, segmentation
from search.text.tokenizer import has_default_dictionary, new_tokenizer

pytest.importorskip("rjieba")

BLOGS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "blogs"

TRICKY_RUNS = [
    "中华人民共和国", "人脉背书", "结婚的和尚未结婚的", "他来到了网易杭研大厦", "小明硕士毕业于中国科学院计算所",
    "一", "的", "鿕", "鿕鿕鿕", "一一一一一一", "哈哈哈哈哈哈哈哈", "乒乓球拍卖完了", "南京市长江大桥",
    "工信处女干事每月经过下属科室都要亲口交代二十四口交换机等技术性器件的安装工作",
    # A near tie in the HMM: rjieba's own HMM (its table rounded to 6 decimals) cuts 常在/较; jieba cuts 常/在/较.
    "常在较陡峭的礁岸可发现它们成群的洄游",
    "各仇苏傛予怪督闭不散桥族规界睡初子骂耳借阶鱼挺队旅地领青",
    # Characters outside jieba's HMM table, and a run of one-character words that together are a word.
    "龘靐齉爩", "丨丶丿乀乁", "中" * 300, "研究生命起源" * 50,
]


def test_rjieba_cut_is_jiebas_on_tricky_runs(tokenizer):
    cut = segmentation._cut_with_rjieba(tokenizer)
    assert cut is not None
    for run in TRICKY_RUNS:
        assert cut(run) == list(tokenizer._Tokenizer__cut_DAG(run)), run


def test_rjieba_cut_keeps_jiebas_hmm_on_a_near_tie(tokenizer):
    # Regression: rjieba's own HMM gave 常在/较 here, a word that queries (cut by jieba) never look for.
    assert segmentation._cut_with_rjieba(tokenizer)("常在较陡峭")[:3] == ["常", "在", "较"]


def test_rjieba_cut_only_for_the_default_dictionary(tokenizer, tmp_path):
    # rjieba holds jieba's default dictionary only: a user dictionary or an index's lexicon stays with jieba.
    user_dict = tmp_path / "user.txt"
    user_dict.write_text("杭研大厦 100 n\n", encoding="utf-8")
    with_user_words = new_tokenizer(user_dict)
    assert has_default_dictionary(tokenizer) and not has_default_dictionary(with_user_words)
    assert segmentation._cut_with_rjieba(with_user_words) is None
    assert "杭研大厦" in segmentation._RunCutter(with_user_words).tokens("他来到了网易杭研大厦")
    lexicon.write_lexicon(tokenizer, tmp_path / "lexicon.bin")
    with lexicon.Lexicon(tmp_path / "lexicon.bin") as lex:
        assert segmentation._cut_with_rjieba(lex.tokenizer_for("人脉背书")) is None


def test_run_cutter_without_rjieba_is_jiebas(tokenizer, monkeypatch):
    monkeypatch.setitem(sys.modules, "rjieba", None)  # makes `import rjieba` raise ImportError
    assert segmentation._cut_with_rjieba(tokenizer) is None
    cutter = segmentation._RunCutter(tokenizer)
    assert list(cutter._cut("中华人民共和国万岁")) == ["中华人民共和国", "万岁"]


def blog_runs() -> list[str]:
    """Every distinct run of Han characters in jieba's range in the blogs' folded fields, as a build cuts them."""
    from search.posts.corpus import find_post_names
    from search.posts.post import read_post
    from search.segments.schema import field_texts

    root = BLOGS.resolve()
    names, _ = find_post_names(root, {})
    whole = re.compile(segmentation._JIEBA_HAN).fullmatch
    runs: dict[str, None] = {}
    for name in names:
        post = read_post(root.joinpath(*name.split("/")), root)
        for text in field_texts(post).values():
            for match in segmentation._TOKEN_RE.finditer(folding.fold(text)):
                if match.lastgroup == "han" and whole(match.group()):
                    runs[match.group()] = None
    return list(runs)


@pytest.mark.skipif(not BLOGS.is_dir(), reason="needs ../shared/corpora/blogs")
def test_rjieba_cut_is_jiebas_on_every_blog_run():
    tokenizer = new_tokenizer()
    cut = segmentation._cut_with_rjieba(tokenizer)
    assert cut is not None
    runs = blog_runs()
    assert len(runs) > 100_000
    differing = [run for run in runs if cut(run) != list(tokenizer._Tokenizer__cut_DAG(run))]
    assert differing == []
