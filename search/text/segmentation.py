"""Word tokens: normalised text cut into jieba words, as the index stores them and queries are cut.

Parts:
- `word_tokens` cuts normalised text into jieba words with ordinal positions, plus jieba's search-mode sub-words
  (中华人民共和国 → 中华, 华人, 人民, 共和, 共和国) at their parent's position, Latin/digit tokens (python3.11 with
  its parts python and 3.11) and single characters of other scripts (kana, emoji, CJK extensions);
- `main_words`: a query's words; `word_counts`: how often each of a post's words stands (a build's fast form of
  `word_tokens`, its runs of Han cut by `_RunCutter`; `prepare_cutter` makes one ahead);
- `QUESTION_WORDS` and `INTERROGATIVES`: words that carry no topic, words that make a question;
- `analyze`: what `zhsearch analyze` prints.

Verbatim matching (any text that stands in a post, whatever jieba does with it) is not done with tokens at all:
store/verbatim.py searches the folded text itself.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple, Protocol

from .folding import HAN, normalize

_LATIN_WORD = r"[a-z0-9]+(?:[._\-'][a-z0-9]+)*(?:\+\+|#)?"
# Punctuation is skipped by the expressions themselves (ASCII, general punctuation, CJK symbols, full-width forms):
# checking each mark's Unicode category in Python cost more than jieba on punctuation-heavy posts.
_PUNCTUATION = "!-/:-@\\[-`{-~\u2000-\u206f\u3000-\u303f\ufe30-\ufe4f\uff00-\uff65"
# One alternation walks the text once: a run of Han characters (cut by jieba), a Latin/digit token, or any other
# single character (kept when it is a letter or symbol of another script, dropped when punctuation or space).
_TOKEN_RE = re.compile(rf"(?P<han>[{HAN}]+)|(?P<latin>{_LATIN_WORD})|(?P<other>[^\s{_PUNCTUATION}])")
# The same three kinds of token found apart (word_counts): they never overlap, so each finds what the alternation
# does. (A build's patterns: compiled on first use by re's cache, not by every cold query at import.)
_HAN_RUN = f"[{HAN}]+"
_OTHER_CHAR = rf"[^\s{HAN}a-z0-9{_PUNCTUATION}]"
# jieba's own Han range (its re_han_default, less the Latin it also accepts).
_JIEBA_HAN = "[\u4e00-\u9fd5]+"
_LATIN_WORD_RE = re.compile(_LATIN_WORD)
_LATIN_PART_RE = re.compile(r"[a-z]+|[0-9]+(?:\.[0-9]+)*")
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
    "什么 怎么 怎样 怎么样 如何 为什么 为何 哪 哪个 哪些 哪里 哪儿 哪边 哪一 谁 多少 几 多久 何时 何 是否 是不是 "
    "有没有 吗 呢 么".split())


class Segmenter(Protocol):
    """What the analysis needs of jieba: a `jieba.Tokenizer`, fully loaded or loaded for one text (lexicon.py)."""

    FREQ: dict[str, int]

    def cut(self, sentence: str, cut_all: bool = False, HMM: bool = True) -> Iterable[str]: ...


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


def _with_subwords(word: str, freq: dict[str, int]) -> tuple[str, ...]:
    """`word` and its search-mode sub-words, each once: the tokens at one position (`word_counts`)."""
    return (word, *dict.fromkeys(gram for gram, _ in _search_subwords(word, freq)))


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


def is_latin_word(text: str) -> bool:
    """Whether folded `text` is one Latin/digit token as the analysis cuts it (python3.11, c++, node.js)."""
    return _LATIN_WORD_RE.fullmatch(text) is not None


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
    remembering the runs it cut. With jieba's default dictionary, rjieba finds the words (`_cut_with_rjieba`).

    Runs repeat (short phrases, titles, tags, categories): each run's tokens are kept, up to `_RUNS_KEPT` runs of up to
    `_RUN_KEPT_CHARS` characters, so a repeated run costs a dict lookup; so are each word's (`_WORDS_KEPT` words). The
    segmenter's dictionary must not change after its first cut (zhsearch never changes one).
    """

    def __init__(self, segmenter: Segmenter) -> None:
        self._freq = segmenter.FREQ
        self._cut = _cut_with_rjieba(segmenter) or segmenter._Tokenizer__cut_DAG  # type: ignore[attr-defined]
        self._runs: dict[str, tuple[str, ...]] = {}
        self._words: dict[str, tuple[str, ...]] = {}

    def tokens(self, run: str) -> tuple[str, ...]:
        """Each word of `run` (a string of jieba's Han range) in order, each followed by its search-mode sub-words,
        each of them once."""
        tokens = self._runs.get(run)
        if tokens is None:
            found: list[str] = []
            for word in self._cut(run):
                found.extend(self.with_subwords(word))
            tokens = tuple(found)
            if len(run) <= _RUN_KEPT_CHARS and len(self._runs) < _RUNS_KEPT:
                self._runs[run] = tokens
        return tokens

    def with_subwords(self, word: str) -> tuple[str, ...]:
        """`word` and its search-mode sub-words, each once."""
        tokens = self._words.get(word)
        if tokens is None:
            tokens = _with_subwords(word, self._freq)
            if len(self._words) < _WORDS_KEPT:
                self._words[word] = tokens
        return tokens


def _cut_with_rjieba(segmenter: Segmenter) -> Callable[[str], list[str]] | None:
    """`segmenter`'s `__cut_DAG` with rjieba (jieba-rs) finding the best route through the dictionary, when `segmenter`
    holds jieba's default dictionary alone (rjieba holds no other) and rjieba is installed; else None.

    Speed trick: jieba's route search, in Python, was most of a build's cutting (tests/test_rjieba_tokens.py checks the
    words are jieba's). Rows of one-character words still go to jieba's own HMM: rjieba's HMM table is rounded to 6
    decimals, which tips near ties (常在较: jieba 常/在/较, rjieba 常在/较)."""
    from .tokenizer import has_default_dictionary, import_jieba

    if not has_default_dictionary(segmenter):
        return None
    try:
        import rjieba
    except ImportError:
        return None
    route = rjieba.cut  # (rjieba's module-wide instance: made at import, zhsearch adds no word to it)
    hmm = import_jieba().finalseg.cut
    freq = segmenter.FREQ

    def cut(run: str) -> list[str]:
        words: list[str] = []
        singles = ""  # one-character words in a row: jieba's HMM cuts them, unless together they are a word
        for word in [*route(run, False), ""]:  # ("" ends the last row)
            if len(word) == 1:
                singles += word
                continue
            if len(singles) > 1 and not freq.get(singles):
                words.extend(hmm(singles))
            else:
                words.extend(singles)
            singles = ""
            if word:
                words.append(word)
        return words

    return cut


# Bounds of a _RunCutter's memory: repeats are short runs, and a build's process must not grow with the corpus.
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


def prepare_cutter(segmenter: Segmenter) -> None:
    """Make `segmenter`'s run cutter now: a build does before forking its processes, so that they share what it loads
    (rjieba's dictionary) instead of each loading its own."""
    _run_cutter(segmenter)


def word_counts(text: str, segmenter: Segmenter) -> Counter[str]:
    """How often each word token of normalised `text` stands, as the index stores it: the number of positions it
    has in `word_tokens(...)` (a sub-word twice in one word counts once).

    The build's hottest loop: each kind of token is found by its own expression, in C, and counted in C; Han runs
    are cut by `_RunCutter`. Tests check it against `word_tokens`.
    """
    tokens: list[str] = []
    # jieba's cut splits its input on a regex and hands each Han block to its DAG cut; a run wholly inside jieba's
    # own Han range is one such block, so it goes to the cutter, which cuts it the same way.
    cutter = _run_cutter(segmenter)
    whole_jieba_han = re.compile(_JIEBA_HAN).fullmatch
    for run in re.findall(_HAN_RUN, text):
        if cutter is not None and whole_jieba_han(run):
            tokens.extend(cutter.tokens(run))
        else:  # (rare: Han outside jieba's range, or a segmenter that is not jieba's)
            for word in segmenter.cut(run, HMM=True):
                tokens.extend(_with_subwords(word, segmenter.FREQ))
    for token in _LATIN_WORD_RE.findall(text):
        tokens.append(token)
        tokens.extend({part for part in _LATIN_PART_RE.findall(token) if part != token})
    dropped = _DROPPED_CATEGORIES
    tokens.extend(char for char in re.findall(_OTHER_CHAR, text) if unicodedata.category(char) not in dropped)
    return Counter(tokens)


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
