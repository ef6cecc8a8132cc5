"""Text analysis: normalisation and word tokens.

Parts:
- `normalize` folds text for matching (NFKC, lower case, traditional → simplified characters) and keeps a map from
  each normalised character back to the original offset, so snippets show the text as written.
- `word_tokens` cuts normalised text into jieba words with ordinal positions, plus jieba's search-mode sub-words
  (中华人民共和国 → 中华, 华人, 人民, 共和, 共和国) at their parent's position, Latin/digit tokens (python3.11 with
  its parts python and 3.11) and single characters of other scripts (kana, emoji, CJK extensions).
- `analyze` is what `zhsearch analyze` prints.

Verbatim matching (any text that stands in a post, whatever jieba does with it) is not done with tokens at all:
verbatim.py searches the normalised text itself.

The index and the query side call the same functions, so a query is cut the way the index was.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
import weakref
from collections import defaultdict
from typing import Iterable, Iterator, NamedTuple, Protocol

# Bump when any change here alters the tokens an index holds: an index built under another version must be rebuilt.
ANALYSIS_VERSION = 1

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# One alternation walks the text once: a run of Han characters (cut by jieba), a Latin/digit token, or any other
# single character (kept when it is a letter or symbol of another script, dropped when punctuation or space).
_TOKEN_RE = re.compile(
    rf"(?P<han>[{_HAN}]+)"
    r"|(?P<latin>[a-z0-9]+(?:[._\-'][a-z0-9]+)*(?:\+\+|#)?)"
    # Punctuation is skipped by the expression itself (ASCII, general punctuation, CJK symbols, full-width
    # forms): checking each mark's Unicode category in Python cost more than jieba on punctuation-heavy posts.
    r"|(?P<other>[^\s!-/:-@\[-`{-~\u2000-\u206f\u3000-\u303f\ufe30-\ufe4f\uff00-\uff65])"
)
# jieba's own Han range (its re_han_default, less the Latin it also accepts).
# (A build's pattern: compiled on first use by re's cache, not by every cold query at import.)
_JIEBA_HAN = "[\u4e00-\u9fd5]+"
_LATIN_PART_RE = re.compile(r"[a-z]+|[0-9]+(?:\.[0-9]+)*")
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u3099\u309a]")
_DROPPED_CATEGORIES = frozenset({"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs",
                                 "Co", "Cn", "Sm", "Sk", "Sc"})


# Question words and particles: in a question typed as a query they carry no topic, so they neither count
# towards matching a question nor score (什么, 怎么, 吗, 呢, 的 ...).
QUESTION_WORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 么 嘛 是 在 有 和 与 及 或 也 都 就 还 又 会 能 可以 要 需要 应该 该 对 把 被 给 从 到 向 "
    "为 为了 因为 所以 如果 但是 而 并 很 更 最 这 那 这个 那个 这些 那些 一个 个 些 之 其 "
    "什么 怎么 怎样 怎么样 如何 为什么 为何 哪 哪个 哪些 哪里 哪儿 谁 多少 几 多久 何时 是否 是不是 有没有 "
    "我 你 他 她 它 我们 你们 他们 她们 自己 时 时候".split())


# Words that make a run of words a question (哪一年成立, 为什么会, 可以退保吗), not a keyword run.
INTERROGATIVES = frozenset(
    "什么 怎么 怎样 怎么样 如何 为什么 为何 哪 哪个 哪些 哪里 哪儿 哪边 哪一 谁 多少 几 多久 何时 何 是否 是不是 有没有 "
    "吗 呢 么".split())


class Segmenter(Protocol):
    """What the analysis needs of jieba: a `jieba.Tokenizer`, fully loaded or loaded for one text (lexicon.py)."""

    FREQ: dict[str, int]

    def cut(self, sentence: str, cut_all: bool = False, HMM: bool = True) -> Iterable[str]: ...


# The table in use: computed from OpenCC on first use, or taken from the index being searched (adopt_fold_table).
_fold_table_in_use: dict[int, str] | None = None


def _fold_table() -> dict[int, str]:
    global _fold_table_in_use
    if _fold_table_in_use is None:
        _fold_table_in_use = _opencc_fold_table()
    return _fold_table_in_use


def _opencc_fold_table() -> dict[int, str]:
    """Traditional → simplified, character by character.

    Character-level on purpose: OpenCC's phrase tables convert a character differently by context (乾隆 keeps 乾,
    乾燥 becomes 干燥), so a substring searched alone could fold differently from the same characters inside a
    post and stop matching. One character in, one character out also keeps offsets unchanged.
    """
    import opencc

    chars = [chr(c) for lo, hi in ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00)) for c in range(lo, hi)]
    # Newlines keep OpenCC from matching phrases across characters: each one converts alone.
    folded = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    return {ord(a): b for a, b in zip(chars, folded) if a != b and len(b) == 1}


def fold_table_record() -> dict[str, str]:
    """The fold table as an index stores it: the characters changed and what each becomes, in two strings."""
    table = _fold_table()
    return {"from": "".join(map(chr, table)), "to": "".join(table.values())}


def adopt_fold_table(record: dict[str, str]) -> None:
    """Fold with the table an index was built with (fold_table_record), unless this process already folded.

    Building the table from OpenCC takes 25 ms of a cold query; reading it from the index, under 1 ms. It also keeps
    a query folded exactly as the posts were, whatever OpenCC version is installed now.
    """
    global _fold_table_in_use
    source, target = record.get("from"), record.get("to")
    if not isinstance(source, str) or not isinstance(target, str) or len(source) != len(target):
        raise ValueError("not a fold table")
    if _fold_table_in_use is None:
        _fold_table_in_use = dict(zip(map(ord, source), target))


@functools.lru_cache(maxsize=1)
def _traditional_re() -> re.Pattern[str]:
    # str.translate looks up every character (about 70 ns each); finding the first traditional one first is far
    # cheaper (5 ns) on the simplified text that most posts are. But compiling the class of 4,221 characters takes
    # 4-8 ms: worth it only to a process that folds a lot of text (a build), not to a query's snippets.
    return re.compile("[" + "".join(map(chr, _fold_table())) + "]")


# Characters a process folds with str.translate alone before it compiles _traditional_re (about its compile time).
_TRANSLATE_BUDGET = 100_000
_translated = 0


def _fold_chinese(text: str) -> str:
    global _translated
    if _translated < _TRANSLATE_BUDGET:
        _translated += len(text)
        return text.translate(_fold_table())
    return text.translate(_fold_table()) if _traditional_re().search(text) else text


class Normalized(NamedTuple):
    """Normalised text and, when lengths differ, the original offset of each normalised character."""

    text: str
    origin: tuple[int, ...] | None  # None: character i of text is character i of the original
    original_length: int

    def original_offset(self, index: int) -> int:
        """The offset in the original text of normalised offset `index` (an end offset may equal the length)."""
        if self.origin is None:
            return index
        if index >= len(self.origin):
            return self.original_length
        return self.origin[index]


def normalize(text: str) -> Normalized:
    """Fold `text` for matching: NFKC (全角 ２０２４ → 2024), lower case, traditional → simplified characters."""
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) == len(text) and not _COMBINING_RE.search(text):
        # The common case: NFKC changed characters one for one (full-width forms, compatibility ideographs).
        return Normalized(_fold_chinese(folded), None, len(text))
    # NFKC expanded or composed something (ligatures, ㍿, …, combining marks): rebuild character by character,
    # but only the lines where it happened (it never composes across a line break). A post's body with one "…"
    # took 9 ms to map whole, most of a warm query's time with snippets.
    pieces: list[str] = []
    origin: list[int] = []
    line_start = 0
    for line in text.splitlines(keepends=True):
        piece = unicodedata.normalize("NFKC", line).lower()
        if len(piece) == len(line) and not _COMBINING_RE.search(line):
            pieces.append(piece)
            origin.extend(range(line_start, line_start + len(line)))
        else:
            # Only the characters between runs that map one for one are normalised one by one.
            at = 0
            for run in re.finditer(_ONE_FOR_ONE, line):
                _normalize_chars(line, at, run.start(), line_start, pieces, origin)
                pieces.append(unicodedata.normalize("NFKC", run.group()).lower())
                origin.extend(range(line_start + run.start(), line_start + run.end()))
                at = run.end()
            _normalize_chars(line, at, len(line), line_start, pieces, origin)
        line_start += len(line)
    return Normalized(_fold_chinese("".join(pieces)), tuple(origin), len(text))


# Characters that NFKC and lower case map one for one, whatever stands beside them: ASCII, CJK unified
# ideographs, CJK punctuation (but not its combining tone marks 〪-〯), full-width ASCII, and the dashes and
# quotes of General Punctuation before the ellipsis ‥ … (which expand).
# Like the other rarely used patterns, compiled on first use by re's own cache: a class spanning thousands of
# characters takes 1-3 ms to compile, which every cold query would pay at import.
_ONE_FOR_ONE = ("[\x00-\x7f\u4e00-\u9fff\u3000-\u3029\u3030-\u303f\uff01-\uff5e"
                "\u2010-\u2016\u2018-\u2024]+")


def _normalize_chars(line: str, start: int, end: int, line_start: int, pieces: list[str], origin: list[int]) -> None:
    for offset in range(start, end):
        piece = unicodedata.normalize("NFKC", line[offset]).lower()
        pieces.append(piece)
        origin.extend([line_start + offset] * len(piece))


class LineOffsets:
    """Original offsets of `fold(text)` (given, as the index stores it), computed only for the lines asked about.

    A snippet maps a handful of offsets; normalising a whole post to map them was most of a warm query's time
    (about 1.4 ms a hit on blog posts). Folding never adds, removes or moves a line feed and never composes across
    one, so line k of the folded text is `normalize` of line k of the original, except where fold() composes
    characters that normalize keeps apart: `original_offset` raises ValueError for such a line.
    """

    def __init__(self, text: str, folded: str) -> None:
        self._text = text
        self._folded = folded
        self._identity = len(text) == len(folded) and not _COMBINING_RE.search(text)
        self._line_starts: list[int] | None = None
        self._lines: dict[int, Normalized] = {}
        if not self._identity and text.count("\n") != folded.count("\n"):
            raise ValueError("`folded` is not the folded form of `text`")

    def original_offset(self, index: int) -> int:
        """The offset in the original text of folded offset `index` (an end offset may equal the length)."""
        if self._identity:
            return index
        if index >= len(self._folded):
            return len(self._text)
        folded_line_start = self._folded.rfind("\n", 0, index) + 1
        number = self._folded.count("\n", 0, folded_line_start)
        if self._line_starts is None:
            # Each line's start: the running sum of the line lengths plus their line feeds, all in C.
            self._line_starts = list(itertools.accumulate(map((1).__add__, map(len, self._text.split("\n"))),
                                                          initial=0))
        start = self._line_starts[number]
        line = self._lines.get(number)
        if line is None:
            end = self._line_starts[number + 1] if number + 1 < len(self._line_starts) else len(self._text)
            line = normalize(self._text[start:end])
            folded_line_end = self._folded.find("\n", folded_line_start) + 1 or len(self._folded)
            if line.text != self._folded[folded_line_start:folded_line_end]:
                # fold() composes across characters (e + ◌́ → é, conjoining jamo) where normalize's map keeps
                # them apart: this line's offsets can't be mapped from the folded text.
                raise ValueError("`folded` is not the folded form of `text`")
            self._lines[number] = line
        return start + line.original_offset(index - folded_line_start)


def fold(text: str) -> str:
    """The normalised form of `text`, without the offset map (what the index stores and queries are matched in)."""
    return _fold_chinese(unicodedata.normalize("NFKC", text).lower())


class WordToken(NamedTuple):
    """A token of a word field: its text, ordinal position and offsets in the text that was analysed."""

    text: str
    pos: int
    start: int
    end: int


def _search_subwords(word: str, freq: dict[str, int]) -> Iterator[tuple[str, int]]:
    """jieba's search-mode grams of a long word (the same rule as `jieba.Tokenizer.cut_for_search`), by offset."""
    for size in (2, 3):
        if len(word) > size:
            for i in range(len(word) - size + 1):
                gram = word[i:i + size]
                if freq.get(gram):
                    yield gram, i


def word_tokens(text: str, segmenter: Segmenter, start_pos: int = 0) -> Iterator[WordToken]:
    """Word tokens of normalised `text`, with ordinal positions and offsets into `text`."""
    pos = start_pos
    freq = segmenter.FREQ
    for match in _TOKEN_RE.finditer(text):
        kind = match.lastgroup
        start = match.start()
        if kind == "han":
            offset = start
            for word in segmenter.cut(match.group(), HMM=True):
                yield WordToken(word, pos, offset, offset + len(word))
                for sub, at in _search_subwords(word, freq):
                    yield WordToken(sub, pos, offset + at, offset + at + len(sub))
                offset += len(word)
                pos += 1
        elif kind == "latin":
            token = match.group()
            yield WordToken(token, pos, start, match.end())
            seen = {token}
            for part in _LATIN_PART_RE.finditer(token):
                if part.group() not in seen:
                    seen.add(part.group())
                    yield WordToken(part.group(), pos, start + part.start(), start + part.end())
            pos += 1
        else:
            char = match.group()
            if unicodedata.category(char) not in _DROPPED_CATEGORIES:
                yield WordToken(char, pos, start, start + 1)
                pos += 1


def main_words(text: str, segmenter: Segmenter) -> list[str]:
    """The words of normalised `text` in order, without search-mode sub-words or Latin parts (for queries)."""
    words: list[str] = []
    last_pos = -1
    for token in word_tokens(text, segmenter):
        if token.pos != last_pos:
            words.append(token.text)
            last_pos = token.pos
    return words


class _RunCutter:
    """jieba's accurate cut with HMM (`Tokenizer._Tokenizer__cut_DAG`) of runs inside jieba's Han range, for a build,
    remembering the runs it cut.

    Runs repeat (short phrases, titles, tags, categories): each run's words are kept, up to `_RUNS_KEPT` runs of up to
    `_RUN_KEPT_CHARS` characters, each word with its search-mode sub-words (`_search_subwords`), so a repeated run
    costs a dict lookup (and `_WORDS_KEPT` words). The segmenter's dictionary must not change after its first cut
    (zhsearch never changes one).
    A cutter of our own (one backward pass for the DAG, a Viterbi on four floats) cut the blogs build from 9.4-9.9 to
    7.6-8.2 s wall (two alternating runs): left out, the segmentation staying jieba's own code.

    Each word is kept once, as one `(word, sub-words)` pair that every run holding it shares (and a run that is one
    word is keyed by that word's string): a run kept as its own tuple of new pairs and strings took about 500 bytes,
    19 MB for the 37,500 runs of a 5k-post build's 100 largest posts, and a build's process kept it all build long.
    """

    def __init__(self, segmenter: Segmenter) -> None:
        self._freq = segmenter.FREQ
        self._cut = segmenter._Tokenizer__cut_DAG  # type: ignore[attr-defined]
        self._runs: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}
        self._words: dict[str, tuple[str, tuple[str, ...]]] = {}  # word -> (word, its sub-words), shared

    def words(self, run: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Each word of `run` (a string of jieba's Han range) with its search-mode sub-words, in order."""
        words = self._runs.get(run)
        if words is None:
            known = self._words
            freq = self._freq
            found = []
            for word in self._cut(run):
                pair = known.get(word)
                if pair is None:
                    pair = (word, tuple(gram for gram, _ in _search_subwords(word, freq)) if len(word) > 2 else ())
                    if len(known) < _WORDS_KEPT:
                        known[word] = pair
                found.append(pair)
            words = tuple(found)
            if len(run) <= _RUN_KEPT_CHARS and len(self._runs) < _RUNS_KEPT:
                self._runs[words[0][0] if len(words) == 1 else run] = words
        return words


# Bounds of a _RunCutter's memory. Repeats are short runs: of the blogs corpus's 70,000 repeated runs, 67,000 have at
# most 6 characters (60,000 distinct runs), and keeping every run of up to 16 characters took 92 MB for 7% more hits.
# The bounds are about what a build's process reaches on a small corpus, so that its memory does not grow with the
# corpus: each process of a 1k-post build ends with 35,000-37,000 runs and 19,000 words (about 9 MB), and the cutter
# of 4,000 posts of the 20k corpus held 46,700 runs and 24,300 words (13.5 MB), growing with the posts it cuts, up to
# 100,000 of each before. Those 4,000 posts cut with 30,000 runs kept took 52.1 s against 49.7 (side by side).
_RUN_KEPT_CHARS = 6
_RUNS_KEPT = 30_000
_WORDS_KEPT = 25_000

_cutters: weakref.WeakKeyDictionary[Segmenter, _RunCutter] = weakref.WeakKeyDictionary()


def _run_cutter(segmenter: Segmenter) -> _RunCutter | None:
    """The segmenter's `_RunCutter` when it is a jieba Tokenizer (it has jieba's DAG cut), else None."""
    if not hasattr(segmenter, "_Tokenizer__cut_DAG"):
        return None
    cutter = _cutters.get(segmenter)
    if cutter is None:
        cutter = _cutters[segmenter] = _RunCutter(segmenter)
    return cutter


def word_postings(text: str, segmenter: Segmenter) -> dict[str, list[int]]:
    """Positions of each word of normalised `text`, as the index stores them: `postings_of(word_tokens(...))`.

    Written out without the token objects, which cost a build's analysis about a tenth of its time: 12.6 s →
    11.1 s for the 707 blogs posts in one process (jieba's own cut is most of the rest); calling jieba's DAG cut
    directly and inlining the posting appends: 12.0 / 13.6 → 10.8 / 11.1 s CPU (two alternating runs, loaded
    machine). Runs inside jieba's Han range are cut by `_RunCutter`. Tests check it equals
    `postings_of(word_tokens(...))`.
    """
    postings: dict[str, list[int]] = {}
    get = postings.get
    pos = 0
    cut = segmenter.cut
    # jieba's cut splits its input on a regex and hands each Han block to its DAG cut; a run wholly inside jieba's
    # own Han range is one such block, so it goes to the cutter, which cuts it the same way.
    cutter = _run_cutter(segmenter)
    whole_jieba_han = re.compile(_JIEBA_HAN).fullmatch
    freq = segmenter.FREQ
    for match in _TOKEN_RE.finditer(text):
        kind = match.lastgroup
        if kind == "han":
            run = match.group()
            if cutter is not None and whole_jieba_han(run):
                words: Iterable[tuple[str, Iterable[str]]] = cutter.words(run)
            else:  # (rare: Han outside jieba's range, or a segmenter that is not jieba's)
                words = ((word, [gram for gram, _ in _search_subwords(word, freq)]) for word in cut(run, HMM=True))
            for word, grams in words:
                # A main word is the first token at its position: nothing can be at `pos` yet.
                positions = get(word)
                if positions is None:
                    postings[word] = [pos]
                else:
                    positions.append(pos)
                for gram in grams:
                    positions = get(gram)
                    if positions is None:
                        postings[gram] = [pos]
                    elif positions[-1] != pos:
                        positions.append(pos)
                pos += 1
        elif kind == "latin":
            token = match.group()
            positions = get(token)
            if positions is None:
                postings[token] = [pos]
            else:
                positions.append(pos)
            for part in _LATIN_PART_RE.findall(token):
                positions = get(part)
                if positions is None:
                    postings[part] = [pos]
                elif positions[-1] != pos:
                    positions.append(pos)
            pos += 1
        elif unicodedata.category(match.group()) not in _DROPPED_CATEGORIES:
            char = match.group()
            positions = get(char)
            if positions is None:
                postings[char] = [pos]
            else:
                positions.append(pos)
            pos += 1
    return postings


def middle_line_break(text: str) -> int | None:
    """The offset of the line feed of `text` nearest its middle, or None: no token runs across a line feed, so the
    word postings of `text` are those of the text before it joined to those of the text after it (`joined_postings`).
    """
    middle = len(text) // 2
    before, after = text.rfind("\n", 0, middle), text.find("\n", middle)
    if before < 0 and after < 0:
        return None
    if before < 0 or (after >= 0 and after - middle < middle - before):
        return after
    return before


def joined_postings(head: dict[str, list[int]], tail: dict[str, list[int]]) -> dict[str, list[int]]:
    """The word postings of a text from those of its two parts (`head`, then `tail` with positions from 0), as
    `word_postings` makes them of the whole: the same keys in the same order, the same positions. `head` is reused."""
    shift = 1 + max((positions[-1] for positions in head.values()), default=-1)  # (each list ascends)
    for word, positions in tail.items():
        moved = [position + shift for position in positions]
        known = head.get(word)
        if known is None:
            head[word] = moved
        else:
            known.extend(moved)
    return head


def postings_of(tokens: Iterable[WordToken]) -> dict[str, list[int]]:
    """Positions of each token text."""
    postings: dict[str, list[int]] = defaultdict(list)
    for token in tokens:
        positions = postings[token.text]
        # A sub-word equal to its parent (or repeated in it) stands once at that position.
        if not positions or positions[-1] != token.pos:
            positions.append(token.pos)
    return postings


_HAN_WORD = f"[{_HAN}]+"
# Room between fields in the pinyin field's positions, so that a reading never runs from one field into the next.
PINYIN_FIELD_GAP = 10_000_000
_TONE_MARKS_RE = re.compile("[\u0300-\u036f]")
_PINYIN_QUERY_RE = re.compile(r"[a-z]+")


def pinyin_postings(text: str, base: int = 0) -> dict[str, list[int]]:
    """The toneless pinyin syllable of each Han character of normalised `text`, at `base` + its offset.

    Character by character (with pypinyin's phrase-aware readings), so a reading is found whatever jieba did with
    the word boundaries; ü is written v, as pypinyin does.
    """
    from pypinyin import Style, lazy_pinyin

    postings: dict[str, list[int]] = defaultdict(list)
    for run in re.finditer(_HAN_WORD, text):
        syllables = lazy_pinyin(run.group(), style=Style.NORMAL, errors="ignore")
        if len(syllables) != len(run.group()):
            continue  # a character without a reading shifts the alignment: skip the run rather than misplace it
        for i, syllable in enumerate(syllables):
            postings[syllable].append(base + run.start() + i)
    return postings


@functools.lru_cache(maxsize=1)
def pinyin_syllables() -> frozenset[str]:
    """Every toneless syllable pypinyin knows (about 420)."""
    from pypinyin.pinyin_dict import pinyin_dict

    syllables = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            syllables.add(_TONE_MARKS_RE.sub("", unicodedata.normalize("NFD", reading)).replace("ü", "v"))
    return frozenset(syllables)


def pinyin_splits(reading: str, syllables: frozenset[str], limit: int = 8) -> list[list[str]]:
    """Ways to read `reading` as a sequence of syllables (xian → [xian], [xi, an]), fewest syllables first."""
    splits: list[list[str]] = []

    def walk(at: int, sequence: list[str]) -> None:
        if len(splits) >= limit * 4:
            return
        if at == len(reading):
            splits.append(list(sequence))
            return
        for end in range(min(len(reading), at + 6), at, -1):
            if reading[at:end] in syllables:
                sequence.append(reading[at:end])
                walk(end, sequence)
                sequence.pop()

    if len(reading) <= 60:
        walk(0, [])
    return sorted(splits, key=len)[:limit]


def pinyin_query(text: str) -> str | None:
    """`text` as a pinyin reading (nèi tuì, nei tui, neitui → neitui), or None if it is not Latin letters only."""
    plain = _TONE_MARKS_RE.sub("", unicodedata.normalize("NFD", text.lower())).replace("ü", "v")
    plain = "".join(plain.split())
    return plain if _PINYIN_QUERY_RE.fullmatch(plain) else None


class AnalyzedToken(NamedTuple):
    """A token as `zhsearch analyze` shows it: offsets are in the text as given, before normalisation."""


    field: str
    text: str
    pos: int
    start: int
    end: int


def analyze(text: str, segmenter: Segmenter) -> list[AnalyzedToken]:
    """The word tokens the index would store for `text`, with offsets in `text` as given."""
    norm = normalize(text)
    return [AnalyzedToken("words", t.text, t.pos, norm.original_offset(t.start), norm.original_offset(t.end))
            for t in word_tokens(norm.text, segmenter)]
