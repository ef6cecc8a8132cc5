"""unfolding.py: a post's text as written is rebuilt exactly from its folded text and the changes folding made."""

from __future__ import annotations

import struct

from hypothesis import given, settings, strategies as st

import search
from search.query import snippets
from search.text.folding import fold
from search.text.unfolding import UNCHANGED, changes_made, lines_of, runs_changed, unfold_lines

# What folding changes: capitals, full-width forms, traditional characters, ligatures and circled numbers (which
# change the length), combining marks; beside what it keeps.
ALPHABET = st.sampled_from(list("abcXYZ内推臺灣國語２０ＡＢ ﬁ①é\u0301\n。，!?") + ["İ", "ß", "Ⅻ"])


@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET, max_size=40))
def test_changes_rebuild_the_text_as_written(text):
    folded = fold(text)
    changes = changes_made(text, folded)
    if changes is None:  # kept whole: most of it changed
        assert sum(a != b for a, b in zip(text, folded)) + abs(len(text) - len(folded)) > 0
    else:
        assert unfold_lines(folded, changes, 0, len(folded)) == text


def test_changes_are_the_runs_that_differ():
    text = "Hello World：臺灣 ２０２４ 年"
    assert runs_changed(text, fold(text)) == [(0, 1, "H"), (6, 1, "W"), (11, 3, "：臺灣"), (15, 4, "２０２４")]
    assert runs_changed("内推", "内推") == []
    assert changes_made("内推", "内推") == UNCHANGED
    # As the index keeps them: (offset, length, length as written) of each run as uint32 little-endian, and the
    # runs' texts joined.
    assert changes_made("Ｈｉ，内推是什么", "hi,内推是什么") == (struct.pack("<3I", 0, 3, 3), "Ｈｉ，")
    # A line whose length folding changed (the ligature folds to two letters) is kept whole, the others by runs.
    text = "Ａ行\n一个ﬁle……\n内推是什么意思，大家都在内推"
    assert runs_changed(text, fold(text)) == [(0, 1, "Ａ"), (3, 12, "一个ﬁle……"), (23, 1, "，")]
    assert changes_made("臺灣國語", fold("臺灣國語")) is None  # most of it changed: kept whole
    # Lines whose lengths changed, the text's length not (e + ◌́ composed, ﬁ split): whole lines, never a run
    # across a line feed, so the lines of a snippet are rebuilt alone.
    text = "Cafe\u0301\n\ufb01le\n内推是什么意思大家都在内推"
    folded = fold(text)
    assert len(folded) == len(text)
    assert runs_changed(text, folded) == [(0, 4, "Cafe\u0301"), (5, 4, "\ufb01le")]
    assert unfold_lines(folded, changes_made(text, folded), 5, 9) == "\ufb01le"


def test_index_shows_and_marks_the_text_as_written(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    bodies = {
        "latin.md": "Python 的 AsyncIO 与 Node.js：ＦＵＬＬ ＷＩＤＴＨ 内推",
        "traditional.md": "臺灣的內推與人脈背書",
        "ligature.md": "ﬁle 和 ① 号内推",
        "plain.md": "只有简体字的内推",
        "surrogate.md": "内推",
    }
    for name, body in bodies.items():
        (corpus / name).write_text(f"---\ntitle: {name}\n---\n{body}\n", encoding="utf-8")
    search.build_index(corpus, tmp_path / "index", workers=1)
    with search.open_index(tmp_path / "index") as ix:
        for name, body in bodies.items():
            assert ix.show(name).text == body
        hits = {hit.path: hit for hit in ix.search("内推", limit=None)}
        assert set(hits) == set(bodies)
        assert "ＦＵＬＬ ＷＩＤＴＨ 内推" in hits["latin.md"].snippet
        assert "臺灣的內推" in hits["traditional.md"].snippet
        hit = hits["latin.md"]
        assert [hit.snippet[start:end] for start, end in hit.highlights] == ["内推"]


@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET, max_size=60), st.sampled_from(["内推", "abc", "台湾", "2", "x"]))
def test_a_snippet_rebuilds_only_its_lines_and_equals_the_whole_texts(text, needle):
    """The excerpt made from the folded text and the lines rebuilt from the changes is the excerpt made with the
    text as written at hand."""
    folded = fold(text)
    needles = {needle: frozenset([needle])}
    changes = changes_made(text, folded)
    if changes is not None:
        rebuilt = snippets.snippet_of_folded(folded, needles, lambda a, b: unfold_lines(folded, changes, a, b))
        assert rebuilt == snippets.snippet_of_folded(folded, needles, lambda a, b: lines_of(text, folded, a, b))


def test_a_lone_surrogate_is_put_back_into_the_body_as_the_store_keeps_it():
    # The text store replaces what UTF-8 cannot encode ("?"); the changes are taken against that, so the text as
    # written (a file name's undecodable byte, say) comes back whole.
    text = "Ａ内推\udcff好"
    stored = fold(text).encode("utf-8", "replace").decode("utf-8")
    assert stored == "a内推?好"
    assert unfold_lines(stored, changes_made(text, stored), 0, len(stored)) == text
