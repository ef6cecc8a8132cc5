"""Verbatim matching: the normalised text of every post, searched like grep.

Parts:
- `TextStoreWriter` appends posts' normalised fields to a store file and returns where each post stands.
- `TextStore` opens the store files of an index generation and finds the posts that contain a text, optionally
  only in some fields, with `find`.

Why not an n-gram field in Whoosh: a bigram field makes any substring findable as a phrase, but Whoosh writes
each distinct term and posting in pure Python (~15 µs a posting), which made the build several times slower than
the whole naive engine. Searching the folded text itself is exact by construction (quoted text = grep after
normalisation) and costs one fast byte scan per verbatim term.

Layout of a store file: for each post, its fields in `FIELD_ORDER`, each folded, UTF-8 encoded and followed by
FIELD_END; the post then ends with POST_END. Queries are stripped of control characters, so a match never spans
two fields or two posts.
"""

from __future__ import annotations

import bisect
import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .errors import IndexCorrupt

FIELD_END = b"\x1f"
POST_END = b"\x1e"
FIELD_ORDER = ("title", "author", "category", "tag", "body")
SCAN_WINDOW = 8 << 20


class TextStoreWriter:
    """Writes one store file. Use as a context manager; the file is flushed and fsync'ed on close."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "ab")
        self._offset = self._file.tell()

    def add(self, folded_fields: dict[str, str]) -> tuple[int, int]:
        """Append one post's folded fields; returns its (start, end) byte range in the file."""
        parts = [folded_fields.get(name, "").encode("utf-8", "replace") + FIELD_END for name in FIELD_ORDER]
        data = b"".join(parts) + POST_END
        start = self._offset
        self._file.write(data)
        self._offset += len(data)
        return start, self._offset

    def close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def __enter__(self) -> "TextStoreWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class _StoreFile:
    path: Path
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    _map: mmap.mmap | None = None

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

    `ranges` maps a post key (its path) to (file name, start, end).
    """

    def __init__(self, directory: Path, ranges: dict[str, tuple[str, int, int]]) -> None:
        files: dict[str, _StoreFile] = {}
        for key, (name, start, end) in ranges.items():
            store = files.get(name)
            if store is None:
                store = files[name] = _StoreFile(directory / name)
            store.starts.append(start)
            store.ends.append(end)
            store.keys.append(key)
        for store in files.values():
            order = sorted(range(len(store.starts)), key=store.starts.__getitem__)
            store.starts = [store.starts[i] for i in order]
            store.ends = [store.ends[i] for i in order]
            store.keys = [store.keys[i] for i in order]
        self._files = list(files.values())
        self._ranges = ranges

    def fields_of(self, key: str) -> dict[str, str]:
        """The folded fields of one post."""
        name, start, end = self._ranges[key]
        store = next(s for s in self._files if s.path.name == name)
        parts = bytes(store.data()[start:end - len(POST_END)]).split(FIELD_END)
        return {n: p.decode("utf-8", "replace") for n, p in zip(FIELD_ORDER, parts)}

    def find(self, text: str, fields: Iterable[str] | None = None) -> set[str]:
        """Keys of the posts whose folded fields (all, or only `fields`) contain folded `text`."""
        needle = text.encode("utf-8")
        if not needle or FIELD_END in needle or POST_END in needle:
            return set()
        wanted = None if fields is None else {FIELD_ORDER.index(f) for f in fields}
        found: set[str] = set()
        for store in self._files:
            if store.starts:
                self._find_in(store, needle, wanted, found)
        return found

    @staticmethod
    def _find_in(store: _StoreFile, needle: bytes, wanted: set[int] | None, found: set[str]) -> None:
        data = store.data()
        starts, ends, keys = store.starts, store.ends, store.keys
        at = starts[0]
        limit = ends[-1]
        # The scan goes through the file a window at a time and hands each scanned window's pages back to the
        # kernel: resident pages of a mapping count in the process's memory, and the store of a 20k-post corpus
        # is hundreds of MB.
        released = 0
        while at < limit:
            window_end = min(limit, at + SCAN_WINDOW)
            hit = data.find(needle, at, min(limit, window_end + len(needle) - 1))
            if hit < 0:
                at = window_end
                released = _release(data, released, at)
                continue
            i = bisect.bisect_right(starts, hit) - 1
            if i < 0 or hit >= ends[i]:
                # Inside the text of a post that is no longer live: go on from the next live post.
                at = starts[i + 1] if i + 1 < len(starts) else limit
                continue
            if wanted is not None and _field_number(data, starts[i], hit) not in wanted:
                at = hit + 1
                continue
            found.add(keys[i])
            at = ends[i]  # one match is enough for this post


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
