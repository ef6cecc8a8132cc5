"""analysis.py: folding, offset maps and the exact word tokens jieba's cut gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.text import folding, segmentation


def tokens(text: str, tokenizer) -> list[tuple[str, int, int, int]]:
    return [(t.text, t.pos, t.start, t.end) for t in segmentation.word_tokens(folding.fold(text), tokenizer)]


def test_word_tokens_subwords_stand_at_parent_position(tokenizer):
    assert tokens("中华人民共和国", tokenizer) == [
        ("中华人民共和国", 0, 0, 7), ("中华", 0, 0, 2), ("华人", 0, 1, 3), ("人民", 0, 2, 4),
        ("共和", 0, 4, 6), ("共和国", 0, 4, 7),
    ]


def test_word_tokens_renmai_beishu(tokenizer):
    # jieba cuts 人脉背书 as 人/脉/背书: why verbatim matching exists (脉背 is no word of it).
    assert tokens("人脉背书", tokenizer) == [("人", 0, 0, 1), ("脉", 1, 1, 2), ("背书", 2, 2, 4)]


def test_word_tokens_latin_with_parts(tokenizer):
    assert tokens("Python3.11和C++", tokenizer) == [
        ("python3.11", 0, 0, 10), ("python", 0, 0, 6), ("3.11", 0, 6, 10), ("和", 1, 10, 11),
        ("c++", 2, 11, 14), ("c", 2, 11, 12),
    ]


def test_word_tokens_full_width_folded(tokenizer):
    assert tokens("５G", tokenizer) == [("5g", 0, 0, 2), ("5", 0, 0, 1), ("g", 0, 1, 2)]
    assert tokens("２０２４年", tokenizer) == [("2024", 0, 0, 4), ("年", 1, 4, 5)]


def test_word_tokens_traditional_folds_to_simplified(tokenizer):
    assert folding.fold("臺灣") == "台湾"
    assert tokens("臺灣", tokenizer) == [("台湾", 0, 0, 2)]


def test_word_tokens_emoji_kana_extension_kept(tokenizer):
    assert tokens("😀かな𠮷", tokenizer) == [("😀", 0, 0, 1), ("か", 1, 1, 2), ("な", 2, 2, 3), ("𠮷", 3, 3, 4)]


def test_word_tokens_punctuation_dropped(tokenizer):
    assert tokens("你好，世界！", tokenizer) == [("你好", 0, 0, 2), ("世界", 1, 3, 5)]


def test_normalize_one_for_one_has_no_map():
    norm = folding.normalize("ＡＢＣ２０２４臺灣")
    assert norm.text == "abc2024台湾"
    assert norm.origin is None
    assert norm.original_offset(5) == 5


def test_normalize_ligature_offset_map():
    norm = folding.normalize("ﬁle ２０２４ ㍿")
    assert norm.text == "file 2024 株式会社"
    assert norm.origin == (0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9)
    assert norm.original_length == 10
    assert norm.original_offset(2) == 1          # "l" of "file" is the original's second character
    assert norm.original_offset(len(norm.text)) == 10


def test_analyze_offsets_point_into_original(tokenizer):
    text = "ﬁle臺灣２０２４"
    result = [(t.text, t.pos, t.start, t.end) for t in segmentation.analyze(text, tokenizer)]
    assert result == [("file", 0, 0, 3), ("台湾", 1, 3, 5), ("2024", 2, 5, 9)]
    assert [text[s:e] for _, _, s, e in result] == ["ﬁle", "臺灣", "２０２４"]


def test_main_words_drop_subwords(tokenizer):
    assert segmentation.main_words("中华人民共和国和python3.11", tokenizer) == ["中华人民共和国", "和", "python3.11"]


@pytest.mark.parametrize("text", ["", "   ", "，。！"])
def test_word_tokens_nothing_to_index(text, tokenizer):
    assert tokens(text, tokenizer) == []


POSTING_TEXTS = ["中华人民共和国中华人民共和国", "人脉背书和人脉", "Python3.11和C++、python3.11", "５G２０２４年，臺灣😀かな𠮷",
                 "", "，。！", "研究生命起源 the 3.14.15 v2beta",
                 # Han outside jieba's own range (extension A, U+9FD6.., compatibility): cut through jieba.cut
                 "中文㐀字鿰研究生命豈起源"]


def _counts_of_word_tokens(folded: str, tokenizer) -> dict[str, int]:
    """The definition word_counts keeps: how many positions each token has in word_tokens."""
    from collections import Counter

    # A token text counts once at each position it has (a sub-word twice in one word stands there once).
    return Counter(text for text, _ in {(t.text, t.pos) for t in segmentation.word_tokens(folded, tokenizer)})


@pytest.mark.parametrize("text", POSTING_TEXTS)
def test_word_counts_equal_counts_of_word_tokens(text, tokenizer):
    # word_counts is the build's fast path; word_tokens is the definition (and what queries use)
    folded = folding.fold(text)
    assert segmentation.word_counts(folded, tokenizer) == _counts_of_word_tokens(folded, tokenizer)


def test_word_counts_equal_word_tokens_on_random_text(tokenizer):
    import random

    rng = random.Random(7)
    alphabet = "中华人民共和国研究生命起源的了是在臺灣台湾㐀鿰豈 ，。a1.-+#'_😀かなÉé"
    for _ in range(500):
        folded = folding.fold("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))))
        assert segmentation.word_counts(folded, tokenizer) == _counts_of_word_tokens(folded, tokenizer), folded


def test_word_counts(tokenizer):
    # A sub-word twice inside one word (哈哈 in 哈哈哈) stands once at that word's position.
    assert segmentation.word_counts("中华人民共和国和中华，哈哈哈 c++ c++", tokenizer) == {
        "中华人民共和国": 1, "中华": 2, "华人": 1, "人民": 1, "共和": 1, "共和国": 1, "和": 1, "哈哈哈": 1, "哈哈": 1,
        "c++": 2, "c": 2}


def _normalize_char_by_char(text: str) -> tuple[str, tuple[int, ...]]:
    """The definition normalize's slow path must keep: each character alone, with its origin."""
    import unicodedata

    pieces, origin = [], []
    for offset, char in enumerate(text):
        piece = unicodedata.normalize("NFKC", char).lower()
        pieces.append(piece)
        origin.extend([offset] * len(piece))
    return folding._fold_chinese("".join(pieces)), tuple(origin)  # no second NFKC: it would compose e + ◌́


@pytest.mark.parametrize("text", ["abc…中文ＡＢ\n第二行ﬁ㍿ Ǆ e\u0301 x", "İstanbul…臺灣\r\nok", "…", "a\n\nb…",
                                  "第一行没有变化\n第二行…有省略号\n第三行也没有",
                                  "「引号」，句号。感叹！＂Ａ＂—“弯引号”…e\u0301〪ﬁ臺灣"])
def test_normalize_offsets_map_back_to_the_original(text):
    norm = folding.normalize(text)
    assert (norm.text, norm.origin) == _normalize_char_by_char(text)


@pytest.mark.parametrize("text", ["abc…中文ＡＢ\n第二行ﬁ㍿ Ǆ x", "İstanbul…臺灣\r\nok", "…", "a\n\nb…\n",
                                  "第一行没有变化\n第二行…有省略号\n第三行也没有", "ＡＢＣ\n臺灣", "",
                                  "「引号」…〪ﬁ臺灣\n\n\nﬁﬁ\u2028x…"])
def test_line_offsets_equal_the_whole_text_map(text):
    # Snippets map offsets of the stored folded body line by line; it must agree with normalising it whole.
    norm = folding.normalize(text)
    lines = folding.LineOffsets(text, folding.fold(text))
    assert folding.fold(text) == norm.text
    assert [lines.original_offset(i) for i in range(len(norm.text) + 2)] == \
        [norm.original_offset(i) for i in range(len(norm.text) + 2)]


def test_line_offsets_refuse_a_line_fold_composed():
    # fold() composes e + ◌́ into é; normalize's map keeps them apart. That line is refused, the others map.
    text = "cafe\u0301 …\n第二行…臺灣"
    lines = folding.LineOffsets(text, folding.fold(text))
    with pytest.raises(ValueError):
        lines.original_offset(1)
    second = folding.fold(text).index("第")
    assert [lines.original_offset(i) for i in range(second, second + 9)] == [8, 9, 10, 11, 11, 11, 12, 13, 14]


def test_line_offsets_refuse_another_text():
    with pytest.raises(ValueError):
        folding.LineOffsets("a…\nb", "a...b")


def test_fold_table_record_round_trips():
    record = folding.fold_table_record()
    assert len(record["from"]) == len(record["to"]) > 4000
    folding.adopt_fold_table(record)  # already folding in this process: kept, and still recordable
    assert folding.fold_table_record() == record
    with pytest.raises(ValueError):
        folding.adopt_fold_table({"from": "臺", "to": "台湾"})


def test_run_cutter_tokens_are_jiebas_cut(tokenizer):
    # The build's cutter remembers runs it cut; what it gives must stay jieba's own DAG cut with HMM, repeats too.
    import random

    cutter = segmentation._RunCutter(tokenizer)
    rng = random.Random(11)
    alphabet = "中华人民共和国研究生命起源的了是在台湾大学生活动人脉背书和我们可以说这个东西鿕一"
    runs = ["中华人民共和国", "人脉背书", "研究生命起源", "结婚的和尚未结婚的", "他来到了网易杭研大厦", "一", "鿕鿕"]
    runs += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(500)]
    for run in runs + runs:
        assert cutter.tokens(run) == _jieba_tokens(tokenizer, run), run


def _jieba_tokens(tokenizer, run: str) -> tuple[str, ...]:
    """jieba's DAG cut of `run`, each word followed by its search-mode grams (jieba's cut_for_search rule), once each."""
    tokens: list[str] = []
    for word in tokenizer._Tokenizer__cut_DAG(run):
        grams = [word[i:i + n] for n in (2, 3) if len(word) > n for i in range(len(word) - n + 1)
                 if tokenizer.FREQ.get(word[i:i + n])]
        tokens += [word, *dict.fromkeys(grams)]
    return tuple(tokens)


def test_run_cutter_tokens_carry_search_subwords_and_repeat_from_memory(tokenizer):
    cutter = segmentation._RunCutter(tokenizer)
    long_run = cutter.tokens("中华人民共和国万岁")
    assert long_run == ("中华人民共和国", "中华", "华人", "人民", "共和", "共和国", "万岁")
    assert cutter.tokens("中华人民共和国万岁") == long_run  # longer than the runs kept: cut again, the same
    short_run = cutter.tokens("共和国万岁")
    assert short_run == ("共和国", "共和", "万岁")
    assert cutter.tokens("共和国万岁") is short_run
    assert cutter.tokens("哈哈哈") == ("哈哈哈", "哈哈")  # a sub-word twice in a word: once


def test_run_cutter_memory_stops_at_its_bounds(tokenizer, monkeypatch):
    # A build's process keeps at most _RUNS_KEPT runs and _WORDS_KEPT words, however many posts it cuts; runs and
    # words past the bounds are cut again each time, the same.
    monkeypatch.setattr(segmentation, "_RUNS_KEPT", 5)
    monkeypatch.setattr(segmentation, "_WORDS_KEPT", 8)
    cutter = segmentation._RunCutter(tokenizer)
    runs = ["人脉背书", "研究生命", "台湾大学", "共和国万岁", "我们可以", "这个东西", "结婚的和尚", "生活动"]
    for run in runs + runs:
        assert cutter.tokens(run) == _jieba_tokens(tokenizer, run), run
    assert len(cutter._runs) == 5 and len(cutter._words) == 8


def test_word_counts_equal_word_tokens_on_project_corpus(tokenizer):
    # Real posts, one tokenizer throughout: the cutter's memory of repeated runs and words must not change a posting.
    files = sorted((Path(__file__).parents[1] / "corpus").rglob("*.md"))
    assert files
    for file in files:
        folded = folding.fold(file.read_text(encoding="utf-8", errors="replace"))
        assert segmentation.word_counts(folded, tokenizer) == _counts_of_word_tokens(folded, tokenizer), file
