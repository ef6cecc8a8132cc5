"""Reading an update's changed posts in another process, ahead of the process that indexes them.

An update walks the corpus to find what changed, then reads each changed post: Markdown through markdown-it, HTML
through BeautifulSoup, whose imports and set-up take long. `ReadAhead` starts
a Python process before the walk, which imports the parsers meanwhile; the walk sends it each changed post's name
as it finds it, and it reads them in order, each while the update walks on, opens the index or analyses the post
before.

The process is spawned, not forked: after a fork, every page the update writes is copied first.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import os
import pickle
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..errors import PostError

if TYPE_CHECKING:
    from ..posts.post import Post

_THIS_FILE = os.path.realpath(__file__)
_HEADER = 8  # bytes of each name's or answer's length
# Names sent to the process and not taken yet: enough for it to read one post while the next waits. Kept well
# under a pipe's buffer (64 KiB on Linux, 16 KiB at least) even for names of PATH_MAX bytes.
_AHEAD = 2


def fingerprint(file: Path) -> list[Any]:
    """[size, mtime_ns, sha1] of a file, for change detection."""
    digest = hashlib.sha1()
    with open(file, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    st = file.stat()
    return [st.st_size, st.st_mtime_ns, digest.hexdigest()]


def read_here(file: Path, root: Path) -> tuple[Post, list[Any]]:
    """A post and its fingerprint, read in this process (PostError or OSError when it can't be)."""
    from ..posts.post import read_post

    return read_post(file, root), fingerprint(file)


class ReadAhead:
    """A process reading posts under `root` for this one; `read` gives each as `read_here` would.

    `request` asks for posts, `read` takes them in the order asked for. A post that isn't the next one asked for,
    or any once the process failed, is read here: the same post either way, only later. `served` counts the posts
    the process gave.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self.served = 0
        self._waiting: collections.deque[str] = collections.deque()  # asked for, not sent to the process yet
        self._sent: collections.deque[str] = collections.deque()  # sent, not taken by `read` yet
        self._answers: BinaryIO | None = None
        self._failed = False
        self._closed = False
        request_read, self._requests = os.pipe()
        self._results, answer_write = os.pipe()
        try:
            self._pid = os.posix_spawn(sys.executable, self._command(), os.environ, file_actions=[
                (os.POSIX_SPAWN_DUP2, request_read, 0), (os.POSIX_SPAWN_DUP2, answer_write, 1),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
        except BaseException:
            for fd in (self._requests, self._results):
                os.close(fd)
            raise
        finally:
            os.close(request_read)
            os.close(answer_write)
        os.set_blocking(self._requests, False)

    def _command(self) -> list[str]:
        # This process's module path, and this module's file: a process that imports another copy of the package
        # (one in the working folder, say) reads nothing.
        path = [entry for entry in sys.path if isinstance(entry, str)]
        code = (f"import sys; sys.path[:] = {path!r}; from search.build.readahead import serve; "
                f"serve({str(self._root)!r}, {_THIS_FILE!r})")
        return [sys.executable, "-c", code]

    def request(self, names: list[str]) -> None:
        """Ask for the posts `names` (relative to the root, "/" separators), after those asked for before."""
        if not self._failed:
            self._waiting.extend(names)
            self._send()

    def _send(self) -> None:
        # At most _AHEAD names are sent and not taken: the process blocks once its answers fill their pipe, and
        # then reads no more names; this process must never block writing one (the pipe does not block: a name
        # that doesn't fit, in a pipe the system made small, ends the reading ahead).
        while self._waiting and len(self._sent) < _AHEAD:
            rel = self._waiting.popleft()
            name = rel.encode("utf-8", "surrogatepass")
            request = len(name).to_bytes(_HEADER, "little") + name
            try:
                written = os.write(self._requests, request)
            except OSError:  # the process is gone, or the pipe is full: `read` reads here
                written = -1
            if written != len(request):
                self._fail()
                return
            self._sent.append(rel)

    def read(self, file: Path, root: Path) -> tuple[Post, list[Any]]:
        """The post `file` and its fingerprint, as `read_here` gives them."""
        if self._sent and root == self._root and self._sent[0] == file.relative_to(root).as_posix():
            self._sent.popleft()
            answer = self._receive()
            if answer is not None:
                self.served += 1
                self._send()
                post, file_fingerprint, error = answer
                if error is not None:
                    raise PostError(error)
                return post, file_fingerprint
            self._fail()  # the process failed: the rest is read here
        elif self._sent or self._waiting:  # asked for out of order: the answers no longer match
            self._fail()
        return read_here(file, root)

    def _receive(self) -> Any:
        if self._answers is None:
            self._answers = os.fdopen(self._results, "rb")
        header = self._answers.read(_HEADER)
        if len(header) == _HEADER:
            size = int.from_bytes(header, "little")
            data = self._answers.read(size)
            if len(data) == size:
                try:
                    return pickle.loads(data)
                except Exception:  # noqa: BLE001 - whatever a broken process sent, the post is read here instead
                    return None
        return None

    def _fail(self) -> None:
        self._failed = True
        self._waiting.clear()
        self._sent.clear()

    def close(self) -> None:
        """End the process (it may still be setting up or reading posts nobody will take). Once is enough."""
        if self._closed:
            return
        self._closed = True
        os.close(self._requests)
        if self._answers is not None:
            self._answers.close()
        else:
            os.close(self._results)
        os.kill(self._pid, signal.SIGKILL)
        os.waitpid(self._pid, 0)


@contextlib.contextmanager
def reading_ahead(root: Path) -> Iterator[ReadAhead | None]:
    """A ReadAhead for the block, or None where no process can be started this way."""
    reader = None
    if hasattr(os, "posix_spawn") and sys.executable:
        try:
            reader = ReadAhead(root)
        except OSError:
            pass
    try:
        yield reader
    finally:
        if reader is not None:
            reader.close()


def serve(root: str, expected_file: str) -> None:
    """The reading process: set up the parsers, then read each post named on stdin and answer on stdout; nothing
    when this module is not the file the update runs (`expected_file`)."""
    from ..posts.post import prepare_parsers

    if expected_file != _THIS_FILE:
        return
    prepare_parsers()
    base = Path(root)
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while len(header := requests.read(_HEADER)) == _HEADER:
        rel = requests.read(int.from_bytes(header, "little")).decode("utf-8", "surrogatepass")
        try:
            answer = (*read_here(base.joinpath(*rel.split("/")), base), None)
        except (PostError, OSError) as e:
            answer = (None, None, str(e))
        sent = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        answers.write(len(sent).to_bytes(_HEADER, "little"))
        answers.write(sent)
        answers.flush()
