"""Short terms: do the posts a 2-3 character search returns hold the text, and do their snippets show it?

Samples (seeded) substrings of 2-3 Han characters from the text of real posts — inside runs of Han characters,
so never across punctuation, Latin text or a line break, and neither beginning nor ending with a function
character such as 的 or 是 — searches each one unquoted, and reports per engine:

  precision  of all the posts returned, the share whose text holds the substring (both folded: NFKC, lower
             case, traditional -> simplified; a post's text is its title, authors, categories, tags and body as
             the engine reads them, and its file as written, lines joined where a break splits Han text)
  snippets   of the top-10 hits that hold it, the share that show it highlighted whole: a highlighted span of
             the snippet (or, for zhsearch, of the title) whose folded text equals the folded substring
  recall     of the posts holding it (drafts left out: zhsearch skips them), the share returned (for
             context; no target)

zhsearch is measured beside SQLite FTS5 with its trigram tokenizer (bm25 order, FTS5's snippet()); a trigram
index cannot match 2 characters, so for those FTS5 users write a LIKE scan and cut the snippet themselves.
Targets for zhsearch: precision >= 0.99, snippets >= 0.99.

    python bench/precision.py                    # ../shared/corpora/blogs, 300 substrings, fresh indexes
    python bench/precision.py --reuse            # reuse the indexes in --workdir when present
    python bench/precision.py --examples 10      # also print failing queries
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _util import (
    Fts5Peer,
    build_engines,
    corpus_or_exit,
    fold,
    post_files,
    quality_arguments,
    table,
)

import search

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(f"[{HAN}]{{2,}}")
# A Markdown soft line break inside Chinese text is no break to a reader: the file's text is also read joined.
_HAN_LINE_BREAK = re.compile(f"(?<=[{HAN}])[ \\t]*\\r?\\n[ \\t]*(?=[{HAN}])")
TOP = 10
# Nobody searches 的修改 or 是一: a sample may not begin or end with one of the commonest function characters.
FUNCTION_CHARS = frozenset("的了是在和与及或也都就而被把将这那个之其我你他她它们吗呢吧啊着过得地")


def read_posts(corpus: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(text of each post to sample from, folded searchable text of each post), keyed by relative path."""
    texts: dict[str, str] = {}
    searchable: dict[str, str] = {}
    for file in post_files(corpus):
        raw = file.read_text(encoding="utf-8", errors="replace")
        fields = ""
        try:
            post = search.read_post(file, corpus)
        except search.SearchError:
            post = None
        if post is not None:
            fields = "\n".join([post.title, *post.authors, *post.categories, *post.tags, post.text])
            if not post.draft:
                texts[post.path] = post.text
        # Every file, drafts too: a peer that indexes them returns them rightly.
        joined = _HAN_LINE_BREAK.sub("", raw)
        searchable[file.relative_to(corpus).as_posix()] = fold(f"{fields}\n{raw}\n{joined}")
    return texts, searchable


def sample_substrings(texts: dict[str, str], count: int, seed: int) -> list[str]:
    """``count`` distinct substrings of 2 or 3 Han characters: a post at random, then a place in it at random."""
    rng = random.Random(seed)
    runs = {path: [m.group() for m in _HAN_RUN.finditer(text)] for path, text in sorted(texts.items())}
    paths = [path for path, found in runs.items() if found]
    samples: dict[str, str] = {}
    for _ in range(count * 50):
        if len(samples) == count or not paths:
            break
        size = rng.choice((2, 3))
        starts = [(run, i) for run in runs[rng.choice(paths)] for i in range(len(run) - size + 1)]
        if starts:
            run, i = rng.choice(starts)
            text = run[i:i + size]
            if text[0] not in FUNCTION_CHARS and text[-1] not in FUNCTION_CHARS:
                samples.setdefault(fold(text), text)
    return list(samples.values())


@dataclass
class Tally:
    """One engine's counts over all queries."""

    returned: int = 0
    holding: int = 0
    expected: int = 0
    found_expected: int = 0
    top_holding: int = 0
    shown_whole: int = 0
    stray: list[tuple[str, str]] = field(default_factory=list)      # (query, path of a post without it)
    cut: list[tuple[str, str, str]] = field(default_factory=list)   # (query, path, snippet not showing it whole)

    def add(self, query: str, hits: list[tuple[str, str, list[tuple[int, int]]]], searchable: dict[str, str],
            published: Collection[str]) -> None:
        needle = fold(query)
        expected = {path for path, text in searchable.items() if needle in text}
        returned = [path for path, _, _ in hits]
        self.returned += len(returned)
        wanted = expected.intersection(published)
        self.expected += len(wanted)
        self.found_expected += len(wanted.intersection(returned))
        for path in returned:
            if path in expected:
                self.holding += 1
            else:
                self.stray.append((query, path))
        for path, snippet, spans in hits[:TOP]:
            if path not in expected:
                continue
            self.top_holding += 1
            if any(fold(snippet[a:b]) == needle for a, b in spans):
                self.shown_whole += 1
            else:
                self.cut.append((query, path, snippet))


def share(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "—"


def zhsearch_hits(ix: search.Index, query: str) -> list[tuple[str, str, list[tuple[int, int]]]]:
    try:
        results = ix.search(query, limit=None)
    except search.SearchError as e:
        print(f"zhsearch: {query!r}: {e}", file=sys.stderr)
        return []
    # What a hit shows: its title and its snippet, each with its marked spans.
    shown = []
    for hit in results:
        shift = len(hit.title) + 1
        spans = list(hit.title_highlights) + [(a + shift, b + shift) for a, b in hit.highlights]
        shown.append((hit.path, f"{hit.title}\n{hit.snippet}", spans))
    return shown


def main() -> int:
    parser = quality_arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=300, help="substrings to search (default 300)")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--examples", type=int, default=0, help="print up to N failing cases per engine and kind")
    args = parser.parse_args()
    corpus = corpus_or_exit(args.corpus)

    texts, searchable = read_posts(corpus)
    queries = sample_substrings(texts, args.samples, args.seed)
    engines = build_engines(corpus, args.workdir.resolve(), args.reuse, naive_too=False)
    tallies = {"zhsearch": Tally(), "FTS5 trigram": Tally()}
    with search.open_index(engines.zhsearch) as ix:
        for query in queries:
            tallies["zhsearch"].add(query, zhsearch_hits(ix, query), searchable, texts)
    peer = Fts5Peer(engines.fts5)
    for query in queries:
        tallies["FTS5 trigram"].add(query, peer.substring(query), searchable, texts)
    peer.close()

    two = sum(1 for q in queries if len(q) == 2)
    print(f"short-term precision on {corpus} ({len(searchable)} posts; {len(queries)} substrings, "
          f"{two} of 2 and {len(queries) - two} of 3 Han characters, seed {args.seed}, unquoted)")
    rows = [[name, str(t.returned), share(t.holding, t.returned), str(t.top_holding),
             share(t.shown_whole, t.top_holding), share(t.found_expected, t.expected)]
            for name, t in tallies.items()]
    print(table(["engine", "posts returned", "precision", f"top-{TOP} holding", "snippets whole", "recall"], rows))
    print("targets (zhsearch): precision >= 0.99, snippets whole >= 0.99; FTS5: 2-character queries by LIKE scan")
    if args.examples:
        for name, t in tallies.items():
            for query, path in t.stray[:args.examples]:
                print(f"{name}: {query}: returned without it: {path}")
            for query, path, snippet in t.cut[:args.examples]:
                print(f"{name}: {query}: snippet without it whole: {path}: {snippet[:80]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
