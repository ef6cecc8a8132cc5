"""How an index directory is laid out on disk, and how a new state of it replaces the old one.

Parts:
- Generations: every complete state of the index is a directory `gen-NNNNNN/` (Whoosh segments, the verbatim
  text store, the jieba lexicon, the tables `ranges.json`, `posts.json` (metadata for filters, facets and stats)
  and `manifest.json`, and `zhsearch.json`). A writer builds the next one
  beside the live one under a temporary name, fsyncs it, renames it, then points `CURRENT` at it with an atomic
  `os.replace`: the commit point, as in Lucene. Readers read `CURRENT` and never see a half-written state; a crash
  at any moment leaves `CURRENT` naming a whole generation, and the next writer removes the leftovers.
- `write_lock`: one writer at a time (`LOCK`, an flock that the kernel releases when its holder dies); the holder
  writes who it is into the file so a waiting writer can name it. Processes forked while the lock is held (build
  workers) close their copy of it, so the lock dies with its holder even if a worker outlives it.
- `open_generation`: a reader's pin on the live generation (a shared flock on its directory), so that writers
  keep a generation while anyone still reads it; `remove_stale` removes only unpinned ones.
- `read_json`/`write_json`: small metadata files, written atomically.
- `read_table`: one of the three path-keyed tables as of this generation. A build writes them whole; an update
  links them from the previous generation and writes only `changes.json` (what changed since they were written
  whole), until the changes outgrow `COMPACT_SHARE` of the posts and the tables are written whole again. At 20k
  posts, reading and writing the three tables whole was about 0.35 s of every one-post update.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import struct
import sys
import time
from array import array
from itertools import compress
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, TypeVar

from .text import ANALYSIS_VERSION, folding
from .errors import IndexCorrupt, IndexLocked, IndexNotFound, RebuildNeeded
from .segments import live_documents

# 2: a generation may hold CHANGES (format 1 never does, so this version reads both; an older one must not read 2).
# 3: RANGES may be written column by column (`write_table`); the form is told from the content, so a format-2 table
# linked into a format-3 generation by an update still reads.
# 4: RANGES, when written whole, is the binary RANGES_BINARY (`write_table`); a generation reads that file if it
# has one, else the JSON of formats 1-3 (an update of an older index links its table in).
# 5: DOCUMENTS, the RANGES table keyed by Whoosh document number for queries (`document_ranges`); a generation
# without it (formats 1-4) has it worked out from the paths Whoosh stores when opened.
INDEX_FORMAT = 5
READABLE_FORMATS = (1, 2, 3, 4, 5)
WHOOSH_INDEX_NAME = "MAIN"
CURRENT = "CURRENT"
LOCK = "LOCK"
META = "zhsearch.json"
# In META: Whoosh's field length of each length byte, 0-255 (searching.py; absent from older indexes).
LENGTH_DECODING = "length_decoding"
RANGES = "ranges.json"
RANGES_BINARY = "ranges.bin"  # how the RANGES table is written whole since format 4 (RangeColumns.to_bytes)
# The live posts' text ranges keyed by Whoosh document number, written at every commit (format 5): a query's text
# store then needs no path, neither the 20k of RANGES nor the 20k Whoosh stores (about 30 ms at 20k posts).
DOCUMENTS = "documents.bin"
MANIFEST = "manifest.json"
POSTS = "posts.json"
SYNONYMS = "synonyms.json"
LEXICON = "lexicon.bin"
CHANGES = "changes.json"  # {table name: {path: entry, or null when the path left the table}}
TABLES = (RANGES, POSTS, MANIFEST)
# Once an update's changes hold more paths than this share of the posts (and more than COMPACT_MIN), the tables
# are written whole again: the changes file is read by every query, and merged by every update.
COMPACT_SHARE = 1 / 16
COMPACT_MIN = 256
EMISSIONS = "jieba-emit.bin"  # a copy of jieba's HMM emission table (lexicon.emissions_copy)
FOLD = "fold.json"  # the 繁→简 table the posts were folded with (folding.fold_table_record)
_PREFIX = "gen-"


def generation_name(number: int) -> str:
    return f"{_PREFIX}{number:06d}"


def generation_number(name: str) -> int:
    try:
        return int(name[len(_PREFIX):])
    except ValueError:
        return -1


def current_generation(index_dir: Path) -> Path:
    """The directory of the live generation; IndexNotFound when there is none."""
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFound(f"no index at {index_dir} (build one with `zhsearch index`)") from None
    except OSError as e:
        raise IndexCorrupt(f"cannot read {pointer}: {e.strerror}") from e
    gen = index_dir / name
    if not name.startswith(_PREFIX) or "/" in name or not gen.is_dir():
        raise IndexCorrupt(f"{pointer} names no generation of the index ({name[:40]!r}); "
                           "rebuild it with `zhsearch index --rebuild`")
    return gen


def fsync_path(path: Path) -> None:
    """fsync a file or a directory (a directory's entries: a rename in it is durable once it is synced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def json_text(value: Any) -> str:
    """`value` as the index's JSON files hold it: compact, characters as they are."""
    # dumps, not dump: json.dump streams through the pure-Python encoder, 5x slower on the 20k-entry files.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_json(path: Path, value: Any) -> None:
    """Write JSON atomically (write_bytes)."""
    write_bytes(path, json_text(value).encode("utf-8"))


def write_json_lines(path: Path, members: Iterable[str]) -> None:
    """Write a JSON object from its members (`"key":value`, JSON text each) atomically, as `write_json` does, without
    holding the whole object or its text."""

    def pieces() -> Iterator[bytes]:
        yield b"{"
        for i, member in enumerate(members):
            yield ("," + member if i else member).encode("utf-8")
        yield b"}"

    write_bytes(path, pieces())


def read_json(path: Path) -> Any:
    try:
        # From bytes: json.load's text file decodes in small pieces, 28 ms of a 20k index's 2.6 MB manifest.
        return json.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise IndexCorrupt(f"{path.name} is missing from {path.parent}; "
                           "rebuild the index with `zhsearch index --rebuild`") from None
    except (OSError, ValueError) as e:
        raise IndexCorrupt(f"{path} is damaged ({e}); rebuild the index with `zhsearch index --rebuild`") from e


def read_changes(gen: Path) -> dict[str, dict[str, Any]]:
    """The generation's changes to its tables since they were last written whole (empty if none)."""
    path = gen / CHANGES
    if not path.exists():
        return {}
    changes = read_json(path)
    if not isinstance(changes, dict) or not all(isinstance(v, dict) for v in changes.values()):
        raise IndexCorrupt(f"{path} is damaged (not a table of changes); "
                           "rebuild the index with `zhsearch index --rebuild`")
    return changes


def write_table(gen: Path, name: str, table: dict[str, Any]) -> None:
    """Write table `name` whole into generation directory `gen`: RANGES as binary columns (RANGES_BINARY, see
    `RangeColumns`), the others as JSON."""
    if name == RANGES:
        write_bytes(gen / RANGES_BINARY, RangeColumns.of(table).to_bytes())
        (gen / RANGES).unlink(missing_ok=True)  # an older index's table, linked in by an update
    else:
        write_json(gen / name, table)


def table_file(gen: Path, name: str) -> Path:
    """The file holding table `name` of `gen` as last written whole (RANGES: RANGES_BINARY since format 4)."""
    if name == RANGES and (gen / RANGES_BINARY).exists():
        return gen / RANGES_BINARY
    return gen / name


def write_bytes(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write a file atomically (its bytes, or its pieces in turn): a reader sees the old file or the new one, never
    a part."""
    temp = path.with_name(path.name + ".tmp")
    with open(temp, "wb") as f:
        if isinstance(data, bytes):
            f.write(data)
        else:
            f.writelines(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)


class RangeColumns(NamedTuple):
    """The RANGES table (path → [text store file, start, end]) as columns, in file and then start order.

    Format 3 wrote them as JSON: parsing 20k [file, start, end] lists and then sorting them by file had been about
    35 ms of every cold query on a 20k-post index, and the JSON columns still took 30-40 ms. Since format 4 they are
    binary (`to_bytes`): the names in one UTF-8 string each, split on NUL (which no path holds), and the numbers as
    arrays, all read in C.
    """

    files: list[str]       # the text store files' names
    keys: list[str]        # post paths
    file: list[int]        # index into `files` of each post's file
    start: list[int]
    end: list[int]

    @classmethod
    def of(cls, table: dict[str, Any]) -> RangeColumns:
        files = sorted({entry[0] for entry in table.values()})
        number = {name: i for i, name in enumerate(files)}
        rows = sorted((number[name], start, end, key) for key, (name, start, end) in table.items())
        return cls(files, [r[3] for r in rows], [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])

    @classmethod
    def from_json(cls, value: Any) -> RangeColumns | None:
        """The columns of a table read from disk; None if it is the older form, a mapping of paths."""
        if not isinstance(value, dict) or value.get("columns") != 1:
            return None
        columns = cls(*(value.get(name) for name in cls._fields))
        n = len(columns.keys) if isinstance(columns.keys, list) else -1
        if not all(isinstance(c, list) for c in columns) or not len(columns.file) == len(columns.start) == len(
                columns.end) == n:
            raise ValueError("columns of different lengths")
        return columns

    def to_json(self) -> dict[str, Any]:
        return {"columns": 1, **self._asdict()}

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


_Parsed = TypeVar("_Parsed")
_RANGES_MAGIC = b"ZHSRNG01"
_DOCUMENTS_MAGIC = b"ZHSDOC01"
_RANGES_HEADER = struct.Struct("<8sQQQ")


def _range_columns(path: Path, value: Any) -> RangeColumns | None:
    """`RangeColumns.from_json` of the RANGES table read from `path`, damage reported as IndexCorrupt."""
    try:
        return RangeColumns.from_json(value)
    except ValueError as e:
        raise IndexCorrupt(f"{path} is damaged ({e}); rebuild the index with `zhsearch index --rebuild`") from None


def _binary_ranges(gen: Path) -> RangeColumns | None:
    """The RANGES table of `gen` if it is written as RANGES_BINARY (None: it is JSON, as before format 4)."""
    return _read_binary(gen / RANGES_BINARY, RangeColumns.from_bytes)


def _read_binary(path: Path, parse: Callable[[bytes], _Parsed]) -> _Parsed | None:
    """`parse` of the file's bytes; None if there is no such file, IndexCorrupt if it can't be read or parsed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise IndexCorrupt(f"{path} cannot be read ({e.strerror}); rebuild the index with `zhsearch index --rebuild`")
    try:
        return parse(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise IndexCorrupt(f"{path} is damaged ({e}); rebuild the index with `zhsearch index --rebuild`") from None


def read_ranges(gen: Path, changes: dict[str, dict[str, Any]]) -> tuple[RangeColumns, dict[str, Any]]:
    """The RANGES table as last written whole, as columns, and its entries in `changes` (None: removed), to apply."""
    binary = _binary_ranges(gen)
    if binary is not None:
        return binary, changes.get(RANGES, {})
    path = gen / RANGES
    value = read_json(path)
    columns = _range_columns(path, value)
    if columns is None:
        if not isinstance(value, dict):
            raise IndexCorrupt(f"{path} is damaged (not a table); rebuild the index with `zhsearch index --rebuild`")
        columns = RangeColumns.of(value)
    return columns, changes.get(RANGES, {})


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
    not in `added`: then `document_ranges` works the table out from every path.

    An update of one post at 20k posts: 3 ms instead of 44 (decoding every path Whoosh stores and mapping each)."""
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


def write_documents(gen: Path, segments: list[Any], added: dict[str, Any] | None = None) -> None:
    """Write DOCUMENTS for the Whoosh `segments` of generation `gen`, from its RANGES table and changes; or, given
    the posts an update `added` (see `updated_document_ranges`), from the DOCUMENTS it links from the previous
    commit when that is still valid."""
    ranges = None
    if added is not None:
        found = _read_binary(gen / DOCUMENTS, RangeColumns.from_documents_bytes)
        if found is not None:
            ranges = updated_document_ranges(*found, segments, added)
    if ranges is None:
        columns, changes = read_ranges(gen, read_changes(gen))
        ranges = document_ranges(segments, columns, changes)
    write_bytes(gen / DOCUMENTS, ranges.documents_bytes(segments_signature(segments)))


def read_documents(gen: Path, segments: list[Any]) -> RangeColumns | None:
    """The DOCUMENTS columns of `gen` (None if it has none, as before format 5); IndexCorrupt if they were not
    written for `segments`."""
    path = gen / DOCUMENTS
    found = _read_binary(path, RangeColumns.from_documents_bytes)
    if found is None:
        return None
    columns, signature = found
    if signature != segments_signature(segments):
        raise IndexCorrupt(f"{path} does not match the index's segments; rebuild the index with "
                           "`zhsearch index --rebuild`")
    return columns


def read_table(gen: Path, name: str, changes: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Table `name` (one of TABLES) of generation `gen`: as last written whole, with `changes` applied (read from
    the generation when not given)."""
    binary = _binary_ranges(gen) if name == RANGES else None
    if binary is not None:
        table = binary.table()
    else:
        table = read_json(gen / name)
    if name == RANGES and binary is None:
        columns = _range_columns(gen / name, table)
        if columns is not None:
            table = columns.table()
    if not isinstance(table, dict):
        raise IndexCorrupt(f"{gen / name} is damaged (not a table); rebuild the index with `zhsearch index --rebuild`")
    for rel, entry in (read_changes(gen) if changes is None else changes).get(name, {}).items():
        if entry is None:
            table.pop(rel, None)
        else:
            table[rel] = entry
    return table


def new_generation_dir(index_dir: Path) -> tuple[Path, Path]:
    """A fresh temporary directory for the next generation, and the name it gets when complete."""
    numbers = [generation_number(p.name.split(".")[0]) for p in index_dir.glob(_PREFIX + "*")]
    final = index_dir / generation_name(max(numbers, default=0) + 1)
    temp = index_dir / f"{final.name}.tmp-{os.getpid()}"
    import shutil  # here, not at the top: only writers need it, and a cold query pays every import (3 ms)

    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    return temp, final


def _fsync_files(paths: list[Path], threads: int = 8) -> None:
    """fsync every file of `paths`, several at once: the filesystem's journal commits concurrent fsyncs together.
    On this machine's ext4, 15 new files of 4-60 kB: 36-61 ms one after the other, 8-14 ms from 8 threads."""
    if len(paths) < 2:
        for path in paths:
            fsync_path(path)
        return
    import threading

    errors: list[OSError] = []

    def sync(share: list[Path]) -> None:
        for path in share:
            try:
                fsync_path(path)
            except OSError as e:
                errors.append(e)

    workers = [threading.Thread(target=sync, args=(paths[i::threads],)) for i in range(min(threads, len(paths)))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]


def commit_generation(index_dir: Path, temp: Path, final: Path) -> None:
    """Make a complete temporary generation the live one (the commit point), then drop old ones."""
    # A file linked from the previous generation (an update's unchanged segments and stores) was made durable when
    # that generation was committed; an update of one post fsynced ~70 such files, a quarter of its time.
    _fsync_files([child for child in temp.iterdir() if child.is_file() and child.stat().st_nlink == 1])
    fsync_path(temp)
    os.rename(temp, final)
    pointer_temp = index_dir / (CURRENT + ".tmp")
    with open(pointer_temp, "w", encoding="utf-8") as f:
        f.write(final.name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer_temp, index_dir / CURRENT)
    fsync_path(index_dir)
    remove_stale(index_dir)


def open_generation(index_dir: Path) -> tuple[Path, int]:
    """The live generation and a descriptor pinning it: writers don't remove it until the descriptor is closed."""
    for _ in range(50):
        pointer = _read_pointer(index_dir)
        try:
            gen = current_generation(index_dir)
            fd = os.open(gen, os.O_RDONLY | os.O_DIRECTORY)
        except (IndexCorrupt, FileNotFoundError):
            if _read_pointer(index_dir) != pointer:
                continue  # two writers' commits removed it between reading CURRENT and opening it: look again
            raise
        # Waits only while a writer is removing this very directory (it holds LOCK_EX during the rename).
        fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            pinned = os.path.samestat(os.stat(gen), os.fstat(fd))
        except FileNotFoundError:
            pinned = False
        if pinned:
            return gen, fd
        os.close(fd)
    raise IndexCorrupt(f"the index at {index_dir} keeps changing under the reader; try again")


def _read_pointer(index_dir: Path) -> str | None:
    try:
        return (index_dir / CURRENT).read_text(encoding="utf-8")
    except OSError:
        return None


def remove_stale(index_dir: Path) -> None:
    """Remove unfinished generations and old ones, except the newest previous one and any a reader has pinned."""
    try:
        live = current_generation(index_dir).name
    except (IndexNotFound, IndexCorrupt):
        return
    finished = sorted((p for p in index_dir.glob(_PREFIX + "*") if p.is_dir() and "." not in p.name),
                      key=lambda p: generation_number(p.name))
    keep = {live}
    older = [p.name for p in finished if generation_number(p.name) < generation_number(live)]
    if older:
        keep.add(older[-1])  # a reader that opened it without a pin (older zhsearch) may still be using it
    for path in index_dir.glob(_PREFIX + "*"):
        if path.name not in keep and path.is_dir():
            _remove_unpinned(path)


def _remove_unpinned(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # a reader holds it: a later writer removes it
        # Renamed first, so that a removal cut short by a crash leaves a name no reader opens.
        doomed = path.with_name(f"{path.name.split('.')[0]}.del-{os.getpid()}")
        try:
            os.rename(path, doomed)
        except OSError:
            return
        import shutil

        shutil.rmtree(doomed, ignore_errors=True)
    finally:
        os.close(fd)


@contextlib.contextmanager
def write_lock(index_dir: Path, wait: float) -> Iterator[None]:
    """Hold the index's write lock, waiting up to `wait` seconds; IndexLocked names the holder."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 400, 0).decode("utf-8", "replace").strip() or "another process"
                    raise IndexLocked(f"the index at {index_dir} is being written by {holder}; "
                                      f"gave up after {wait:g} s (try again, or raise --wait)") from None
                time.sleep(0.05)
        _held_locks.add(fd)
        os.ftruncate(fd, 0)
        started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()} ({' '.join(sys.argv[:3])[:200]}, since {started})".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        _held_locks.discard(fd)
        os.close(fd)


# Descriptors of write locks this process holds. A forked child (a build worker) shares the lock with its parent
# until it closes its copy: without this, a worker left running after its parent is killed keeps the index locked.
_held_locks: set[int] = set()


def _drop_inherited_locks() -> None:
    for fd in _held_locks:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held_locks.clear()


os.register_at_fork(after_in_child=_drop_inherited_locks)


# Not size-checked: META holds the sizes, and MANIFEST and CHANGES are rewritten in place when only mtimes moved
# (MANIFEST by versions before CHANGES).
_UNCHECKED = (META, MANIFEST, CHANGES)


def file_sizes(gen: Path) -> dict[str, int]:
    """Size of every file of a generation but META, MANIFEST and CHANGES (checked when parsed): kept in META."""
    return {child.name: child.stat().st_size for child in sorted(gen.iterdir())
            if child.is_file() and child.name not in _UNCHECKED}


def check_files(gen: Path, meta: dict[str, Any]) -> None:
    """IndexCorrupt if a file the generation was committed with is missing or has another size.

    Whoosh reads a truncated segment without complaint until a query lands on the missing part; a few stat
    calls find it up front, so that `search` reports the damage and `index` rebuilds instead of updating.
    """
    for name, size in meta.get("files", {}).items():
        try:
            found = (gen / name).stat().st_size
        except OSError:
            raise IndexCorrupt(f"the index at {gen.parent} is damaged ({name} is missing); "
                               "rebuild it with `zhsearch index --rebuild`") from None
        if found != size:
            raise IndexCorrupt(f"the index at {gen.parent} is damaged ({name} is {found} bytes, "
                               f"{size} when written); rebuild it with `zhsearch index --rebuild`")


def adopt_fold_table(gen: Path) -> None:
    """Fold queries and new posts as this generation's posts were folded (indexes older than the table file fold
    with OpenCC's table of now)."""
    path = gen / FOLD
    if path.exists():
        try:
            folding.adopt_fold_table(read_json(path))
        except (ValueError, AttributeError) as e:
            raise IndexCorrupt(f"{FOLD} in {gen} is damaged ({e}); rebuild with `zhsearch index --rebuild`") from e


def check_compatible(meta: dict[str, Any]) -> None:
    """RebuildNeeded unless the index was written in this format by a compatible analysis."""
    if meta.get("format") not in READABLE_FORMATS:
        raise RebuildNeeded(f"rebuild needed: the index format is {meta.get('format')!r}, "
                            f"this zhsearch reads {' or '.join(map(str, READABLE_FORMATS))} (run `zhsearch index --rebuild`)")
    found = meta.get("settings", {}).get("analysis_version")
    if found != ANALYSIS_VERSION:
        raise RebuildNeeded(f"rebuild needed: the index was analysed with version {found!r}, "
                            f"this zhsearch uses {ANALYSIS_VERSION} (run `zhsearch index --rebuild`)")
