"""The character-pair index of the text store: which posts of a store file hold a text.

Each store file has a sidecar (`<store>.pairs`, written by `TextStoreWriter` as the file is written) that lists,
for every character and every pair of adjacent UTF-16 code units of the file's posts, the posts holding it (by
their place in the file). A text's posts are among those holding all of its characters and pairs; for a text of
one character or of two units (two characters of the Basic Multilingual Plane: most Chinese words) they are
exactly its posts, and no post is read. Longer texts' candidates are scanned (`TextStore.find`). A store file
without a sidecar is scanned in full.

A code is 32 bits: a pair's is its first unit | its second unit << 16; a unit's own is the unit | 0xFFFF << 16
(U+FFFF is a noncharacter: a text holding it is never answered from the index alone). Codes are UTF-16-LE bytes read
in the machine's byte order: so on a little-endian machine; a big-endian one reads them its own way, and its
sidecars say so in their header.

Layout of a sidecar (integers in the writer's byte order, which the header records: another order's sidecar is not
read): a header (`_HEADER`: magic, byte order, whether offsets are 64-bit, posts, codes, where the code table
starts); then each code's posts, codes in ascending order: a bitmap of `ceil(posts / 8)` bytes (bit i: the i-th
post) when that is no larger than the list, else the posts' places as uint16 (uint32 in a file of more than 65,536
posts); then the codes (uint32, ascending), the end of each code's posts (uint32, or uint64 if any is past 4 GB;
from the first code's start), the start offset of each post in the store file (uint64).
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import mmap
import os
import struct
import sys
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import IndexCorrupt

PAIRS_SUFFIX = ".pairs"
_MAGIC = b"ZHPAIRS2"
_HEADER = struct.Struct("=8sBB6xQQQ")  # magic, big-endian flag, 64-bit ends flag, posts, codes, offset of the codes
_UNIT = 0xFFFF << 16  # a unit's own code: the unit | _UNIT
WIDE_AT = 1 << 32  # postings this large need 64-bit ends
NARROW_LIMIT = 1 << 16  # a file of at most this many posts lists them as uint16
_CODES_SORTED = 1 << 18  # codes of all posts a writer sorts at a time (see _code_ranges)


def _pair_codes(units: bytes) -> set[int]:
    """The codes of every pair of adjacent units of UTF-16 `units` (computed in C)."""
    view = memoryview(units)
    codes = set(view[:len(units) // 4 * 4].cast("I"))
    if len(units) >= 6:
        codes.update(view[2:2 + (len(units) - 2) // 4 * 4].cast("I"))
    return codes


def text_codes(text: str) -> set[int]:
    """The codes of every UTF-16 unit of `text` and of every pair of adjacent units (all computed in C)."""
    codes = _pair_codes(text.encode("utf-16-le", "surrogatepass"))
    codes.update(map(_UNIT.__or__, memoryview("".join(set(text)).encode("utf-16-le", "surrogatepass")).cast("H")))
    return codes


def is_exact(text: str) -> bool:
    """Whether the posts holding all of `text`'s codes are exactly the posts holding `text`: one character, or
    two UTF-16 units (a text with U+FFFF aside)."""
    return (len(text) == 1 or len(text.encode("utf-16-le", "surrogatepass")) == 4) and "\uffff" not in text


def needle_codes(text: str) -> set[int]:
    """The codes a post holding `text` has that say the most: its pairs (which imply its units), or its one unit."""
    units = text.encode("utf-16-le", "surrogatepass")
    return _pair_codes(units) if len(units) >= 4 else text_codes(text)


_BIT_BYTES = bytes.maketrans(b"01", b"\0\1")


def _set_bits(bits: int) -> list[int]:
    """The positions of the set bits of `bits`, ascending: found in C (its binary digits as bytes 0 and 1 select
    from a range), not bit by bit in Python."""
    digits = format(bits, "b").encode("ascii").translate(_BIT_BYTES)[::-1]
    return list(itertools.compress(range(len(digits)), digits))


def _item_type(posts: int) -> str:
    """The array type of a list of places in a file of `posts` posts."""
    return "H" if posts <= NARROW_LIMIT else "I"


class PairsWriter:
    """Writes a store file's sidecar: each post's codes wait in a file of their own (an anonymous temporary file
    beside it), the lists are written on close.

    Speed trick: numpy sorts the codes, where adding each post to a list per code in Python cost a build about as
    much as writing its segments (docs/decisions.md). The codes wait on disk so that only a closing process holds
    them.
    """

    def __init__(self, path: Path) -> None:
        import tempfile

        self.path = path
        self._starts = array("Q")
        self._lengths = array("Q")  # how many codes each post has
        self._waiting = tempfile.TemporaryFile(dir=path.parent)  # noqa: SIM115 - closed by close()

    def add(self, start: int, text: str) -> None:
        import numpy as np

        units = text.encode("utf-16-le", "surrogatepass")
        # text_codes' codes, read the same way (the machine's byte order): pairs from even and from odd units.
        codes = np.unique(np.concatenate((
            np.frombuffer(units, np.uint32, count=len(units) // 4),
            np.frombuffer(units, np.uint32, count=max(len(units) - 2, 0) // 4, offset=min(2, len(units))),
            np.frombuffer(units, np.uint16) | np.uint32(_UNIT))))
        self._waiting.write(codes.tobytes())
        self._starts.append(start)
        self._lengths.append(len(codes))

    def discard(self) -> None:
        """Drop the codes without writing the sidecar."""
        self._waiting.close()

    def _read_waiting(self) -> list[Any]:
        """Each post's codes, ascending, read back from the temporary file (which is closed)."""
        import numpy as np

        try:
            self._waiting.seek(0)
            codes = np.frombuffer(self._waiting.read(), np.uint32)
        finally:
            self._waiting.close()
        ends = itertools.accumulate(self._lengths)
        return [codes[end - length:end] for end, length in zip(ends, self._lengths)]

    def close(self) -> None:
        try:
            self._write(self._read_waiting())
        except BaseException:  # no sidecar rather than a partial one (a full disk, Ctrl-C)
            self.path.unlink(missing_ok=True)
            raise

    def _write(self, posts: list[Any]) -> None:
        import numpy as np

        count = len(self._starts)
        bitmap_size = (count + 7) // 8
        item = np.dtype(_item_type(count))
        codes, ends = array("I"), array("Q")
        with open(self.path, "wb") as f:
            f.write(bytes(_HEADER.size))
            at = 0
            for lo, hi in _code_ranges(posts):
                found, places = _postings_between(posts, lo, hi)
                firsts = np.flatnonzero(np.diff(found, prepend=-1))  # where each code's places begin
                sizes = np.diff(firsts, append=len(found))
                data_sizes = np.where(sizes * item.itemsize >= bitmap_size, bitmap_size, sizes * item.itemsize)
                data = places.astype(item)
                written = 0  # of data: the lists between two bitmaps go out in one write
                for i in np.flatnonzero(data_sizes == bitmap_size).tolist():
                    first, last = int(firsts[i]), int(firsts[i]) + int(sizes[i])
                    f.write(data[written:first].tobytes())
                    bits = np.zeros(bitmap_size * 8, bool)
                    bits[places[first:last]] = True
                    f.write(np.packbits(bits, bitorder="little").tobytes())
                    written = last
                f.write(data[written:].tobytes())
                codes.extend(found[firsts].tolist())
                ends.extend((at + np.cumsum(data_sizes)).tolist())
                at += int(data_sizes.sum())
            wide = at >= WIDE_AT
            padding = -(_HEADER.size + at) % 8  # the tables are read as arrays
            f.write(bytes(padding))
            table_at = _HEADER.size + at + padding
            tables = [codes, ends if wide else array("I", ends), self._starts]
            if len(codes) % 2 and wide:  # the starts stand on a multiple of 8
                tables.insert(2, array("I", [0]))
            for column in tables:
                f.write(column.tobytes())
            f.seek(0)
            f.write(_HEADER.pack(_MAGIC, sys.byteorder == "big", wide, count, len(codes), table_at))
            f.flush()
            os.fsync(f.fileno())

def _code_ranges(posts: list[Any]) -> list[tuple[int, int]]:
    """Ranges of codes, ascending, each holding about _CODES_SORTED of the codes of `posts` (each post's codes,
    ascending): PairsWriter sorts them a range at a time, so that closing takes little more memory than the codes."""
    import numpy as np

    total = sum(len(codes) for codes in posts)
    parts = total // _CODES_SORTED + 1
    sample = np.concatenate([*posts[::max(1, len(posts) // 64)], np.zeros(0, np.uint32)])
    bounds = sorted({0, *np.quantile(sample, np.linspace(0, 1, parts + 1)[1:-1]).astype(np.int64).tolist(),
                     1 << 32}) if len(sample) else [0, 1 << 32]
    return list(itertools.pairwise(bounds))


def _postings_between(posts: list[Any], lo: int, hi: int) -> tuple[Any, Any]:
    """The codes in [lo, hi) of every one of `posts`, ascending, and beside each the place of a post holding it
    (ascending for each code)."""
    import numpy as np

    parts = [codes[np.searchsorted(codes, lo):np.searchsorted(codes, hi)] for codes in posts]
    found = np.concatenate([*parts, np.zeros(0, np.uint32)])
    places = np.repeat(np.arange(len(parts), dtype=np.uint32), [len(part) for part in parts])
    order = np.argsort(found, kind="stable")
    return found[order], places[order]


class Pairs:
    """A store file's sidecar, opened: which of the file's posts hold a text."""

    def __init__(self, path: Path, live_starts: list[int]) -> None:
        damaged = IndexCorrupt(f"{path.name} is damaged; rebuild the index with `zhsearch index --rebuild`")
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size < _HEADER.size:
                    raise damaged
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as e:
            raise IndexCorrupt(f"cannot read {path.name}: {e}") from e
        # A query reads a few entries of large tables: no read-ahead around them.
        if hasattr(self._map, "madvise"):
            self._map.madvise(mmap.MADV_RANDOM)
        magic, big, wide, self.posts, codes, table_at = _HEADER.unpack_from(self._map, 0)
        self.usable = bool(big) == (sys.byteorder == "big")  # codes and tables depend on the writer's byte order
        ends_size = 8 if wide else 4
        starts_at = table_at + 4 * codes + ends_size * codes
        starts_at += -starts_at % 8
        if magic != _MAGIC or table_at % 8 or size != starts_at + 8 * self.posts or not self.usable:
            self.close()
            if magic == _MAGIC and not self.usable:
                return
            raise damaged
        tables = memoryview(self._map)
        self._codes = tables[table_at:table_at + 4 * codes].cast("I")
        self._ends = tables[table_at + 4 * codes:table_at + (4 + ends_size) * codes].cast("Q" if wide else "I")
        self._postings_at = _HEADER.size
        self._bitmap_size = (self.posts + 7) // 8
        self._item = _item_type(self.posts)
        self._starts = tables[starts_at:].cast("Q").tolist()
        tables.release()
        # The starts of the live posts of this file, when some of its posts are not (candidates are then mapped to
        # them, see candidates). A live post the sidecar does not know means it is not this file's sidecar.
        self._live: list[int] | None = None
        self._live_index: list[int] | None = None
        if self._starts != live_starts:
            if not set(self._starts).issuperset(live_starts):
                self.close()
                raise damaged
            self._live = live_starts

    def close(self) -> None:
        if getattr(self, "_codes", None) is not None:
            self._codes.release()
            self._ends.release()
            self._codes = self._ends = None  # type: ignore[assignment]
        with contextlib.suppress(BufferError):  # a view is still in use: the map's finalizer closes it
            self._map.close()

    def _posts_of(self, code: int) -> array[int] | int | None:
        """The places of the posts holding `code`: ascending in an array, or a bitmap as an int (bit i: place i);
        None: no post."""
        i = bisect.bisect_left(self._codes, code)
        if i == len(self._codes) or self._codes[i] != code:
            return None
        start = self._postings_at + (self._ends[i - 1] if i else 0)
        data = self._map[start:self._postings_at + self._ends[i]]
        if len(data) == self._bitmap_size:
            return int.from_bytes(data, "little")
        return array(self._item, data)

    def candidates(self, text: str) -> Sequence[int]:
        """Indexes (in `live_starts`) of the live posts holding every character and pair of `text`, in file order:
        exactly the posts holding `text` when `is_exact(text)`."""
        lists: list[array[int]] = []
        bits = -1
        for code in needle_codes(text):
            found = self._posts_of(code)
            if found is None:
                return []
            if isinstance(found, int):
                bits &= found
            else:
                lists.append(found)
        found_places: Sequence[int]
        if len(lists) == 1 and bits == -1:  # one pair (a two-character text): its list is the answer
            found_places = lists[0]
        elif lists:
            lists.sort(key=len)
            places = set(lists[0]).intersection(*lists[1:])
            if bits != -1:
                places = {p for p in places if bits >> p & 1}
            found_places = sorted(places)
        else:
            found_places = _set_bits(bits)
        if self._live is None:
            return found_places
        if self._live_index is None:
            # Each place's index among the live posts (-1: no longer live), made once.
            at = {start: i for i, start in enumerate(self._live)}
            self._live_index = [at.get(start, -1) for start in self._starts]
        live_index = self._live_index
        return [i for i in map(live_index.__getitem__, found_places) if i >= 0]
