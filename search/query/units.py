"""Which parts of a query a post must hold: exact short terms, the units of a run, required and optional terms.

- `term_units` cuts a folded term into the pieces a post must hold verbatim: a term of three characters or fewer,
  or one jieba cuts into single characters only (内卷 → 内/卷), is one piece; in a longer run, single characters
  that stand side by side in the query stay side by side (人脉背书 → 人脉 + 背书), a lone one stays with the word
  beside it (装饰器, 效应3), and words of two or more characters may stand apart (量子纠缠 → 量子 + 纠缠).
- `split_query` separates what the user insisted on (quoted text, `+word`, `field:word`, groups, exclusions, date
  ranges) from the plain words, which rank posts by how many of them they hold rather than all being required.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..text.segmentation import QUESTION_WORDS, WordToken
from . import syntax as querylang

# A term of at most this many characters matches only where it stands as typed.
EXACT_CHARS = 3


def main_tokens(tokens: Iterable[WordToken]) -> list[WordToken]:
    """The words of a text in order: the first token at each position (no search-mode sub-words or Latin parts)."""
    words: list[WordToken] = []
    for token in tokens:
        if not words or token.pos != words[-1].pos:
            words.append(token)
    return words


def term_units(folded: str, tokens: Sequence[WordToken]) -> list[str]:
    """The pieces of folded text a post must hold, each verbatim, to hold the term `folded` (its word tokens)."""
    words = main_tokens(tokens)
    if len(folded) <= EXACT_CHARS or all(len(w.text) == 1 for w in words):
        return [folded]
    # Spans (start, end) of the query text: runs of single characters side by side are one span.
    spans: list[list[int]] = []
    single: list[bool] = []
    for word in words:
        alone = len(word.text) == 1
        if alone and spans and single[-1] and spans[-1][1] == word.start:
            spans[-1][1] = word.end
        else:
            spans.append([word.start, word.end])
            single.append(alone)
    # A lone character: a particle goes; any other stays with the word next to it (the one after it first).
    keep: list[list[int]] = []
    for i, (start, end) in enumerate(spans):
        if not single[i] or end - start > 1:
            keep.append([start, end])
            continue
        if folded[start:end] in QUESTION_WORDS:
            continue
        if i + 1 < len(spans) and spans[i + 1][0] == end and not single[i + 1]:
            spans[i + 1][0] = start
        elif keep and keep[-1][1] == start:
            keep[-1][1] = end
        else:
            keep.append([start, end])
    units = [folded[start:end] for start, end in keep if folded[start:end] not in QUESTION_WORDS]
    return list(dict.fromkeys(units)) or [folded]


def split_query(node: querylang.Node) -> tuple[list[querylang.Node], list[querylang.Term]]:
    """(what every matching post must satisfy, the plain terms that rank posts by how many of them they hold).

    Plain terms are the unquoted, unprefixed words of the query's top level; everything else the user typed on
    purpose (`"…"`, `+word`, `title:word`, `(a OR b)`, `-word`, `date:…`) is required."""
    items = list(node.items) if isinstance(node, querylang.And) else [node]
    required: list[querylang.Node] = []
    plain: list[querylang.Term] = []
    for item in items:
        if isinstance(item, querylang.Term) and not (item.quoted or item.required or item.field):
            plain.append(item)
        else:
            required.append(item)
    return required, plain
