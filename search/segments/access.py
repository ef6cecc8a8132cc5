"""A generation's Whoosh segments for reading: through reader.py, or through Whoosh's reader for what only it reads
(positions of the pinyin field, and segments reader.py can't read)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import IndexCorrupt
from ..store.layout import WHOOSH_INDEX_NAME
from . import reader as segment_files


def open_whoosh_reader(gen_dir: Path) -> Any:
    """Whoosh's reader of the index in `gen_dir`. A reader, not a searcher: whoosh.searching takes long to import."""
    from whoosh import index as whoosh_index

    return whoosh_index.open_dir(str(gen_dir), indexname=WHOOSH_INDEX_NAME, readonly=True).reader()


def read_segments(gen_dir: Path, whoosh_reader: Callable[[], Any]) -> list[Any]:
    """The segments of the index in `gen_dir`: read by reader.py, or through `whoosh_reader()` when it can't."""
    try:
        return segment_files.read_segments(gen_dir, WHOOSH_INDEX_NAME)
    except segment_files.Unsupported:
        return segment_files.whoosh_segments(whoosh_reader())


def length_of_byte(decoding: list[int] | None) -> list[int]:
    """Field length by Whoosh's length byte, as its doc_field_length gives it; 1 for none (BM25 needs a length).

    `decoding` is Whoosh's table as the index stores it (layout.LENGTH_DECODING)."""
    if decoding is None:
        raise IndexCorrupt("the index has no table of field lengths; rebuild it with `zhsearch index --rebuild`")
    return [1] + [length or 1 for length in decoding[1:256]]

@contextlib.contextmanager
def index_segments(gen: Path) -> Iterator[list[Any]]:
    """The segments of the Whoosh index in `gen`, read by reader.py; through Whoosh's reader when reader.py
    does not read them (compound segments of an early index, updated since)."""
    try:
        found: list[Any] = segment_files.read_segments(gen, WHOOSH_INDEX_NAME)
    except segment_files.Unsupported:
        from whoosh import index as whoosh_index

        reader = whoosh_index.open_dir(str(gen), indexname=WHOOSH_INDEX_NAME, readonly=True).reader()
        try:
            yield segment_files.whoosh_segments(reader)
        finally:
            reader.close()
        return
    try:
        yield found
    finally:
        for segment in found:
            segment.close()


def live_documents_of_paths(paths: list[str], gen_dir: Path) -> list[int]:
    """The numbers (across the index in `gen_dir`) of the live documents of `paths` (relative paths, the `path`
    field).

    Whoosh's delete_by_term finds them with a searcher it opens for every path (importing whoosh.query and
    whoosh.searching, and reopening the index's files each time); reader.py finds them without."""
    found: list[int] = []
    if not paths:
        return found
    with index_segments(gen_dir) as segments:
        for segment in segments:
            for path in paths:
                postings = segment.postings("path", path)
                found.extend(segment.base + docnum for docnum in (postings[0] if postings else ())
                             if docnum not in segment.deleted)
    return found


def term_positions(whoosh_reader: Any, field: str, term: str) -> dict[int, list[int]]:
    """Document → the positions of `term` in `field` (a field that stores positions), deleted documents too."""
    if (field, term) not in whoosh_reader:
        return {}
    matcher = whoosh_reader.postings(field, term)
    found: dict[int, list[int]] = {}
    while matcher.is_active():
        found[matcher.id()] = matcher.value_as("positions")
        matcher.next()
    return found
