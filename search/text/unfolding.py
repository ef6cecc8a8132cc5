"""A post's text as written, kept as the changes folding made to it.

The text store holds every post's folded text (what matching reads); the index keeps the text as written only
for showing it. Folding changes few characters of most posts (capitals, full-width forms, traditional characters)
and keeps their number, so the index keeps just the runs of characters that differ, by their offset (and a line
whose length folding changed whole), and `unfold_lines` puts them back into the folded text. A post whose folding
changed much of it is kept whole instead (`changes_made` returns None).

The runs are kept packed (`Changes`): a Chinese post's every full-width comma is a run, and a list of thousands of
tuples took longer to unpickle for a hit than the rest of its snippet.
"""

from __future__ import annotations

import bisect
import itertools
import sys
from array import array

Runs = list[tuple[int, int, str]]  # (offset in the folded text, length there, the text as written there)
# Runs packed: (offset, length, length as written) of each run as uint32 little-endian, and their texts joined.
Changes = tuple[bytes, str]
UNCHANGED: Changes = (b"", "")

# Above this share of changed characters (a post in traditional characters), the text is kept whole.
MOST = 0.5


def changes_made(original: str, folded: str) -> Changes | None:
    """What `unfold_lines` needs to rebuild `original` from `folded` (see `runs_changed`), packed."""
    runs = runs_changed(original, folded)
    if runs is None:
        return None
    places = array("I", [number for start, length, text in runs for number in (start, length, len(text))])
    return _little_endian(places).tobytes(), "".join(text for _, _, text in runs)


def _places(changes: Changes) -> array[int]:
    places = array("I")
    places.frombytes(changes[0])
    return _little_endian(places)


def _little_endian(places: array[int]) -> array[int]:
    """`places` swapped between little-endian and this machine's order (in place; a no-op on little-endian)."""
    if sys.byteorder == "big":
        places.byteswap()
    return places


def runs_changed(original: str, folded: str) -> Runs | None:
    """The changes `changes_made` packs: the runs of characters that differ, and whole lines where folding changed a
    line's length (ligatures, ……); None when that is more than MOST of it."""
    changes = _runs_changed(original, folded, 0) if len(original) == len(folded) else None
    # Lines whose lengths changed can add up to the same length (é composed on one line, ﬁ split on another): then
    # the line feeds stand apart, and a run holding one would span lines.
    if changes is None or any("\n" in text for _, _, text in changes):
        # Folding never adds, moves or removes a line feed: line by line, the lines of the same length by runs.
        lines, folded_lines = original.split("\n"), folded.split("\n")
        if len(lines) != len(folded_lines):
            return None
        changes = []
        at = 0
        for line, folded_line in zip(lines, folded_lines):
            if len(line) == len(folded_line):
                changes.extend(_runs_changed(line, folded_line, at))
            else:
                changes.append((at, len(folded_line), line))
            at += len(folded_line) + 1
    if sum(len(text) for _, _, text in changes) > MOST * len(original):
        return None
    return changes


def _runs_changed(original: str, folded: str, offset: int) -> Runs:
    """The runs of `original` that differ from `folded` (as long), at their offset plus `offset`."""
    if original == folded:
        return []
    # Character by character in C: the code points of both, XORed as two big integers, read back as an array of
    # code points (nonzero where they differ).
    difference = int.from_bytes(original.encode("utf-32-le", "surrogatepass"), "little") ^ int.from_bytes(
        folded.encode("utf-32-le", "surrogatepass"), "little")
    differs = array("I", difference.to_bytes(4 * len(original), "little"))
    changed = itertools.compress(range(len(original)), differs)
    runs: Runs = []
    start = previous = next(changed)
    for at in changed:
        if at != previous + 1:
            runs.append((offset + start, previous + 1 - start, original[start:previous + 1]))
            start = at
        previous = at
    runs.append((offset + start, previous + 1 - start, original[start:previous + 1]))
    return runs


def unfold_lines(folded: str, changes: Changes, start: int, end: int) -> str:
    """The text as written of the lines `folded[start:end]` (`start` a line's start, `end` a line's end): only the
    changes within them are put back (a change never spans a line feed)."""
    places, texts = _places(changes), changes[1]
    starts = places[0::3]
    first, last = bisect.bisect_left(starts, start), bisect.bisect_right(starts, end)
    at_text = sum(places[2:3 * first:3])
    pieces = []
    at = start
    for i in range(3 * first, 3 * last, 3):
        run_start, length, size = places[i:i + 3]
        pieces.append(folded[at:run_start])
        pieces.append(texts[at_text:at_text + size])
        at_text += size
        at = run_start + length
    pieces.append(folded[at:end])
    return "".join(pieces)


def lines_of(text: str, folded: str, start: int, end: int) -> str:
    """The lines of `text` that are the folded lines `folded[start:end]` (folding keeps every line feed)."""
    first = folded.count("\n", 0, start)
    return "\n".join(text.split("\n")[first:first + folded.count("\n", start, end) + 1])
