"""The Whoosh segments of an index, read for a query without importing Whoosh.

Whoosh (2.7.4, pinned) writes the segments, and its own reader answers everything a query asks of them. But
importing that reader (whoosh.codec.whoosh3 with whoosh.columns, whoosh.formats, whoosh.analysis, whoosh.fields for
the pickled schema, and whoosh.compat) was a third of a cold `zhsearch search`. A query needs
only this of a segment: a word's postings (document numbers and counts) and document frequency, each post's length
byte per field, the path and stamp columns, stored fields, the deleted documents and the fields' total lengths. This
module reads exactly those from the files of Whoosh's W3 codec (non-compound segments, as zhsearch writes them) with
mmap, struct, pickle and zlib, and nothing else.

`WhooshSegment` answers the same questions through Whoosh's own reader: tests compare the two on every word and
column of built and updated indexes, and `open_segments` falls back to it for what this reader does not know (a
compound segment of an index from an early zhsearch, another TOC version).

Layouts (Whoosh 2.7.4: whoosh/index.py TOC, whoosh/filedb/filetables.py HashReader, whoosh/codec/whoosh3.py,
whoosh/columns.py): numbers are big-endian; arrays are written big-endian with their typecode.
"""

from __future__ import annotations

import io
import mmap
import os
import pickle
import re
import struct
import sys
import zlib
from array import array
from collections.abc import Sequence
from itertools import accumulate, filterfalse
from pathlib import Path
from typing import Any

try:  # CPython's own MD5: hashlib's OpenSSL binding is slow to load for a cold query
    from _md5 import md5  # type: ignore[import-not-found]  # (no stubs)
except ImportError:
    from hashlib import md5

TOC_VERSION = -111  # whoosh.index._CURRENT_TOC_VERSION of Whoosh 2.7
_TERMINFO = struct.Struct("!BfIBBfII")  # W3TermInfo: flags (1: postings inlined), weight, doc freq, lengths, ids
_EXTENT = struct.Struct("!qi")  # after a W3TermInfo whose postings are in the postings file: offset, length
_INT = struct.Struct("!i")
_LENGTHS = struct.Struct("!ii")  # a hash file's record: key length, value length
_SLOT = struct.Struct("!Iq")  # a hash table's slot: key hash, record position
_DIRECTORY_ENTRY = struct.Struct("!qi")  # a hash table's position and number of slots
_BLOCK_MAGIC = b"W3Bl"
_STAMP = struct.Struct("!Q")
STAMP_DEFAULT = 2 ** 64 - 1  # what an unsigned 64-bit NUMERIC column gives a post without a value


class Unsupported(Exception):
    """A segment this reader does not know how to read (the caller reads it with Whoosh)."""


class _SegmentState:
    """What the TOC's pickled W3Segment holds (set by unpickling)."""

    indexname: str
    segid: str
    _doccount: int
    _deleted: set[int] | None
    compound: bool
    _fieldlengths: dict[str, int]


class _CodecState:
    """The pickled W3Codec's settings (block size, compression): the files say all a reader needs."""


class _TocUnpickler(pickle.Unpickler):
    _CLASSES = {("whoosh.codec.whoosh3", "W3Segment"): _SegmentState,
                ("whoosh.codec.whoosh3", "W3Codec"): _CodecState}

    def find_class(self, module: str, name: str) -> Any:
        known = self._CLASSES.get((module, name))
        if known is not None:
            return known
        if (module, name) in (("collections", "defaultdict"), ("builtins", "int"), ("builtins", "set")):
            return super().find_class(module, name)
        raise Unsupported(f"the TOC holds a {module}.{name}")


def _map(path: Path) -> Any:
    """The file's bytes, mapped (an empty file: empty bytes, which mmap refuses)."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return b""
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def _big_endian_array(typecode: str, data: Any) -> array:
    values = array(typecode)
    values.frombytes(data)
    if sys.byteorder == "little":
        values.byteswap()
    return values


def latest_toc(directory: Path, indexname: str) -> Path:
    """The newest TOC file of the Whoosh index `indexname` in `directory` (Whoosh reads the highest generation)."""
    pattern = re.compile(rf"_{re.escape(indexname)}_([0-9]+)\.toc")
    found = [(int(m.group(1)), name) for name in os.listdir(directory) if (m := pattern.fullmatch(name))]
    if not found:
        raise FileNotFoundError(f"no Whoosh index {indexname!r} in {directory}")
    return directory / max(found)[1]


def read_toc(path: Path) -> list[_SegmentState]:
    """The segments a TOC lists, without unpickling the schema before them (it would import whoosh.fields)."""
    data = path.read_bytes()
    at = 0
    sizes = []
    for _ in range(3):
        size, at = _varint(data, at)
        sizes.append(size)
    check, version = struct.unpack_from("!ii", data, at)
    at += 8
    if sizes != [4, 8, 4] or check != -12345:
        raise ValueError(f"{path.name} was written on another architecture")
    if version != TOC_VERSION:
        raise Unsupported(f"{path.name} is TOC version {version}")
    for _ in range(3):  # Whoosh's release
        _, at = _varint(data, at)
    schema_length, at = _varint(data, at)
    at += schema_length + 8  # the schema, the generation and an unused int
    toc = io.BytesIO(data)
    toc.seek(at)
    segments = _TocUnpickler(toc).load()
    for segment in segments:
        if not isinstance(segment, _SegmentState) or getattr(segment, "compound", True):
            raise Unsupported(f"{path.name} lists a compound segment")
    return segments


class SegmentFiles:
    """One segment of the index, read from its files (a document number here is the segment's own)."""

    def __init__(self, directory: Path, state: _SegmentState, base: int) -> None:
        self.name = f"{state.indexname}_{state.segid}"  # as Whoosh's Segment.segment_id()
        self.base = base
        self.doc_count = int(state._doccount)
        self.deleted: frozenset[int] = frozenset(state._deleted or ())
        self._field_lengths = dict(state._fieldlengths)
        self._prefix = directory / self.name
        self._terms = _map(self._path(".trm"))
        self._postings_file = _map(self._path(".pst"))
        self._columns: dict[str, Any] = {}
        self._var_columns: dict[str, tuple[Any, array, array]] = {}
        terms = self._terms
        if terms[:4] != b"HSH3":
            raise ValueError(f"{self._path('.trm').name} is not a Whoosh hash file")
        hash_type = terms[4]
        if hash_type != 0:  # 0: md5, what Whoosh's OrderedHashWriter uses
            raise Unsupported(f"hash type {hash_type}")
        extras_end = len(terms) - _INT.size
        extras_start = extras_end - _INT.unpack_from(terms, extras_end)[0]
        self._field_numbers: dict[str, int] = pickle.loads(terms[extras_start:extras_end])["fieldmap"]
        directory_start = extras_start - 256 * _DIRECTORY_ENTRY.size
        if directory_start < 0:
            raise ValueError(f"{self._path('.trm').name} is truncated")
        self._tables = list(_DIRECTORY_ENTRY.iter_unpack(terms[directory_start:extras_start]))

    def _path(self, suffix: str) -> Path:
        return self._prefix.with_name(self._prefix.name + suffix)

    def close(self) -> None:
        for data in (self._terms, self._postings_file, *self._columns.values()):
            if isinstance(data, mmap.mmap):
                data.close()
        self._columns.clear()
        self._var_columns.clear()

    # -- terms ----------------------------------------------------------------------------------------------------

    def _term_info(self, field: str, word: str) -> bytes | None:
        """The W3TermInfo bytes of `word` in `field` (HashReader.ranges_for_key), or None."""
        number = self._field_numbers.get(field)
        if number is None:
            return None
        key = struct.pack("!H", number) + word.encode("utf-8")
        key_hash = int(md5(key).hexdigest(), 16) & 0xFFFFFFFF
        table_start, slots = self._tables[key_hash & 255]
        if not slots:
            return None
        terms = self._terms
        table_end = table_start + slots * _SLOT.size
        slot = table_start + ((key_hash >> 8) % slots) * _SLOT.size
        for _ in range(slots):
            slot_hash, record = _SLOT.unpack_from(terms, slot)
            if not record:
                return None
            if slot_hash == key_hash:
                key_length, value_length = _LENGTHS.unpack_from(terms, record)
                key_start = record + _LENGTHS.size
                if key_length == len(key) and terms[key_start:key_start + key_length] == key:
                    return terms[key_start + key_length:key_start + key_length + value_length]
            slot += _SLOT.size
            if slot == table_end:
                slot = table_start
        return None

    def doc_frequency(self, field: str, word: str) -> int:
        """Posts of the segment holding `word` in `field`, deleted ones included (as Whoosh counts)."""
        info = self._term_info(field, word)
        return 0 if info is None else _TERMINFO.unpack_from(info)[2]

    def postings(self, field: str, word: str) -> tuple[Sequence[int], Sequence[float]] | None:
        """(document numbers, counts) of `word` in `field`, deleted posts included; None if absent."""
        info = self._term_info(field, word)
        if info is None:
            return None
        if info[0]:  # inlined: a pickled (ids, weights, values) after the fixed part
            ids, weights, _ = pickle.loads(info[_TERMINFO.size:])
            return ids, weights
        offset, _ = _EXTENT.unpack_from(info, _TERMINFO.size)
        return self._block_postings(offset)

    def _block_postings(self, offset: int) -> tuple[list[int], list[float]]:
        """A posting list in the postings file: a magic tag, then blocks of a length (negative for the last), a
        pickled (count, max id, max weight, compression, min and max length byte) and the pickled, maybe
        compressed, (id deltas, weights, values)."""
        data = self._postings_file
        if data[offset:offset + 4] != _BLOCK_MAGIC:
            raise ValueError(f"no postings block at {offset} of {self._path('.pst').name}")
        ids: list[int] = []
        weights: list[float] = []
        at = offset + 4
        while True:
            length = _INT.unpack_from(data, at)[0]
            next_block = at + _INT.size + abs(length)
            raw = data[at + _INT.size:next_block]
            stream = io.BytesIO(raw)
            count, _, _, compression, _, _ = pickle.load(stream)
            block = memoryview(raw)[stream.tell():]
            block_ids, block_weights, _ = pickle.loads(zlib.decompress(block) if compression else block)
            ids.extend(accumulate(block_ids))
            if block_weights is None:
                weights.extend([1.0] * count)
            elif isinstance(block_weights, float):
                weights.extend([block_weights] * count)
            else:
                weights.extend(block_weights)
            if length < 0:
                return ids, weights
            at = next_block

    def field_length(self, field: str) -> int:
        """The total length of `field` over the segment's posts (deleted ones included, as Whoosh keeps it)."""
        return self._field_lengths.get(field, 0)

    # -- columns --------------------------------------------------------------------------------------------------

    def _column(self, name: str) -> Any:
        """The column file's bytes, or None if the segment has no such column."""
        if name not in self._columns:
            path = self._path(f".{name}.col")
            self._columns[name] = _map(path) if path.exists() else None
        return self._columns[name]

    def length_bytes(self, field: str) -> bytes:
        """Every post's length byte of `field` (Whoosh's NumericColumn("B"); 0: none stored)."""
        data = self._column(f"_{field}_len")
        if data is None:
            return bytes(self.doc_count)
        stored = min(len(data), self.doc_count)
        return bytes(data[:stored]) + bytes(self.doc_count - stored)

    def stamps(self) -> list[int]:
        """Each post's stamp (Whoosh's unsigned 64-bit NumericColumn; STAMP_DEFAULT for none)."""
        data = self._column("stamp")
        if data is None:
            return [STAMP_DEFAULT] * self.doc_count
        stored = min(len(data) // _STAMP.size, self.doc_count)
        values = [value for (value,) in _STAMP.iter_unpack(data[:stored * _STAMP.size])]
        return values + [STAMP_DEFAULT] * (self.doc_count - stored)

    def _var_bytes(self, name: str) -> tuple[Any, array, array] | None:
        """A VarBytesColumn: (data, offsets, lengths). After the values: the lengths array, then (if there are many
        posts) the offsets array, then the lengths' typecode, and after offsets the offsets' typecode and "X"."""
        found = self._var_columns.get(name)
        if found is not None:
            return found
        data = self._column(name)
        if data is None:
            return None
        count = self.doc_count
        last = len(data) - 1
        code = chr(data[last])
        offsets = None
        if code == "X":
            code, offsets_code = chr(data[last - 2]), chr(data[last - 1])
            size = struct.calcsize(offsets_code)
            start = last - 2 - count * size
            offsets = _big_endian_array(offsets_code, data[start:start + count * size])
            last = start
        size = struct.calcsize(code)
        lengths = _big_endian_array(code, data[last - size * count:last])
        if offsets is None:
            offsets = array("q", accumulate(lengths, initial=0))[:-1] if count else array("q")
        found = self._var_columns[name] = (data, offsets, lengths)
        return found

    def paths(self) -> list[str]:
        """Each post's path (an ID field's VarBytesColumn), in document order."""
        column = self._var_bytes("path")
        if column is None:
            return [""] * self.doc_count
        data, offsets, lengths = column
        if not lengths:
            return []
        # One decode of the values joined by NUL (no path holds one), the slicing done by map in C.
        whole = bytes(data[:offsets[-1] + lengths[-1]])
        values = map(whole.__getitem__, map(slice, offsets, map(int.__add__, offsets, lengths)))
        return b"\0".join(values).decode("utf-8").split("\0")

    def path(self, docnum: int) -> str:
        """One post's path."""
        column = self._var_bytes("path")
        if column is None:
            return ""
        data, offsets, lengths = column
        return bytes(data[offsets[docnum]:offsets[docnum] + lengths[docnum]]).decode("utf-8")

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        """The post's stored fields (a PickleColumn over a CompressedBytesColumn named _stored)."""
        column = self._var_bytes("_stored")
        if column is None:
            return {}
        data, offsets, lengths = column
        length = lengths[docnum]
        if not length:
            return {}
        value = pickle.loads(zlib.decompress(data[offsets[docnum]:offsets[docnum] + length]))
        return value if value is not None else {}


class WhooshSegment:
    """The same answers as SegmentFiles, from Whoosh's reader of the segment (tests; segments it can't read)."""

    def __init__(self, reader: Any, base: int) -> None:
        self._reader = reader
        self.name = reader.segment().segment_id()
        self.base = base
        self.doc_count = reader.doc_count_all()
        self.deleted = frozenset(reader.segment().deleted_docs()) if reader.has_deletions() else frozenset()

    def close(self) -> None:
        pass  # the whole index's reader is closed by its owner

    def doc_frequency(self, field: str, word: str) -> int:
        return self._reader.doc_frequency(field, word)

    def postings(self, field: str, word: str) -> tuple[Sequence[int], Sequence[float]] | None:
        # The segment's terms reader, not reader.postings(): that one leaves deleted posts out.
        terms, key = self._reader._terms, word.encode("utf-8")
        if (field, key) not in terms:
            return None
        matcher = terms.matcher(field, key, self._reader.schema[field].format)
        ids: list[int] = []
        weights: list[float] = []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return ids, weights

    def field_length(self, field: str) -> int:
        return self._reader.field_length(field)

    def length_bytes(self, field: str) -> bytes:
        from whoosh.util.numeric import length_to_byte

        lengths = (self._reader.doc_field_length(n, field, 0) for n in range(self.doc_count))
        return bytes(length_to_byte(length) if length else 0 for length in lengths)

    def stamps(self) -> list[int]:
        if not self._reader.has_column("stamp"):
            return [STAMP_DEFAULT] * self.doc_count
        column = self._reader.column_reader("stamp", translate=False)
        return [column[n] for n in range(self.doc_count)]

    def paths(self) -> list[str]:
        column = self._reader.column_reader("path", translate=False)
        return [value.decode("utf-8") for value in column]

    def path(self, docnum: int) -> str:
        return self._reader.column_reader("path", translate=False)[docnum].decode("utf-8")

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        return self._reader.stored_fields(docnum)


def live_documents(segments: Sequence[Any]) -> dict[str, int]:
    """Path → document number of every live post of `segments` (SegmentFiles or WhooshSegment, in Whoosh's order)."""
    paths: list[str] = []
    deleted: set[int] = set()
    for segment in segments:
        paths.extend(segment.paths())
        deleted.update(segment.base + n for n in segment.deleted)
    # Built by zip and filterfalse in C, not a comprehension: it runs over every post.
    live: Any = range(len(paths))
    if deleted:  # (a changed post's path is also the deleted document's)
        live = list(filterfalse(deleted.__contains__, live))
        return dict(zip(map(paths.__getitem__, live), live))
    return dict(zip(paths, live))


def whoosh_segments(reader: Any) -> list[WhooshSegment]:
    """The segments of a Whoosh reader (of the whole index) as WhooshSegment."""
    return [WhooshSegment(leaf, base) for leaf, base in reader.leaf_readers()]


def read_segments(directory: Path, indexname: str) -> list[SegmentFiles]:
    """Every segment of the Whoosh index in `directory`, in Whoosh's order (the document numbers follow it).

    Raises Unsupported for what only Whoosh reads, and OSError or ValueError (struct.error, pickle errors) for
    damaged files."""
    segments: list[SegmentFiles] = []
    base = 0
    try:
        for state in read_toc(latest_toc(directory, indexname)):
            segment = SegmentFiles(directory, state, base)
            segments.append(segment)
            base += segment.doc_count
    except BaseException:
        for segment in segments:
            segment.close()
        raise
    return segments
