"""Verbatim recall: does a search for text that stands in a post find that post?

Samples Chinese substrings (2–8 Han characters, seeded) of the paragraph text of the posts of a corpus, and for
each one searches it unquoted and quoted, in zhsearch and in the naive engine (bench/naive.py: jieba's
ChineseAnalyzer + Whoosh defaults). The expected posts are those whose text contains the substring, like
`grep -F` would say. Prints, per engine and mode, the recall over all (query, expected post) pairs and the share
of queries that found every expected post.

    python bench/verbatim_recall.py                       # ../shared/corpora/blogs, 200 substrings
    python bench/verbatim_recall.py --corpus corpus --samples 500
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import naive  # noqa: E402

import search  # noqa: E402
from search.posts.corpus import find_posts  # noqa: E402
from search.posts.post import read_post  # noqa: E402
from search.text import folding  # noqa: E402

_HAN_RUN = re.compile("[\u4e00-\u9fff]{2,}")


def sample_substrings(texts: dict[str, str], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    runs = [m.group() for path in sorted(texts) for m in _HAN_RUN.finditer(texts[path])]
    samples: list[str] = []
    while len(samples) < count and runs:
        run = rng.choice(runs)
        size = rng.randint(2, min(8, len(run)))
        start = rng.randint(0, len(run) - size)
        samples.append(run[start:start + size])
    return samples


def score(found: dict[str, set[str]], expected: dict[str, set[str]]) -> tuple[float, float]:
    pairs = sum(len(e) for e in expected.values())
    hit_pairs = sum(len(expected[q] & found[q]) for q in expected)
    complete = sum(1 for q in expected if expected[q] <= found[q])
    return hit_pairs / max(pairs, 1), complete / max(len(expected), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = HERE.parent.parent / "shared" / "corpora" / "blogs"
    parser.add_argument("--corpus", type=Path, default=default)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--no-naive", action="store_true")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}; skipping", file=sys.stderr)
        return 0
    root = args.corpus.resolve()
    files, _ = find_posts(root)
    read = {}
    for file in files:
        try:
            post = read_post(file, root)
        except search.PostError:
            continue
        if not post.draft:
            read[post.path] = post
    texts = {path: post.text for path, post in read.items()}
    queries = sample_substrings(texts, args.samples, args.seed)
    searchable = {path: folding.fold("\n".join([p.title, *p.authors, *p.categories, *p.tags, p.text]))
                  for path, p in read.items()}
    expected = {q: {path for path, text in searchable.items() if folding.fold(q) in text} for q in queries}

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        search.build_index(root, Path(tmp) / "zh")
        with search.open_index(Path(tmp) / "zh") as ix:
            for mode, wrap in (("unquoted", "{}"), ("quoted", '"{}"')):
                found = {q: {h.path for h in ix.search(wrap.format(q), limit=None)} for q in queries}
                rows.append(("zhsearch", mode, *score(found, expected)))
        if not args.no_naive:
            naive.build(root, Path(tmp) / "naive")
            engine = naive.NaiveIndex(Path(tmp) / "naive")
            for mode, wrap in (("unquoted", "{}"), ("quoted", '"{}"')):
                found = {}
                for q in queries:
                    _, hits = engine.search(wrap.format(q), limit=None, snippets=False)
                    found[q] = {Path(h["path"]).resolve().relative_to(root).as_posix() for h in hits}
                rows.append(("naive", mode, *score(found, expected)))
            engine.close()
    print(f"verbatim recall on {root} ({len(read)} posts, {len(queries)} substrings of 2-8 Han characters, "
          f"seed {args.seed}); target 1.000")
    print(f"{'engine':<10} {'mode':<9} {'pair recall':>11} {'queries complete':>17}")
    for engine_name, mode, pair_recall, complete in rows:
        print(f"{engine_name:<10} {mode:<9} {pair_recall:>11.3f} {complete:>17.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
