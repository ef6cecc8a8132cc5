"""A computation run in a forked child while the parent goes on (an update's large post, cut in two halves)."""

from __future__ import annotations

import contextlib
import marshal
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any


def may_fork() -> bool:
    """Whether this process can fork a helper: a POSIX system, and no other thread (a fork copies only the calling
    thread; a lock another one held would stay locked in the child)."""
    threading = sys.modules.get("threading")
    return hasattr(os, "fork") and (threading is None or threading.active_count() == 1)


class Forked:
    """`compute()` run in a forked process (see forked)."""

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
def forked(compute: Callable[[], Any]) -> Iterator[Forked]:
    """Run `compute()` (its value marshallable) in a forked process while the block goes on: `.result()` is its value.
    Leaving the block ends the child if its value was not asked for."""
    child = Forked(compute)
    try:
        yield child
    finally:
        child.close()
