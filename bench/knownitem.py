"""Known-item search: does the post a user remembers come up in the first ten, and how high?

Runs the queries of bench/knownitem.tsv (each written by reading its target post before any engine ran; the
file's header says how) against zhsearch, the naive engine with OR semantics (bench/naive.py: jieba's
ChineseAnalyzer + Whoosh, any of the words) and SQLite FTS5 with its trigram tokenizer (any of the query's
trigrams, bm25 order). Prints MRR@10 and success@10 per engine, over all queries and per style, and the queries
zhsearch misses. Targets for zhsearch: success@10 >= 0.98, MRR@10 >= 0.95, never below the naive engine.

    python bench/knownitem.py                    # ../shared/corpora/blogs, fresh indexes
    python bench/knownitem.py --reuse            # reuse the indexes in --workdir when present
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _util import Fts5Peer, build_engines, corpus_or_exit, quality_arguments, table
from naive import NaiveIndex

import search

QUERIES = HERE / "knownitem.tsv"
DEPTH = 10
STYLES = ("keywords", "phrase", "question", "half", "mixed")


def load_queries(path: Path) -> list[tuple[str, str, str]]:
    """(style, query, target path) rows of the TSV; lines starting with # and the header are skipped."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith(("#", "style\t")):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[0] not in STYLES:
            sys.exit(f"{path}:{number}: expected style<TAB>query<TAB>target with a style of {', '.join(STYLES)}")
        rows.append((parts[0], parts[1], parts[2]))
    return rows


def rank_of(target: str, paths: list[str]) -> int | None:
    """1-based place of ``target`` among the first DEPTH paths, None when absent."""
    return paths.index(target) + 1 if target in paths[:DEPTH] else None


def scores(ranks: list[int | None]) -> tuple[float, float]:
    """(MRR@DEPTH, success@DEPTH)."""
    if not ranks:
        return 0.0, 0.0
    return sum(1 / r for r in ranks if r) / len(ranks), sum(1 for r in ranks if r) / len(ranks)


def main() -> int:
    parser = quality_arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=Path, default=QUERIES, help="default: bench/knownitem.tsv")
    args = parser.parse_args()
    corpus = corpus_or_exit(args.corpus)
    rows = load_queries(args.queries)
    missing = [target for _, _, target in rows if not (corpus / target).is_file()]
    if missing:
        sys.exit(f"{len(missing)} target posts are not in {corpus}, e.g. {missing[0]}")

    engines = build_engines(corpus, args.workdir.resolve(), args.reuse)
    ix = search.open_index(engines.zhsearch)
    naive = NaiveIndex(engines.naive, any_word=True)
    peer = Fts5Peer(engines.fts5)

    def zhsearch(query: str) -> list[str]:
        try:
            return [hit.path for hit in ix.search(query, limit=DEPTH)]
        except search.SearchError as e:
            print(f"zhsearch: {query!r}: {e}", file=sys.stderr)
            return []

    def naive_or(query: str) -> list[str]:
        _, hits = naive.search(query, limit=DEPTH, snippets=False)
        return [Path(hit["path"]).relative_to(corpus).as_posix() for hit in hits]

    runs: dict[str, Callable[[str], list[str]]] = {
        "zhsearch": zhsearch, "naive (OR)": naive_or, "FTS5 trigram (OR)": lambda q: peer.any_trigram(q, DEPTH)}
    ranks = {name: [rank_of(target, run(query)) for _, query, target in rows] for name, run in runs.items()}

    print(f"known-item search on {corpus}: {len(rows)} queries from {args.queries.name}; "
          f"MRR@{DEPTH} / success@{DEPTH}")
    groups = [("all", list(range(len(rows))))]
    groups += [(style, [i for i, row in enumerate(rows) if row[0] == style]) for style in STYLES]
    lines = []
    for label, members in groups:
        line = [label, str(len(members))]
        for name in runs:
            mrr, success = scores([ranks[name][i] for i in members])
            line.append(f"{mrr:.3f} / {success:.3f}")
        lines.append(line)
    print(table(["queries", "n", *runs], lines))
    print(f"targets (zhsearch): success@{DEPTH} >= 0.98, MRR@{DEPTH} >= 0.95, never below naive (OR)")

    misses = [i for i, r in enumerate(ranks["zhsearch"]) if r is None]
    print(f"\nzhsearch misses ({len(misses)}): style, query, target, its place in zhsearch's first 100")
    for i in misses:
        style, query, target = rows[i]
        try:
            deeper = [hit.path for hit in ix.search(query, limit=100)]
        except search.SearchError:
            deeper = []
        place = str(deeper.index(target) + 1) if target in deeper else f"not found ({len(deeper)} hits)"
        print(f"  {style:<8} {query}  ->  {target}  [{place}]")
    low = [(rows[i], r) for i, r in enumerate(ranks["zhsearch"]) if r and r > 1]
    if low:
        print(f"zhsearch finds {len(low)} more below the first place: "
              + "; ".join(f"{row[1]} [{r}]" for row, r in low))
    ix.close()
    naive.close()
    peer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
