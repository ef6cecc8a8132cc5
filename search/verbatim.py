"""Verbatim matching: the normalised text of every post, searched like grep.

Parts:
- `TextStoreWriter` appends posts' normalised fields to a store file and returns where each post stands.
- `TextStore` opens the store files of an index generation and finds the posts that contain a text, optionally
  only in some fields, with `find`.

Why not an n-gram field in Whoosh: a bigram field makes any substring findable as a phrase, but Whoosh writes
each distinct term and posting in pure Python (~15 µs a posting), which made the build several times slower than
the whole naive engine. Searching the folded text itself is exact by construction (quoted text = grep after
normalisation) and costs one fast byte scan per verbatim term.

Prefilter: a full scan costs O(corpus) per term (~4 ms at 700 posts, ~240 ms at 20k). So each store file has a
sidecar (`<store>.grams`, written by `TextStoreWriter` as the file is written) that says, for every post of the
file, which "gram buckets" occur in it: every character and every pair of adjacent UTF-16 code units of the post's
stored text is hashed into each bank of buckets (`BANKS`: a Bloom filter per post with one hash a bank, stored
bit-sliced). A needle that occurs in a post has all its characters and pairs in that post, so the posts whose bits
are set for all of the needle's buckets are a superset of the answer; `find` scans only those. Hash collisions
only add candidates, which the scan rejects: results are exactly those of the full scan. A store file without a
sidecar (indexes written before it existed, or a store appended to) is scanned in full.

Layout of a sidecar (integers and bitmaps little-endian; pair codes depend on the writer's byte order, which the
header records: another order's sidecar is ignored): a header (`_HEADER`: magic, byte order of the writer, the
size of each bank, posts per block, post count, offset of the starts table; `_HEADER_V1` for the one bank of
earlier versions), then for each block of `BLOCK` posts one bitmap per
bucket (bit i = i-th post of the block; `BLOCK // 8` bytes each, the last block's as many bytes as its posts
need), then the start offset of each post in the store file (uint64). A query reads one small slice per bucket
and block, with pread: opening an index reads no sidecar, a query reads a few hundred small slices of one.

Layout of a store file: for each post, its fields in `FIELD_ORDER`, each folded, UTF-8 encoded and followed by
FIELD_END; the post then ends with POST_END. Queries are stripped of control characters, so a match never spans
two fields or two posts.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import mmap
import operator
import os
import struct
import sys
from array import array
from pathlib import Path
from typing import TYPE_CHECKING, Any, Collection, Container, Iterable, Iterator

from .errors import IndexCorrupt

if TYPE_CHECKING:
    from .generations import RangeColumns

FIELD_END = b"\x1f"
POST_END = b"\x1e"
FIELD_ORDER = ("title", "author", "category", "tag", "body")
SCAN_WINDOW = 8 << 20

GRAMS_SUFFIX = ".grams"
# Banks of buckets: a character or pair of code c sets bucket c mod m of each bank of size m (after the banks before
# it). Each bank's size is a prime whose 65536 residue is about 0.618 or 0.382 of it (18119: 11179, 25033: 15470),
# as residues near 0 or near the prime made neighbouring pairs (Latin letters) collide (on the blogs corpus, 32771,
# whose residue is -6, gave 4x the candidates for `python`, 30x for `内推`). One bank of 18119 (version 1 of the
# sidecar) left some needles a candidate in most posts: each bucket holds thousands of pairs, and one that also
# holds a pair of every post (的是) is set in nearly all of them. A needle's pair is now a candidate only where both
# of its buckets are set. False candidates among 4,000 posts of the 20k scale corpus, one bank of 18119 / one of
# 25033 / one of 40507 / 18119 + 25033 (bench/README.md): 内推 59 / 59 / 640 / 3, 体验 927 / 22 / 28 / 22, 索引
# 54 / 8 / 113 / 2, 二维码 241 / 4 / 133 / 2, 性能 33 / 58 / 435 / 1. 5.4 KB of sidecar a post (about 10% of a post's
# bits set in each bank, 2.3 KB with one bank).
BANKS = (18119, 25033)
BLOCK = 1024  # posts per block: the writer holds one block's bitmaps (sum(BANKS) * BLOCK / 8 = 5.5 MB)
_MAGIC = b"ZHGRAMS2"
_HEADER = struct.Struct("<8sBxxxIIIQQ")  # magic, big-endian flag, bank sizes, block, posts, offset of starts
_MAGIC_V1 = b"ZHGRAMS1"
_HEADER_V1 = struct.Struct("<8sBxxxIIQQ")  # magic, big-endian flag, buckets (one bank), block, posts, starts
_UNIGRAM = 1 << 32  # a character's code: beside the pairs' codes, which are < 2**32


def _pair_codes(units: bytes) -> set[int]:
    """The codes (first unit | second unit << 16, in this machine's order) of all adjacent pairs of UTF-16 units."""
    view = memoryview(units)
    even = len(units) // 4 * 4
    odd = (len(units) - 2) // 4 * 4 if len(units) >= 4 else 0
    codes = set(view[:even].cast("I"))
    if odd:
        codes.update(view[2:2 + odd].cast("I"))
    return codes


def _buckets(codes: Collection[int], banks: tuple[int, ...]) -> Iterator[int]:
    """The bucket of each character or pair code in every bank (in a bank of size m, after the banks before it:
    code mod m), computed in C."""
    offsets = itertools.accumulate(banks[:-1], initial=0)
    return itertools.chain.from_iterable(map(offset.__add__, map(size.__rmod__, codes))
                                         for offset, size in zip(offsets, banks))


def _post_codes(text: str) -> set[int]:
    """The codes of every character and every pair of adjacent UTF-16 units of a post's text."""
    codes = _pair_codes(text.encode("utf-16-le", "surrogatepass"))
    codes.update(map(_UNIGRAM.__or__, map(ord, set(text))))
    return codes


def _needle_buckets(text: str, banks: tuple[int, ...]) -> set[int]:
    """Buckets that every post containing `text` has: its pairs' and its characters'.

    The characters too, though a pair implies its two characters: one bucket holds many pairs, and a bucket that
    also holds a pair common in every post (的是) is set in most posts. On the 20k scale corpus, 体验 alone had
    15.5k candidates (3.2k of them holding the word), 7.8k with its characters' buckets; 二维码 3.1k, 2.1k.
    """
    return set(_buckets(_post_codes(text), banks))


class TextStoreWriter:
    """Writes one store file. Use as a context manager; the file is flushed and fsync'ed on close."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "ab")
        self._offset = self._file.tell()
        grams_path = path.with_name(path.name + GRAMS_SUFFIX)
        # A sidecar covers a whole store file: none for a store appended to (its earlier posts are unknown here).
        self._grams = _GramsWriter(grams_path) if self._offset == 0 else None
        if self._grams is None:
            grams_path.unlink(missing_ok=True)

    def add(self, folded_fields: dict[str, str]) -> tuple[int, int]:
        """Append one post's folded fields; returns its (start, end) byte range in the file."""
        parts = [folded_fields.get(name, "").encode("utf-8", "replace") + FIELD_END for name in FIELD_ORDER]
        return self.add_stored(b"".join(parts) + POST_END)

    def add_stored(self, data: bytes) -> tuple[int, int]:
        """Append one post as another store file holds it (`TextStore.stored`); returns its (start, end)."""
        start = self._offset
        self._file.write(data)
        self._offset += len(data)
        if self._grams is not None:
            # From the bytes written (encoding replaced what UTF-8 cannot hold), as find() will read them.
            self._grams.add(start, data.decode("utf-8"))
        return start, self._offset

    def close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        if self._grams is not None:
            self._grams.close()

    def __enter__(self) -> "TextStoreWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _GramsWriter:
    """Writes a store file's sidecar a block of posts at a time (see the module's docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "wb")
        self._file.write(bytes(_HEADER.size))
        self._starts = array("Q")
        self._block = bytearray(sum(BANKS) * (BLOCK // 8))
        self._in_block = 0  # posts of the block in `_block`
        self._rows: list[bytearray] = []  # the next (up to 8) posts' buckets, one byte a bucket (1: set)

    def add(self, start: int, text: str) -> None:
        self._starts.append(start)
        # A row of bytes set in C, 8 rows packed into the block's bits at once: setting each bucket's bit in the
        # block by a Python loop took 0.5-1 ms a post (a post has thousands of buckets).
        row = bytearray(sum(BANKS))
        collections.deque(map(row.__setitem__, _buckets(_post_codes(text), BANKS), itertools.repeat(1)), maxlen=0)
        self._rows.append(row)
        if len(self._rows) == 8:
            self._pack_rows()
            if self._in_block == BLOCK:
                self._flush()

    def _pack_rows(self) -> None:
        """Move the pending rows into the block: the byte of their 8 posts in each bucket's bitmap."""
        packed = 0
        for i, row in enumerate(self._rows):  # bucket b's byte gets bit i from row i's byte b (0 or 1)
            packed |= int.from_bytes(row, "little") << i
        self._block[self._in_block // 8::BLOCK // 8] = packed.to_bytes(sum(BANKS), "little")
        self._in_block += len(self._rows)
        self._rows = []

    def _flush(self) -> None:
        if self._rows:
            self._pack_rows()
        width = BLOCK // 8
        used = (self._in_block + 7) // 8
        if used == width:
            self._file.write(self._block)
        else:  # the last block: as many bytes a bucket as its posts need
            # Column by column with extended slices: a join of one slice per bucket took 30-70 ms, which every
            # one-post update paid.
            trimmed = bytearray(sum(BANKS) * used)
            for byte in range(used):
                trimmed[byte::used] = self._block[byte::width]
            self._file.write(trimmed)
        self._block = bytearray(len(self._block))
        self._in_block = 0

    def close(self) -> None:
        if self._in_block or self._rows:
            self._flush()
        starts_at = self._file.tell()
        starts = array("Q", self._starts)
        if sys.byteorder == "big":
            starts.byteswap()
        self._file.write(starts.tobytes())
        self._file.seek(0)
        self._file.write(_HEADER.pack(_MAGIC, sys.byteorder == "big", *BANKS, BLOCK, len(self._starts),
                                      starts_at))
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()


class _Grams:
    """A store file's sidecar, opened: which of the file's posts may contain a text."""

    def __init__(self, path: Path, live_starts: list[int]) -> None:
        # Read by pread, not mapped: mapped, each small slice read put a whole large folio of the kernel's page cache
        # (up to a few MB) in the process's memory, 80 MB of a cold 20k-post query's 143 MB.
        try:
            self._file = open(path, "rb", buffering=0)
            size = os.fstat(self._file.fileno()).st_size
            head = os.pread(self._file.fileno(), _HEADER.size, 0)
        except OSError as e:
            raise IndexCorrupt(f"cannot read {path.name}: {e}") from e
        damaged = IndexCorrupt(f"{path.name} is damaged; rebuild the index with `zhsearch index --rebuild`")
        header = _HEADER_V1 if head[:len(_MAGIC_V1)] == _MAGIC_V1 else _HEADER
        if len(head) < header.size:
            raise damaged
        magic, big, *banks, self.block, self.posts, starts_at = header.unpack_from(head, 0)
        self.banks: tuple[int, ...] = tuple(banks)
        self._bitmaps_at = header.size
        buckets = sum(self.banks)
        width = self.block // 8
        full, rest = divmod(self.posts, self.block) if self.block else (0, 0)
        bitmaps = buckets * (full * width + (rest + 7) // 8)
        if (magic not in (_MAGIC, _MAGIC_V1) or not all(self.banks) or not self.block or self.block % 8
                or starts_at != header.size + bitmaps or size != starts_at + 8 * self.posts):
            raise damaged
        self.usable = bool(big) == (sys.byteorder == "big")  # pair codes depend on the writer's byte order
        starts = array("Q", os.pread(self._file.fileno(), 8 * self.posts, starts_at))
        if sys.byteorder == "big":
            starts.byteswap()
        self._starts = starts.tolist()
        # The starts of the live posts of this file, when some of its posts are not (then a candidate's index is
        # found by bisection: a dict of every start took 3.5 ms a file at 20k posts, made for a few hundred
        # candidates). A live post the sidecar does not know means it is not this file's sidecar (or is damaged):
        # the prefilter would miss it.
        self._live: list[int] | None = None
        if self._starts != live_starts:
            if not set(self._starts).issuperset(live_starts):
                raise damaged
            self._live = live_starts

    def close(self) -> None:
        self._file.close()

    def candidates(self, text: str) -> list[int]:
        """Indexes (in `live_starts`) of the live posts that may contain `text`, in file order."""
        wanted = sorted(_needle_buckets(text, self.banks))
        fd, width, buckets, block = self._file.fileno(), self.block // 8, sum(self.banks), self.block
        at = self._bitmaps_at
        found: list[int] = []
        for first in range(0, self.posts, block):
            size = min(width, (self.posts - first + 7) // 8)
            bits = -1
            for bucket in wanted:
                bits &= int.from_bytes(os.pread(fd, size, at + bucket * size), "little")
                if not bits:
                    break
            at += buckets * size
            if bits > 0:
                # The set bits' positions, found in C: bit by bit in Python, 6k candidates took 10 ms.
                digits = format(bits, "b")[::-1]
                found.extend(itertools.compress(range(first, first + len(digits)), map("1".__eq__, digits)))
        if self._live is None:
            return found
        live, starts, indexes = self._live, self._starts, []
        for start in map(starts.__getitem__, found):
            i = bisect.bisect_left(live, start)
            if i < len(live) and live[i] == start:
                indexes.append(i)
        return indexes


class _StoreFile:
    """One text file of the store: its path, and the (start, end, key) of each post in it, in file order."""

    # A plain class: the dataclasses module costs every cold query 7 ms to import.
    __slots__ = ("path", "starts", "ends", "keys", "_map", "_grams", "_positions")

    def __init__(self, path: Path, starts: list[int] | None = None, ends: list[int] | None = None,
                 keys: list[Any] | None = None) -> None:
        self.path = path
        self.starts: list[int] = [] if starts is None else starts
        self.ends: list[int] = [] if ends is None else ends
        self.keys: list[Any] = [] if keys is None else keys
        self._map: mmap.mmap | None = None
        self._grams: _Grams | None | bool = False  # False: not looked for yet; None: the file has no sidecar
        self._positions: dict[Any, int] | bool | None = None  # see position

    def grams(self) -> "_Grams | None":
        """The file's sidecar, opened on first use; None when it has none (or one for another byte order)."""
        if self._grams is False:
            path = self.path.with_name(self.path.name + GRAMS_SUFFIX)
            found = _Grams(path, self.starts) if path.exists() else None
            if found is not None and not found.usable:
                found.close()
                found = None
            self._grams = found
        return self._grams  # type: ignore[return-value]

    def close(self) -> None:
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # a view of it is still in use: the map's finalizer closes it
                pass
            self._map = None
        if self._grams:
            self._grams.close()  # type: ignore[union-attr]
        self._grams = False

    def position(self, key: Any) -> int | None:
        """Where `key` is among the file's posts; None if it is not in this file. By bisection when the keys
        ascend, as the document numbers of a build's files do; else from a dict made on first use."""
        keys = self.keys
        if self._positions is None:
            ascending = all(map(operator.lt, keys, itertools.islice(keys, 1, None)))
            self._positions = True if ascending else dict(zip(keys, range(len(keys))))
        if self._positions is True:
            i = bisect.bisect_left(keys, key)
            return i if i < len(keys) and keys[i] == key else None
        return self._positions.get(key)  # type: ignore[union-attr]

    def data(self) -> mmap.mmap:
        if self._map is None:
            try:
                with open(self.path, "rb") as f:
                    self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError) as e:
                raise IndexCorrupt(f"cannot read {self.path.name}: {e}") from e
            if self.ends and len(self._map) < self.ends[-1]:
                raise IndexCorrupt(f"{self.path.name} is truncated")
        return self._map


class TextStore:
    """The folded text of the live posts of one index generation.

    `ranges` maps a post key to (file name, start, end); `from_columns` makes one from the columns an index stores,
    faster. A writer's keys are the posts' paths (RANGES), a query's their Whoosh document numbers (DOCUMENTS).
    """

    def __init__(self, directory: Path, ranges: dict[Any, tuple[str, int, int]]) -> None:
        from .generations import RangeColumns

        self._files = _store_files(directory, RangeColumns.of(ranges), {})  # by file name

    @classmethod
    def from_columns(cls, directory: Path, columns: RangeColumns, changes: dict[str, Any]) -> TextStore:
        """The store of a generation whose RANGES table is `columns` (in file and start order) with `changes`
        applied (key → (file name, start, end), or None for a post removed)."""
        store = cls.__new__(cls)
        store._files = _store_files(directory, columns, changes)
        return store

    def _range(self, key: Any) -> tuple[str, int, int]:
        # Looked up file by file (a store has a few), not in a table of every post: at 20k posts, making that for
        # the ten snippets of a cold query took 7 ms.
        for name, f in self._files.items():
            i = f.position(key)
            if i is not None:
                return name, f.starts[i], f.ends[i]
        raise KeyError(key)

    def close(self) -> None:
        """Close the files this store opened (it reopens them if used again)."""
        for f in self._files.values():
            f.close()

    def stored(self, key: Any) -> bytes:
        """One post's bytes as its store file holds them (for `TextStoreWriter.add_stored`)."""
        name, start, end = self._range(key)
        return bytes(self._files[name].data()[start:end])

    def live_files(self) -> dict[str, tuple[list[Any], int]]:
        """File name → (keys of its live posts in file order, bytes they take), for files holding any."""
        return {name: (list(f.keys), sum(f.ends) - sum(f.starts)) for name, f in self._files.items() if f.keys}

    def fields_of(self, key: Any) -> dict[str, str]:
        """The folded fields of one post."""
        name, start, end = self._range(key)
        store = self._files[name]
        parts = bytes(store.data()[start:end - len(POST_END)]).split(FIELD_END)
        return {n: p.decode("utf-8", "replace") for n, p in zip(FIELD_ORDER, parts)}

    def find(self, text: str, fields: Iterable[str] | None = None, skip: Container[Any] | None = None) -> set[Any]:
        """Keys of the posts whose folded fields (all, or only `fields`) contain folded `text`, leaving out the
        posts in `skip` (those the caller knows to contain it): not read at all where the file has a sidecar."""
        needle = text.encode("utf-8")
        if not needle or FIELD_END in needle or POST_END in needle:
            return set()
        wanted = None if fields is None else {FIELD_ORDER.index(f) for f in fields}
        found: set[Any] = set()
        for store in self._files.values():
            if not store.starts:
                continue
            grams = store.grams()
            if grams is None:
                self._find_in(store, needle, wanted, found, skip)
            else:
                self._find_among(store, grams.candidates(text), needle, wanted, found, skip)
        return found

    @staticmethod
    def _find_among(store: _StoreFile, candidates: list[int], needle: bytes, wanted: set[int] | None,
                    found: set[Any], skip: Container[Any] | None = None) -> None:
        """Scan only the live posts `candidates` (indexes into the file's starts), in file order."""
        if not candidates:
            return
        data = store.data()
        starts, ends, keys = store.starts, store.ends, store.keys
        released = 0
        for i in candidates:
            if skip is not None and keys[i] in skip:
                continue
            start, end = starts[i], ends[i]
            # As in the full scan, hand the pages behind back to the kernel: a common text's candidates are a
            # third of a 5k-post store, and keeping their pages resident raised a cold query's peak by 9 MB.
            released = _release(data, released, start)
            if wanted is None:
                if data.find(needle, start, end) >= 0:
                    found.add(keys[i])
                continue
            at = start
            for number in range(len(FIELD_ORDER)):
                field_end = data.find(FIELD_END, at, end)
                if field_end < 0:
                    break
                if number in wanted and data.find(needle, at, field_end) >= 0:
                    found.add(keys[i])
                    break
                at = field_end + 1

    @staticmethod
    def _find_in(store: _StoreFile, needle: bytes, wanted: set[int] | None, found: set[Any],
                 skip: Container[Any] | None = None) -> None:
        data = store.data()
        starts, ends, keys = store.starts, store.ends, store.keys
        at = starts[0]
        limit = ends[-1]
        # The scan goes through the file a window at a time and hands each scanned window's pages back to the
        # kernel: resident pages of a mapping count in the process's memory, and the store of a 20k-post corpus
        # is hundreds of MB.
        released = 0
        while at < limit:
            # Also after hits: a common text (found in most posts) otherwise kept the whole store resident.
            released = _release(data, released, at)
            window_end = min(limit, at + SCAN_WINDOW)
            hit = data.find(needle, at, min(limit, window_end + len(needle) - 1))
            if hit < 0:
                at = window_end
                continue
            i = bisect.bisect_right(starts, hit) - 1
            if i < 0 or hit >= ends[i]:
                # Inside the text of a post that is no longer live: go on from the next live post.
                at = starts[i + 1] if i + 1 < len(starts) else limit
                continue
            if wanted is not None and _field_number(data, starts[i], hit) not in wanted:
                # Go on after the end of that field: a common text in the body (的) made a scan restricted to
                # titles stop at each of its occurrences.
                field_end = data.find(FIELD_END, hit, ends[i])
                at = field_end + 1 if field_end >= 0 else hit + 1
                continue
            if skip is None or keys[i] not in skip:
                found.add(keys[i])
            at = ends[i]  # one match is enough for this post


def _store_files(directory: Path, columns: RangeColumns, changes: dict[str, Any]) -> dict[str, _StoreFile]:
    """The store's files, by name, each with its live posts in start order: `columns` with `changes` applied."""
    files: dict[str, _StoreFile] = {}
    numbers, keys, starts, ends = columns.file, columns.keys, columns.start, columns.end
    at = 0
    while at < len(keys):
        number = numbers[at]
        run_end = bisect.bisect_right(numbers, number, at)  # one file's posts stand together
        name = columns.files[number]
        if name in files:
            raise IndexCorrupt(f"the table of text ranges in {directory} is out of order")
        if changes:
            kept = [i for i in range(at, run_end) if keys[i] not in changes]
            files[name] = _StoreFile(directory / name, [starts[i] for i in kept], [ends[i] for i in kept],
                                     [keys[i] for i in kept])
        else:
            files[name] = _StoreFile(directory / name, starts[at:run_end], ends[at:run_end], keys[at:run_end])
        at = run_end
    touched = set()
    for key, entry in changes.items():
        if entry is not None:
            name, start, end = entry
            if name not in files:
                files[name] = _StoreFile(directory / name)
            files[name].starts.append(start)
            files[name].ends.append(end)
            files[name].keys.append(key)
            touched.add(name)
    for name in touched:
        _sort_by_start(files[name])
    return files


def _sort_by_start(store: _StoreFile) -> None:
    order = sorted(range(len(store.starts)), key=store.starts.__getitem__)
    store.starts = [store.starts[i] for i in order]
    store.ends = [store.ends[i] for i in order]
    store.keys = [store.keys[i] for i in order]


def _release(data: mmap.mmap, released: int, upto: int) -> int:
    """Drop the pages of `data` before `upto` (page-aligned) from memory; returns the new released offset."""
    end = upto - upto % mmap.PAGESIZE
    if end - released >= SCAN_WINDOW and hasattr(data, "madvise"):
        data.madvise(mmap.MADV_DONTNEED, released, end - released)
        return end
    return released


def _field_number(data: mmap.mmap, post_start: int, at: int) -> int:
    """Which field of the post starting at `post_start` holds offset `at`: the field ends before it."""
    number = 0
    end = data.find(FIELD_END, post_start, at)
    while end >= 0:
        number += 1
        end = data.find(FIELD_END, end + 1, at)
    return number
