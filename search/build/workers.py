"""A build's worker processes: forked from the build, each writes its own segments and text store file.

Parts: `run_workers` (processes started, fed and collected), `_worker` (one process), `claimed` (each post to
whichever process asks first), `_exit_with_parent`.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import BuildFailed
from ..segments import schema
from ..segments.writing import SegmentsInTurn, open_worker_index
from ..store import generations, layout
from ..store.pairs import PAIRS_SUFFIX
from ..text import lexicon, segmentation
from ..text.tokenizer import new_tokenizer
from .generation import Chunk, index_files


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


def _worker(names: list[str], counter: Any, root: Path, gen_dir: Path, number: int, include_drafts: bool,
            config: Config, tokenizer: Any, queue: Any, parent: int) -> None:
    """One build process: the build's tokenizer (forked), its own Whoosh segments and text-store file."""
    generations.close_inherited_locks()
    _exit_with_parent(parent)
    try:
        if number == 0:
            lexicon.write_lexicon(tokenizer, gen_dir / layout.LEXICON)
        ix = open_worker_index(gen_dir, number)
        # The parent holds the index's lock; several segment writers share the directory (as Whoosh's own
        # multiprocessing writer does), each segment under its own random name.
        writer = SegmentsInTurn(ix, gen_dir)
        # The process ends with its first segment (see run_workers), its last post having filled it.
        posts = claimed(names, root, counter, more=lambda: not writer.closed)
        store = gen_dir / f"text-{number}.bin"
        chunk = index_files(posts, root, gen_dir, store.name, include_drafts,
                             lambda post: schema.document_fields(post, tokenizer, config.pinyin), writer,
                             lambda: queue.put(("tick", None)), spooled=True)
        chunk.segments = writer.close()
        if not len(chunk.ranges):  # the other processes took the last posts: no store file
            store.unlink()
            store.with_name(store.name + PAIRS_SUFFIX).unlink(missing_ok=True)
        queue.put(("done", chunk))
    except BaseException as e:  # reported to the parent, which fails the build without touching the live index
        queue.put(("error", failure_text(e)))


def failure_text(error: BaseException) -> str:
    """An error in one line, the way a user reads it (`No space left on device: /index/gen-…`)."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return f"{type(error).__name__}: {error}"


def claimed(names: list[str], root: Path, counter: Any | None,
             more: Callable[[], bool] = lambda: True) -> Iterator[Path]:
    """The posts `names` (relative to `root`) in order, each to whichever build process asks first, for as long as
    `more()` holds.

    Dealt out this way rather than split in advance, the processes end together: a post's cost is not its size
    (HTML, code, English), and the first process also writes the lexicon.
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




def worker_count(files: list[str], requested: int | None) -> int:
    if requested:
        return max(1, requested)
    # Starting a worker costs a jieba dictionary load: not worth it for a handful of posts.
    return max(1, min(os.cpu_count() or 1, 1 + len(files) // 64))


def run_workers(names: list[str], count: int, root: Path, temp: Path, include_drafts: bool,
                 config: Config, tick: Callable[[], None]) -> list[Chunk]:
    """Index the posts `names` in `count` processes at a time, each writing one segment and one store file, then
    ending: while posts are left, a new process takes over from each that ends.

    A process ends with its segment because the memory a long-lived one keeps grows with the posts it has analysed
    (pymalloc's free but held pools), which is to say with the corpus. A new process is forked from the parent,
    which keeps jieba's dictionary for it.
    """
    import multiprocessing  # here: an update of a few posts runs in one process and spares the import

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    counter = context.Value("q", 0)  # the next of `names` to claim (forked: the list itself is shared)
    parent = os.getpid()
    # jieba's dictionary (and rjieba's, for the run cutter) is loaded once, here, and the processes share it (forked,
    # copy-on-write): loaded by each, it cost every one of them about a second of CPU. So is numpy (the pair index's).
    tokenizer = new_tokenizer(config.user_dict)
    segmentation.prepare_cutter(tokenizer)
    import numpy  # noqa: F401
    processes: list[Any] = []

    def start() -> None:
        process = context.Process(target=_worker, args=(names, counter, root, temp, len(processes), include_drafts,
                                                        config, tokenizer, queue, parent), daemon=True)
        processes.append(process)
        process.start()

    results: list[Chunk] = []
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
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    if errors:
        # Several processes meet the same full disk: each different error once.
        raise BuildFailed("the build failed, the index is unchanged: " + "; ".join(list(dict.fromkeys(errors))[:3]))
    return results
