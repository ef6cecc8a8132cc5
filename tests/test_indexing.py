"""indexing.py and generations.py: build reports, incremental updates, drafts, the write lock, damage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import search
from search import cli
from search.build import updating
from search.segments import writing
from search.store import fileio, generations, layout, path_tables, text_ranges
from search.text import folding

from conftest import UNDECODABLE, VISIBLE

REPO = Path(__file__).resolve().parents[1]


def found(index_dir: Path, query: str) -> set[str]:
    with search.open_index(index_dir) as ix:
        return {hit.path for hit in ix.search(query, limit=None)}


def live_generation(index_dir: Path) -> Path:
    return generations.current_generation(index_dir)


def test_build_report_counts(built):
    index_dir, report = built
    assert report.rebuilt is True
    assert report.indexed == len(VISIBLE)
    assert report.added == len(VISIBLE)
    assert (report.changed, report.deleted, report.renamed, report.unchanged) == (0, 0, 0, 0)
    assert report.drafts == 1
    assert report.index_dir == index_dir
    assert report.reason == ""


def test_build_broken_files_reported_not_fatal(built):
    _, report = built
    assert report.skipped == ((UNDECODABLE[0], "not UTF-8, GB18030 or Big5 text"),)
    assert [path for path, _ in report.degraded] == ["blog/broken-yaml.md"]
    assert "YAML" in report.degraded[0][1]


def test_build_missing_corpus(tmp_path):
    with pytest.raises(search.CorpusNotFound):  # its own error: the index is not what is missing
        search.build_index(tmp_path / "nowhere", tmp_path / "index", workers=1)


def test_build_empty_corpus(tmp_path):
    (tmp_path / "corpus").mkdir()
    report = search.build_index(tmp_path / "corpus", tmp_path / "index", workers=1)
    assert report.indexed == 0
    with search.open_index(tmp_path / "index") as ix:
        assert ix.search("内推").total == 0


def test_update_add_change_delete_rename(fresh_corpus, tmp_path):
    index_dir = tmp_path / "index"
    report = search.update_index(fresh_corpus, index_dir, workers=1)  # no index yet: a full build
    assert (report.rebuilt, report.indexed, report.added) == (True, len(VISIBLE), len(VISIBLE))

    report = search.update_index(fresh_corpus, index_dir)
    assert (report.rebuilt, report.indexed, report.unchanged, report.added) == (False, len(VISIBLE),
                                                                                len(VISIBLE) + 1, 0)

    (fresh_corpus / "blog" / "new.md").write_text("---\ntitle: 新文章\n---\n这里提到了鲲鹏。\n", encoding="utf-8")
    report = search.update_index(fresh_corpus, index_dir)
    assert (report.rebuilt, report.added, report.changed, report.deleted, report.renamed) == (False, 1, 0, 0, 0)
    assert report.indexed == len(VISIBLE) + 1
    assert found(index_dir, "鲲鹏") == {"blog/new.md"}

    (fresh_corpus / "blog" / "marx.md").write_text("---\ntitle: 伦敦的冬天\n---\n现在这里只讲凤凰。\n",
                                                   encoding="utf-8")
    report = search.update_index(fresh_corpus, index_dir)
    assert (report.added, report.changed, report.deleted, report.renamed) == (0, 1, 0, 0)
    assert found(index_dir, "凤凰") == {"blog/marx.md"}
    assert found(index_dir, "马克思") == set()
    assert found(index_dir, '"马克"') == {"blog/twain.md"}

    (fresh_corpus / "blog" / "twain.md").unlink()
    report = search.update_index(fresh_corpus, index_dir)
    assert (report.added, report.changed, report.deleted, report.renamed) == (0, 0, 1, 0)
    assert report.indexed == len(VISIBLE)
    assert found(index_dir, '"马克"') == set()

    os.rename(fresh_corpus / "blog" / "new.md", fresh_corpus / "blog" / "renamed.md")
    report = search.update_index(fresh_corpus, index_dir)
    assert (report.added, report.changed, report.deleted, report.renamed) == (0, 0, 0, 1)
    assert report.indexed == len(VISIBLE)
    assert found(index_dir, "鲲鹏") == {"blog/renamed.md"}
    # The rest of the index is untouched by all that.
    assert found(index_dir, "人脉背书") == {"zhihu/neitui.md", "blog/scattered.md"}


def test_write_lock_held_names_holder(tmp_path, corpus_dir):
    index_dir = tmp_path / "index"
    with generations.write_lock(index_dir, wait=0):
        with pytest.raises(search.IndexLocked, match=f"pid {os.getpid()}"):
            search.build_index(corpus_dir, index_dir, workers=1, wait=0.2)
        with pytest.raises(search.IndexLocked):
            search.update_index(corpus_dir, index_dir, workers=1, wait=0)
    assert not (index_dir / layout.CURRENT).exists()


def test_open_missing_index(tmp_path):
    with pytest.raises(search.IndexNotFound):
        search.open_index(tmp_path / "none")


def _garbage_current(index_dir: Path) -> None:
    (index_dir / layout.CURRENT).write_text("\x00garbage\x7f", encoding="utf-8")


def _garbage_toc(index_dir: Path) -> None:
    for toc in live_generation(index_dir).glob("*.toc"):
        toc.write_bytes(b"not a table of contents")


def _segment_files(index_dir: Path) -> list[Path]:
    # Whoosh segment files (non-compound: .trm terms, .pst postings, .fdt stored fields, ...), not the TOC.
    return [f for f in live_generation(index_dir).glob("MAIN_*") if f.suffix != ".toc"]


def _truncate_segment(index_dir: Path) -> None:
    for seg in _segment_files(index_dir):
        with open(seg, "r+b") as f:
            f.truncate(100)


def _delete_segment(index_dir: Path) -> None:
    for seg in _segment_files(index_dir):
        seg.unlink()


def _truncate_text_store(index_dir: Path) -> None:
    for store in live_generation(index_dir).glob("text-*.bin"):
        with open(store, "r+b") as f:
            f.truncate(10)


def _garbage_meta(index_dir: Path) -> None:
    (live_generation(index_dir) / layout.META).write_text("{", encoding="utf-8")


def _garbage_fold_table(index_dir: Path) -> None:
    # Same size, so only reading it can tell.
    path = live_generation(index_dir) / layout.FOLD
    size = path.stat().st_size
    path.write_text('{"from":"臺","to":"台湾"}'.ljust(size - 6), encoding="utf-8")  # 3 characters of 3 bytes
    assert path.stat().st_size == size


def _garbage_changes(index_dir: Path) -> None:
    (live_generation(index_dir) / layout.CHANGES).write_text('{"ranges.json": [1]}', encoding="utf-8")


DAMAGE = [_garbage_current, _garbage_toc, _truncate_segment, _delete_segment, _truncate_text_store, _garbage_meta,
          _garbage_fold_table, _garbage_changes]


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__.lstrip("_") for d in DAMAGE])
def test_damaged_index_is_index_corrupt(copy_index, damage):
    damage(copy_index)
    with pytest.raises(search.IndexCorrupt) as caught:
        with search.open_index(copy_index) as ix:
            ix.search("内推 OR 人脉背书")
    assert isinstance(caught.value, search.SearchError)


def test_damaged_index_rebuilt(copy_index, corpus_dir):
    _truncate_segment(copy_index)
    _garbage_current(copy_index)
    report = search.build_index(corpus_dir, copy_index, workers=1)
    assert report.indexed == len(VISIBLE)
    assert found(copy_index, "人脉背书") == {"zhihu/neitui.md", "blog/scattered.md"}


def test_damaged_index_update_rebuilds(copy_index, corpus_dir):
    _garbage_meta(copy_index)
    report = search.update_index(corpus_dir, copy_index, workers=1)
    assert report.rebuilt is True
    assert report.reason != ""
    assert found(copy_index, "马克思") == {"blog/marx.md"}


def test_update_drafts_setting_change_rebuilds(copy_index, corpus_dir):
    report = search.update_index(corpus_dir, copy_index, include_drafts=True, workers=1)
    assert report.rebuilt is True
    assert report.reason == "drafts are now included"
    assert (report.indexed, report.drafts) == (len(VISIBLE) + 1, 0)
    assert found(copy_index, "独角兽") == {"blog/draft.md"}


def test_search_folds_with_the_index_table_without_opencc(index_dir):
    # A cold query reads the 繁→简 table the posts were folded with from the index instead of building it from
    # OpenCC (25 ms); 臺灣 still finds 台湾 and the other way round.
    script = """
import sys
import search
from search import cli
with search.open_index(sys.argv[1]) as ix:
    print(sorted(h.path for h in ix.search("臺灣", limit=None)) == sorted(h.path for h in ix.search("台湾", limit=None)))
    print(len(ix.search("臺灣", limit=None)) > 1, "opencc" in sys.modules)
"""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", script, str(index_dir)], capture_output=True, encoding="utf-8",
                            env=env, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "False"]
    record = fileio.read_json(live_generation(index_dir) / layout.FOLD)
    assert dict(zip(record["from"], record["to"]))["臺"] == "台"


def _tables(gen: Path) -> dict[str, dict]:
    return {name: path_tables.read_table(gen, name) for name in layout.TABLES}


def test_update_writes_changes_not_whole_tables(fresh_corpus, tmp_path):
    index_dir = tmp_path / "index"
    search.build_index(fresh_corpus, index_dir, workers=1)
    built_gen = live_generation(index_dir)
    before = _tables(built_gen)
    assert not (built_gen / layout.CHANGES).exists()
    # (read now: the update removes the build's generation once it commits)
    inodes = {name: path_tables.table_file(built_gen, name).stat().st_ino for name in layout.TABLES}

    (fresh_corpus / "blog" / "new.md").write_text("---\ntitle: 新文章\n---\n这里提到了鲲鹏。\n", encoding="utf-8")
    (fresh_corpus / "blog" / "twain.md").unlink()
    report = search.update_index(fresh_corpus, index_dir)
    assert (report.added, report.deleted, report.indexed) == (1, 1, len(VISIBLE))
    gen = live_generation(index_dir)
    for name in layout.TABLES:  # the tables are the build's own files, linked
        file = path_tables.table_file(gen, name)
        assert file.stat().st_ino == inodes[name]
    changes = fileio.read_json(gen / layout.CHANGES)
    assert changes[layout.RANGES]["blog/twain.md"] is None
    assert set(changes[layout.POSTS]) == {"blog/new.md", "blog/twain.md"}
    tables = _tables(gen)
    assert set(tables[layout.RANGES]) == set(before[layout.RANGES]) - {"blog/twain.md"} | {"blog/new.md"}
    assert tables[layout.POSTS]["blog/new.md"]["title"] == "新文章"
    assert "blog/twain.md" not in tables[layout.MANIFEST]

    # A second update carries the first one's changes forward.
    (fresh_corpus / "blog" / "marx.md").write_text("---\ntitle: 伦敦的冬天\n---\n现在这里只讲凤凰。\n", encoding="utf-8")
    report = search.update_index(fresh_corpus, index_dir)
    assert (report.changed, report.indexed) == (1, len(VISIBLE))
    tables = _tables(live_generation(index_dir))
    assert "blog/new.md" in tables[layout.RANGES] and "blog/twain.md" not in tables[layout.RANGES]
    assert tables[layout.POSTS]["blog/marx.md"]["title"] == "伦敦的冬天"
    with search.open_index(index_dir) as ix:
        assert ix.stats().posts == len(VISIBLE)
        assert {h.path for h in ix.search("鲲鹏", limit=None)} == {"blog/new.md"}
        assert {h.path for h in ix.search("凤凰", limit=None)} == {"blog/marx.md"}
        assert {h.path for h in ix.search('"马克"', limit=None)} == set()
        assert ix.search("凤凰", limit=None)[0].title == "伦敦的冬天"


def test_update_compacts_changes_into_whole_tables(fresh_corpus, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    search.build_index(fresh_corpus, index_dir, workers=1)
    (fresh_corpus / "blog" / "new.md").write_text("---\ntitle: 新文章\n---\n这里提到了鲲鹏。\n", encoding="utf-8")
    search.update_index(fresh_corpus, index_dir)
    expected = _tables(live_generation(index_dir))
    monkeypatch.setattr(layout, "COMPACT_MIN", 0)
    (fresh_corpus / "blog" / "new2.md").write_text("---\ntitle: 又一篇\n---\n还有凤凰。\n", encoding="utf-8")
    search.update_index(fresh_corpus, index_dir)
    gen = live_generation(index_dir)
    assert not (gen / layout.CHANGES).exists()
    tables = {name: path_tables.read_table(gen, name) for name in layout.TABLES}
    assert (gen / layout.RANGES_BINARY).exists() and not (gen / layout.RANGES).exists()  # binary
    new2 = {name: table.pop("blog/new2.md") for name, table in tables.items()}
    assert tables == expected
    assert new2[layout.POSTS]["title"] == "又一篇"
    assert found(index_dir, "凤凰") == {"blog/new2.md"}


def test_touched_post_recorded_in_changes(tmp_path):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    for name, text in (("a.md", "鲲鹏"), ("b.md", "凤凰")):
        (corpus / name).write_text(f"---\ntitle: {text}\n---\n{text}。\n", encoding="utf-8")
    search.build_index(corpus, index_dir, workers=1)
    gen = live_generation(index_dir)
    post = corpus / "a.md"
    os.utime(post, ns=(post.stat().st_atime_ns, post.stat().st_mtime_ns + 10**9))
    report = search.update_index(corpus, index_dir)
    assert (report.rebuilt, report.changed, report.unchanged) == (False, 0, 2)
    assert live_generation(index_dir) == gen  # a moved mtime is recorded in place, in the changes
    assert path_tables.read_table(gen, layout.MANIFEST)["a.md"][1] == post.stat().st_mtime_ns
    assert found(index_dir, "鲲鹏") == {"a.md"}


@pytest.mark.parametrize("old_format", [4, 5])
def test_index_of_an_older_format_needs_a_rebuild(fresh_corpus, tmp_path, old_format):
    # An index of another format is never read: a search says which command rebuilds it, an update rebuilds it.
    index_dir = tmp_path / "index"
    search.build_index(fresh_corpus, index_dir, workers=1)
    gen = live_generation(index_dir)
    meta = fileio.read_json(gen / layout.META)
    fileio.write_json(gen / layout.META, {**meta, "format": old_format})
    with pytest.raises(search.RebuildNeeded, match=r"zhsearch index --rebuild"):
        search.open_index(index_dir)
    result = CliRunner().invoke(cli.main, ["search", "马克思", "--index", str(index_dir)])
    assert result.exit_code == 2 and "zhsearch index --rebuild" in result.output, result.output
    assert "Traceback" not in result.output
    report = search.update_index(fresh_corpus, index_dir)
    assert report.rebuilt
    assert fileio.read_json(live_generation(index_dir) / layout.META)["format"] == layout.INDEX_FORMAT
    assert found(index_dir, "马克思") == {"blog/marx.md"}


def _by_document(columns: text_ranges.RangeColumns) -> dict[int, tuple[str, int, int]]:
    """Document number → (store file, start, end) of DOCUMENTS columns, which must be in file and start order."""
    assert all((f, s) < (f2, s2) for f, s, f2, s2 in zip(columns.file, columns.start, columns.file[1:],
                                                         columns.start[1:]))
    table = {n: (columns.files[f], s, e) for n, f, s, e in zip(columns.keys, columns.file, columns.start, columns.end)}
    assert len(table) == len(columns.keys)
    return table


def _document_ranges_from_paths(gen: Path) -> tuple[dict, dict]:
    """(DOCUMENTS as written in `gen`, the same worked out from the paths Whoosh stores), by document number."""
    from search.segments import reader as segment_reader

    found = segment_reader.read_segments(gen, layout.WHOOSH_INDEX_NAME)
    try:
        written = text_ranges.read_documents(gen, found)
        worked_out = text_ranges.document_ranges(found, *text_ranges.read_ranges(gen, path_tables.read_changes(gen)))
    finally:
        for segment in found:
            segment.close()
    return _by_document(written), _by_document(worked_out)


def test_documents_table_follows_builds_and_updates(fresh_corpus, tmp_path):
    # Written at every commit for the segments of that commit: equal to the RANGES table (with its changes) keyed
    # by the live document of each path, after a build and after updates that add, change and delete posts.
    index_dir = tmp_path / "index"
    search.build_index(fresh_corpus, index_dir, workers=2)
    written, worked_out = _document_ranges_from_paths(live_generation(index_dir))
    assert written == worked_out and len(written) == len(VISIBLE)
    (fresh_corpus / "blog" / "new.md").write_text("---\ntitle: 新文章\n---\n这里提到了鲲鹏。\n", encoding="utf-8")
    (fresh_corpus / "blog" / "marx.md").write_text("---\ntitle: 改过\n---\n凤凰。\n", encoding="utf-8")
    search.update_index(fresh_corpus, index_dir)
    (fresh_corpus / "blog" / "new.md").unlink()
    search.update_index(fresh_corpus, index_dir)
    gen = live_generation(index_dir)
    written, worked_out = _document_ranges_from_paths(gen)
    assert written == worked_out and len(written) == len(VISIBLE)
    assert sorted(written) != list(range(len(VISIBLE)))  # the changed post's old document is deleted
    with search.open_index(index_dir) as ix:
        for docnum in written:  # each number's text is its own post's
            path = ix._stored_fields(docnum)["path"]
            assert ix._store.fields_of(docnum)["title"] == folding.fold(ix.show(path).title)
    assert found(index_dir, "凤凰") == {"blog/marx.md"}
    assert found(index_dir, '"鲲鹏"') == set()


def test_documents_table_written_through_whoosh_for_segments_only_it_reads(fresh_corpus, tmp_path, monkeypatch):
    # An update of an index holding segments segments.py does not read (compound ones, from early versions) numbers
    # the posts through Whoosh's reader: the same table.
    from search.segments import reader as segment_reader

    index_dir = tmp_path / "index"
    search.build_index(fresh_corpus, index_dir, workers=1)
    (fresh_corpus / "blog" / "new.md").write_text("---\ntitle: 新文章\n---\n这里提到了鲲鹏。\n", encoding="utf-8")
    (fresh_corpus / "blog" / "marx.md").write_text("---\ntitle: 改过\n---\n凤凰。\n", encoding="utf-8")

    def unsupported(*args, **kwargs):
        raise segment_reader.Unsupported("a compound segment")

    with monkeypatch.context() as patch:
        patch.setattr(segment_reader, "read_segments", unsupported)
        report = search.update_index(fresh_corpus, index_dir)  # the changed post's document deleted through Whoosh
    assert (report.added, report.changed) == (1, 1)
    written, worked_out = _document_ranges_from_paths(live_generation(index_dir))
    assert written == worked_out and len(written) == len(VISIBLE) + 1
    assert found(index_dir, '"鲲鹏"') == {"blog/new.md"}
    assert found(index_dir, "凤凰") == {"blog/marx.md"} and found(index_dir, "马克思") == set()


@pytest.mark.parametrize("store_merge_at", [3, updating.STORE_MERGE_AT])
def test_documents_table_of_an_update_follows_the_previous_one(fresh_corpus, tmp_path, monkeypatch, store_merge_at):
    # An update works the table out from the previous commit's and the posts it added, unless Whoosh merged
    # segments or the update moved posts to its store file: then from every path. The same table either way.
    monkeypatch.setattr(updating, "STORE_MERGE_AT", store_merge_at)
    monkeypatch.setattr(updating, "STORE_MERGE_COUNT", 2)
    ways = []
    derive, work_out = text_ranges.updated_document_ranges, text_ranges.document_ranges

    def derive_spy(*args):
        result = derive(*args)
        ways.append("derived" if result is not None else "segments merged")
        return result

    def work_out_spy(*args):
        ways.append("from paths")
        return work_out(*args)

    monkeypatch.setattr(text_ranges, "updated_document_ranges", derive_spy)
    monkeypatch.setattr(text_ranges, "document_ranges", work_out_spy)
    index_dir = tmp_path / "index"
    search.build_index(fresh_corpus, index_dir, workers=1)
    taken: set[str] = set()
    for round in range(12):  # Whoosh merges the small segments of updates every five or so
        (fresh_corpus / "blog" / f"new{round}.md").write_text(f"---\ntitle: 新文章{round}\n---\n鲲鹏{round}号。\n",
                                                              encoding="utf-8")
        if round % 3 == 2:
            (fresh_corpus / "blog" / f"new{round - 1}.md").unlink()
        (fresh_corpus / "blog" / "marx.md").write_text(f"---\ntitle: 改过{round}\n---\n凤凰{round}。\n", encoding="utf-8")
        ways.clear()
        search.update_index(fresh_corpus, index_dir)
        taken.update(ways)
        written, worked_out = _document_ranges_from_paths(live_generation(index_dir))
        assert written == worked_out
        assert found(index_dir, f'"凤凰{round}"') == {"blog/marx.md"}
        assert found(index_dir, f'"鲲鹏{round}号"') == {f"blog/new{round}.md"}
    # With the small bound posts are moved every few updates; with the real one never in twelve updates, and the
    # updates that find segments merged work the table out from the paths.
    assert "derived" in taken and "from paths" in taken
    assert store_merge_at == 3 or "segments merged" in taken
    assert found(index_dir, '"鲲鹏1号"') == set()


def test_documents_table_of_other_segments_is_damage(built, tmp_path):
    # A table written for other segments would give posts the text of others: reported, not read.
    import shutil

    index_dir = tmp_path / "index"
    shutil.copytree(built[0], index_dir)
    gen = live_generation(index_dir)
    written = text_ranges.RangeColumns.from_documents_bytes((gen / layout.DOCUMENTS).read_bytes())[0]
    fileio.write_bytes(gen / layout.DOCUMENTS, written.documents_bytes("MAIN_other:3:0"))
    meta = fileio.read_json(gen / layout.META)
    fileio.write_json(gen / layout.META, {**meta, "files": generations.file_sizes(gen)})
    with pytest.raises(search.IndexCorrupt, match="does not match the index's segments"):
        search.open_index(index_dir)


def test_updates_merge_their_store_files_and_drop_dead_ones(tmp_path, monkeypatch):
    # Every update writes a store file; the smallest are merged once STORE_MERGE_AT hold live posts, and files
    # without a live post are left behind. Verbatim search (quoted: the text store alone) stays exact throughout.
    from search.build import updating

    monkeypatch.setattr(updating, "STORE_MERGE_AT", 4)
    monkeypatch.setattr(updating, "STORE_MERGE_COUNT", 3)
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "base.md").write_text("---\ntitle: 底\n---\n一直都在的帖子。\n", encoding="utf-8")
    (corpus / "edited.md").write_text("---\ntitle: 改\n---\n初版。\n", encoding="utf-8")
    search.build_index(corpus, index_dir, workers=1)
    for round_ in range(12):
        (corpus / f"new{round_}.md").write_text(f"---\ntitle: 新{round_}\n---\n第{round_}号鹦鹉。\n", encoding="utf-8")
        (corpus / "edited.md").write_text(f"---\ntitle: 改\n---\n第{round_}版的孔雀。\n", encoding="utf-8")
        search.update_index(corpus, index_dir)
        gen = live_generation(index_dir)
        stores = sorted(p.name for p in gen.glob("text-*.bin"))
        update_stores = [name for name in stores if name.startswith(updating.UPDATE_STORE_PREFIX)]
        assert len(update_stores) < 4 + 1, stores
        assert all((gen / (name + ".pairs")).exists() for name in stores)
        live_files = {entry[0] for entry in path_tables.read_table(gen, layout.RANGES).values()}
        assert set(stores) == live_files  # no store file without a live post
        for i in range(round_ + 1):
            assert found(index_dir, f'"第{i}号鹦鹉"') == {f"new{i}.md"}
        assert found(index_dir, f'"第{round_}版的孔雀"') == {"edited.md"}
        assert found(index_dir, '"版的孔雀"') == {"edited.md"}
        assert found(index_dir, '"一直都在"') == {"base.md"}
    with search.open_index(index_dir) as ix:
        assert ix.stats().posts == 14


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("bound", ["SEGMENT_POSTINGS", "HELD_POSTINGS_LIMIT", "POOL_MB"])
def test_build_writes_a_segment_per_bounded_batch(fresh_corpus, tmp_path, monkeypatch, workers, bound):
    # A build's process writes a new segment each time it has SEGMENT_POSTINGS postings, and holds at most
    # HELD_POSTINGS_LIMIT of them in memory (the others go to run files, merged into the segment), and Whoosh's pool
    # (path and date postings) at most POOL_MB: the index answers exactly as one with a segment per process and
    # nothing written out before it.
    from search.segments import writer as segment_writer

    search.build_index(fresh_corpus, tmp_path / "one", workers=workers)
    monkeypatch.setattr(writing, bound, 0.0005 if bound == "POOL_MB" else 40)  # (0.0005 MB: a run every 3 postings)
    from whoosh.writing import PostingPool

    runs: list[str] = []  # written out before the segment: by our segment writer, or by Whoosh's pool
    for owner, name in ((segment_writer.BuildSegmentWriter, "_spill"), (PostingPool, "save")):
        def watch(self, _write=getattr(owner, name), _name=name):
            runs.append(_name)
            _write(self)

        monkeypatch.setattr(owner, name, watch)
    search.build_index(fresh_corpus, tmp_path / "many", workers=workers)
    queries = ["台湾", "马克思", "内推", "的", '"人脉背书"', "title:台湾", "python"]
    with search.open_index(tmp_path / "one") as one, search.open_index(tmp_path / "many") as many:
        if bound == "SEGMENT_POSTINGS":
            assert len(many._segments) > len(one._segments) + 2
        elif workers == 1:  # (a forked process's runs are not seen here)
            assert len(many._segments) == len(one._segments)
            assert runs.count("_spill" if bound == "HELD_POSTINGS_LIMIT" else "save") > 2
        assert len(many) == len(one) == len(VISIBLE)
        for query in queries:
            expected = [(h.path, round(h.score, 6), h.snippet) for h in one.search(query, limit=None)]
            assert [(h.path, round(h.score, 6), h.snippet) for h in many.search(query, limit=None)] == expected, query


def test_build_process_ends_with_its_segment(fresh_corpus, tmp_path, monkeypatch):
    # A build's process writes one segment and its own store file, then ends, and another takes over while posts are
    # left (the memory a long-lived process keeps grows with the posts it has analysed): every store file holds the
    # posts of one segment, and the index answers as one built by two processes.
    search.build_index(fresh_corpus, tmp_path / "two", workers=2)
    monkeypatch.setattr(writing, "SEGMENT_POSTINGS", 40)  # (forked processes see it)
    search.build_index(fresh_corpus, tmp_path / "many", workers=2)
    gen = live_generation(tmp_path / "many")
    posts_by_store: dict[str, int] = {}
    for store, _start, _end in path_tables.read_table(gen, layout.RANGES, {}).values():
        posts_by_store[store] = posts_by_store.get(store, 0) + 1
    # (a process started as the others claimed the last posts leaves no empty store file)
    assert {file.name for file in gen.glob("text-*.bin")} == set(posts_by_store)
    with search.open_index(tmp_path / "two") as two, search.open_index(tmp_path / "many") as many:
        assert len(many._segments) > 4
        assert sorted(posts_by_store.values()) == sorted(segment.doc_count for segment in many._segments)
        for query in ["台湾", "内推", '"人脉背书"', "python"]:
            expected = [(h.path, round(h.score, 6), h.snippet) for h in two.search(query, limit=None)]
            assert [(h.path, round(h.score, 6), h.snippet) for h in many.search(query, limit=None)] == expected, query


@pytest.mark.parametrize("workers", [1, 2])
def test_build_tables_written_from_spooled_rows(fresh_corpus, tmp_path, workers):
    # A build's processes write their table rows to files as they index (not held in memory); the parent writes the
    # tables from them and removes them: the tables hold every post, as an update's compaction writes them whole.
    report = search.build_index(fresh_corpus, tmp_path / "index", workers=workers)
    gen = live_generation(tmp_path / "index")
    assert not [child.name for child in gen.iterdir() if child.name.startswith("rows-")]
    tables = {name: path_tables.read_table(gen, name, {}) for name in layout.TABLES}
    assert set(tables[layout.RANGES]) == set(tables[layout.POSTS]) == set(VISIBLE)
    assert len(tables[layout.RANGES]) == report.indexed
    assert set(VISIBLE) <= set(tables[layout.MANIFEST])  # drafts have a manifest row, no post
    for name in (layout.POSTS, layout.MANIFEST):  # one JSON object, as write_json writes it
        text = (gen / name).read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
    with search.open_index(tmp_path / "index") as ix:
        for path in VISIBLE:
            assert ix.show(path).path == path


def test_write_json_lines_equals_write_json(tmp_path):
    value = {"a/内推.md": {"title": "内推\n", "tags": []}, 'b"c.md': [1, 2, "x"]}
    fileio.write_json(tmp_path / "whole.json", value)
    members = (f"{json.dumps(k, ensure_ascii=False)}:{json.dumps(v, ensure_ascii=False, separators=(',', ':'))}"
               for k, v in value.items())
    fileio.write_json_lines(tmp_path / "lines.json", members)
    assert (tmp_path / "lines.json").read_bytes() == (tmp_path / "whole.json").read_bytes()
    fileio.write_json_lines(tmp_path / "empty.json", iter(()))
    assert fileio.read_json(tmp_path / "empty.json") == {}


def test_many_updates_merge_small_segments(tmp_path):
    # Each update adds a small segment; from the fifth segment on Whoosh merges the small ones, reading back posting
    # lists without values (the word fields keep counts only). That merge once failed on the fourth update.
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    for i in range(8):
        (corpus / f"p{i}.md").write_text(f"---\ntitle: 第{i}篇\n---\n固定的正文，鲲鹏{i}。\n", encoding="utf-8")
    search.build_index(corpus, index_dir, workers=1)
    for round_ in range(8):
        (corpus / f"p{round_}.md").write_text(f"---\ntitle: 第{round_}次\n---\n改过的正文，凤凰{round_}号。\n",
                                              encoding="utf-8")
        report = search.update_index(corpus, index_dir)
        assert (report.rebuilt, report.changed) == (False, 1)
    with search.open_index(index_dir) as ix:
        assert len(ix._segments) < 9  # merged
        assert {h.path for h in ix.search("凤凰", limit=None)} == {f"p{i}.md" for i in range(8)}
        assert {h.path for h in ix.search('"凤凰7号"', limit=None)} == {"p7.md"}
        assert ix.search("凤凰7号").hits[0].path == "p7.md"
        assert ix.search("鲲鹏", limit=None).total == 0
        assert ix.stats().posts == 8


def test_updating_the_same_post_again_drops_the_previous_updates_segment_unread(tmp_path, monkeypatch):
    # The segment the previous update wrote for a post holds only deleted documents once the post changes again: it
    # is dropped, not merged (Whoosh's merge read such segments through: every fifth update of a 180 KB post took
    # 3 s instead of 1.5).
    from whoosh.writing import SegmentWriter

    merged: list[str] = []
    add_reader = SegmentWriter.add_reader

    def spy(self, reader):
        merged.append(reader.segment().segment_id())
        return add_reader(self, reader)

    monkeypatch.setattr(SegmentWriter, "add_reader", spy)
    from_paths: list[int] = []
    work_out = text_ranges.document_ranges

    def work_out_spy(*args):
        from_paths.append(1)
        return work_out(*args)

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    for i in range(3):
        (corpus / f"p{i}.md").write_text(f"---\ntitle: 第{i}篇\n---\n固定的正文，鲲鹏{i}。\n", encoding="utf-8")
    search.build_index(corpus, index_dir, workers=1)
    built = set(json.loads((live_generation(index_dir) / layout.META).read_text("utf-8"))[layout.BUILD_SEGMENTS])
    monkeypatch.setattr(text_ranges, "document_ranges", work_out_spy)
    for round_ in range(8):
        (corpus / "p1.md").write_text(f"---\ntitle: 第{round_}次\n---\n改过的正文，凤凰{round_}号。\n", encoding="utf-8")
        search.update_index(corpus, index_dir)
        assert not from_paths  # the documents table is worked out from the previous one, less the dropped segment's
        written, worked_out = _document_ranges_from_paths(live_generation(index_dir))
        assert written == worked_out
        from_paths.clear()  # (by the check)
        with search.open_index(index_dir) as ix:
            ids = {segment.name for segment in ix._segments}
            assert built <= ids and len(ids - built) == 1, round_
            assert [h.path for h in ix.search(f"凤凰{round_}号")] == ["p1.md"]
            assert ix.search("鲲鹏", limit=None).total == 2
            assert ix.search("凤凰", limit=None).total == 1
    assert len(list(live_generation(index_dir).glob("MAIN_*.trm"))) == len(built) + 1  # the dropped ones' files gone
    assert merged == []


def test_update_writes_its_segment_with_the_builds_writer_unless_whoosh_merges(tmp_path, monkeypatch):
    # An update's segment is written by the build's writer (word postings in bulk) when Whoosh's merge policy merges
    # no segment at its commit, and by Whoosh's writer when it does (it reads the merged segments' postings back into
    # its pool). Either way the posts are found as a rebuild finds them.
    writers: list[str] = []
    update_writer = writing.update_writer

    def spy(ix, build_segments, deleting):
        writer, policy = update_writer(ix, build_segments, deleting)
        writers.append(type(writer).__name__)
        return writer, policy

    monkeypatch.setattr(writing, "update_writer", spy)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(8):
        (corpus / f"p{i}.md").write_text(f"---\ntitle: 第{i}篇\n---\n固定的正文，鲲鹏{i}。\n", encoding="utf-8")
    search.build_index(corpus, tmp_path / "index", workers=1)
    queries = ["凤凰", "鲲鹏", "正文", '"改过的正文"', "title:第", "凤凰3号"]
    for round_ in range(8):  # (a post changed twice leaves a segment of deleted documents: dropped, not merged)
        (corpus / f"p{round_}.md").write_text(f"---\ntitle: 第{round_}次\n---\n改过的正文，凤凰{round_}号。\n",
                                                  encoding="utf-8")
        search.update_index(corpus, tmp_path / "index")
        search.build_index(corpus, tmp_path / f"rebuilt-{round_}", workers=1)
        with search.open_index(tmp_path / "index") as updated, \
                search.open_index(tmp_path / f"rebuilt-{round_}") as rebuilt:
            for query in queries:
                expected = sorted((h.path, h.snippet) for h in rebuilt.search(query, limit=None))
                assert sorted((h.path, h.snippet) for h in updated.search(query, limit=None)) == expected, query
    assert writers[:5] == ["BuildSegmentWriter"] * 5  # (MERGE_SMALL merges the updates' segments from the fifth on)
    assert "SegmentWriter" in writers


def test_updates_never_merge_the_builds_segments(fresh_corpus, tmp_path, monkeypatch):
    # Whoosh's MERGE_SMALL merges the smallest segments once there are enough of them: a build's, of about 1,700
    # posts each, from 19 on (about 32,000 posts), all rewritten in one update. An update merges only the segments
    # updates wrote; the generation's meta lists the build's.
    from whoosh import index as whoosh_index
    from whoosh.writing import MERGE_SMALL

    def segment_ids() -> list[str]:
        ix = whoosh_index.open_dir(str(live_generation(tmp_path / "index")), indexname=layout.WHOOSH_INDEX_NAME)
        return [segment.segment_id() for segment in ix._segments()]

    monkeypatch.setattr(writing, "SEGMENT_POSTINGS", 1)  # a segment a post
    search.build_index(fresh_corpus, tmp_path / "index", workers=1)
    meta = json.loads((live_generation(tmp_path / "index") / layout.META).read_text(encoding="utf-8"))
    built = meta[layout.BUILD_SEGMENTS]
    assert sorted(built) == sorted(segment_ids()) and len(built) > 5
    ix = whoosh_index.open_dir(str(live_generation(tmp_path / "index")), indexname=layout.WHOOSH_INDEX_NAME)
    writer = ix.writer()
    writing.merge_value_less_postings(writer)
    assert len(MERGE_SMALL(writer, ix._segments())) < len(built)  # (what MERGE_SMALL alone would do)
    writer.cancel()
    for round_ in range(8):
        (fresh_corpus / f"new{round_}.md").write_text(f"---\ntitle: 新{round_}\n---\n凤凰{round_}号。\n",
                                                      encoding="utf-8")
        search.update_index(fresh_corpus, tmp_path / "index")
    ids = segment_ids()
    assert set(built) <= set(ids)
    assert 1 <= len(ids) - len(built) < 8  # the updates' segments, merged
    search.build_index(fresh_corpus, tmp_path / "rebuilt", workers=1)
    with search.open_index(tmp_path / "index") as updated, search.open_index(tmp_path / "rebuilt") as rebuilt:
        for query in ["凤凰", "台湾", "内推", '"人脉背书"', "title:新"]:
            expected = sorted((h.path, h.snippet) for h in rebuilt.search(query, limit=None))
            assert sorted((h.path, h.snippet) for h in updated.search(query, limit=None)) == expected, query


def test_update_analyses_a_post_as_the_build_does(fresh_corpus, tmp_path):
    # An update cuts each changed post with only the lexicon entries its text needs: the post's Whoosh fields are the
    # build's, and so are the answers.
    from search.posts.corpus import find_posts
    from search.posts.post import read_post
    from search.segments import schema
    from search.text.lexicon import Lexicon
    from search.text.tokenizer import new_tokenizer

    lines = ["中华人民共和国的人脉背书", "Python3.11和C++ 的内推", "研究生命起源，臺灣與台湾。", "", "- 列表：数据库 索引",
             "<b>加粗</b>的文字", "```\ncode_block = 1\n```", "人民共和国研究"]
    for i in range(3):
        body = "\n".join(lines[(i + k) % len(lines)] for k in range(40))
        (fresh_corpus / f"long{i}.md").write_text(f"---\ntitle: 长文{i}\ntags: [人脉]\n---\n{body}\n", encoding="utf-8")
    search.build_index(fresh_corpus, tmp_path / "index", workers=1)
    lex = Lexicon(live_generation(tmp_path / "index") / layout.LEXICON)
    tokenizer = new_tokenizer()
    files, _ = find_posts(fresh_corpus)
    for pinyin in (False, True):
        for file in files:
            try:
                post = read_post(file, fresh_corpus)
            except search.PostError:  # (the corpus's undecodable post)
                continue
            expected = schema.document_fields(post, tokenizer, pinyin)
            got = updating._update_fields(lex, pinyin)(post)
            assert got == expected, file.name
            assert [list(value) for value in got[0].values() if isinstance(value, dict)] == [
                list(value) for value in expected[0].values() if isinstance(value, dict)]  # (keys in order too)
    for i in range(3):
        long = fresh_corpus / f"long{i}.md"
        long.write_text(long.read_text(encoding="utf-8") + "\n\n新加的一段：凤凰涅槃，浴火重生。\n" * 3, encoding="utf-8")
    search.update_index(fresh_corpus, tmp_path / "index")
    search.build_index(fresh_corpus, tmp_path / "rebuilt", workers=1)
    with search.open_index(tmp_path / "index") as updated, search.open_index(tmp_path / "rebuilt") as rebuilt:
        for query in ["凤凰涅槃", '"浴火重生"', "台湾", "内推", '"人脉背书"', "新加"]:
            expected_hits = sorted((h.path, h.snippet) for h in rebuilt.search(query, limit=None))
            assert sorted((h.path, h.snippet) for h in updated.search(query, limit=None)) == expected_hits, query


def test_a_segment_dropped_in_the_middle_renumbers_the_documents_after_it(fresh_corpus, tmp_path, monkeypatch):
    # A build segment whose only post is deleted is dropped: the documents of the segments after it are numbered
    # anew, and the documents table, worked out from the previous one, follows.
    from search.segments import reader as segment_reader

    ways: list[str] = []
    derive = text_ranges.updated_document_ranges
    def derive_spy(*args):
        result = derive(*args)
        ways.append("derived" if result is not None else "from paths")
        return result

    monkeypatch.setattr(text_ranges, "updated_document_ranges", derive_spy)
    monkeypatch.setattr(writing, "SEGMENT_POSTINGS", 1)  # a segment a post
    search.build_index(fresh_corpus, tmp_path / "index", workers=1)
    gen = live_generation(tmp_path / "index")
    before = [segment.name for segment in segment_reader.read_segments(gen, layout.WHOOSH_INDEX_NAME)]
    (fresh_corpus / "blog" / "marx.md").unlink()
    search.update_index(fresh_corpus, tmp_path / "index")
    gen = live_generation(tmp_path / "index")
    after = [segment.name for segment in segment_reader.read_segments(gen, layout.WHOOSH_INDEX_NAME)]
    assert len(after) == len(before) - 1 and after == [name for name in before if name in after]
    assert before.index(next(name for name in before if name not in after)) < len(after)  # (not the last one)
    assert ways == ["derived"]
    written, worked_out = _document_ranges_from_paths(gen)
    assert written == worked_out
    search.build_index(fresh_corpus, tmp_path / "rebuilt", workers=1)
    with search.open_index(tmp_path / "index") as updated, search.open_index(tmp_path / "rebuilt") as rebuilt:
        for query in ["台湾", "内推", '"人脉背书"', "python", "马克思"]:
            expected = sorted((h.path, h.snippet) for h in rebuilt.search(query, limit=None))
            assert sorted((h.path, h.snippet) for h in updated.search(query, limit=None)) == expected, query


def test_ranges_table_round_trips_as_binary_columns(tmp_path):
    # The ranges table is written as binary columns: names with any characters, in file then start order.
    table = {"博客/第一篇 (1).md": ["text-0.bin", 0, 10], "a.md": ["text-1.bin", 5, 9], "b.md": ["text-0.bin", 10, 30]}
    path_tables.write_table(tmp_path, layout.RANGES, table)
    assert path_tables.read_table(tmp_path, layout.RANGES, {}) == table
    columns, _ = text_ranges.read_ranges(tmp_path, {})
    assert (columns.files, columns.keys) == (["text-0.bin", "text-1.bin"], ["博客/第一篇 (1).md", "b.md", "a.md"])
    assert (columns.file, columns.start, columns.end) == ([0, 0, 1], [0, 10, 5], [10, 30, 9])
    path_tables.write_table(tmp_path, layout.RANGES, {})
    assert path_tables.read_table(tmp_path, layout.RANGES, {}) == {}
    (tmp_path / layout.RANGES_BINARY).write_bytes(b"ZHSRNG01" + bytes(30))
    with pytest.raises(search.IndexCorrupt, match="damaged"):
        text_ranges.read_ranges(tmp_path, {})


def test_build_frees_each_posts_parse_tree_before_the_next_post(fresh_corpus, tmp_path, monkeypatch):
    # BeautifulSoup's trees are cycles, freed only by the garbage collector: a build collects after each post, so
    # that the trees of large posts do not pile up (one process indexing 200 of the largest posts of the 20k
    # corpus: 130 MB with the collection, 167 MB without).
    import gc
    import weakref

    import bs4

    from search.posts import post as post_module

    trees: list[weakref.ref] = []
    alive_at_read: list[int] = []

    class Soup(bs4.BeautifulSoup):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            trees.append(weakref.ref(self))

    read_post = post_module.read_post

    def reading(file, root):
        alive_at_read.append(sum(tree() is not None for tree in trees))
        return read_post(file, root)

    monkeypatch.setattr(bs4, "BeautifulSoup", Soup)
    monkeypatch.setattr(post_module, "read_post", reading)
    gc.disable()  # only the build's own collections
    try:
        search.build_index(fresh_corpus, tmp_path / "index", workers=1)
    finally:
        gc.enable()
    assert len(trees) >= 2 and len(alive_at_read) >= len(VISIBLE)  # (the HTML posts: a tree each)
    assert alive_at_read == [0] * len(alive_at_read)
