"""Verbatim matching: the folded text of every post, searched like grep.

Parts:
- `TextStoreWriter` appends posts' folded fields to a store file (and its pair index, pairs.py) and returns
  where each post stands.
- `TextStore` opens the store files of an index generation and finds the posts that contain a text, optionally
  only in some fields, with `find`; the pair index answers short texts and narrows the posts scanned for others.

Why not an n-gram field in Whoosh: Whoosh writes each distinct term and posting in pure Python, which made the
build several times slower. Searching the folded text itself is exact by construction (quoted text = grep after
folding) and costs one fast byte scan per verbatim term.

Layout of a store file: for each post, its fields in `FIELD_ORDER`, each folded, UTF-8 encoded and followed by
FIELD_END; the post then ends with POST_END. Queries are stripped of control characters, so a match never spans
two fields or two posts.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import mmap
import operator
import os
from collections.abc import Collection, Container, Iterable, Sequence, Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IndexCorrupt
from .pairs import PAIRS_SUFFIX, Pairs, PairsWriter, is_exact

if TYPE_CHECKING:
    from .text_ranges import RangeColumns

FIELD_END = b"\x1f"
POST_END = b"\x1e"
FIELD_ORDER = ("title", "author", "category", "tag", "body")
SCAN_WINDOW = 8 << 20


class TextStoreWriter:
    """Writes one store file. Use as a context manager; the file is flushed and fsync'ed on close."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "ab")  # noqa: SIM115 - held open until close()
        self._offset = self._file.tell()
        pairs_path = path.with_name(path.name + PAIRS_SUFFIX)
        # A sidecar covers a whole store file: none for a store appended to (its earlier posts are unknown here).
        self._pairs = PairsWriter(pairs_path) if self._offset == 0 else None
        if self._pairs is None:
            pairs_path.unlink(missing_ok=True)

    def add(self, folded_fields: dict[str, str]) -> tuple[int, int]:
        """Append one post's folded fields; returns its (start, end) byte range in the file."""
        parts = [folded_fields.get(name, "").encode("utf-8", "replace") + FIELD_END for name in FIELD_ORDER]
        return self.add_stored(b"".join(parts) + POST_END)

    def add_stored(self, data: bytes) -> tuple[int, int]:
        """Append one post as another store file holds it (`TextStore.stored`); returns its (start, end)."""
        start = self._offset
        self._file.write(data)
        self._offset += len(data)
        if self._pairs is not None:
            # From the bytes written (encoding replaced what UTF-8 cannot hold), as find() will read them.
            self._pairs.add(start, data.decode("utf-8"))
        return start, self._offset

    def close(self) -> None:
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        except BaseException:
            self.discard()
            raise
        if self._pairs is not None:
            self._pairs.close()

    def discard(self) -> None:
        """Close without writing the pair index, for a caller dropping what was written (a failed build)."""
        with contextlib.suppress(OSError):
            self._file.close()
        if self._pairs is not None:
            self._pairs.discard()

    def __enter__(self) -> TextStoreWriter:
        return self

    def __exit__(self, error: type[BaseException] | None, *exc: object) -> None:
        if error is None:
            self.close()
        else:
            self.discard()


class _StoreFile:
    """One text file of the store: its path, and the (start, end, key) of each post in it, in file order."""

    # A plain class: importing the dataclasses module would be paid by every cold query.
    __slots__ = ("path", "starts", "ends", "keys", "_map", "_pairs", "_positions")

    def __init__(self, path: Path, starts: list[int] | None = None, ends: list[int] | None = None,
                 keys: list[Any] | None = None) -> None:
        self.path = path
        self.starts: list[int] = [] if starts is None else starts
        self.ends: list[int] = [] if ends is None else ends
        self.keys: list[Any] = [] if keys is None else keys
        self._map: mmap.mmap | None = None
        self._pairs: Pairs | None | bool = False  # False: not looked for yet; None: the file has no sidecar
        self._positions: dict[Any, int] | bool | None = None  # see position

    def pairs(self) -> Pairs | None:
        """The file's pair index, opened on first use; None when it has none (or one for another byte order)."""
        if self._pairs is False:
            path = self.path.with_name(self.path.name + PAIRS_SUFFIX)
            found = Pairs(path, self.starts) if path.exists() else None
            self._pairs = found if found is not None and found.usable else None
        return self._pairs  # type: ignore[return-value]

    def close(self) -> None:
        if self._map is not None:
            with contextlib.suppress(BufferError):  # a view of it is still in use: the map's finalizer closes it
                self._map.close()
            self._map = None
        if self._pairs:
            self._pairs.close()  # type: ignore[union-attr]
        self._pairs = False

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
        from .text_ranges import RangeColumns

        self._files = _store_files(directory, RangeColumns.of(ranges), {})  # by file name

    @classmethod
    def from_columns(cls, directory: Path, columns: RangeColumns, changes: dict[str, Any]) -> TextStore:
        """The store of a generation whose RANGES table is `columns` (in file and start order) with `changes`
        applied (key → (file name, start, end), or None for a post removed)."""
        store = cls.__new__(cls)
        store._files = _store_files(directory, columns, changes)
        return store

    def _range(self, key: Any) -> tuple[str, int, int]:
        # Looked up file by file (a store has a few), not in a table of every post made for ten snippets.
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

    def find(self, text: str, fields: Iterable[str] | None = None, skip: AbstractSet[Any] | None = None,
             among: Collection[Any] | None = None) -> set[Any]:
        """Keys of the posts whose folded fields (all, or only `fields`) contain folded `text`, leaving out the
        posts in `skip` (those the caller knows to contain it); with `among`, only of those posts. Where the file
        has a pair index, only the posts it cannot rule out are read (none for a text of one or two characters)."""
        needle = text.encode("utf-8")
        if not needle or FIELD_END in needle or POST_END in needle or among is not None and not among:
            return set()
        wanted = None if fields is None else {FIELD_ORDER.index(f) for f in fields}
        exact = wanted is None and is_exact(text)
        found: set[Any] = set()
        for store in self._files.values():
            if not store.starts:
                continue
            keys = store.keys
            pairs = store.pairs()
            if pairs is not None:
                candidates = pairs.candidates(text)
                if among is not None:
                    candidates = [i for i in candidates if keys[i] in among]
            elif among is not None:
                candidates = sorted(i for key in among if (i := store.position(key)) is not None)
            else:
                self._find_in(store, needle, wanted, found, skip)
                continue
            if exact:
                found.update(map(keys.__getitem__, candidates))
            else:
                self._find_among(store, candidates, needle, wanted, found, skip)
        return found - skip if skip else found

    @staticmethod
    def _find_among(store: _StoreFile, candidates: Sequence[int], needle: bytes, wanted: set[int] | None,
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
            # large share of a store, and keeping their pages resident raises a query's peak memory.
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
        # kernel: resident pages of a mapping count in the process's memory, and a large corpus's store is large.
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
