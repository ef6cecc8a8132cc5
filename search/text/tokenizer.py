"""Loading jieba: `import_jieba` (quickly, quietly) and `new_tokenizer` (a fully loaded Tokenizer for a build), and
`has_default_dictionary` (whether a Tokenizer holds jieba's default dictionary alone).

jieba's default dictionary is loaded from a copy in a faster form beside jieba's own cache (`initialize_default`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import sys
import types
import weakref
from array import array
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:
    import jieba

# Lone surrogates cannot occur in jieba's dictionary, but add_word() accepts any str; keep them round-trippable.
ENCODING_ERRORS = "surrogatepass"
LITTLE_ENDIAN = sys.byteorder == "little"

_jieba: types.ModuleType | None = None
# The Tokenizers `new_tokenizer` made without a user dictionary.
_default_only: weakref.WeakSet[object] = weakref.WeakSet()


def import_jieba() -> types.ModuleType:
    """Import jieba quickly, with its "Building prefix dict" chatter silenced.

    jieba 0.42 imports ``pkg_resources`` (all of setuptools) only to locate its data files, and falls back to
    plain paths when that import fails. So the import is blocked while jieba loads -- and only if nothing has
    imported ``pkg_resources`` yet -- then ``sys.modules`` is restored, so a later ``import pkg_resources``
    still works.
    """
    global _jieba
    if _jieba is not None:
        return _jieba
    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        import jieba as module
    else:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes the import raise ImportError
        try:
            import jieba as module
        finally:
            if sys.modules.get("pkg_resources", False) is None:
                del sys.modules["pkg_resources"]
    # jieba pins its loggers at DEBUG with a stderr handler; WARNING still lets "Dump cache file failed" through.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    logging.getLogger("jieba._compat").setLevel(logging.WARNING)
    _jieba = module
    return module


# jieba's HMM emission table (jieba.finalseg.prob_emit.P: for each state B, M, E, S, character → log probability;
# 35k characters) as an index keeps a copy of it: after the magic, a marshal dump of (the size and mtime of the
# module it was read from and this machine's byte order, every character of the table in code point order, for each
# state the array of its log probabilities by character, NaN where the state has none).


def new_tokenizer(user_dict: Path | None = None) -> jieba.Tokenizer:
    """Return a fully initialized jieba Tokenizer: the default dictionary, plus `user_dict` if given.

    For index-build time: initialization takes about a second (from jieba's cache file in the temp
    directory, which jieba writes on first use) and ~150 MB. `user_dict` is in jieba's format, one
    ``word [freq] [tag]`` per line, UTF-8. A word with frequency 0 is force-split by the HMM -- in jieba that
    is process-wide state (``jieba.finalseg.Force_Split_Words``), which `write_lexicon` records too.

    Raises `ConfigError` if `user_dict` cannot be read or parsed.
    """
    jieba = import_jieba()
    tokenizer = jieba.Tokenizer()
    if user_dict is None:
        _initialize_default(tokenizer)
        _default_only.add(tokenizer)
        return tokenizer
    try:
        # Open it first, to fail before the slow initialization; and given a path, jieba 0.42 leaves it open.
        f = open(user_dict, "rb")  # noqa: SIM115 - closed by the `with f` below
    except OSError as e:
        raise ConfigError(f"cannot read user dictionary {user_dict}: {e}") from e
    with f:
        _initialize_default(tokenizer)
        try:
            tokenizer.load_userdict(f)
        except (OSError, ValueError) as e:
            raise ConfigError(f"cannot load user dictionary {user_dict}: {e}") from e
    return tokenizer


def has_default_dictionary(tokenizer: object) -> bool:
    """Whether `tokenizer` was made by `new_tokenizer` without a user dictionary: it holds jieba's default
    dictionary alone (zhsearch never adds words to a Tokenizer)."""
    return tokenizer in _default_only


# A copy of jieba's default prefix dictionary in a form that loads fast, beside jieba's own cache (jieba.cache, a
# marshal dump) in the temp directory: it loads in a third of jieba's time, which a build pays before its workers
# start. It stands for the jieba.cache it was made from (size, mtime and inode), which is what
# jieba itself loads for its default dictionary, whatever dictionary file is installed.
_DEFAULT_COPY = "zhsearch-jieba-default.dict"
_DEFAULT_COPY_MAGIC = b"ZHSJDIC1"
# magic, jieba.cache's size, mtime_ns and inode, total, words, bytes of the words, SHA-1 of the body.
_DEFAULT_COPY_HEADER = struct.Struct("<8sQqQqQQ20s")


def _initialize_default(tokenizer: jieba.Tokenizer, directory: str | None = None) -> None:
    """`tokenizer.initialize()` for a Tokenizer of jieba's default dictionary, from the fast copy when it is current."""
    import tempfile  # (build-time modules are imported where used: a cold query pays every import)

    directory = directory or tempfile.gettempdir()
    if tokenizer.dictionary is not None or tokenizer.tmp_dir or tokenizer.cache_file:
        tokenizer.initialize()  # not jieba's default dictionary and cache: jieba's own way
        return
    if _load_default_copy(tokenizer, directory):
        return
    before = _jieba_cache_key(directory)
    tokenizer.initialize()
    if before is not None and before == _jieba_cache_key(directory):
        _save_default_copy(tokenizer, directory, before)


def _jieba_cache_key(directory: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(os.path.join(directory, "jieba.cache"))
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino


def _load_default_copy(tokenizer: jieba.Tokenizer, directory: str) -> bool:
    import hashlib

    key = _jieba_cache_key(directory)
    if key is None:
        return False
    try:
        with open(os.path.join(directory, _DEFAULT_COPY), "rb") as f:
            data = f.read()
    except OSError:
        return False
    header = _DEFAULT_COPY_HEADER
    if len(data) < header.size:
        return False
    magic, size, mtime_ns, inode, total, count, words_length, digest = header.unpack_from(data)
    body = memoryview(data)[header.size:]
    if (magic != _DEFAULT_COPY_MAGIC or (size, mtime_ns, inode) != key or len(body) != words_length + 8 * count
            or hashlib.sha1(body).digest() != digest):
        return False
    words = str(body[:words_length], "utf-8", ENCODING_ERRORS).split("\n") if count else []
    if len(words) != count:
        return False
    counts = array("q")
    counts.frombytes(body[words_length:])
    if not LITTLE_ENDIAN:
        counts.byteswap()
    tokenizer.FREQ = dict(zip(words, counts.tolist()))
    tokenizer.total = total
    tokenizer.initialized = True
    return True


def _save_default_copy(tokenizer: jieba.Tokenizer, directory: str, key: tuple[int, int, int]) -> None:
    """Best effort: a build works as well without it (a read-only temp directory, a word with a line feed)."""
    import hashlib
    import tempfile

    words = list(tokenizer.FREQ)
    blob = "\n".join(words).encode("utf-8", ENCODING_ERRORS)
    if blob.count(b"\n") != max(len(words) - 1, 0):
        return
    try:
        counts = array("q", tokenizer.FREQ.values())
    except (OverflowError, TypeError):
        return
    if not LITTLE_ENDIAN:
        counts.byteswap()
    body = blob + counts.tobytes()
    header = _DEFAULT_COPY_HEADER.pack(_DEFAULT_COPY_MAGIC, *key, tokenizer.total, len(words), len(blob),
                                       hashlib.sha1(body).digest())
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=_DEFAULT_COPY + ".", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(header)
            f.write(body)
        os.replace(tmp, os.path.join(directory, _DEFAULT_COPY))
    except (OSError, struct.error):
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
