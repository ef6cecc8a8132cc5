"""Writing Whoosh segments: a build's segments in turn, an update's writer and merge policy.

Parts:
- `create_index`, `open_index`, `open_worker_index`, `write_toc`, `commit`: the index as build and update use it;
- `SegmentsInTurn`: a build process's posts spread over segments of a bounded size;
- `update_writer` with `merge_policy`: an update's segment, merged by Whoosh's MERGE_SMALL except the build's
  segments; `merge_value_less_postings` patches Whoosh's posting pool so that such a merge works;
- `length_decoding`: Whoosh's table of field length by length byte, which an index keeps for queries.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..store.layout import WHOOSH_INDEX_NAME
from . import schema

# Whoosh reads a compound segment file by copying each part into memory: separate files are read with seek/read.
COMPOUND = False
# Word postings a build's process puts in one segment (see SegmentsInTurn): a query reads every segment, so fewer
# are better, and a bounded segment bounds a process's memory.
SEGMENT_POSTINGS = 3_000_000
# Word postings a build's process holds in memory: past that, the segment writer writes them out to a run file of
# its own (writer.BuildSegmentWriter), so that a process's memory does not grow with the corpus.
HELD_POSTINGS_LIMIT = 250_000
# Megabytes of postings Whoosh's pool holds for the fields it writes itself (path, stamp, pinyin) before it writes
# them out as a sorted run: enough that a small build's processes never spill.
POOL_MB = 2


def create_index(gen_dir: Path) -> Any:
    """A new, empty Whoosh index in `gen_dir` with zhsearch's schema."""
    from whoosh import index as whoosh_index

    return whoosh_index.create_in(str(gen_dir), schema.make_schema(), indexname=WHOOSH_INDEX_NAME)


def open_index(gen_dir: Path) -> Any:
    """The Whoosh index in `gen_dir`, to write to."""
    from whoosh import index as whoosh_index

    return whoosh_index.open_dir(str(gen_dir), indexname=WHOOSH_INDEX_NAME)


def open_worker_index(gen_dir: Path, number: int) -> Any:
    """The Whoosh index in `gen_dir` for build process `number`, which writes segments beside the others."""
    ix = open_index(gen_dir)
    # Whoosh names a writer's spill folder after the index ("MAIN.tmp") and deletes it when the writer ends:
    # writers sharing it deleted each other's spill files on corpora large enough to spill.
    from whoosh.filedb.filestore import FileStorage

    own_temp = gen_dir / f"{WHOOSH_INDEX_NAME}-{number}.tmp"
    ix.storage.temp_storage = lambda name=None: FileStorage(str(own_temp)).create()
    return ix


def write_toc(ix: Any, written: list[Any]) -> list[str]:
    """List the segments `written` (by the build's processes) in the index's table of contents; their ids."""
    from whoosh.index import TOC

    TOC(ix.schema, written, 1).write(ix.storage, WHOOSH_INDEX_NAME)
    return [segment.segment_id() for segment in written]


def commit(writer: Any, policy: Callable[[Any, list[Any]], list[Any]]) -> None:
    writer.commit(mergetype=policy)


class SegmentsInTurn:
    """Posts handed to a BuildSegmentWriter, whose segment is closed and another begun once it holds
    SEGMENT_POSTINGS word postings; the writer holds at most HELD_POSTINGS_LIMIT of them in memory (the others are in
    its run files): a build's process stays within a bound whatever the corpus's size.
    """

    def __init__(self, ix: Any, gen_dir: Path) -> None:
        self._ix, self._gen_dir = ix, gen_dir
        self._writer = self._new_writer()
        self._segments: list[Any] = []

    @property
    def closed(self) -> int:
        """The segments closed so far."""
        return len(self._segments)

    def _new_writer(self) -> Any:
        from .writer import BuildSegmentWriter

        return BuildSegmentWriter(self._ix, spill_at=HELD_POSTINGS_LIMIT, _lk=False, limitmb=POOL_MB,
                                  compound=COMPOUND, codec=schema.index_codec())

    def add_document(self, **fields: Any) -> None:
        self._writer.add_document(**fields)
        if self._writer.postings >= SEGMENT_POSTINGS:
            self._segments.append(close_segment_writer(self._writer, self._gen_dir))
            self._writer = self._new_writer()

    def close(self) -> list[Any]:
        """The segments written (none for no post)."""
        last = close_segment_writer(self._writer, self._gen_dir)
        return self._segments + ([last] if last is not None else [])


def close_segment_writer(writer: Any, gen_dir: Path) -> Any:
    """The segment `writer` wrote, or None if it holds no post: then its files are closed and removed.

    A writer opens its segment's files when it is made. Left open, an empty writer's files were flushed whenever the
    writer was garbage-collected, which could be after the generation recorded their sizes (a build of an empty
    corpus then read as damaged).
    """
    if writer.docnum:
        segment = writer._finalize_segment()
        writer._finish()
        return segment
    writer.cancel()
    prefix = f"{WHOOSH_INDEX_NAME}_{writer.newsegment.segid}."
    for name in os.listdir(gen_dir):
        if name.startswith(prefix):
            os.unlink(gen_dir / name)
    return None


def length_decoding() -> list[int]:
    from whoosh.util.numeric import byte_to_length

    return [byte_to_length(b) for b in range(256)]


def update_writer(ix: Any, build_segments: list[str] | None, deleting: list[int]
                   ) -> tuple[Any, Callable[[Any, list[Any]], list[Any]]]:
    """The writer of an update's segment, the documents `deleting` (numbers across the index) deleted in it, and the
    merge policy to commit it with (see merge_policy).

    Whoosh's SegmentWriter if the policy merges segments at this commit: it reads their postings back into its pool,
    which the build's writer does not take. Otherwise the build's writer, whose commit at most drops segments: it
    writes a new post's word postings in bulk, where Whoosh's writer sorts and writes them one posting at a time.
    """
    from .writer import BuildSegmentWriter

    policy = merge_policy(build_segments)

    class MergeDue(Exception):
        pass

    class MergeProbe:  # what a merge policy asks of a writer, stopped at its first merged segment
        storage, schema = ix.storage, ix.schema

        def add_reader(self, reader: Any) -> None:
            reader.close()
            raise MergeDue

    segments = ix._segments()
    delete_documents(segments, deleting)  # (the policy drops segments left without a live document)
    try:
        policy(MergeProbe(), segments)
    except MergeDue:
        writer = ix.writer(limitmb=64, compound=COMPOUND, codec=schema.index_codec())
        merge_value_less_postings(writer)
    else:
        writer = BuildSegmentWriter(ix, spill_at=HELD_POSTINGS_LIMIT, limitmb=64, compound=COMPOUND,
                                    codec=schema.index_codec())
    for number in deleting:
        writer.delete_document(number)
    return writer, policy


def delete_documents(segments: list[Any], numbers: list[int]) -> None:
    """Mark documents `numbers` (across `segments`, in order) deleted in their segment, as Whoosh's writer's
    delete_document does in its own: for the merge policy's probe, before there is a writer."""
    bases, base = [], 0
    for segment in segments:
        bases.append(base)
        base += segment.doc_count_all()
    for number in numbers:
        i = bisect.bisect_right(bases, number) - 1
        segments[i].delete_document(number - bases[i])


def merge_policy(build_segments: list[str] | None) -> Callable[[Any, list[Any]], list[Any]]:
    """Segments whose documents are all deleted dropped unread, then Whoosh's MERGE_SMALL over the segments updates
    wrote; the build's segments (ids `build_segments`, as the generation's meta lists them) are never merged. None:
    an index whose meta does not list them, MERGE_SMALL over all.

    A segment of deleted documents only is what updating the same post again leaves of the previous update's: Whoosh
    reads such segments through when it merges them. Its files are removed at the commit (whoosh.index.clean_files).

    MERGE_SMALL merges the smallest segments up to the first where their documents are fewer than a Fibonacci number
    of their count: it would take the build's segments, of about 1,700 posts each, once there are 19 of them (a
    corpus of about 32,000 posts), and rewrite them all in one update. A build's segments are bounded already (see
    SEGMENT_POSTINGS): merging them gains nothing.
    """
    from whoosh.writing import MERGE_SMALL

    built = set(build_segments) if build_segments is not None else None

    def merge_update_segments(writer: Any, segments: list[Any]) -> list[Any]:
        live = [segment for segment in segments if segment.doc_count()]
        if built is None:
            return MERGE_SMALL(writer, live)
        kept = [segment for segment in live if segment.segment_id() in built]
        return kept + MERGE_SMALL(writer, [segment for segment in live if segment.segment_id() not in built])

    return merge_update_segments


def merge_value_less_postings(writer: Any) -> None:
    """Let `writer` merge segments whose word fields hold counts only (no value per posting).

    Whoosh merges the small segments updates leave (MERGE_SMALL, once there are five or more) by reading their
    postings back. A posting list inlined in its term's entry (schema.INLINE_LIMIT) and without values reads back
    with the value "" (ListMatcher.value, a str: a Python 2 leftover), which the posting pool rejects: the fourth
    or so update of an index failed with "AssertionError: vbytes=''". Such a posting's value is empty bytes, as the
    build wrote it.
    """
    add = writer.pool.add

    def add_posting(item: tuple) -> None:
        if item[4] == "":
            item = (item[0], item[1], item[2], item[3], b"")
        add(item)

    writer.pool.add = add_posting
