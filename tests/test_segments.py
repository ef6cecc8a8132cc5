"""segments.py reads Whoosh's segment files without Whoosh: it must answer exactly as Whoosh's own reader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import search
from search.segments import reader as segment_reader
from search.errors import IndexCorrupt
from search.segments.fieldnames import SEARCH_FIELDS, word_field


def _corpus(root, posts=300):
    # Enough posts sharing words for posting lists of several blocks (Whoosh writes 128 postings a block) and
    # rare words for inlined ones; dates for the stamp column, and one post without a date.
    for i in range(posts):
        date = f"date: 2021-{i % 12 + 1:02d}-{i % 28 + 1:02d}\n" if i else ""
        body = "台湾的凤凰" * (1 + i % 5) + f"，第{i}篇独有的词鲲鹏{i}。" + ("马克思的资本论。" if i % 3 == 0 else "")
        (root / f"p{i:03d}.md").write_text(f"---\ntitle: 第{i}篇 标题\nauthor: 作者{i % 7}\n{date}---\n{body}\n",
                                           encoding="utf-8")


@pytest.fixture(scope="module")
def updated_index(tmp_path_factory):
    """An index of several segments, after an update that changed, deleted and added posts."""
    root = tmp_path_factory.mktemp("segments")
    corpus, index_dir = root / "corpus", root / "index"
    corpus.mkdir()
    _corpus(corpus)
    search.build_index(corpus, index_dir, workers=2)
    (corpus / "p005.md").write_text("---\ntitle: 改过\n---\n改过的正文：伦敦的凤凰。\n", encoding="utf-8")
    (corpus / "p010.md").unlink()
    (corpus / "new.md").write_text("---\ntitle: 新文章\ndate: 2024-01-02\n---\n新的台湾。\n", encoding="utf-8")
    report = search.update_index(corpus, index_dir)
    assert (report.rebuilt, report.changed, report.deleted, report.added) == (False, 1, 1, 1)
    return index_dir


def _compare_with_whoosh(ix) -> tuple[int, int]:
    """Check every segment of `ix` read by SegmentFiles against Whoosh's reader: (words checked, long lists)."""
    ours = ix._segments
    assert all(type(segment) is segment_reader.SegmentFiles for segment in ours)
    theirs = segment_reader.whoosh_segments(ix._whoosh())
    assert len(ours) == len(theirs)
    terms_checked = blocks = 0
    for fast, whoosh in zip(ours, theirs):
        assert (fast.base, fast.doc_count, fast.deleted) == (whoosh.base, whoosh.doc_count, whoosh.deleted)
        assert fast.paths() == whoosh.paths()
        assert fast.stamps() == whoosh.stamps()
        assert [fast.stored_fields(n) for n in range(fast.doc_count)] == \
            [whoosh.stored_fields(n) for n in range(whoosh.doc_count)]
        leaf = whoosh._reader
        for field in SEARCH_FIELDS:
            name = word_field(field)
            assert fast.field_length(name) == whoosh.field_length(name)
            assert fast.length_bytes(name) == whoosh.length_bytes(name)
            for word_bytes in leaf.lexicon(name) if name in leaf.indexed_field_names() else ():
                word = word_bytes.decode("utf-8")
                ids, weights = fast.postings(name, word)
                assert (list(ids), list(weights)) == tuple(map(list, whoosh.postings(name, word)))
                assert fast.doc_frequency(name, word) == whoosh.doc_frequency(name, word) == len(ids)
                terms_checked += 1
                blocks += len(ids) > 128
            assert fast.postings(name, "不存在的词") is None and fast.doc_frequency(name, "不存在的词") == 0
    return terms_checked, blocks


def test_segment_files_read_what_whoosh_reads(updated_index):
    with search.open_index(updated_index) as ix:
        assert len(ix._segments) > 1 and any(segment.deleted for segment in ix._segments)
        terms_checked, blocks = _compare_with_whoosh(ix)
    assert terms_checked > 500 and blocks > 0


def test_segment_files_read_the_project_corpus_as_whoosh_does(project_ix):
    terms_checked, _ = _compare_with_whoosh(project_ix)
    assert terms_checked > 3000


BLOGS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "blogs"


@pytest.mark.skipif(not BLOGS.is_dir(), reason="../shared/corpora/blogs is absent")
def test_segment_files_read_real_blog_posts_as_whoosh_does(tmp_path):
    import shutil

    posts = sorted(p for p in BLOGS.rglob("*") if p.suffix in (".md", ".markdown", ".html"))[:200]
    for post in posts:
        target = tmp_path / "corpus" / post.relative_to(BLOGS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(post, target)
    search.build_index(tmp_path / "corpus", tmp_path / "index", workers=1)  # one segment: long posting lists
    with search.open_index(tmp_path / "index") as ix:
        terms_checked, blocks = _compare_with_whoosh(ix)
    assert terms_checked > 20000 and blocks > 0


def test_a_query_imports_no_whoosh_module(updated_index):
    # Importing Whoosh's reader was a third of a cold query; only pinyin phrases still need it.
    script = ("import sys, search\n"
              f"ix = search.open_index({str(updated_index)!r})\n"
              "hits = ix.search('台湾 马克思', limit=5, since='2021-03')\n"
              "print(len(hits.hits), [h.snippet for h in hits][0] != '', ix.show(hits.hits[0].path).title,\n"
              "      sorted(m for m in sys.modules if m.startswith('whoosh')))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["5", "True"]
    assert out[-1] == "[]"


def test_whooshs_reader_answers_when_the_files_are_not_for_this_reader(updated_index, monkeypatch):
    queries = ["台湾", '"马克思的资本论"', "凤凰 -伦敦", "鲲鹏7", "title:标题 author:作者3"]
    with search.open_index(updated_index) as ix:
        expected = [[(h.path, h.score, h.snippet) for h in ix.search(q, limit=None, since="2021-02")] for q in queries]

    def unsupported(*args, **kwargs):
        raise segment_reader.Unsupported("a compound segment")

    monkeypatch.setattr(segment_reader, "read_segments", unsupported)
    with search.open_index(updated_index) as ix:
        assert all(type(segment) is segment_reader.WhooshSegment for segment in ix._segments)
        got = [[(h.path, h.score, h.snippet) for h in ix.search(q, limit=None, since="2021-02")] for q in queries]
    assert got == expected
    assert all(expected)


def test_an_index_without_the_length_table_is_damaged(updated_index, tmp_path):
    # Every index of this format stores Whoosh's length table: one without it is damaged, and says how to rebuild.
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(updated_index, copy)
    generation = copy / (copy / "CURRENT").read_text().strip()
    meta = json.loads((generation / "zhsearch.json").read_text(encoding="utf-8"))
    del meta["length_decoding"]
    (generation / "zhsearch.json").write_text(json.dumps(meta), encoding="utf-8")
    with search.open_index(copy) as ix, pytest.raises(search.IndexCorrupt, match="zhsearch index --rebuild"):
        ix.search("台湾 凤凰", limit=None)


def test_a_damaged_terms_file_is_reported(updated_index, tmp_path):
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(updated_index, copy)
    generation = copy / (copy / "CURRENT").read_text().strip()
    terms = sorted(generation.glob("*.trm"))[0]
    terms.write_bytes(terms.read_bytes()[:50])
    with pytest.raises(IndexCorrupt, match="damaged"):
        search.open_index(copy)
