"""segment_writer.py: a build's segment writer must write the very bytes Whoosh's own SegmentWriter writes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from search.segments import schema
from search.posts.corpus import find_posts
from search.posts.post import read_post
from search.segments.writer import BuildSegmentWriter

from conftest import PROJECT_CORPUS


def segment_files(writer_class: type, documents: list[dict], folder: Path) -> dict[str, bytes]:
    """The files of one segment holding `documents`, by name with the random segment id taken out."""
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), schema.make_schema(), indexname="MAIN")
    writer = writer_class(ix, _lk=False, limitmb=48, compound=False, codec=schema.index_codec())
    for document in documents:
        writer.add_document(**document)
    segment = writer._finalize_segment()
    writer._finish()
    return {file.name.replace(segment.segid, "SEGMENT"): file.read_bytes()
            for file in folder.iterdir() if segment.segid in file.name}


def assert_same_segment(documents: list[dict], tmp_path: Path) -> None:
    whooshs = segment_files(SegmentWriter, documents, tmp_path / "whoosh")
    builds = segment_files(BuildSegmentWriter, documents, tmp_path / "build")
    assert sorted(builds) == sorted(whooshs) and any(name.endswith(".trm") for name in builds)
    assert [name for name in whooshs if builds[name] != whooshs[name]] == []


@pytest.mark.parametrize("pinyin", [False, True], ids=["words", "with_pinyin"])
def test_build_segment_equals_whoosh_segment_on_project_corpus(tokenizer, pinyin, tmp_path):
    if not PROJECT_CORPUS.is_dir():
        pytest.skip("the project's corpus/ is absent")
    root = PROJECT_CORPUS.resolve()
    files, _ = find_posts(root)
    documents = [schema.document_fields(read_post(file, root), tokenizer, pinyin)[0] for file in files]
    assert len(documents) > 20
    assert_same_segment(documents, tmp_path)


def test_build_segment_equals_whoosh_segment_on_long_posting_lists(tmp_path):
    # Terms in fewer posts than the inline limit, in more, and in more than a postings block holds (128), with
    # counts above one; a field missing from some documents, and a date column.
    import datetime as dt

    rng = random.Random(3)
    vocabulary = [f"词{i}" for i in range(40)] + ["python", "中华人民共和国", "𠮷"]
    documents = []
    for number in range(300):
        document = {"path": f"p/{number}.md", "meta": {"title": str(number)}, "text": "正文" * (number % 5)}
        for field in ("title", "body"):
            words = rng.sample(vocabulary, rng.randint(1, 12))
            document[schema.word_field(field)] = {word: rng.randint(1, 4) for word in words}
        if number % 3:
            document[schema.word_field("tag")] = {"标签": 1}
            document["stamp"] = schema.date_stamp(dt.datetime(2020, 1, 1) + dt.timedelta(days=number))
        documents.append(document)
    documents[7][schema.word_field("body")]["常见"] = 3
    for document in documents:
        document[schema.word_field("body")]["每篇"] = 1
    assert_same_segment(documents, tmp_path)


def test_build_segment_writer_releases_postings_as_it_writes_them(tmp_path, monkeypatch):
    # The held postings (an array per term) are dropped term by term while the segment is written, so that the flush
    # does not hold them all beside Whoosh's growing term table (a build's peak memory).
    import search.segments.writer as segment_writer

    held_when_written: list[int] = []  # the body's terms still held each time entries go to the term table
    add_to_term_table = segment_writer._add_to_term_table

    def watch(table, entries):
        if entries and entries[0][0][2:].startswith("词".encode()):  # key: field number (2 bytes), term
            held_when_written.append(len(writer._term_postings[body]))
        add_to_term_table(table, entries)

    monkeypatch.setattr(segment_writer, "_add_to_term_table", watch)
    folder = tmp_path / "segment"
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), schema.make_schema(), indexname="MAIN")
    writer = BuildSegmentWriter(ix, _lk=False, limitmb=48, compound=False, codec=schema.index_codec())
    body = schema.word_field("body")
    for number in range(20):
        writer.add_document(path=f"p/{number}.md", meta={"title": str(number)}, text="正文",
                            **{body: {f"词{i}": 1 for i in range(number, number + 30)}})
    assert writer.postings_held == 20 * 30
    assert {type(postings).__name__ for postings in writer._term_postings[body].values()} == {"array"}
    writer._finalize_segment()
    writer._finish()
    assert all(not terms for terms in writer._term_postings.values())
    # Its 49 terms: fewer held each time (every term released once written), none left at the end.
    assert len(held_when_written) > 1 and held_when_written == sorted(held_when_written, reverse=True)
    assert held_when_written[0] < 49 and writer._term_postings[body] == {}


@pytest.mark.parametrize("spill_at", [1, 50, 400])
def test_build_segment_writer_spilling_to_runs_writes_the_same_segment(spill_at, tmp_path, monkeypatch):
    # A writer past its bound on held postings writes them to run files and merges them into the segment: the
    # segment's files are the bytes Whoosh writes (terms in several runs and in memory, long and inlined lists, a
    # field only some runs hold), and no run file is left behind.
    import search.segments.writer as segment_writer

    monkeypatch.setattr(segment_writer, "_RUN_BLOCK_TERMS", 7)  # several blocks a run
    rng = random.Random(5)
    vocabulary = [f"词{i}" for i in range(60)] + ["python", "中华人民共和国", "𠮷"]
    documents = []
    for number in range(200):
        document = {"path": f"p/{number}.md", "meta": {"title": str(number)}, "text": "正文"}
        document[schema.word_field("body")] = {word: rng.randint(1, 3)
                                               for word in rng.sample(vocabulary, rng.randint(1, 20))}
        if number % 50 == 7:
            document[schema.word_field("tag")] = {"标签": 1}
        documents.append(document)
    spilled: list[int] = []
    spill = segment_writer.BuildSegmentWriter._spill

    def watch(self):
        spilled.append(self.postings_held)
        spill(self)

    monkeypatch.setattr(segment_writer.BuildSegmentWriter, "_spill", watch)

    class Writer(BuildSegmentWriter):
        def __init__(self, ix, **kwargs):
            super().__init__(ix, spill_at=spill_at, **kwargs)

    whooshs = segment_files(SegmentWriter, documents, tmp_path / "whoosh")
    builds = segment_files(Writer, documents, tmp_path / "build")
    assert len(spilled) > 3 and max(spilled) <= max(spill_at, 21)  # a document holds at most 21 postings
    assert sorted(builds) == sorted(whooshs)
    assert [name for name in whooshs if builds[name] != whooshs[name]] == []
    assert len(list((tmp_path / "build").iterdir())) == len(list((tmp_path / "whoosh").iterdir()))
