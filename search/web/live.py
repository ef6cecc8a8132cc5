"""The index a server answers from, kept live.

`LiveIndex` lends each request the index's live generation: after a writer (`zhsearch index`, or the watcher)
commits a new one, the next request opens it, while requests already running finish on the one they started with,
which is closed when the last of them returns it. `watch_corpus` runs `update_index` whenever the corpus changes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import watchfiles

import search


class _Lease:
    __slots__ = ("index", "users")

    def __init__(self, index: search.Index) -> None:
        self.index = index
        self.users = 0


class LiveIndex:
    """The live generation of the index at `index_dir`, re-opened when a writer commits a newer one."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._lock = threading.Lock()
        self._live = _Lease(search.open_index(index_dir))
        self._retired: list[_Lease] = []  # older generations that requests still use

    @contextlib.contextmanager
    def use(self) -> Iterator[search.Index]:
        """The live generation, lent for the length of one request."""
        with self._lock:
            if not self._live.index.is_current():
                self._retired.append(self._live)
                self._live = _Lease(search.open_index(self.index_dir))
                self._close_unused()
            lease = self._live
            lease.users += 1
        try:
            yield lease.index
        finally:
            with self._lock:
                lease.users -= 1
                if lease is not self._live:
                    self._close_unused()

    def _close_unused(self) -> None:
        for lease in [lease for lease in self._retired if not lease.users]:
            lease.index.close()
            self._retired.remove(lease)

    def close(self) -> None:
        with self._lock:
            for lease in (*self._retired, self._live):
                lease.index.close()
            self._retired.clear()


def update_line(report: search.BuildReport) -> str:
    """One log line for an update."""
    kind = "rebuilt" if report.rebuilt else "updated"
    return (f"{kind} {report.index_dir}: {report.added} added, {report.changed} changed, {report.deleted} deleted, "
            f"{report.renamed} renamed, {len(report.skipped)} skipped, {report.indexed} posts, "
            f"{report.seconds:.1f} s")


async def watch_corpus(corpus: Path, index_dir: Path, log: Callable[[str], None],
                       stop: asyncio.Event | None = None, debounce_ms: int = 500) -> None:
    """Update the index at `index_dir` each time files under `corpus` change, and log one line per update.

    watchfiles gathers the changes of `debounce_ms` into one batch. The update runs in another process: in this
    one it would hold the interpreter's lock for seconds and every search would wait behind it.
    """
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        loop = asyncio.get_running_loop()
        async for _changes in watchfiles.awatch(corpus, debounce=debounce_ms, stop_event=stop):
            try:
                report = await loop.run_in_executor(pool, search.update_index, corpus, index_dir)
            except (search.SearchError, OSError, ValueError) as e:
                log(f"update failed: {e}")
                continue
            log(update_line(report))
