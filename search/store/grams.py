"""The prefilter of the text store: which posts of a store file may contain a text.

A full scan costs O(corpus) per term. So each store file has a sidecar (`<store>.grams`, written by
`TextStoreWriter` as the file is written) that says, for every post of the file, which "gram buckets" occur in it:
every character and every pair of adjacent UTF-16 code units of the post's stored text is hashed into each bank of
buckets (`BANKS`: a Bloom filter per post with one hash a bank, stored bit-sliced). A needle that occurs in a post
has all its characters and pairs in that post, so the posts whose bits are set for all of the needle's buckets are
a superset of the answer; `TextStore.find` scans only those. Hash collisions only add candidates, which the scan
rejects: results are exactly those of the full scan. A store file without a sidecar is scanned in full.

Layout of a sidecar (integers and bitmaps little-endian; pair codes depend on the writer's byte order, which the
header records: another order's sidecar is ignored): a header (`_HEADER`: magic, byte order of the writer, the
size of each bank, posts per block, post count, offset of the starts table), then for each block of `BLOCK` posts
one bitmap per bucket (bit i = i-th post of the block; `BLOCK // 8` bytes each, the last block's as many bytes as its
posts need), then the start offset of each post in the store file (uint64). A query reads one small slice per bucket
and block, with pread.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import os
import struct
import sys
from array import array
from collections.abc import Collection, Iterator
from pathlib import Path

from ..errors import IndexCorrupt

GRAMS_SUFFIX = ".grams"
# Banks of buckets: a character or pair of code c sets bucket c mod m of each bank of size m (after the banks before
# it). Each bank's size is a prime whose 65536 residue is about 0.618 or 0.382 of it, so that neighbouring pairs
# (Latin letters) do not collide; a needle's pair is a candidate only where both of its buckets are set.
BANKS = (18119, 25033)
BLOCK = 1024  # posts per block: the writer holds one block's bitmaps (sum(BANKS) * BLOCK / 8 bytes)
_MAGIC = b"ZHGRAMS2"
_HEADER = struct.Struct("<8sBxxxIIIQQ")  # magic, big-endian flag, bank sizes, block, posts, offset of starts
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
    also holds a pair common in every post (的是) is set in most posts.
    """
    return set(_buckets(_post_codes(text), banks))


class GramsWriter:
    """Writes a store file's sidecar a block of posts at a time (see the module's docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "wb")  # noqa: SIM115 - held open until close()
        self._file.write(bytes(_HEADER.size))
        self._starts = array("Q")
        self._block = bytearray(sum(BANKS) * (BLOCK // 8))
        self._in_block = 0  # posts of the block in `_block`
        self._rows: list[bytearray] = []  # the next (up to 8) posts' buckets, one byte a bucket (1: set)

    def add(self, start: int, text: str) -> None:
        self._starts.append(start)
        # A row of bytes set in C, 8 rows packed into the block's bits at once (a post has thousands of buckets).
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
            # Column by column with extended slices, not a join of one slice per bucket: every update writes one.
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


class Grams:
    """A store file's sidecar, opened: which of the file's posts may contain a text."""

    def __init__(self, path: Path, live_starts: list[int]) -> None:
        # Read by pread, not mapped: mapped, each small slice read put a whole large folio of the kernel's page cache
        # (up to a few MB) in the process's memory.
        try:
            self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - held open until close()
            size = os.fstat(self._file.fileno()).st_size
            head = os.pread(self._file.fileno(), _HEADER.size, 0)
        except OSError as e:
            raise IndexCorrupt(f"cannot read {path.name}: {e}") from e
        damaged = IndexCorrupt(f"{path.name} is damaged; rebuild the index with `zhsearch index --rebuild`")
        header = _HEADER
        if len(head) < header.size:
            raise damaged
        magic, big, *banks, self.block, self.posts, starts_at = header.unpack_from(head, 0)
        self.banks: tuple[int, ...] = tuple(banks)
        self._bitmaps_at = header.size
        buckets = sum(self.banks)
        width = self.block // 8
        full, rest = divmod(self.posts, self.block) if self.block else (0, 0)
        bitmaps = buckets * (full * width + (rest + 7) // 8)
        if (magic != _MAGIC or not all(self.banks) or not self.block or self.block % 8
                or starts_at != header.size + bitmaps or size != starts_at + 8 * self.posts):
            raise damaged
        self.usable = bool(big) == (sys.byteorder == "big")  # pair codes depend on the writer's byte order
        starts = array("Q", os.pread(self._file.fileno(), 8 * self.posts, starts_at))
        if sys.byteorder == "big":
            starts.byteswap()
        self._starts = starts.tolist()
        # The starts of the live posts of this file, when some of its posts are not (then a candidate's index is
        # found by bisection, not a dict of every start made for a few hundred candidates). A live post the sidecar
        # does not know means it is not this file's sidecar (or is damaged): the prefilter would miss it.
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
                # The set bits' positions, found in C, not bit by bit in Python.
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
