"""Building and updating the index.

Parts:
- `build_index`: a complete new generation from the corpus. Reading, parsing and segmenting are independent per
  post, so the posts are spread over worker processes; each writes its own Whoosh segment and text-store file
  (no pickled documents cross processes), and the parent lists the segments in one table of contents.
- `update_index`: compares the corpus with the live generation's manifest (size and mtime, confirmed by a content
  hash) and writes a new generation that shares the unchanged files (hard links: Whoosh never rewrites a segment
  file) and adds or deletes only what changed. Falls back to `build_index` when there is no compatible index.
- `BuildReport`: what happened, including every file skipped or degraded and why.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import gc
import json
import marshal
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, cast

from . import __version__, schema, segments
from .store import fileio, generations, layout, path_tables, text_ranges
from .text import ANALYSIS_VERSION, folding, lexicon, segmentation
from .text.tokenizer import import_jieba, new_tokenizer
from .posts.corpus import find_post_names
from .readahead import ReadAhead, fingerprint, read_here, reading_ahead
from .errors import IndexCorrupt, IndexNotFound, PostError, RebuildNeeded
from .config import Config, file_digest, load_config, read_synonyms
from .store.generations import check_compatible
from .store.grams import GRAMS_SUFFIX
from .store.layout import INDEX_FORMAT, WHOOSH_INDEX_NAME
from .store.verbatim import TextStore, TextStoreWriter

if TYPE_CHECKING:  # reading posts imports PyYAML and markdown-it: not needed when nothing changed
    from .posts.post import Post

ProgressCallback = Callable[[int, int], None]
# Whoosh reads a compound segment file by copying each part into memory (BufferFile wraps a BytesIO): a cold
# search of the 707 blog posts peaked at 123 MB that way. Separate files are read with seek/read instead.
COMPOUND = False
# Each update writes the text of the posts it reads to a store file of its own. Once STORE_MERGE_AT of those hold
# live posts, the update moves the live posts of the STORE_MERGE_COUNT smallest into its own file (as LSM trees
# merge their smallest runs): a query opens every store file holding live posts, and an hourly update would
# otherwise add 8,760 of them a year. Files left without live posts are not carried into the next generation.
UPDATE_STORE_PREFIX = "text-gen-"
STORE_MERGE_AT = 16
STORE_MERGE_COUNT = 8
# Word postings a build's process puts in one segment (see _SegmentsInTurn): some 2,500 posts of the blogs' size. A
# query reads every segment, so fewer are better; a 707-post build writes one segment per process, a 20k-post build 12.
SEGMENT_POSTINGS = 1_500_000
# Word postings a build's process holds in memory: past that, the segment writer writes them out to a run file of its
# own, merged into the segment when it is written (segment_writer.BuildSegmentWriter). A bound a 1k-post build's
# processes reach (they have 430,000 postings each by their end) as a 20k-post build's do, so that a process's memory
# does not grow with the corpus; held as segments were, a 20k-post build's processes held 1.5M (25 MB).
HELD_POSTINGS_LIMIT = 250_000
# Megabytes of postings (by Whoosh's estimate, about 185 bytes each) Whoosh's pool holds for the fields it writes
# itself (path, stamp: 17 postings a post; pinyin) before it writes them out as a sorted run. Those fields grow with
# a segment's posts, not its words: 48 MB let the last segments of a 20k-post build, of 3,700 small posts each, hold
# 63,000 (12 MB); 2 MB is more than a 1k-post build's processes need (500 posts each), so they never spill.
POOL_MB = 2
# The generation's meta lists the build's segments under this key: updates never merge them (see _merge_policy).
BUILD_SEGMENTS = "build_segments"


@dataclass(frozen=True)
class BuildReport:
    """What `build_index` or `update_index` did."""

    index_dir: Path
    rebuilt: bool               # a complete new index (else an incremental update)
    indexed: int                # posts in the index afterwards
    added: int = 0
    changed: int = 0
    deleted: int = 0
    renamed: int = 0
    unchanged: int = 0
    drafts: int = 0             # posts skipped because they are drafts (published: false)
    skipped: tuple[tuple[str, str], ...] = ()   # (path, reason): not indexed
    degraded: tuple[tuple[str, str], ...] = ()  # (path, reason): indexed, with a problem
    seconds: float = 0.0
    reason: str = ""            # why a full rebuild happened, when it was not asked for


class _SpooledTable:
    """One table's rows from a build's process, written to a file as they come instead of held.

    Held, the rows of a 20k-post build (path, [store file, start, end], the post's metadata, [size, mtime, sha1]) took
    about 1.7 KB a post as Python objects: 17 MB in each of two processes, and the parent unpickled all of them again.
    Each row is one line, `"path":value` in JSON (a fragment of the table's JSON object), so the parent writes the
    POSTS and MANIFEST tables by copying lines (`_write_spooled_tables`). Sent to the parent: its path and count only.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file: Any = open(path, "w", encoding="utf-8")

    def __setitem__(self, key: str, value: Any) -> None:
        self._file.write(f"{fileio.json_text(key)}:{fileio.json_text(value)}\n")
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def lines(self) -> Iterator[str]:
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                yield line.rstrip("\n")

    def __getstate__(self) -> dict[str, Any]:
        self.close()
        return {"path": self.path, "count": self.count, "_file": None}


@dataclass
class _Chunk:
    """The result of indexing a list of files in one process (a build's tables spooled to files, see _SpooledTable)."""

    ranges: dict[str, list[Any]] | _SpooledTable = field(default_factory=dict)
    posts: dict[str, dict[str, Any]] | _SpooledTable = field(default_factory=dict)
    manifest: dict[str, list[Any]] | _SpooledTable = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    degraded: list[tuple[str, str]] = field(default_factory=list)
    drafts: int = 0
    moved: dict[str, list[Any]] = field(default_factory=dict)  # ranges of posts moved from older store files
    segments: list[Any] = field(default_factory=list)  # the Whoosh segments a build's process wrote


def _relative(file: Path, root: Path) -> str:
    return file.relative_to(root).as_posix()


def settings(tokenizer_fingerprint: str, include_drafts: bool, config: Config) -> dict[str, Any]:
    """The analysis settings recorded in an index: an index is only read with the same ones."""
    jieba = import_jieba()
    return {
        "analysis_version": ANALYSIS_VERSION,
        "jieba": getattr(jieba, "__version__", "unknown"),
        "dictionary": tokenizer_fingerprint,
        "include_drafts": include_drafts,
        "user_dict": str(config.user_dict) if config.user_dict else None,
        "user_dict_sha1": file_digest(config.user_dict),
        "synonyms": str(config.synonyms) if config.synonyms else None,
        "pinyin": config.pinyin,
    }


def _index_files(files: Iterable[Path], root: Path, gen_dir: Path, store_name: str, include_drafts: bool,
                 fields_for: Callable[[Post], tuple[dict[str, Any], dict[str, str]]], writer: Any,
                 progress: Callable[[], None], moved: Iterable[tuple[str, bytes]] = (), spooled: bool = False,
                 read: Callable[[Path, Path], tuple[Post, list[Any]]] = read_here) -> _Chunk:
    """Read (`read`: post and fingerprint, or PostError / OSError), analyse (`fields_for`: schema.document_fields)
    and add `files` with `writer`, appending their folded text to store `store_name`; then append `moved` posts
    (key, bytes as an older store file holds them) to it too.
    `spooled`: the chunk's tables are _SpooledTables beside the store file (a build), else dicts."""
    chunk = _Chunk()
    if spooled:
        stem = store_name.removesuffix(".bin")
        chunk.ranges, chunk.posts, chunk.manifest = (_SpooledTable(gen_dir / f"rows-{stem}-{name}")
                                                      for name in layout.TABLES)
    with TextStoreWriter(gen_dir / store_name) as store:
        for file in files:
            rel = _relative(file, root)
            try:
                post, file_fingerprint = read(file, root)
            except (PostError, OSError) as e:
                chunk.skipped.append((rel, str(e).removeprefix(rel + ": ")))
                progress()
                continue
            chunk.manifest[rel] = file_fingerprint
            if post.draft and not include_drafts:
                chunk.drafts += 1
                progress()
                continue
            for problem in post.problems:
                chunk.degraded.append((rel, problem))
            doc, folded = fields_for(post)
            writer.add_document(**doc)
            start, end = store.add(folded)
            chunk.ranges[rel] = [store_name, start, end]
            chunk.posts[rel] = schema.post_meta(post)
            gc.collect(1)  # the post's cyclic garbage, now (see _fewer_collections)
            progress()
        for rel, data in moved:
            start, end = store.add_stored(data)
            chunk.moved[rel] = [store_name, start, end]
    for table in (chunk.ranges, chunk.posts, chunk.manifest):
        if isinstance(table, _SpooledTable):
            table.close()
    return chunk


def _exit_with_parent(parent: int) -> None:
    """Make this worker die with the build that forked it.

    A worker of a build killed with kill -9 would otherwise live on, and once its results fill the queue's
    pipe it blocks forever writing to it, holding memory and the generation folder.
    """
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: watch the parent instead
        import threading

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)


def _worker(names: _PackedNames, counter: Any, root: Path, gen_dir: Path, number: int, include_drafts: bool,
            config: Config, tokenizer: Any, queue: Any, parent: int) -> None:
    """One build process: the build's tokenizer (forked), its own Whoosh segments and text-store file."""
    _exit_with_parent(parent)
    from whoosh import index as whoosh_index

    try:
        if number == 0:
            lexicon.write_lexicon(tokenizer, gen_dir / layout.LEXICON)
        ix = whoosh_index.open_dir(str(gen_dir), indexname=WHOOSH_INDEX_NAME)
        # Whoosh names a writer's spill folder after the index ("MAIN.tmp") and deletes it when the writer ends:
        # writers sharing it deleted each other's spill files on corpora large enough to spill (1k posts).
        from whoosh.filedb.filestore import FileStorage

        own_temp = gen_dir / f"{WHOOSH_INDEX_NAME}-{number}.tmp"
        ix.storage.temp_storage = lambda name=None: FileStorage(str(own_temp)).create()
        # The parent holds the index's lock; several segment writers share the directory (as Whoosh's own
        # multiprocessing writer does), each segment under its own random name.
        writer = _SegmentsInTurn(ix, gen_dir)
        # The process ends with its first segment (see _run_workers), its last post having filled it.
        claimed = _claimed(names, root, counter, more=lambda: not writer.closed)
        store = gen_dir / f"text-{number}.bin"
        with _fewer_collections():
            chunk = _index_files(claimed, root, gen_dir, store.name, include_drafts,
                                 lambda post: schema.document_fields(post, tokenizer, config.pinyin), writer,
                                 lambda: queue.put(("tick", None)), spooled=True)
            chunk.segments = writer.close()
        if not len(chunk.ranges):  # the other processes took the last posts: no store file
            store.unlink()
            store.with_name(store.name + GRAMS_SUFFIX).unlink(missing_ok=True)
        queue.put(("done", chunk))
    except BaseException as e:  # reported to the parent, which fails the build without touching the live index
        queue.put(("error", f"{type(e).__name__}: {e}"))


class _SegmentsInTurn:
    """Posts handed to a BuildSegmentWriter, whose segment is closed and another begun once it holds
    SEGMENT_POSTINGS word postings; the writer holds at most HELD_POSTINGS_LIMIT of them in memory (the others are in
    its run files): a build's process stays within a bound whatever the corpus's size.

    (Before run files, the segment's size was the bound on memory: one segment per process took the largest process
    of a 20k-post build from 208 to 394 MB, a segment each 1.5M postings to 247 MB.)
    """

    def __init__(self, ix: Any, gen_dir: Path) -> None:
        self._ix, self._gen_dir = ix, gen_dir
        self._writer = self._new_writer()
        self._segments: list[Any] = []

    @property
    def closed(self) -> int:
        """The segments closed so far."""
        return len(self._segments)

    def _new_writer(self) -> Any:
        from .segment_writer import BuildSegmentWriter

        return BuildSegmentWriter(self._ix, spill_at=HELD_POSTINGS_LIMIT, _lk=False, limitmb=POOL_MB,
                                  compound=COMPOUND, codec=schema.index_codec())

    def add_document(self, **fields: Any) -> None:
        self._writer.add_document(**fields)
        if self._writer.postings >= SEGMENT_POSTINGS:
            self._segments.append(_close_segment_writer(self._writer, self._gen_dir))
            self._writer = self._new_writer()

    def close(self) -> list[Any]:
        """The segments written (none for no post)."""
        last = _close_segment_writer(self._writer, self._gen_dir)
        return self._segments + ([last] if last is not None else [])


def _close_segment_writer(writer: Any, gen_dir: Path) -> Any:
    """The segment `writer` wrote, or None if it holds no post: then its files are closed and removed.

    A writer opens its segment's files when it is made. Left open, an empty writer's files were flushed whenever the
    writer was garbage-collected, which could be after the generation recorded their sizes (a build of an empty
    corpus then read as damaged).
    """
    if writer.docnum:
        segment = writer._finalize_segment()
        writer._finish()
        return segment
    writer.cancel()
    prefix = f"{WHOOSH_INDEX_NAME}_{writer.newsegment.segid}."
    for name in os.listdir(gen_dir):
        if name.startswith(prefix):
            os.unlink(gen_dir / name)
    return None


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cyclic garbage collector run less often while posts are indexed.

    Parsing a post makes hundreds of thousands of objects (markdown-it tokens, BeautifulSoup trees), and the default
    threshold (700 allocations) ran a collection every few hundred of them: half the blogs posts in one process,
    three alternating runs, 7.55-7.67 s CPU as it is, 7.12-7.28 s with these thresholds (7.06-7.50 s with no
    collections at all).

    BeautifulSoup's trees are cycles: only the collector frees them. A large post's tree outlived the collections of
    the youngest generation that ran while it was parsed, and waited in the next one, collected every 20 of them
    (a million allocations): the trees of several large posts piled up, and the memory they took stayed with the
    process, its arenas held by the longer-lived objects made meanwhile. So `_index_files` collects the two young
    generations after each post, when its tree has just become garbage: a process indexing 200 of the 400 largest
    posts of a 20k-post corpus, 167 -> 130 MB RSS at the end (31 -> 4 MB of pymalloc pools free but held); 65 and
    59 s, one run each beside another build.
    """
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


class _PackedNames:
    """A list of post names packed in one byte string: what a build's forked processes are handed.

    Each process counts what the parent holds in its RSS. At the fork, a parent holding 20k Paths had 12.5 MB more
    than one holding 1k; holding the names in a list, 8 MB more; packed in one str, 4 MB more (that str held 4 bytes
    a character); packed as UTF-8, 1.4 MB more (`/tmp/parentrss.py`).
    """

    def __init__(self, names: list[str]) -> None:
        from array import array

        # UTF-8: a str takes 4 bytes a character once one name has a character past U+FFFF (the 20k corpus's
        # names: 3.9 MB as a str, 1.1 MB as UTF-8).
        encoded = [name.encode("utf-8", "surrogateescape") for name in names]
        self._data = b"".join(encoded)
        self._starts = array("q", [0])
        for name in encoded:
            self._starts.append(self._starts[-1] + len(name))

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, i: int) -> str:
        return self._data[self._starts[i]:self._starts[i + 1]].decode("utf-8", "surrogateescape")


def _claimed(names: _PackedNames, root: Path, counter: Any | None,
             more: Callable[[], bool] = lambda: True) -> Iterator[Path]:
    """The posts `names` (relative to `root`) in order, each to whichever build process asks first, for as long as
    `more()` holds.

    Dealt out this way rather than split in advance, the processes end together: a post's cost is not its size
    (HTML, code, English), and the first process also writes the lexicon (0.5 s). Split by size in advance, a
    build of the blogs corpus took 17.9 s for 31.9 s of CPU on two cores.
    """
    if counter is None:  # one process: no other to share them with
        for i in range(len(names)):
            yield root.joinpath(*names[i].split("/"))
        return
    while more():
        with counter.get_lock():
            i = counter.value
            counter.value = i + 1
        if i >= len(names):
            return
        yield root.joinpath(*names[i].split("/"))


# An update analyses a post whose body has this many characters in two processes, the second half in a
# forked one: the largest post of the 20k corpus (184 KB) took 0.5 s to cut with its lexicon entries, most of an
# update of it. Below, forking costs more than it saves.
PARALLEL_BODY_CHARS = 20_000


def _update_fields(lex: lexicon.Lexicon, pinyin: bool) -> Callable[[Post], tuple[dict[str, Any], dict[str, str]]]:
    """schema.document_fields for a few changed posts: jieba loaded with just the dictionary entries each post's
    text needs, the second half of a large post's body looked up and cut in a forked process meanwhile."""
    def fields_for(post: Post) -> tuple[dict[str, Any], dict[str, str]]:
        texts = schema.field_texts(post)
        if len(post.text) >= PARALLEL_BODY_CHARS and _may_fork():
            body = folding.fold(post.text)
            middle = segmentation.middle_line_break(body)
            if middle is not None:
                head, tail = body[:middle], body[middle + 1:]
                with _forked(lambda: segmentation.word_postings(tail, lex.tokenizer_for(tail))) as tail_postings:
                    others = "\n".join(value for name, value in texts.items() if name != "body")
                    tokenizer = lex.tokenizer_for(folding.fold(others) + "\n" + head)
                    postings = segmentation.word_postings(head, tokenizer)
                    postings = segmentation.joined_postings(postings, tail_postings.result())
                return schema.document_fields(post, tokenizer, pinyin, body=(body, postings))
        return schema.document_fields(post, lex.tokenizer_for(folding.fold("\n".join(texts.values()))), pinyin)

    return fields_for


def _may_fork() -> bool:
    """Whether this process can fork a helper: a POSIX system, and no other thread (a fork copies only the calling
    thread; a lock another one held would stay locked in the child)."""
    threading = sys.modules.get("threading")
    return hasattr(os, "fork") and (threading is None or threading.active_count() == 1)


class _Forked:
    """`compute()` run in a forked process (see _forked)."""

    def __init__(self, compute: Callable[[], Any]) -> None:
        self._compute = compute
        self._read_end, write_end = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:  # the child: compute, send, and leave without the parent's cleanup (atexit, buffers)
            code = 1
            try:
                os.close(self._read_end)
                data = marshal.dumps(compute())
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        self._reaped = False

    def result(self) -> Any:
        """The child's value, once (computed here if the child failed: the same value, only later)."""
        with os.fdopen(self._read_end, "rb", closefd=False) as pipe:
            data = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        self._reaped = True
        if status == 0:
            try:
                return marshal.loads(data)
            except (EOFError, ValueError, TypeError):
                pass
        return self._compute()

    def close(self) -> None:
        os.close(self._read_end)
        if not self._reaped:
            os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)


@contextlib.contextmanager
def _forked(compute: Callable[[], Any]) -> Iterator[_Forked]:
    """Run `compute()` (its value marshallable) in a forked process while the block goes on: `.result()` is its value.
    Leaving the block ends the child if its value was not asked for."""
    child = _Forked(compute)
    try:
        yield child
    finally:
        child.close()


def _worker_count(files: list[str], requested: int | None) -> int:
    if requested:
        return max(1, requested)
    # Starting a worker costs a jieba dictionary load (~1 s): not worth it for a handful of posts.
    return max(1, min(os.cpu_count() or 1, 1 + len(files) // 64))


def _writer_arguments(corpus: Path | str, index_dir: Path | str, config: Config | None) -> tuple[Path, Path, Config]:
    """Checked before taking the write lock, so that a bad corpus or config fails at once, not after a wait."""
    corpus, index_dir = Path(corpus), Path(index_dir)
    if not corpus.is_dir():
        raise IndexNotFound(f"no corpus folder at {corpus}")
    return corpus, index_dir, config if config is not None else load_config(corpus)


def build_index(corpus: Path | str, index_dir: Path | str, *, include_drafts: bool = False,
                workers: int | None = None, progress: ProgressCallback | None = None,
                wait: float = 5.0, config: Config | None = None) -> BuildReport:
    """Build a complete new index of `corpus` beside the live one and swap it in atomically."""
    corpus, index_dir, config = _writer_arguments(corpus, index_dir, config)
    with generations.write_lock(index_dir, wait):
        return _build_locked(corpus, index_dir, include_drafts, workers, progress, config, "")


def _build_locked(corpus: Path, index_dir: Path, include_drafts: bool, workers: int | None,
                  progress: ProgressCallback | None, config: Config, reason: str) -> BuildReport:
    from whoosh import index as whoosh_index
    from whoosh.index import TOC

    started = time.monotonic()
    root = corpus.resolve()
    generations.remove_stale(index_dir)
    # The posts' relative names, packed: the build's processes are forked from this one, and each counts what it
    # holds in its RSS (see _PackedNames).
    stats: dict[str, os.stat_result] = {}
    found, walk_skipped = find_post_names(root, stats)
    total = len(found)
    count = min(_worker_count(found, workers), max(total, 1))
    names = _PackedNames(sorted(found, key=lambda name: stats[name].st_size, reverse=True) if count > 1 else found)
    del found, stats
    temp, final = generations.new_generation_dir(index_dir)
    ix = whoosh_index.create_in(str(temp), schema.make_schema(), indexname=WHOOSH_INDEX_NAME)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    results: list[_Chunk] = []
    if count == 1:
        tokenizer = new_tokenizer(config.user_dict)
        lexicon.write_lexicon(tokenizer, temp / layout.LEXICON)
        writer = _SegmentsInTurn(ix, temp)
        with _fewer_collections():
            chunk = _index_files(_claimed(names, root, None), root, temp, "text-0.bin", include_drafts,
                                 lambda post: schema.document_fields(post, tokenizer, config.pinyin), writer, tick,
                                 spooled=True)
            chunk.segments = writer.close()
        results.append(chunk)
    else:  # the largest posts first, so that the processes end together
        results = _run_workers(names, count, root, temp, include_drafts, config, tick)

    written = [segment for c in results for segment in c.segments]
    TOC(ix.schema, written, 1).write(ix.storage, WHOOSH_INDEX_NAME)
    posts = _write_spooled_tables(temp, results)
    return _finish_generation(index_dir, root, temp, final, results, walk_skipped, include_drafts, config,
                              rebuilt=True, started=started, reason=reason, json_files={}, posts=posts,
                              build_segments=[segment.segment_id() for segment in written])


def _run_workers(names: _PackedNames, count: int, root: Path, temp: Path, include_drafts: bool,
                 config: Config, tick: Callable[[], None]) -> list[_Chunk]:
    """Index the posts `names` in `count` processes at a time, each writing one segment and one store file, then
    ending: while posts are left, a new process takes over from each that ends.

    A process ends with its segment because the memory a long-lived one keeps grows with the posts it has analysed
    (pymalloc's free but held pools, fragments between them), which is to say with the corpus: a 20k-post build's
    processes, living through six segments each, reached 150-154 MB against 133 MB at 1k posts, stepping up at
    segment closes; ending with their segment, 147-151 MB in two runs (bench/README). A new process is forked from
    the parent, which keeps jieba's dictionary for it (about 50 MB more RSS summed over the processes, shared pages
    counted twice).
    """
    import multiprocessing  # here: an update of a few posts runs in one process and spares the import (18 ms)

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    counter = context.Value("q", 0)  # the next of `names` to claim (forked: the list itself is shared)
    parent = os.getpid()
    # jieba's dictionary is loaded once, here, and the processes share it (forked, copy-on-write): loaded by each,
    # it cost every one of them about a second of CPU. Frozen, it is left out of the processes' garbage collections,
    # which would otherwise walk it and write to the pages it shares.
    tokenizer = new_tokenizer(config.user_dict)
    gc.freeze()
    processes: list[Any] = []

    def start() -> None:
        process = context.Process(target=_worker, args=(names, counter, root, temp, len(processes), include_drafts,
                                                        config, tokenizer, queue, parent), daemon=True)
        processes.append(process)
        process.start()

    results: list[_Chunk] = []
    errors: list[str] = []
    try:
        for _ in range(count):
            start()
        while len(results) + len(errors) < len(processes):
            try:
                kind, value = queue.get(timeout=1.0)
            except Exception:  # queue.Empty: check that the processes are still alive
                if not any(p.is_alive() for p in processes) and queue.empty():
                    errors.append("a build process died")
                continue
            if kind == "tick":
                tick()
            elif kind == "done":
                results.append(value)
                if counter.value < len(names) and not errors:
                    start()
            else:
                errors.append(value)
    finally:
        gc.unfreeze()
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    if errors:
        raise IndexCorrupt("the build failed, the index is unchanged: " + "; ".join(errors[:3]))
    return results


def _write_spooled_tables(temp: Path, results: list[_Chunk]) -> int:
    """Write a build's tables (layout.TABLES) from its processes' spooled rows, and remove the rows; the number
    of posts indexed.

    POSTS and MANIFEST are written line by line, never whole in memory; RANGES is written as columns in store order,
    so it is read whole (about 300 bytes a post: 5.8 MB at 20k posts).
    """
    spooled: dict[str, list[_SpooledTable]] = {name: [] for name in layout.TABLES}
    for chunk in results:
        for name, table in zip(layout.TABLES, (chunk.ranges, chunk.posts, chunk.manifest)):
            spooled[name].append(cast(_SpooledTable, table))
    for name, tables in spooled.items():
        lines = (line for table in tables for line in table.lines())
        if name == layout.RANGES:
            path_tables.write_table(temp, name, json.loads("{" + ",".join(lines) + "}"))
        else:
            fileio.write_json_lines(temp / name, lines)
    for table in (table for tables in spooled.values() for table in tables):
        table.path.unlink()
    return sum(len(table) for table in spooled[layout.RANGES])


def _finish_generation(index_dir: Path, root: Path, temp: Path, final: Path, results: list[_Chunk],
                       walk_skipped: list[tuple[str, str]], include_drafts: bool, config: Config, *, rebuilt: bool,
                       started: float, reason: str, json_files: dict[str, Any], posts: int,
                       built: str | None = None, counts: dict[str, int] | None = None,
                       added: dict[str, list[Any]] | None = None,
                       build_segments: list[str] | None = None) -> BuildReport:
    """Write `json_files` (name → value: the tables whole, or an update's changes) and the generation's meta,
    and commit it. `added`: the ranges of the posts an update added, when it moved none (see _write_documents)."""
    skipped = list(walk_skipped)
    degraded: list[tuple[str, str]] = []
    drafts = 0
    for chunk in results:
        skipped.extend(chunk.skipped)
        degraded.extend(chunk.degraded)
        drafts += chunk.drafts
    dictionary = lexicon.Lexicon(temp / layout.LEXICON).fingerprint
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    meta = {
        "format": INDEX_FORMAT,
        "zhsearch": __version__,
        "settings": settings(dictionary, include_drafts, config),
        "corpus": str(root),
        "built": built or now,
        "updated": now,
        "posts": posts,
        # Whoosh's table of field length by length byte (BM25F reads it): a query then needs no Whoosh module.
        layout.LENGTH_DECODING: _length_decoding(),
    }
    if build_segments is not None:
        meta[BUILD_SEGMENTS] = build_segments
    for name, value in json_files.items():
        path_tables.write_table(temp, name, value)
    _write_documents(temp, added)
    fileio.write_json(temp / layout.SYNONYMS, read_synonyms(config.synonyms))
    if not (temp / layout.FOLD).exists():  # an update keeps the table of the build (linked)
        fileio.write_json(temp / layout.FOLD, folding.fold_table_record())
    if not (temp / layout.EMISSIONS).exists():  # (linked too)
        fileio.write_bytes(temp / layout.EMISSIONS, lexicon.emissions_copy())
    meta["files"] = generations.file_sizes(temp)
    fileio.write_json(temp / layout.META, meta)
    generations.commit_generation(index_dir, temp, final)
    counts = counts or {"added": posts}
    return BuildReport(index_dir=index_dir, rebuilt=rebuilt, indexed=posts, drafts=drafts,
                       skipped=tuple(sorted(skipped)), degraded=tuple(sorted(degraded)),
                       seconds=time.monotonic() - started, reason=reason, **counts)


def _write_documents(gen: Path, added: dict[str, list[Any]] | None = None) -> None:
    """DOCUMENTS for the Whoosh index committed in `gen`, once its tables and changes are written; from the
    previous commit's (linked in `gen`) and the posts an update `added`, where that holds
    (path_tables.write_documents)."""
    with _index_segments(gen) as found:
        path_tables.write_documents(gen, found, added)


@contextlib.contextmanager
def _index_segments(gen: Path) -> Iterator[list[Any]]:
    """The segments of the Whoosh index in `gen`, read by segments.py; through Whoosh's reader when segments.py
    does not read them (compound segments of an early index, updated since)."""
    try:
        found: list[Any] = segments.read_segments(gen, WHOOSH_INDEX_NAME)
    except segments.Unsupported:
        from whoosh import index as whoosh_index

        reader = whoosh_index.open_dir(str(gen), indexname=WHOOSH_INDEX_NAME, readonly=True).reader()
        try:
            yield segments.whoosh_segments(reader)
        finally:
            reader.close()
        return
    try:
        yield found
    finally:
        for segment in found:
            segment.close()


def _length_decoding() -> list[int]:
    from whoosh.util.numeric import byte_to_length

    return [byte_to_length(b) for b in range(256)]


def update_index(corpus: Path | str, index_dir: Path | str, *, include_drafts: bool = False,
                 workers: int | None = None, progress: ProgressCallback | None = None,
                 wait: float = 5.0, config: Config | None = None) -> BuildReport:
    """Bring the index up to date with `corpus`, applying only what changed since the last build."""
    corpus, index_dir, config = _writer_arguments(corpus, index_dir, config)
    root = corpus.resolve()
    # The reading process sets up while the live generation's tables are read and the corpus is walked.
    with generations.write_lock(index_dir, wait), reading_ahead(root) as reader:
        rebuild_reason = None
        try:
            gen = generations.current_generation(index_dir)
            meta = fileio.read_json(gen / layout.META)
            check_compatible(meta)
            generations.check_files(gen, meta)
            changes = path_tables.read_changes(gen)
            manifest = path_tables.read_table(gen, layout.MANIFEST, changes)
            rebuild_reason = _rebuild_reason(meta, corpus, include_drafts, config) or None
        except IndexNotFound:
            rebuild_reason = ""
        except (IndexCorrupt, RebuildNeeded) as e:
            rebuild_reason = str(e)
        if rebuild_reason is not None:
            if reader is not None:
                reader.close()
            return _build_locked(corpus, index_dir, include_drafts, workers, progress, config, rebuild_reason)
        return _update_locked(root, index_dir, gen, meta, manifest, changes, include_drafts, config, progress,
                              reader)


def _read_optional(path: Path) -> Any:
    return fileio.read_json(path) if path.exists() else []


def _rebuild_reason(meta: dict[str, Any], corpus: Path, include_drafts: bool, config: Config) -> str:
    if meta.get("corpus") != str(corpus.resolve()):
        return f"the index was built from another corpus ({meta.get('corpus')})"
    if meta["settings"].get("include_drafts") != include_drafts:
        return "drafts are now " + ("included" if include_drafts else "excluded")
    jieba = import_jieba()
    if meta["settings"].get("jieba") != getattr(jieba, "__version__", "unknown"):
        return "jieba's version changed"
    if meta["settings"].get("user_dict_sha1") != file_digest(config.user_dict):
        return "the user dictionary changed (every post is segmented again)"
    if bool(meta["settings"].get("pinyin")) != config.pinyin:
        return "pinyin indexing is now " + ("on" if config.pinyin else "off")
    return ""


def _update_writer(ix: Any, build_segments: list[str] | None, deleting: list[int]
                   ) -> tuple[Any, Callable[[Any, list[Any]], list[Any]]]:
    """The writer of an update's segment, the documents `deleting` (numbers across the index) deleted in it, and the
    merge policy to commit it with (see _merge_policy).

    Whoosh's SegmentWriter if the policy merges segments at this commit: it reads their postings back into its pool,
    which the build's writer does not take. Otherwise the build's writer, whose commit at most drops segments: it
    writes a new post's word postings in bulk, where Whoosh's writer sorts and writes them one posting at a time
    (about 100 ms for a 28 KB post in a profile of an update at 20k posts).
    """
    from .segment_writer import BuildSegmentWriter

    policy = _merge_policy(build_segments)

    class MergeDue(Exception):
        pass

    class MergeProbe:  # what a merge policy asks of a writer, stopped at its first merged segment
        storage, schema = ix.storage, ix.schema

        def add_reader(self, reader: Any) -> None:
            reader.close()
            raise MergeDue

    segments = ix._segments()
    _delete_documents(segments, deleting)  # (the policy drops segments left without a live document)
    try:
        policy(MergeProbe(), segments)
    except MergeDue:
        writer = ix.writer(limitmb=64, compound=COMPOUND, codec=schema.index_codec())
        _merge_value_less_postings(writer)
    else:
        writer = BuildSegmentWriter(ix, spill_at=HELD_POSTINGS_LIMIT, limitmb=64, compound=COMPOUND,
                                    codec=schema.index_codec())
    for number in deleting:
        writer.delete_document(number)
    return writer, policy


def _delete_documents(segments: list[Any], numbers: list[int]) -> None:
    """Mark documents `numbers` (across `segments`, in order) deleted in their segment, as Whoosh's writer's
    delete_document does in its own: for the merge policy's probe, before there is a writer."""
    bases, base = [], 0
    for segment in segments:
        bases.append(base)
        base += segment.doc_count_all()
    for number in numbers:
        i = bisect.bisect_right(bases, number) - 1
        segments[i].delete_document(number - bases[i])


def _merge_policy(build_segments: list[str] | None) -> Callable[[Any, list[Any]], list[Any]]:
    """Segments whose documents are all deleted dropped unread, then Whoosh's MERGE_SMALL over the segments updates
    wrote; the build's segments (ids `build_segments`, as the generation's meta lists them) are never merged. None:
    an index whose meta does not list them, MERGE_SMALL over all.

    A segment of deleted documents only is what updating the same post again leaves of the previous update's: Whoosh
    reads such segments through when it merges them (every fifth update of the largest post of the 20k corpus took
    3 s instead of 1.5). Its files are removed at the commit (whoosh.index.clean_files).

    MERGE_SMALL merges the smallest segments up to the first where their documents are fewer than a Fibonacci number
    of their count: it would take the build's segments, of about 1,700 posts each, once there are 19 of them (a
    corpus of about 32,000 posts), and rewrite them all in one update. A build's segments are bounded already (see
    SEGMENT_POSTINGS): merging them gains nothing.
    """
    from whoosh.writing import MERGE_SMALL

    built = set(build_segments) if build_segments is not None else None

    def merge_update_segments(writer: Any, segments: list[Any]) -> list[Any]:
        live = [segment for segment in segments if segment.doc_count()]
        if built is None:
            return MERGE_SMALL(writer, live)
        kept = [segment for segment in live if segment.segment_id() in built]
        return kept + MERGE_SMALL(writer, [segment for segment in live if segment.segment_id() not in built])

    return merge_update_segments


def _merge_value_less_postings(writer: Any) -> None:
    """Let `writer` merge segments whose word fields hold counts only (no value per posting).

    Whoosh merges the small segments updates leave (MERGE_SMALL, once there are five or more) by reading their
    postings back. A posting list inlined in its term's entry (schema.INLINE_LIMIT) and without values reads back
    with the value "" (ListMatcher.value, a str: a Python 2 leftover), which the posting pool rejects: the fourth
    or so update of an index failed with "AssertionError: vbytes=''". Such a posting's value is empty bytes, as the
    build wrote it.
    """
    add = writer.pool.add

    def add_posting(item: tuple) -> None:
        if item[4] == "":
            item = (item[0], item[1], item[2], item[3], b"")
        add(item)

    writer.pool.add = add_posting


def _live_documents(paths: list[str], gen_dir: Path) -> list[int]:
    """The numbers (across the index in `gen_dir`) of the live documents of `paths` (relative paths, the `path`
    field).

    Whoosh's delete_by_term finds them with a searcher it opens for every path (that imported whoosh.query and
    whoosh.searching, 50 ms of an update of one post, and reopened the index's files each time); segments.py's reader
    finds them without: opening Whoosh's reader of a 20k index's segments took 50-65 ms more."""
    found: list[int] = []
    if not paths:
        return found
    with _index_segments(gen_dir) as segments:
        for segment in segments:
            for path in paths:
                postings = segment.postings("path", path)
                found.extend(segment.base + docnum for docnum in (postings[0] if postings else ())
                             if docnum not in segment.deleted)
    return found


def _store_files_to_move(gen: Path, changes: dict[str, dict[str, Any]], leaving: set[str]
                         ) -> tuple[TextStore, list[str], set[str]]:
    """(the generation's text store; the posts an update moves to its own store file, see STORE_MERGE_AT; the
    store files the next generation does without: no live post left, or all moved)."""
    columns, range_changes = text_ranges.read_ranges(gen, changes)
    store = TextStore.from_columns(gen, columns, range_changes)
    live: dict[str, tuple[list[str], int]] = {}  # file → (its posts still live after this update, their bytes)
    for name, (keys, size) in store.live_files().items():
        staying = [key for key in keys if key not in leaving]
        if staying:
            live[name] = (staying, size)  # (the bytes of a few leaving posts counted too: only an order)
    updates = sorted((size, name) for name, (_, size) in live.items() if name.startswith(UPDATE_STORE_PREFIX))
    merged = [name for _, name in updates[:STORE_MERGE_COUNT]] if len(updates) >= STORE_MERGE_AT else []
    every = {child.name for child in gen.iterdir() if child.name.startswith("text-") and child.name.endswith(".bin")}
    return store, [key for name in merged for key in live[name][0]], (every - live.keys()) | set(merged)


def _update_locked(root: Path, index_dir: Path, gen: Path, meta: dict[str, Any], manifest: dict[str, Any],
                   changes: dict[str, dict[str, Any]], include_drafts: bool, config: Config,
                   progress: ProgressCallback | None, reader: ReadAhead | None) -> BuildReport:
    from whoosh import index as whoosh_index

    started = time.monotonic()
    generations.remove_stale(index_dir)
    # Relative names and os.stat on strings: at 20k posts, a Path per file was most of a no-op update's time.
    stats: dict[str, os.stat_result] = {}
    prefix = os.path.join(str(root), "")
    to_read: list[Path] = []  # in the order the walk finds them, as the reader is asked for them
    changed_paths: list[str] = []
    unchanged = 0
    refreshed: dict[str, Any] = {}

    def compare(names: list[str]) -> None:
        nonlocal unchanged
        new_names = []
        for rel in names:
            old = manifest.get(rel)
            if old is not None:
                st = stats[rel]
                if st.st_size == old[0] and st.st_mtime_ns == old[1]:
                    unchanged += 1
                    continue
                touched = fingerprint(Path(prefix + rel))
                if touched[2] == old[2]:  # touched, same content
                    refreshed[rel] = touched
                    unchanged += 1
                    continue
                changed_paths.append(rel)
            to_read.append(root.joinpath(*rel.split("/")))
            new_names.append(rel)
        if reader is not None and new_names:
            reader.request(new_names)  # read while the walk goes on

    names, walk_skipped = find_post_names(root, stats, compare)
    current = set(names)
    gone = [rel for rel in manifest if rel not in current]
    # Synonyms are applied at query time: a changed file needs a new generation, not new segments.
    synonyms_changed = (read_synonyms(config.synonyms) != _read_optional(gen / layout.SYNONYMS)
                        or meta["settings"].get("synonyms") != (str(config.synonyms) if config.synonyms else None))
    if not to_read and not gone and not synonyms_changed:
        if refreshed:
            changes.setdefault(layout.MANIFEST, {}).update(refreshed)
            fileio.write_json(gen / layout.CHANGES, changes)
        return BuildReport(index_dir=index_dir, rebuilt=False, indexed=meta["posts"], unchanged=unchanged,
                           skipped=tuple(sorted(walk_skipped)), seconds=time.monotonic() - started)
    generations.adopt_fold_table(gen)
    temp, final = generations.new_generation_dir(index_dir)
    old_store, to_move, dead_files = _store_files_to_move(gen, changes, set(gone) | set(changed_paths))
    # The tables are linked as they are: this update's changes go to CHANGES (path_tables.read_table).
    for child in gen.iterdir():
        if (child.is_file() and child.name not in (layout.META, layout.CHANGES, layout.SYNONYMS)
                and child.name.removesuffix(GRAMS_SUFFIX) not in dead_files):
            os.link(child, temp / child.name)
    new_changes = {name: dict(changes.get(name, {})) for name in layout.TABLES}
    ix = whoosh_index.open_dir(str(temp), indexname=WHOOSH_INDEX_NAME)
    deleting = _live_documents(gone + changed_paths, temp)
    writer, merge_policy = _update_writer(ix, meta.get(BUILD_SEGMENTS), deleting)
    removed_posts = len(deleting)
    for rel in gone + changed_paths:
        for table in new_changes.values():
            table[rel] = None
    lex = lexicon.Lexicon(temp / layout.LEXICON)
    lexicon.offer_emissions(temp / layout.EMISSIONS)  # jieba's HMM without importing its table (13 ms)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(to_read))

    store_name = f"text-{final.name}.bin"
    moved = ((rel, old_store.stored(rel)) for rel in to_move)
    chunk = _index_files(to_read, root, temp, store_name, include_drafts, _update_fields(lex, config.pinyin),
                         writer, tick, moved, read=reader.read if reader is not None else read_here)
    writer.commit(mergetype=merge_policy)
    added_hashes = {chunk.manifest[rel][2] for rel in chunk.ranges if rel not in changed_paths}
    # A deleted post whose content reappears under a new path was renamed (counted once, not as add + delete).
    renamed = sum(1 for rel in gone if manifest[rel][2] in added_hashes)
    new_changes[layout.RANGES].update(chunk.moved)
    new_changes[layout.RANGES].update(chunk.ranges)
    new_changes[layout.POSTS].update(chunk.posts)
    new_changes[layout.MANIFEST].update(refreshed)
    new_changes[layout.MANIFEST].update(chunk.manifest)
    posts = meta["posts"] - removed_posts + len(chunk.ranges)
    added = len([r for r in chunk.ranges if r not in changed_paths])
    counts = {"added": added - renamed, "changed": len([r for r in changed_paths if r in chunk.ranges]),
              "deleted": len(gone) - renamed, "renamed": renamed, "unchanged": unchanged}
    json_files: dict[str, Any]
    if len(new_changes[layout.MANIFEST]) > max(layout.COMPACT_MIN, posts * layout.COMPACT_SHARE):
        # write_json replaces the links to `gen`'s tables; it never writes through them.
        json_files = {name: path_tables.read_table(gen, name, new_changes) for name in layout.TABLES}
    else:
        json_files = {layout.CHANGES: new_changes}
    return _finish_generation(index_dir, root, temp, final, [chunk], walk_skipped, include_drafts, config,
                              rebuilt=False, started=started, reason="", json_files=json_files, posts=posts,
                              built=meta["built"], counts=counts, added=None if chunk.moved else dict(chunk.ranges),
                              build_segments=meta.get(BUILD_SEGMENTS))
