"""Try query-time ranking settings on the relevance collections without rebuilding anything.

relevance.py rebuilds zhsearch's indexes whenever the package's sources change, and runs every query; to
compare settings that only act at query time (the constants at the top of search/query/matching.py and ranking.py), this script
builds each collection's zhsearch index once (cached under bench/data/<docs>/tune-index/, rebuilt with
--rebuild), then for each setting patches the constants, runs a fixed-seed sample of the queries through
`Index.search` and prints nDCG@10. The figures in docs/decisions.md came from it.

    python bench/tune_ranking.py --collections drcd,cmrc2018 --max-queries 600 \\
        --try '{}' --try '{"COVERAGE_POWER": 2.0}' --try '{"FIELD_BOOSTS": {"title": 1.0}}'

A setting is a JSON object of constant names and values; FIELD_BOOSTS is merged into the defaults. Only the
first script combination of DRCD runs (traditional documents and queries): folding makes the others equal.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import relevance  # noqa: E402

import search  # noqa: E402
from search.query import matching, ranking  # noqa: E402

_index: search.Index | None = None


def _open(index_dir: Path) -> None:
    global _index
    _index = search.open_index(index_dir)


def _ranked(query: str) -> list[str]:
    assert _index is not None
    return [hit.path for hit in _index.search(query, limit=relevance.RECALL_AT)]


def tune_index(run: relevance.Run, rebuild: bool) -> tuple[Path, dict[str, str]]:
    corpus, path_to_id = relevance.write_posts(run.docset)
    index_dir = relevance.DATA / run.docset.name / "tune-index"
    if rebuild and index_dir.exists():
        shutil.rmtree(index_dir)
    if not (index_dir / "CURRENT").exists():
        started = time.perf_counter()
        search.build_index(corpus, index_dir)
        relevance.log(f"[{run.docset.name}] built the tuning index in {time.perf_counter() - started:.0f} s")
    return index_dir, path_to_id


def _owner(name: str) -> Any:
    """The module that holds the query-time constant `name`."""
    return matching if hasattr(matching, name) else ranking


def apply(setting: dict[str, Any], defaults: dict[str, Any]) -> None:
    for name, default in defaults.items():
        value = setting.get(name, default)
        if name == "FIELD_BOOSTS":
            value = {**default, **value}
        setattr(_owner(name), name, value)


def evaluate(run: relevance.Run, index_dir: Path, path_to_id: dict[str, str], qids: list[str],
             jobs: int) -> float:
    queries = [run.queries[q] for q in qids]
    # Forked after apply(): the workers see the patched constants.
    with multiprocessing.get_context("fork").Pool(jobs, initializer=_open, initargs=(index_dir,)) as pool:
        rankings = pool.map(_ranked, queries, chunksize=20)
    scores = [relevance.ndcg([path_to_id.get(p, p) for p in ranked], run.qrels[q])
              for ranked, q in zip(rankings, qids)]
    return sum(scores) / len(scores)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tune_ranking.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--collections", default="drcd,cmrc2018",
                        help=f"comma-separated, from {','.join(relevance.COLLECTIONS)}")
    parser.add_argument("--max-queries", type=int, default=600, metavar="N")
    parser.add_argument("--try", dest="settings", action="append", type=json.loads, default=[],
                        metavar="JSON", help="a setting to evaluate (repeatable; default: the current constants)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the tuning indexes")
    args = parser.parse_args(argv)

    names = ["SOFT_MATCH_WORDS", "SOFT_MATCH_SHARE", "QUESTION_WORDS", "QUESTION_MIN_WORDS", "QUESTION_SHARE",
             "COVERAGE_POWER", "COVERAGE_IDF", "SCORE_SUBWORDS", "FIELD_BOOSTS", "BM25_B", "BM25_K1",
             "RERANK_DEPTH", "EARLY_WEIGHT", "EARLY_CHARS", "PHRASE_WEIGHT", "SENTENCE_WEIGHT"]
    defaults = {name: getattr(_owner(name), name) for name in names}
    settings = args.settings or [{}]
    done: set[str] = set()
    for run in relevance.load_runs(args.collections.split(",")):
        if run.collection in done:
            continue
        done.add(run.collection)
        index_dir, path_to_id = tune_index(run, args.rebuild)
        qids = relevance.sample_queries(run, args.max_queries)
        for setting in settings:
            apply(setting, defaults)
            started = time.perf_counter()
            score = evaluate(run, index_dir, path_to_id, qids, args.jobs)
            print(f"{run.collection:12} {len(qids):5} queries  nDCG@10 {score:.4f}  "
                  f"({time.perf_counter() - started:.0f} s)  {json.dumps(setting, ensure_ascii=False)}", flush=True)
        apply({}, defaults)
    return 0


if __name__ == "__main__":
    sys.exit(main())
