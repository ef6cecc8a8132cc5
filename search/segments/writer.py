"""The Whoosh segment writer of a build: word-field postings kept by term, written without Whoosh's per-posting path.

Whoosh's `SegmentWriter` turns every posting into a tuple, sorts them all in its posting pool, then feeds them one by
one to its codec, which makes a term-info object, a postings block and a hash-table entry per term: about a fifth of
a build's CPU.

`BuildSegmentWriter` keeps the postings of the word fields that hold counts only (`schema.WordField` without
positions) in a dict per field, term → array of docnum, count, docnum, count, ..., in the order documents are added. At
the end each field's terms are sorted once, and a term with fewer postings than the codec's inline limit (most of them)
has its term-info bytes made here, just as Whoosh's W3 codec makes them, and added straight to the term table;
longer posting lists, and every other field (path, stamp, pinyin positions), go through Whoosh's own writer. The
segment's files are the same bytes as Whoosh's writer makes: tests compare them.

A writer given `spill_at` holds at most that many of those postings in memory: before a document would take it past
that, it writes what it holds, each field's terms in order, to a run file of its own (anonymous, in the segment's
folder), and the segment's postings are merged from its runs and what it still holds when the segment is written
(as an external sort merges its runs). The segment is the same; only the memory it takes while documents are added is
bounded by `spill_at` rather than by the segment's size.

Only for a new segment (a build): updates delete and merge, which this writer does not do.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import marshal
import os
import pickle
import struct
import tempfile
from array import array
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any, cast

from whoosh import formats
from whoosh.util.numeric import length_to_byte
from whoosh.writing import SegmentWriter

# W3TermInfo's fixed part: flags (1: postings inlined), total weight, doc frequency, min and max length (as bytes),
# max weight, first and last docnum.
_TERM_INFO = struct.Struct("!BfIBBfII")
# A term's key in the term table: the field's number, then the term's UTF-8 bytes.
_FIELD_NUMBER = struct.Struct("!H")
# Before each entry of Whoosh's hash file: its key's and its value's length.
_ENTRY_LENGTHS = struct.Struct("!ii")
# Terms a block of a run file holds: what the merge keeps in memory of each run.
_RUN_BLOCK_TERMS = 2048


def _counts_only(field: Any) -> bool:
    """A word field whose postings carry no value, only how often the term occurs (schema.WordField)."""
    from .schema import WordField

    return isinstance(field, WordField) and isinstance(field.format, formats.Existence)


class BuildSegmentWriter(SegmentWriter):
    """A `SegmentWriter` for a new segment that writes the counts-only word fields' postings in bulk (see above)."""

    def __init__(self, ix: Any, spill_at: int | None = None, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        if self.codec.length_stats or not hasattr(self.codec, "_inlinelimit"):
            raise ValueError("BuildSegmentWriter writes W3 segments without length statistics only")
        # What add_document below leaves out of Whoosh's: vectors, spelling words, boosts.
        for name, field in self.schema.items():
            if field.vector or field.separate_spelling():
                raise ValueError(f"BuildSegmentWriter can't write field {name!r} (vectors or spelling)")
        # term → docnum, count, docnum, count...: an array takes 8 bytes a posting, a list of ints 18 or so (pointers,
        # over-allocation), which was half of a build process's growth up to its first segment.
        self._term_postings: dict[str, dict[str, array[int]]] = {
            name: {} for name, field in self.schema.items() if _counts_only(field)}
        # Whoosh's term table keeps each term's hash and position as a tuple in one of 256 lists until it is closed
        # (about 130 bytes a term); as two arrays a bucket, 16 bytes. The table writes the same bytes from them.
        self.fieldwriter._tindex.buckets = [_HashedPositions() for _ in range(256)]
        self.postings = 0  # word postings of the segment so far: a build starts another segment past a bound
        self.postings_held = 0  # of them, those in _term_postings (the others are in runs)
        self._spill_at = spill_at
        self._runs: list[_Run] = []

    def add_document(self, **fields: Any) -> None:
        """Whoosh's add_document for zhsearch's schema (no boosts, vectors or spelling), fields in name order."""
        self._check_state()
        if any(name.startswith("_") for name in fields):
            raise ValueError("BuildSegmentWriter takes no boosts or custom stored values")
        if self._spill_at is not None and self.postings_held:
            incoming = sum(len(value) for name, value in fields.items() if name in self._term_postings and value)
            if self.postings_held + incoming > self._spill_at:
                self._spill()
        perdoc = self.perdocwriter
        docnum = self.docnum
        add_posting = self.pool.add
        perdoc.start_doc(docnum)
        for name in sorted(fields):
            value = fields[name]
            if value is None:
                continue
            field = self.schema[name]
            length = 0
            terms = self._term_postings.get(name)
            if terms is not None:
                get = terms.get
                self.postings += len(value)
                self.postings_held += len(value)
                for term, count in value.items():
                    length += count
                    postings = get(term)
                    if postings is None:
                        terms[term] = array("I", (docnum, count))
                    else:
                        postings.append(docnum)
                        postings.append(count)
            elif field.indexed:
                scorable = field.scorable
                for term_bytes, frequency, weight, value_bytes in field.index(value):
                    if scorable:
                        length += frequency
                    # Whoosh multiplies by the field's boost (1.0): an int weight becomes a float, as there.
                    add_posting((name, term_bytes, docnum, weight * 1.0, value_bytes))
            perdoc.add_field(name, field, value if field.stored else None, length)
            column = field.column_type
            if column:
                perdoc.add_column_value(name, column, field.to_column_value(value))
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _spill(self) -> None:
        """Write the held word postings to a new run file, each field's terms in order, and release them."""
        run = _Run(self.storage.folder if hasattr(self.storage, "folder") else None)
        try:
            for name, terms in self._term_postings.items():
                if terms:
                    run.write_field(name, ((term, terms.pop(term)) for term in sorted(terms)))
        except BaseException:
            run.close()
            raise
        self._runs.append(run)
        self.postings_held = 0

    def _field_terms(self, name: str) -> Iterator[tuple[str, array[int]]]:
        """The field's terms in order, each with its postings (docnum, count, ...), from its runs and what is held;
        what is held is released term by term as it is given."""
        terms = self._term_postings[name]
        held = ((term, terms.pop(term)) for term in sorted(terms))  # code point order is UTF-8 byte order
        runs = [run.field_terms(name) for run in self._runs if name in run.fields]
        if not runs:
            yield from held
            return
        # Runs hold earlier documents than later runs and than what is held: merged stably, a term's postings stay in
        # document order.
        for term, group in itertools.groupby(heapq.merge(*runs, held, key=itemgetter(0)), key=itemgetter(0)):
            parts = [part for _, part in group]
            if len(parts) == 1 and isinstance(parts[0], array):
                yield term, parts[0]
                continue
            postings = array("I")
            for part in parts:
                if isinstance(part, array):  # (held: the last part)
                    postings.extend(part)
                else:
                    postings.frombytes(cast(bytes, part))  # a run's postings
            yield term, postings

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        field_writer = self.fieldwriter
        # Fields in name order, as Whoosh's sorted pool gives them: the order numbers them in the term table. The
        # pool's fields (path, stamp, pinyin) are written as it gives them, between the word fields, never listed whole.
        pooled = itertools.groupby(self.pool.iter_postings(), key=itemgetter(0))
        pooled_name, postings = next(pooled, (None, None))
        written = {n for n, terms in self._term_postings.items() if terms}
        written.update(name for run in self._runs for name in run.fields)
        try:
            for name in [*sorted(written), None]:
                while pooled_name is not None and (name is None or pooled_name < name):
                    field_writer.add_postings(self.schema, None, postings)
                    pooled_name, postings = next(pooled, (None, None))
                if name is not None:
                    self._write_term_postings(name, self._field_terms(name))
        finally:
            self._close_runs()
        field_writer.close()

    def _close_runs(self) -> None:
        for run in self._runs:
            run.close()
        self._runs = []

    def cancel(self) -> None:
        self._close_runs()
        super().cancel()

    def _write_term_postings(self, name: str, terms: Iterable[tuple[str, array[int]]]) -> None:
        """Write the field's terms, given in order with their postings, each term's postings released once written:
        Whoosh's term table grows (an offset and a hash a term) while the postings shrink, instead of both being held
        at the end."""
        field_writer = self.fieldwriter
        field_writer.start_field(name, self.schema[name])
        field_key = _FIELD_NUMBER.pack(field_writer._fieldid)
        term_table = field_writer._tindex
        inline_limit = self.codec._inlinelimit
        block_limit = self.codec._blocklimit
        no_length = length_to_byte(0)
        pack = _TERM_INFO.pack
        dumps = pickle.dumps
        inlined: list[tuple[bytes, bytes]] = []  # term table entries not written yet
        for term, postings in terms:
            docnums = postings[0::2]
            term_bytes = term.encode("utf-8")
            if len(docnums) < inline_limit:
                # W3PostingsWriter.finish_postings and W3TermInfo.to_bytes for an inlined list without values: the
                # weights as floats (W3 keeps them in an array of float32, exact for counts), their sum and maximum.
                weights = tuple(map(float, postings[1::2]))
                info = pack(1, sum(weights), len(docnums), 0, no_length, max(weights), docnums[0], docnums[-1])
                inlined.append((field_key + term_bytes, info + dumps((tuple(docnums), weights, ()), 2)))
                continue
            _add_to_term_table(term_table, inlined)
            inlined.clear()
            # Whoosh's own postings writer, given each block whole: the state its add_posting leaves (docnums,
            # float32 weights, the largest weight; no values or lengths), and a full block written when the next
            # posting comes, as add_posting does.
            field_writer.start_term(term_bytes)
            postings_writer = field_writer._postwriter
            counts = postings[1::2]
            for start in range(0, len(docnums), block_limit):
                if start:
                    postings_writer._write_block()
                block_weights = list(map(float, counts[start:start + block_limit]))
                postings_writer._ids = array("I", docnums[start:start + block_limit])
                postings_writer._weights = array("f", block_weights)
                postings_writer._maxweight = max(block_weights)
            field_writer.finish_term()
        _add_to_term_table(term_table, inlined)
        field_writer.finish_field()


class _HashedPositions:
    """A bucket of Whoosh's hash file being written, as its HashWriter uses one (a list of (hash, position) pairs it
    appends to, counts and iterates over), held in two arrays."""

    __slots__ = ("hashes", "positions")

    def __init__(self) -> None:
        self.hashes = array("Q")
        self.positions = array("Q")

    def append(self, entry: tuple[int, int]) -> None:
        self.hashes.append(entry[0])
        self.positions.append(entry[1])

    def __len__(self) -> int:
        return len(self.hashes)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self.hashes, self.positions)


class _Run:
    """Word postings a `BuildSegmentWriter` wrote out before its segment: for each field, its terms in order with their
    postings, in blocks of `_RUN_BLOCK_TERMS` terms (marshalled pairs of term and postings bytes, native order), in an
    anonymous temporary file gone when it is closed (or when the process ends)."""

    def __init__(self, folder: str | None) -> None:
        self._file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - held open until close()
        self.fields: dict[str, list[tuple[int, int]]] = {}  # field -> (offset, length) of each of its blocks

    def write_field(self, name: str, terms: Iterable[tuple[str, array[int]]]) -> None:
        blocks = self.fields.setdefault(name, [])
        terms = iter(terms)
        while block := [(term, postings.tobytes()) for term, postings in itertools.islice(terms, _RUN_BLOCK_TERMS)]:
            data = marshal.dumps(block)
            blocks.append((self._file.tell(), len(data)))
            self._file.write(data)

    def field_terms(self, name: str) -> Iterator[tuple[str, bytes]]:
        """The field's terms in order, with their postings' bytes, a block in memory at a time."""
        self._file.flush()
        fd = self._file.fileno()
        for offset, length in self.fields[name]:
            yield from marshal.loads(os.pread(fd, length, offset))

    def close(self) -> None:
        self._file.close()


def _add_to_term_table(table: Any, entries: list[tuple[bytes, bytes]]) -> None:
    """`table.add(key, value)` (Whoosh's OrderedHashWriter) for each entry, in one write.

    The same bytes, index and hash buckets as one add per entry: each entry is its key and value lengths, key and
    value, at a position known from the lengths before it; the hash is Whoosh's md5_hash, the digest's last 32 bits.
    """
    if not entries:
        return
    if table.hashtype != 0 or entries[0][0] <= table.lastkey:  # not MD5, or out of order: Whoosh's own checks
        for key, value in entries:
            table.add(key, value)
        return
    position = table.dbfile.tell()
    add_to_index = table.index.append
    buckets = table.buckets
    lengths = _ENTRY_LENGTHS.pack
    records = []
    for key, value in entries:
        add_to_index(position)
        hashed = int.from_bytes(hashlib.md5(key).digest()[-4:], "big")
        buckets[hashed & 255].append((hashed, position))
        record = lengths(len(key), len(value)) + key + value
        records.append(record)
        position += len(record)
    table.dbfile.write(b"".join(records))
    table.lastkey = entries[-1][0]
