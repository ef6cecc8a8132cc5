"""The Whoosh segment writer of a build: word-field postings kept by term, and written without Whoosh's per-posting path.

Whoosh's `SegmentWriter` turns every posting into a tuple, sorts them all in its posting pool, then feeds them one by
one to its codec, which makes a term-info object, a postings block and a hash-table entry per term. A build of the
blogs corpus has about 430,000 postings in 120,000 terms, and that path was about a fifth of a build's CPU.

`BuildSegmentWriter` keeps the postings of the word fields that hold counts only (`schema.WordField` without
positions) in a dict per field, term → array of docnum, count, docnum, count, ..., in the order documents are added. At
the end each field's terms are sorted once, and a term with fewer postings than the codec's inline limit (most of them)
has its term-info bytes made here, just as Whoosh's W3 codec makes them, and added straight to the term table;
longer posting lists, and every other field (path, stamp, pinyin positions), go through Whoosh's own writer. The
segment's files are the same bytes as Whoosh's writer makes: tests compare them.

Only for a new segment (a build): updates delete and merge, which this writer does not do.
"""

from __future__ import annotations

import hashlib
import itertools
import pickle
import struct
from array import array
from typing import Any

from . import _import_whoosh_compat

_import_whoosh_compat()  # before anything imports whoosh.compat

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


def _counts_only(field: Any) -> bool:
    """A word field whose postings carry no value, only how often the term occurs (schema.WordField)."""
    from .schema import WordField

    return isinstance(field, WordField) and isinstance(field.format, formats.Existence)


class BuildSegmentWriter(SegmentWriter):
    """A `SegmentWriter` for a new segment that writes the counts-only word fields' postings in bulk (see above)."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
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
        self.postings_held = 0  # in _term_postings: what a build watches to keep a worker's memory bounded

    def add_document(self, **fields: Any) -> None:
        """Whoosh's add_document for zhsearch's schema (no boosts, vectors or spelling), fields in name order."""
        self._check_state()
        if any(name.startswith("_") for name in fields):
            raise ValueError("BuildSegmentWriter takes no boosts or custom stored values")
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
                self.postings_held += len(value)
                for term, positions in value.items():
                    count = len(positions)
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

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        field_writer = self.fieldwriter
        pooled = {name: list(postings)
                  for name, postings in itertools.groupby(self.pool.iter_postings(), key=lambda p: p[0])}
        # Fields in name order, as Whoosh's sorted pool gives them: the order numbers them in the term table.
        for name in sorted(set(pooled) | {n for n, terms in self._term_postings.items() if terms}):
            if name in pooled:
                field_writer.add_postings(self.schema, None, pooled[name])
            else:
                self._write_term_postings(name, self._term_postings[name])
        field_writer.close()

    def _write_term_postings(self, name: str, terms: dict[str, array[int]]) -> None:
        """Write the field's terms in order, each term's postings released once written: Whoosh's term table grows
        (an offset and a hash a term) while the postings shrink, instead of both being held at the end."""
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
        for term in sorted(terms):  # code point order is UTF-8 byte order
            postings = terms.pop(term)
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
                weights = list(map(float, counts[start:start + block_limit]))
                postings_writer._ids = array("I", docnums[start:start + block_limit])
                postings_writer._weights = array("f", weights)
                postings_writer._maxweight = max(weights)
            field_writer.finish_term()
        _add_to_term_table(term_table, inlined)
        field_writer.finish_field()


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
