"""The RANGES table (path → text store file, start, end) as binary columns, and DOCUMENTS: the same keyed by
Whoosh document number, which a query reads (it then needs no path)."""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Callable, Iterable
from itertools import compress
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import IndexCorrupt
from ..segments.reader import live_documents
from .fileio import Parsed, read_binary
from .layout import DOCUMENTS, RANGES, RANGES_BINARY


class RangeColumns(NamedTuple):
    """The RANGES table (path → [text store file, start, end]) as columns, in file and then start order.

    Written binary, as every cold query reads them (`to_bytes`): the names in one UTF-8 string each, split on NUL
    (which no path holds), and the numbers as arrays, all read in C.
    """

    files: list[str]       # the text store files' names
    keys: list[Any]        # post paths (RANGES) or Whoosh document numbers (DOCUMENTS)
    file: list[int]        # index into `files` of each post's file
    start: list[int]
    end: list[int]

    @classmethod
    def of(cls, table: dict[str, Any]) -> RangeColumns:
        files = sorted({entry[0] for entry in table.values()})
        number = {name: i for i, name in enumerate(files)}
        rows = sorted((number[name], start, end, key) for key, (name, start, end) in table.items())
        return cls(files, [r[3] for r in rows], [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])

    def to_bytes(self) -> bytes:
        """Header (magic, rows, bytes of the file names, bytes of the paths), the file names and the paths joined
        by NUL, then the file numbers (uint32), starts and ends (int64), little-endian."""
        return self._pack(_RANGES_MAGIC, "\0".join(self.keys).encode("utf-8"), ())

    def documents_bytes(self, signature: str) -> bytes:
        """The DOCUMENTS form of columns keyed by Whoosh document number: as `to_bytes`, with the signature of the
        segments that number the posts (`segments_signature`) in place of the paths, and the numbers (uint32)
        after the ends."""
        return self._pack(_DOCUMENTS_MAGIC, signature.encode("utf-8"), (array("I", self.keys),))

    def _pack(self, magic: bytes, text: bytes, extra: tuple[array, ...]) -> bytes:
        names = "\0".join(self.files).encode("utf-8")
        numbers = [array("I", self.file), array("q", self.start), array("q", self.end), *extra]
        if sys.byteorder == "big":
            for column in numbers:
                column.byteswap()
        header = _RANGES_HEADER.pack(magic, len(self.file), len(names), len(text))
        return b"".join([header, names, text, *(column.tobytes() for column in numbers)])

    @classmethod
    def from_bytes(cls, data: bytes) -> RangeColumns:
        files, text, numbers = cls._unpack(data, _RANGES_MAGIC, "")
        keys = text.decode("utf-8").split("\0") if numbers[0] else []
        if len(keys) != len(numbers[0]):
            raise ValueError("columns of different lengths")
        return cls(files, keys, *numbers)

    @classmethod
    def from_documents_bytes(cls, data: bytes) -> tuple[RangeColumns, str]:
        """(the columns, keyed by document number; the signature of the segments they were written for)."""
        files, text, numbers = cls._unpack(data, _DOCUMENTS_MAGIC, "I")
        return cls(files, numbers[3], *numbers[:3]), text.decode("utf-8")

    @staticmethod
    def _unpack(data: bytes, magic: bytes, extra: str) -> tuple[list[str], bytes, list[list[int]]]:
        """(file names, the text after them, the number columns) of `_pack`'s bytes; ValueError if damaged."""
        if len(data) < _RANGES_HEADER.size:
            raise ValueError("too short")
        found, rows, names_size, text_size = _RANGES_HEADER.unpack_from(data)
        at = _RANGES_HEADER.size
        columns = [array(typecode) for typecode in "Iqq" + extra]
        if found != magic or len(data) != at + names_size + text_size + rows * sum(c.itemsize for c in columns):
            raise ValueError("not a table of text ranges")
        files = data[at:at + names_size].decode("utf-8").split("\0") if names_size else []
        at += names_size
        text = data[at:at + text_size]
        at += text_size
        numbers = []
        for column in columns:
            column.frombytes(data[at:at + rows * column.itemsize])
            if sys.byteorder == "big":
                column.byteswap()
            numbers.append(column.tolist())
            at += rows * column.itemsize
        if (rows and not files) or max(numbers[0], default=-1) >= len(files):
            raise ValueError("columns of different lengths")
        return files, text, numbers

    def table(self) -> dict[str, list[Any]]:
        files = self.files
        return {key: [files[f], s, e] for key, f, s, e in zip(self.keys, self.file, self.start, self.end)}


_RANGES_MAGIC = b"ZHSRNG01"
_DOCUMENTS_MAGIC = b"ZHSDOC01"
_RANGES_HEADER = struct.Struct("<8sQQQ")


def _read_required(path: Path, parse: Callable[[bytes], Parsed]) -> Parsed:
    found = read_binary(path, parse)
    if found is None:
        raise IndexCorrupt(f"{path.name} is missing from {path.parent}; "
                           "rebuild the index with `zhsearch index --rebuild`")
    return found


def read_ranges(gen: Path, changes: dict[str, dict[str, Any]]) -> tuple[RangeColumns, dict[str, Any]]:
    """The RANGES table as last written whole, as columns, and its entries in `changes` (None: removed), to apply."""
    return _read_required(gen / RANGES_BINARY, RangeColumns.from_bytes), changes.get(RANGES, {})


def segments_signature(segments: Iterable[Any]) -> str:
    """Which Whoosh segments number an index's posts: each one's name, documents and deleted documents."""
    return ";".join(f"{segment.name}:{segment.doc_count}:{len(segment.deleted)}" for segment in segments)


def document_ranges(segments: list[Any], columns: RangeColumns, changes: dict[str, Any]) -> RangeColumns:
    """The DOCUMENTS columns: `columns` with `changes` applied (as `read_ranges` gives them), each post's path
    replaced by the number of its live document in Whoosh's `segments` (segments.SegmentFiles or WhooshSegment),
    in file and start order. A path no live document has is left out."""
    docnums = live_documents(segments)
    files = list(columns.files)
    number = {name: i for i, name in enumerate(files)}
    rows = [(f, start, end, docnums[key]) for key, f, start, end in zip(columns.keys, columns.file, columns.start,
                                                                         columns.end)
            if key not in changes and key in docnums]
    for key, entry in changes.items():
        if entry is not None and key in docnums:
            name, start, end = entry
            if name not in number:
                number[name] = len(files)
                files.append(name)
            rows.append((number[name], start, end, docnums[key]))
    rows.sort()
    return RangeColumns(files, [r[3] for r in rows], [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


def updated_document_ranges(previous: RangeColumns, previous_signature: str, segments: list[Any],
                            added: dict[str, Any]) -> RangeColumns | None:
    """The DOCUMENTS columns of `segments` worked out from the previous commit's (`previous`, written for the
    segments of `previous_signature`) when that commit's segments are still the first of `segments`, in order, with at
    most more documents deleted or a segment dropped (an update drops segments left with deleted documents only):
    their rows less the deleted and dropped documents', and the rows of the segments after them, whose posts' ranges
    are `added` (path → (file, start, end)). None when Whoosh merged or rewrote segments, or a new document's path is
    not in `added`: then `document_ranges` works the table out from every path."""
    old = [entry.rsplit(":", 2) for entry in previous_signature.split(";")] if previous_signature else []
    names = [segment.name for segment in segments]
    kept = [entry for entry in old if entry[0] in names]  # (the dropped ones' documents were all deleted)
    if names[:len(kept)] != [name for name, _, _ in kept] or any(
            segment.doc_count != int(count) or len(segment.deleted) < int(deleted)
            for segment, (_, count, deleted) in zip(segments, kept)):
        return None
    deleted = {segment.base + n for segment in segments[:len(kept)] for n in segment.deleted}
    keys = previous.keys
    if len(kept) < len(old):  # segments dropped: the documents after the first dropped one are numbered anew
        import bisect
        import itertools

        old_bases = list(itertools.accumulate((int(count) for _, count, _ in old), initial=0))
        new_base = {segment.name: segment.base for segment in segments[:len(kept)]}
        first_dropped = next(old_bases[i] for i, (name, _, _) in enumerate(old) if name not in new_base)
        renumbered = []
        for key in keys:
            if key >= first_dropped:
                i = bisect.bisect_right(old_bases, key) - 1
                base = new_base.get(old[i][0])
                key = -1 if base is None else base + key - old_bases[i]
            renumbered.append(key)
        keys = renumbered
        deleted.add(-1)
    keep = [n not in deleted for n in keys] if deleted else None
    files = list(previous.files)
    number = {name: i for i, name in enumerate(files)}
    rows = []
    for segment in segments[len(kept):]:
        for n, path in enumerate(segment.paths()):
            if n in segment.deleted:
                continue
            entry = added.get(path)
            if entry is None:
                return None
            name, start, end = entry
            if name not in number:
                number[name] = len(files)
                files.append(name)
            rows.append((number[name], start, end, segment.base + n))
    if any(row[0] < len(previous.files) for row in rows):
        return None  # (only new store files keep the rows in file order without sorting them all)
    rows.sort()

    def column(values: list[int], new: list[int]) -> list[int]:
        return (values if keep is None else list(compress(values, keep))) + new

    return RangeColumns(files, column(keys, [r[3] for r in rows]), column(previous.file, [r[0] for r in rows]),
                        column(previous.start, [r[1] for r in rows]), column(previous.end, [r[2] for r in rows]))




def read_documents(gen: Path, segments: list[Any]) -> RangeColumns:
    """The DOCUMENTS columns of `gen`; IndexCorrupt if they are missing or were not written for `segments`."""
    path = gen / DOCUMENTS
    columns, signature = _read_required(path, RangeColumns.from_documents_bytes)
    if signature != segments_signature(segments):
        raise IndexCorrupt(f"{path} does not match the index's segments; rebuild the index with "
                           "`zhsearch index --rebuild`")
    return columns
