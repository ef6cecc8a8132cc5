"""Generations: how a new state of an index replaces the old one.

Parts:
- Every complete state of the index is a directory `gen-NNNNNN/` (see layout.py). A writer builds the next one
  beside the live one under a temporary name, fsyncs it, renames it, then points `CURRENT` at it with an atomic
  `os.replace`: the commit point, as in Lucene. Readers read `CURRENT` and never see a half-written state; a crash
  at any moment leaves `CURRENT` naming a whole generation, and the next writer removes the leftovers.
- `write_lock`: one writer at a time (`LOCK`, an flock that the kernel releases when its holder dies); the holder
  writes who it is into the file so a waiting writer can name it. Processes forked while the lock is held (build
  workers) close their copy of it (`close_inherited_locks`), so the lock dies with its holder.
- `open_generation`: a reader's pin on the live generation (a shared flock on its directory), so that writers
  keep a generation while anyone still reads it; `remove_stale` (writers) removes only unpinned ones, and the last
  reader of an old generation removes it on letting go (`remove_if_old`).
- `corpus_of` (the corpus an index records), `disk_usage` (what the index folder takes),
  `removing_unfinished` (an interrupted writer's temporary generation removed).
- `check_files`, `check_compatible`, `adopt_fold_table`: what a reader or writer checks on opening one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import IndexCorrupt, IndexLocked, IndexNotFound, IndexPathInvalid, RebuildNeeded
from ..text import ANALYSIS_VERSION, folding
from .fileio import fsync_path, read_json
from .layout import (
    CHANGES,
    CURRENT,
    FOLD,
    GENERATION_GLOB,
    INDEX_FORMAT,
    LOCK,
    MANIFEST,
    META,
    generation_name,
    generation_number,
    is_generation_name,
)


def current_generation(index_dir: Path) -> Path:
    """The directory of the live generation; IndexNotFound when there is none."""
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        raise IndexNotFound(f"no index at {index_dir} (build one with `zhsearch index`)") from None
    except OSError as e:
        raise IndexCorrupt(f"cannot read {pointer}: {e.strerror}") from e
    gen = index_dir / name
    if not is_generation_name(name) or "/" in name or not gen.is_dir():
        raise IndexCorrupt(f"{pointer} names no generation of the index ({name[:40]!r}); "
                           "rebuild it with `zhsearch index --rebuild`")
    return gen


def new_generation_dir(index_dir: Path) -> tuple[Path, Path]:
    """A fresh temporary directory for the next generation, and the name it gets when complete."""
    numbers = [generation_number(p.name.split(".")[0]) for p in index_dir.glob(GENERATION_GLOB)]
    final = index_dir / generation_name(max(numbers, default=0) + 1)
    temp = index_dir / f"{final.name}.tmp-{os.getpid()}"
    import shutil  # here, not at the top: only writers need it, and a cold query pays every import

    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    return temp, final


def _fsync_files(paths: list[Path], threads: int = 8) -> None:
    """fsync every file of `paths`, several at once: the filesystem's journal commits concurrent fsyncs together."""
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
    """Remove unfinished generations and old ones, except any a reader has pinned (the last reader to let go of
    one removes it, `remove_if_old`)."""
    try:
        live = current_generation(index_dir).name
    except (IndexNotFound, IndexCorrupt):
        live = ""  # no index yet: what a writer that died left (its writer held the lock we hold now)
    for path in index_dir.glob(GENERATION_GLOB):
        if path.name != live and path.is_dir():
            _remove_unpinned(path)


def remove_if_old(gen: Path) -> None:
    """Remove `gen` if it is an older generation than the live one and no reader pins it (a reader letting go)."""
    try:
        live = current_generation(gen.parent).name
    except (IndexNotFound, IndexCorrupt):
        return
    # Only finished generations older than the live one: never a writer's unfinished one.
    if "." not in gen.name and generation_number(gen.name) < generation_number(live):
        _remove_unpinned(gen)


@contextlib.contextmanager
def removing_unfinished(index_dir: Path) -> Iterator[None]:
    """On an exception (Ctrl-C too), remove the temporary generation this process was writing: the live one is
    untouched, and nothing is left for the next writer to clean up."""
    try:
        yield
    except BaseException:
        import shutil

        for temp in index_dir.glob(f"{GENERATION_GLOB}.tmp-{os.getpid()}"):
            shutil.rmtree(temp, ignore_errors=True)
        raise


def corpus_of(index_dir: Path | str) -> Path | None:
    """The corpus folder the index at `index_dir` was built from; None when there is no readable index there."""
    try:
        meta = read_json(current_generation(Path(index_dir)) / META)
    except (IndexNotFound, IndexCorrupt, OSError, ValueError):
        return None
    corpus = meta.get("corpus") if isinstance(meta, dict) else None
    return Path(corpus) if isinstance(corpus, str) and corpus else None


def drafts_of(index_dir: Path | str) -> bool:
    """Whether the index at `index_dir` holds drafts (built with include_drafts); False when there is none."""
    try:
        meta = read_json(current_generation(Path(index_dir)) / META)
    except (IndexNotFound, IndexCorrupt, OSError, ValueError):
        return False
    settings = meta.get("settings") if isinstance(meta, dict) else None
    return bool(settings.get("include_drafts")) if isinstance(settings, dict) else False


def disk_usage(index_dir: Path) -> int:
    """Bytes the index folder takes on disk, as `du` counts them (a file linked into several generations once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for folder, _, files in os.walk(index_dir):
        for path in (folder, *(os.path.join(folder, name) for name in files)):
            try:
                st = os.lstat(path)
            except OSError:  # removed meanwhile by a writer
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512 if hasattr(st, "st_blocks") else st.st_size
    return total


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
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except (FileExistsError, NotADirectoryError):
        raise IndexPathInvalid(f"{index_dir} is a file, not an index folder; choose another --index") from None
    except OSError as e:
        raise IndexPathInvalid(f"cannot write an index at {index_dir} ({e.strerror}); "
                               "choose another --index") from None
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
        started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        with contextlib.suppress(OSError):  # who holds it, for IndexLocked's message; a full disk must not stop us
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} ({' '.join(sys.argv[:3])[:200]}, since {started})".encode(), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        _held_locks.discard(fd)
        os.close(fd)


# Descriptors of write locks this process holds (see close_inherited_locks).
_held_locks: set[int] = set()


def close_inherited_locks() -> None:
    """In a process forked by a lock holder (a build worker): close its copy of the lock, which it otherwise shares
    with its parent, so that the lock dies with the parent even if the child outlives it."""
    for fd in _held_locks:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held_locks.clear()


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
    """Fold queries and new posts as this generation's posts were folded."""
    try:
        folding.adopt_fold_table(read_json(gen / FOLD))
    except (ValueError, AttributeError) as e:
        raise IndexCorrupt(f"{FOLD} in {gen} is damaged ({e}); rebuild with `zhsearch index --rebuild`") from e


def check_compatible(meta: dict[str, Any]) -> None:
    """RebuildNeeded unless the index was written in this format by a compatible analysis."""
    if meta.get("format") != INDEX_FORMAT:
        raise RebuildNeeded(f"rebuild needed: the index format is {meta.get('format')!r}, this zhsearch reads "
                            f"{INDEX_FORMAT} (run `zhsearch index --rebuild`)")
    found = meta.get("settings", {}).get("analysis_version")
    if found != ANALYSIS_VERSION:
        raise RebuildNeeded(f"rebuild needed: the index was analysed with version {found!r}, "
                            f"this zhsearch uses {ANALYSIS_VERSION} (run `zhsearch index --rebuild`)")
