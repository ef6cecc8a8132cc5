"""What an index keeps of jieba's dictionary, so that a query is cut without loading all of it.

jieba's segmenter only ever looks up dictionary entries (``Tokenizer.FREQ``) for substrings of the sentence
it is cutting, plus the dictionary's ``total``. Loading the full prefix dictionary costs about a second and
~150 MB, far too much for a cold CLI query. So the index stores a *lexicon*: the build-time tokenizer's whole
FREQ table, ``total`` and jieba's force-split words, in one memory-mapped file. A query looks up just the
substrings of its text and hands jieba's own ``Tokenizer`` that small dict, so a query is segmented exactly as
the index was.

Parts:

- `write_lexicon` -- dumps a tokenizer's dictionary to a lexicon file, atomically.
- `Lexicon` -- reads a lexicon file and builds per-text tokenizers: `Lexicon.cut`, `Lexicon.cut_for_search`.
- `emissions_copy` / `offer_emissions` -- a copy of jieba's HMM emission table in the index, which jieba takes
  from there instead of importing its own.

File format (all integers little-endian), one header then six sections::

    header   64 bytes: magic, n_keys, freq_size (4 or 8), max_chars, n_force, total, keys_len, force_len,
             digest (first 16 bytes of SHA-256 over the header's other fields and the body)
    key_offsets    uint32[n_keys + 1]   into the keys blob; keys sorted by their UTF-8 bytes
    (zero padding to a multiple of 8)
    freqs          uint32 or int64[n_keys]
    keys           the keys' UTF-8 bytes, concatenated
    force_offsets  uint32[n_force + 1]  into the force blob
    force          the force-split words' UTF-8 bytes, concatenated
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import mmap
import os
import struct
import sys
import types
from array import array
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import IndexCorrupt
from .tokenizer import ENCODING_ERRORS, LITTLE_ENDIAN, import_jieba

if TYPE_CHECKING:
    import jieba

__all__ = ["Lexicon", "emissions_copy", "offer_emissions", "write_lexicon"]

_MAGIC = b"ZHSLEX\x00\x01"
_HEADER = struct.Struct("<8sIIIIqQQ16s")
_SEEN_LIMIT = 1 << 18

_EMISSIONS_MAGIC = b"ZHSEMIT2"
_EMISSIONS_NAME = "jieba.finalseg.prob_emit"
_STATES = "BMES"


def _emissions_source() -> list[Any]:
    """What a copy must have been made from: the installed module's size and mtime, and the byte order."""
    import importlib.util

    spec = importlib.util.find_spec("jieba")  # (not imported: the copy is offered before jieba loads)
    if spec is None or spec.origin is None:
        raise ValueError("jieba is not installed")
    source = Path(spec.origin).parent / "finalseg" / "prob_emit.py"
    stat = source.stat()
    return [stat.st_size, stat.st_mtime_ns, sys.byteorder]


def emissions_copy() -> bytes:
    """A copy of jieba's HMM emission table, as an index keeps it (see offer_emissions)."""
    import marshal

    import_jieba()
    from jieba.finalseg import emit_P

    chars = "".join(sorted(set().union(*(emit_P[state] for state in _STATES))))
    nan = float("nan")
    probabilities = [array("d", (emit_P[state].get(c, nan) for c in chars)).tobytes() for state in _STATES]
    return _EMISSIONS_MAGIC + marshal.dumps((_emissions_source(), chars, probabilities))


class _StateEmissions(Mapping[str, float]):
    """One HMM state's emissions, read-only, looked up in the index's sorted copy when jieba's HMM asks.

    Speed trick: importing jieba's table, or making dicts of the copy, cost a cold query 0.102 -> 0.121 s
    (`python bench/speed.py --corpora blogs`, docs/decisions.md)."""

    def __init__(self, chars: str, probabilities: array[float]) -> None:
        self._chars = chars
        self._probabilities = probabilities
        self._len: int | None = None

    def __getitem__(self, char: str) -> float:
        at = bisect.bisect_left(self._chars, char) if len(char) == 1 else len(self._chars)
        if at < len(self._chars) and self._chars[at] == char:
            probability = self._probabilities[at]
            if probability == probability:  # NaN: the state has no such entry
                return probability
        raise KeyError(char)

    def __iter__(self) -> Iterator[str]:
        return (c for c, p in zip(self._chars, self._probabilities) if p == p)

    def __len__(self) -> int:
        if self._len is None:
            self._len = sum(1 for _ in self)
        return self._len


def _read_emissions(path: Path) -> dict[str, Mapping[str, float]] | None:
    """The table copied to `path`, if it was copied from the module installed now; else None."""
    import marshal

    try:
        data = path.read_bytes()
        if not data.startswith(_EMISSIONS_MAGIC):
            return None
        source, chars, probabilities = marshal.loads(data[len(_EMISSIONS_MAGIC):])
        if source != _emissions_source() or not isinstance(chars, str) or len(probabilities) != len(_STATES):
            return None
        table: dict[str, Mapping[str, float]] = {}
        for state, raw in zip(_STATES, probabilities):
            column = array("d")
            column.frombytes(raw)
            if len(column) != len(chars):
                return None
            table[state] = _StateEmissions(chars, column)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return table


def offer_emissions(path: Path) -> None:
    """Let jieba's HMM take its emission table from `path` (`emissions_copy`, written at build time) instead of
    importing ``jieba.finalseg.prob_emit``, if this process has not loaded it yet and the copy was made from the
    jieba installed now."""
    if _EMISSIONS_NAME in sys.modules:
        return
    table = _read_emissions(path)
    if table is not None:
        module = types.ModuleType(_EMISSIONS_NAME, "jieba's HMM emission table, from an index's copy")
        module.P = table  # type: ignore[attr-defined]
        sys.modules[_EMISSIONS_NAME] = module


def write_lexicon(tokenizer: jieba.Tokenizer, path: Path) -> None:
    """Write `tokenizer`'s FREQ table, total and jieba's force-split words to `path`, atomically."""
    jieba = import_jieba()
    tokenizer.check_initialized()
    # Code point order is the order of the UTF-8 bytes (lone surrogates included), and sorting strings is much
    # cheaper than sorting (bytes, count) pairs.
    words = sorted(tokenizer.FREQ)
    try:
        freqs = _frequencies(tokenizer.FREQ, words)
    except OverflowError:
        raise ValueError("a word frequency does not fit in 64 bits") from None
    # jieba keeps force-split words process-wide; record those this dictionary knows (add_word(w, 0) always
    # enters w in FREQ), so that another tokenizer loaded in the same process does not leak into this lexicon.
    force = sorted(
        w.encode("utf-8", ENCODING_ERRORS) for w in jieba.finalseg.Force_Split_Words if w in tokenizer.FREQ
    )
    key_offsets, key_blob = _encoded_string_table(words)
    force_offsets, force_blob = _string_table(force)
    max_chars = max(map(len, words), default=0)

    head = _offsets_bytes(key_offsets)
    body = [
        head,
        bytes(-len(head) % 8),
        _native_to_le(freqs).tobytes(),
        key_blob,
        _offsets_bytes(force_offsets),
        force_blob,
    ]
    fields = (
        _MAGIC, len(words), freqs.itemsize, max_chars, len(force), tokenizer.total, len(key_blob), len(force_blob)
    )
    import hashlib  # here, not at the top: only a build writes a lexicon, and a cold query pays every import
    import tempfile

    digest = hashlib.sha256(_HEADER.pack(*fields, bytes(16)))
    for part in body:
        digest.update(part)
    header = _HEADER.pack(*fields, digest.digest()[:16])

    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(header)
            for part in body:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _string_table(strings: list[bytes]) -> tuple[array, bytes]:
    # OverflowError past 4 GiB, far beyond any dictionary
    offsets = array("I", itertools.accumulate(map(len, strings), initial=0))
    return offsets, b"".join(strings)


# Words encoded at a time by _encoded_string_table.
_ENCODE_CHUNK = 1 << 16


def _encoded_string_table(words: list[str]) -> tuple[array, bytes]:
    """`_string_table` of the words' UTF-8 bytes, encoded a chunk at a time.

    The bytes of all 500,000 words of jieba's dictionary at once were the peak of a build's first process's memory.
    """
    offsets = array("I", [0])
    pieces = []
    for start in range(0, len(words), _ENCODE_CHUNK):
        keys = [word.encode("utf-8", ENCODING_ERRORS) for word in words[start:start + _ENCODE_CHUNK]]
        ends = itertools.accumulate(map(len, keys), initial=offsets[-1])
        next(ends)
        offsets.extend(ends)  # OverflowError past 4 GiB, far beyond any dictionary
        pieces.append(b"".join(keys))
    return offsets, b"".join(pieces)


def _frequencies(freq: dict[str, int], words: list[str]) -> array:
    """The words' counts as unsigned 32-bit numbers, or as signed 64-bit ones when some count does not fit (then
    OverflowError if one does not fit either)."""
    try:
        return array("I", map(freq.__getitem__, words))
    except OverflowError:
        return array("q", map(freq.__getitem__, words))


def _offsets_bytes(offsets: array) -> bytes:
    return _native_to_le(offsets).tobytes()


def _native_to_le(a: array) -> array:
    if LITTLE_ENDIAN:
        return a
    swapped = array(a.typecode, a)
    swapped.byteswap()
    return swapped


class Lexicon:
    """A lexicon file written by `write_lexicon`, memory-mapped; looks up only what a text needs.

    >>> lexicon = Lexicon(index_dir / "lexicon.bin")  # doctest: +SKIP
    >>> lexicon.cut("定期人寿保险")                      # doctest: +SKIP
    ['定期', '人寿保险']
    """

    fingerprint: str
    """First 16 hex digits of the SHA-256 of the file's content: same dictionary, same fingerprint."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        recover = "; rebuild the index with `zhsearch index --rebuild`"
        try:
            with open(self.path, "rb") as f:
                self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as e:
            raise IndexCorrupt(f"cannot read lexicon {self.path}: {e}{recover}") from e
        try:
            self._parse()
        except IndexCorrupt as e:
            self._mm.close()
            raise IndexCorrupt(f"{e}{recover}") from None
        self._force_words: list[str] | None = None
        # Lookups already made (key index, or -1 for a miss): repeated queries in one process get cheaper.
        self._seen: dict[str, int] = {}

    def _parse(self) -> None:
        mm = self._mm
        if len(mm) < _HEADER.size:
            raise IndexCorrupt(f"lexicon {self.path} is truncated")
        magic, n, freq_size, max_chars, n_force, total, keys_len, force_len, digest = _HEADER.unpack_from(mm)
        if magic != _MAGIC or freq_size not in (4, 8):
            raise IndexCorrupt(f"{self.path} is not a zhsearch lexicon (or was written by another version)")
        pos = _HEADER.size
        off_len = 4 * (n + 1)
        freq_pos = pos + off_len + (-off_len % 8)
        keys_pos = freq_pos + freq_size * n
        force_off_pos = keys_pos + keys_len
        force_pos = force_off_pos + 4 * (n_force + 1)
        if len(mm) != force_pos + force_len:
            raise IndexCorrupt(f"lexicon {self.path} is truncated or damaged")
        view = memoryview(mm)
        self._offsets = _le_view(view[pos : pos + off_len], "I")
        self._freqs = _le_view(view[freq_pos:keys_pos], "I" if freq_size == 4 else "q")
        self._force_offsets = _le_view(view[force_off_pos:force_pos], "I")
        self._keys_pos = keys_pos
        self._force_pos = force_pos
        self._n = n
        self._n_force = n_force
        self.max_chars = max_chars
        self.total = total
        self.fingerprint = digest.hex()[:16]
        # A damaged offset table would make lookups return garbage; the ends are cheap to check.
        if self._offsets[0] != 0 or self._offsets[n] != keys_len or self._force_offsets[n_force] != force_len:
            raise IndexCorrupt(f"lexicon {self.path} is damaged")

    def __len__(self) -> int:
        return self._n

    def close(self) -> None:
        """Release the memory map (tokenizers already made keep working)."""
        for name in ("_offsets", "_freqs", "_force_offsets"):
            view = getattr(self, name, None)
            if isinstance(view, memoryview):
                view.release()
        self._mm.close()

    def __enter__(self) -> Lexicon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _find(self, key: bytes, lo: int = 0) -> int:
        """Index of `key` in the sorted keys at or after `lo`, or -1 (a hand-written bisect: no object per probe).

        From a given `lo` (the index of a prefix of `key`: `entries_for`) the search first gallops forward, as the
        key is usually a few entries on, rather than bisecting the 500,000 keys each time."""
        mm, offs, base = self._mm, self._offsets, self._keys_pos
        hi = self._n
        if lo:
            step, probe = 1, lo
            while probe < hi and mm[base + offs[probe] : base + offs[probe + 1]] < key:
                lo = probe + 1
                probe = lo + step
                step <<= 1
            hi = min(probe, hi)
        while lo < hi:
            mid = (lo + hi) >> 1
            if mm[base + offs[mid] : base + offs[mid + 1]] < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < self._n and mm[base + offs[lo] : base + offs[lo + 1]] == key:
            return lo
        return -1

    def entries_for(self, text: str) -> dict[str, int]:
        """The FREQ entries jieba can look up while cutting `text` or any part of it.

        jieba cuts only the runs of ``jieba.re_han_default`` (Han, Latin letters, digits, ``+#&._%-``) and
        looks up only substrings of those runs. Its FREQ is prefix-closed (every prefix of a word is an
        entry, with frequency 0 if it is not a word itself), so the substrings starting at one position need
        looking up only until the first miss.
        """
        jieba = import_jieba()
        found: dict[str, int] = {}
        seen, freqs, max_chars = self._seen, self._freqs, self.max_chars
        if len(seen) > _SEEN_LIMIT:
            seen.clear()
        # Each distinct run once: a long post repeats many (its largest, of 108,000 characters, has 11,800 runs of
        # which 6,600 distinct), and walking a run's substrings costs even when their lookups are remembered.
        for block in set(jieba.re_han_default.findall(text)):
            n = len(block)
            for start in range(n):
                lo = 0
                for end in range(start + 1, min(n, start + max_chars) + 1):
                    frag = block[start:end]
                    i = seen.get(frag)
                    if i is None:
                        i = seen[frag] = self._find(frag.encode("utf-8", ENCODING_ERRORS), lo)
                    if i < 0:
                        break
                    found[frag] = freqs[i]
                    lo = i + 1  # a longer key with this prefix sorts after it
        return found

    def _force_split_words(self) -> list[str]:
        if self._force_words is None:
            mm, offs, base = self._mm, self._force_offsets, self._force_pos
            self._force_words = [
                mm[base + offs[i] : base + offs[i + 1]].decode("utf-8", ENCODING_ERRORS)
                for i in range(self._n_force)
            ]
        return self._force_words

    def tokenizer_for(self, text: str) -> jieba.Tokenizer:
        """A jieba Tokenizer holding just the entries `text` needs; it cuts `text` (or any part of it) exactly
        as the full build-time tokenizer would.

        Side effect: force-split words that occur in `text` are added to jieba's process-wide
        ``finalseg.Force_Split_Words``, as loading the build-time user dictionary would have done.
        """
        jieba = import_jieba()
        tokenizer = jieba.Tokenizer()
        tokenizer.FREQ = self.entries_for(text)
        tokenizer.total = self.total
        tokenizer.initialized = True
        if self._n_force:
            for word in self._force_split_words():
                if word in text:
                    jieba.finalseg.add_force_split(word)
        return tokenizer

    def cut(self, text: str, hmm: bool = True) -> list[str]:
        """Segment `text` exactly as ``new_tokenizer().lcut(text, HMM=hmm)`` would."""
        return self.tokenizer_for(text).lcut(text, HMM=hmm)

    def cut_for_search(self, text: str, hmm: bool = True) -> list[str]:
        """Segment `text` exactly as ``new_tokenizer().lcut_for_search(text, HMM=hmm)`` would."""
        return self.tokenizer_for(text).lcut_for_search(text, HMM=hmm)


def _le_view(view: memoryview, code: Literal["I", "q"]) -> memoryview | array[int]:
    if LITTLE_ENDIAN:
        return view.cast(code)
    # Big-endian hosts: copy and swap once; lookups then run unchanged.
    copy = array(code, view.tobytes())
    copy.byteswap()
    return copy
