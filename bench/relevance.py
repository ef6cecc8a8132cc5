"""Ranking quality of zhsearch beside the naive jieba + Whoosh approach.

Usage::

    python bench/relevance.py                              # every collection, every engine
    python bench/relevance.py --collections drcd --max-queries 300 --engines zhsearch

Parts:
  collections   loaders for the test collections (InsuranceQA-zh from its sdist,
                DRCD and cmrc2018 from ../shared/ir) and the runs made from them
                (DRCD is run four ways: documents and queries each in traditional
                or simplified script)
  posts         each document written as a Hexo post under bench/data/<docs>/posts/
                (front matter ``title:`` + the text as Markdown body) with a map
                post path -> document id
  engines       zhsearch (``search.build_index`` + the default ``Index.search``) and
                the naive baseline (``jieba.analyse.ChineseAnalyzer`` + Whoosh BM25F,
                queries through ``MultifieldParser`` over title+body, AND or OR
                grouping); built indexes are cached under bench/data/ keyed by the
                documents and the engine version, and so are the naive rankings
  metrics       nDCG@10, MRR@10, Recall@100 on binary relevance
  report        a plain aligned table on stdout (with the targets), progress on
                stderr, ``--json FILE`` for scripts

Queries run over ``--jobs`` processes (2 by default), each with its own open index.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import multiprocessing
import random
import re
import shutil
import sys
import tarfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

ROOT = Path(__file__).resolve().parents[1]
# Measure the checkout's engine, not whatever copy of `search` is installed.
sys.path.insert(0, str(ROOT))

DATA = ROOT / "bench" / "data"
SHARED_IR = ROOT.parent / "shared" / "ir"
INSURANCEQA_SDIST = "insuranceqa_data-1.2.tar.gz"
INSURANCEQA_FETCH = (
    "pip download --no-deps --no-binary :all: insuranceqa-data==1.2 -d bench/data/"
)

COLLECTIONS = ("insuranceqa", "drcd", "cmrc2018")
ENGINES = ("zhsearch", "naive-and", "naive-or")
SAMPLE_SEED = 20240601
# Bump when the way documents become posts changes, so cached indexes are rebuilt.
POSTS_FORMAT = 1

NDCG_AT = 10
MRR_AT = 10
RECALL_AT = 100


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- collections


@dataclass(frozen=True)
class Doc:
    title: str
    text: str


@dataclass
class Docset:
    """A set of documents, indexed once per engine and shared by the runs that use it."""

    name: str
    docs: dict[str, Doc]
    _digest: str = ""

    def digest(self) -> str:
        if not self._digest:
            h = hashlib.sha1(f"posts-format-{POSTS_FORMAT}".encode())
            for doc_id in sorted(self.docs):
                doc = self.docs[doc_id]
                for part in (doc_id, doc.title, doc.text):
                    h.update(part.encode("utf-8"))
                    h.update(b"\0")
            self._digest = h.hexdigest()[:10]
        return self._digest


@dataclass
class Run:
    """One row group of the table: a docset, its queries and their relevance judgements."""

    collection: str
    script: str  # "docs/queries" script, e.g. "trad/simp"; the split for InsuranceQA; "-" when not applicable
    docset: Docset
    queries: dict[str, str]
    qrels: dict[str, set[str]]


def read_beir(folder: Path, split: str = "dev") -> tuple[dict[str, Doc], dict[str, str], dict[str, set[str]]]:
    docs: dict[str, Doc] = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                docs[row["_id"]] = Doc(row.get("title") or "", row["text"])
    queries: dict[str, str] = {}
    with open(folder / f"queries.{split}.tsv", encoding="utf-8") as f:
        for line in f:
            qid, _, text = line.rstrip("\n").partition("\t")
            if qid:
                queries[qid] = text
    qrels: dict[str, set[str]] = {}
    with open(folder / f"qrels.{split}.tsv", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 4 and parts[3].isdigit() and int(parts[3]) > 0:
                qrels.setdefault(parts[0], set()).add(parts[2])
    return docs, queries, qrels


def read_insuranceqa(split: str = "valid") -> tuple[dict[str, Doc], dict[str, str], dict[str, set[str]]]:
    sdist = DATA / INSURANCEQA_SDIST
    if not sdist.exists():
        raise SystemExit(f"{sdist} is missing; fetch it with:\n  {INSURANCEQA_FETCH}")
    package = INSURANCEQA_SDIST.removesuffix(".tar.gz") + "/insuranceqa_data/"

    with tarfile.open(sdist) as tar:

        def member(name: str) -> dict:
            raw = tar.extractfile(package + name)
            assert raw is not None, name
            return json.loads(gzip.decompress(raw.read()))

        answers = member("answers.json.gz")
        questions = member(f"{split}.json.gz")
    # No title: an answer has none, and its first sentence would count twice.
    docs = {aid: Doc("", a["zh"]) for aid, a in answers.items()}
    queries = {qid: q["zh"] for qid, q in questions.items()}
    qrels = {qid: {str(a) for a in q["answers"]} for qid, q in questions.items()}
    return docs, queries, qrels


def load_runs(names: Iterable[str]) -> list[Run]:
    runs: list[Run] = []
    for name in names:
        if name == "insuranceqa":
            # valid is what the ranking was tuned on; test is held out (same answers, other questions).
            docs, queries, qrels = read_insuranceqa("valid")
            answers = Docset(name, docs)
            runs.append(Run(name, "valid", answers, queries, qrels))
            _, queries, qrels = read_insuranceqa("test")
            runs.append(Run(name, "test", answers, queries, qrels))
        elif name == "cmrc2018":
            docs, queries, qrels = read_beir(_shared(name))
            runs.append(Run(name, "-", Docset(name, docs), queries, qrels))
        elif name == "drcd":
            import opencc

            t2s = opencc.OpenCC("t2s").convert
            docs, queries, qrels = read_beir(_shared(name))
            trad = Docset(name, docs)
            simp = Docset(
                "drcd-simplified", {i: Doc(t2s(d.title), t2s(d.text)) for i, d in docs.items()}
            )
            queries_simp = {qid: t2s(q) for qid, q in queries.items()}
            # A same-script run is the baseline for the cross-script run on the same documents.
            runs.append(Run(name, "trad/trad", trad, queries, qrels))
            runs.append(Run(name, "trad/simp", trad, queries_simp, qrels))
            runs.append(Run(name, "simp/simp", simp, queries_simp, qrels))
            runs.append(Run(name, "simp/trad", simp, queries, qrels))
        else:
            raise ValueError(f"unknown collection {name!r}; choose from {', '.join(COLLECTIONS)}")
    return runs


def _shared(name: str) -> Path:
    folder = SHARED_IR / name
    if not (folder / "corpus.jsonl").exists():
        raise SystemExit(f"{folder} is missing (the shared retrieval collections live in ../shared/ir)")
    return folder


def sample_queries(run: Run, limit: int | None) -> list[str]:
    """Judged query ids in file order; a fixed-seed sample of `limit` of them when asked."""
    qids = [qid for qid in run.queries if run.qrels.get(qid)]
    if limit is not None and limit < len(qids):
        keep = set(random.Random(SAMPLE_SEED).sample(sorted(qids), limit))
        qids = [qid for qid in qids if qid in keep]
    return qids


# --------------------------------------------------------------------------- posts


def post_name(doc_id: str, taken: set[str]) -> str:
    """A file name made of safe characters, unique even on case-insensitive file systems."""
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", doc_id)[:80] or "doc"
    if stem != doc_id or stem.lower() in taken:
        stem = f"{stem}-{hashlib.sha1(doc_id.encode('utf-8')).hexdigest()[:8]}"
    taken.add(stem.lower())
    return stem + ".md"


def post_text(doc: Doc) -> str:
    import yaml

    front = yaml.safe_dump({"title": doc.title}, allow_unicode=True, width=1_000_000)
    return f"---\n{front}---\n\n{doc.text}\n"


def write_posts(docset: Docset) -> tuple[Path, dict[str, str]]:
    """Write the docset as Hexo posts once; return the corpus root and post path -> doc id."""
    base = DATA / docset.name
    corpus = base / "posts"
    manifest = base / "posts.json"
    if manifest.exists() and corpus.is_dir():
        with open(manifest, encoding="utf-8") as f:
            saved = json.load(f)
        if saved.get("digest") == docset.digest():
            return corpus, saved["paths"]
    log(f"[{docset.name}] writing {len(docset.docs):,} posts to {corpus.relative_to(ROOT)}")
    if corpus.exists():
        shutil.rmtree(corpus)
    corpus.mkdir(parents=True)
    taken: set[str] = set()
    paths: dict[str, str] = {}
    for doc_id, doc in docset.docs.items():
        name = post_name(doc_id, taken)
        with open(corpus / name, "w", encoding="utf-8", newline="\n") as f:
            f.write(post_text(doc))
        paths[name] = doc_id
    with open(manifest, "w", encoding="utf-8") as f:
        json.dump({"digest": docset.digest(), "paths": paths}, f, ensure_ascii=False)
    return corpus, paths


# --------------------------------------------------------------------------- engines


class EngineMissing(Exception):
    """The engine cannot run in this checkout (e.g. zhsearch's API is not written yet)."""


@dataclass(frozen=True)
class Searcher:
    """What a worker process needs to open an index and answer queries (picklable)."""

    engine: str
    index_dir: str
    path_to_id: dict[str, str] | None = None


@dataclass
class Built:
    """An index ready to search, from this run or from the cache."""

    kind: str  # "zhsearch" or "naive"
    index_dir: Path
    version: str
    path_to_id: dict[str, str] | None
    build_seconds: float | None  # None when the cached index was reused

    def searcher(self, engine: str) -> Searcher:
        return Searcher(engine, str(self.index_dir), self.path_to_id)

    def results_cache(self, engine: str) -> Path | None:
        """Where the naive engines' rankings are kept: they cannot change while the key holds."""
        if self.kind != "naive":
            return None
        key = self.index_dir.name.removeprefix("index-naive-")
        return self.index_dir.with_name(f"results-{engine}-{key}.json")


def engine_kind(engine: str) -> str:
    return "zhsearch" if engine == "zhsearch" else "naive"  # naive-and and naive-or share an index


def zhsearch_version() -> str:
    """`search.__version__` plus a hash of the package sources, so edits invalidate caches."""
    try:
        import search
    except ImportError as e:
        raise EngineMissing(f"cannot import search: {e}") from e
    missing = [n for n in ("build_index", "open_index") if not hasattr(search, n)]
    if missing:
        raise EngineMissing(f"search has no {' or '.join(missing)} yet")
    h = hashlib.sha1()
    for path in sorted((ROOT / "search").rglob("*.py")):
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return f"{getattr(search, '__version__', '0')}+{h.hexdigest()[:8]}"


def naive_version() -> str:
    import jieba
    import whoosh

    return f"whoosh{whoosh.versionstring()}-jieba{jieba.__version__}"


def build_naive(docset: Docset, index_dir: Path) -> None:
    from jieba.analyse import ChineseAnalyzer
    from whoosh import index
    from whoosh.fields import ID, TEXT, Schema

    analyzer = ChineseAnalyzer()
    schema = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=analyzer),
        body=TEXT(analyzer=analyzer),
    )
    index_dir.mkdir(parents=True)
    ix = index.create_in(str(index_dir), schema)
    writer = ix.writer(limitmb=256)
    for doc_id, doc in docset.docs.items():
        writer.add_document(id=doc_id, title=doc.title, body=doc.text)
    writer.commit()


def build(kind: str, docset: Docset, rebuild: bool) -> Built:
    """Build (or reuse from the cache) the `kind` index of `docset`."""
    version = zhsearch_version() if kind == "zhsearch" else naive_version()
    base = DATA / docset.name
    index_dir = base / f"index-{kind}-{version}-{docset.digest()}"
    done = index_dir.with_name(index_dir.name + ".done")

    path_to_id = None
    if kind == "zhsearch":
        corpus, path_to_id = write_posts(docset)
    if done.exists() and index_dir.is_dir() and not rebuild:
        return Built(kind, index_dir, version, path_to_id, None)

    # Stale indexes and rankings of this engine are only disk space now.
    for old in [*base.glob(f"index-{kind}-*"), *base.glob(f"results-{kind}-*")]:
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()
    log(f"[{docset.name}] building the {kind} index ({len(docset.docs):,} documents)")
    start = time.perf_counter()
    if kind == "zhsearch":
        import search

        report = search.build_index(corpus, index_dir)
        log(f"[{docset.name}] zhsearch: {report}")
    else:
        build_naive(docset, index_dir)
    seconds = time.perf_counter() - start
    done.write_text(f"{seconds:.1f}\n", encoding="utf-8")
    return Built(kind, index_dir, version, path_to_id, seconds)


def open_searcher(spec: Searcher) -> Callable[[str], list[str]]:
    """A function from query text to the ranked document ids (at most RECALL_AT)."""
    if spec.engine == "zhsearch":
        import search

        index = search.open_index(Path(spec.index_dir))
        path_to_id = spec.path_to_id or {}

        def run_zhsearch(query: str) -> list[str]:
            hits = index.search(query, limit=RECALL_AT)
            # A path outside the map would be a post the benchmark did not write: skip it.
            return [path_to_id[h.path] for h in hits if h.path in path_to_id]

        return run_zhsearch

    from whoosh import index as whoosh_index
    from whoosh.qparser import AndGroup, MultifieldParser, OrGroup

    ix = whoosh_index.open_dir(spec.index_dir)
    searcher = ix.searcher()
    group = OrGroup if spec.engine == "naive-or" else AndGroup
    parser = MultifieldParser(["title", "body"], ix.schema, group=group)

    def run_naive(query: str) -> list[str]:
        results = searcher.search(parser.parse(query), limit=RECALL_AT)
        return [hit["id"] for hit in results]

    return run_naive


# Each worker process opens its index once, in the pool initializer.
_worker_search: Callable[[str], list[str]] | None = None


def _init_worker(spec: Searcher) -> None:
    global _worker_search
    _worker_search = open_searcher(spec)


Answer = tuple[str, "list[str] | None", str]  # query id, ranked doc ids or None, error


def _search_batch(batch: list[tuple[str, str]]) -> tuple[list[Answer], float]:
    """Answers for a batch and the CPU seconds they took (wall time depends on the machine's load)."""
    assert _worker_search is not None
    start = time.process_time()
    out: list[Answer] = []
    for qid, query in batch:
        try:
            out.append((qid, _worker_search(query), ""))
        except Exception as e:  # any failure is one errored query, reported in the table
            out.append((qid, None, f"{type(e).__name__}: {e}"))
    return out, time.process_time() - start


def run_queries(
    spec: Searcher, queries: list[tuple[str, str]], jobs: int
) -> Iterator[tuple[list[Answer], float]]:
    batches = [queries[i : i + 25] for i in range(0, len(queries), 25)]
    if jobs <= 1:
        _init_worker(spec)
        yield from map(_search_batch, batches)
        return
    with multiprocessing.Pool(jobs, initializer=_init_worker, initargs=(spec,)) as pool:
        yield from pool.imap(_search_batch, batches)


# --------------------------------------------------------------------------- metrics


def ndcg(ranked: list[str], relevant: set[str], k: int = NDCG_AT) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def mrr(ranked: list[str], relevant: set[str], k: int = MRR_AT) -> float:
    for i, d in enumerate(ranked[:k]):
        if d in relevant:
            return 1 / (i + 1)
    return 0.0


def recall(ranked: list[str], relevant: set[str], k: int = RECALL_AT) -> float:
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


# --------------------------------------------------------------------------- report


@dataclass
class Row:
    collection: str
    script: str
    engine: str
    engine_version: str
    queries: int
    queries_total: int
    errors: int = 0
    ndcg10: float | None = None
    mrr10: float | None = None
    recall100: float | None = None
    build_seconds: float | None = None
    query_seconds: float | None = None
    query_cpu_seconds: float | None = None  # summed over the query processes
    cached_queries: int = 0  # answered from the naive engines' rankings cache
    skipped: str = ""
    error_examples: list[str] = field(default_factory=list)
    target: str = ""
    status: str = ""


def rankings(run: Run, engine: str, built: Built, qids: list[str], jobs: int, row: Row) -> dict[str, Answer]:
    """Every sampled query's answer, reusing the naive engines' cached rankings."""
    cache_file = built.results_cache(engine)
    cache: dict[str, list[str] | dict[str, str]] = {}
    if cache_file is not None and cache_file.exists():
        with open(cache_file, encoding="utf-8") as f:
            cache = json.load(f)
    answers: dict[str, Answer] = {}
    todo = []
    for qid in qids:
        hit = cache.get(run.queries[qid])
        if hit is None:
            todo.append((qid, run.queries[qid]))
        elif isinstance(hit, dict):
            answers[qid] = (qid, None, hit["error"])
        else:
            answers[qid] = (qid, hit, "")
    row.cached_queries = len(answers)
    if not todo:
        return answers
    log(f"[{run.collection} {run.script}] {engine}: {len(todo):,} queries")
    start = time.perf_counter()
    row.query_cpu_seconds = 0.0
    for batch, cpu in run_queries(built.searcher(engine), todo, jobs):
        row.query_cpu_seconds += cpu
        for qid, ranked, error in batch:
            answers[qid] = (qid, ranked, error)
            cache[run.queries[qid]] = ranked if ranked is not None else {"error": error}
    row.query_seconds = time.perf_counter() - start
    if cache_file is not None:
        with open(cache_file, "w", encoding="utf-8") as f:
            json.dump(cache, f, ensure_ascii=False)
    return answers


def evaluate(run: Run, engine: str, built: Built, qids: list[str], jobs: int) -> Row:
    row = Row(run.collection, run.script, engine, built.version, len(qids), len(sample_queries(run, None)))
    row.build_seconds = built.build_seconds
    built.build_seconds = None  # the build time shows on the first row that used the index
    totals = [0.0, 0.0, 0.0]
    for qid, ranked, error in rankings(run, engine, built, qids, jobs, row).values():
        if ranked is None:
            row.errors += 1
            if len(row.error_examples) < 5:
                row.error_examples.append(f"{qid} {run.queries[qid]!r}: {error}")
            continue  # an errored query scores 0 on every metric
        relevant = run.qrels[qid]
        totals[0] += ndcg(ranked, relevant)
        totals[1] += mrr(ranked, relevant)
        totals[2] += recall(ranked, relevant)
    n = max(len(qids), 1)
    row.ndcg10, row.mrr10, row.recall100 = (t / n for t in totals)
    return row


def apply_targets(rows: list[Row]) -> None:
    """Fill in the zhsearch targets; cross-script DRCD runs compare with the same-script run."""
    by_key = {(r.collection, r.script, r.engine): r for r in rows}
    for r in rows:
        if r.engine != "zhsearch" or r.ndcg10 is None:
            continue
        if r.collection == "insuranceqa":
            r.target, ok = ">=0.26", r.ndcg10 >= 0.26
        elif r.collection == "cmrc2018":
            r.target, ok = ">=0.985", r.ndcg10 >= 0.985
        elif r.collection == "drcd":
            docs, queries = r.script.split("/")
            if docs == queries:
                r.target, ok = ">=0.93", r.ndcg10 >= 0.93
            else:
                base = by_key.get((r.collection, f"{docs}/{docs}", r.engine))
                r.target = f">=0.93, within 0.01 of {docs}/{docs}"
                ok = r.ndcg10 >= 0.93
                if base is not None and base.ndcg10 is not None:
                    ok = ok and base.ndcg10 - r.ndcg10 <= 0.01
        else:
            continue
        r.status = "ok" if ok else "MISS"


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows: list[Row]) -> str:
    head = ["collection", "docs/q", "engine", "queries", "errors", "nDCG@10", "MRR@10", "R@100",
            "build s", "query s", "cpu ms/q", "target", ""]
    lines = [head]
    for r in rows:
        if r.skipped:
            lines.append([r.collection, r.script, r.engine, "-", "-", "skipped"] + [""] * 7)
            continue
        queries = str(r.queries) if r.queries == r.queries_total else f"{r.queries}/{r.queries_total}"
        build_s = "cached" if r.build_seconds is None else f"{r.build_seconds:.0f}"
        computed = r.queries - r.cached_queries
        cpu_ms = None if r.query_cpu_seconds is None else 1000 * r.query_cpu_seconds / max(computed, 1)
        query_s = "cached" if not computed else _fmt(r.query_seconds, 0)
        lines.append([r.collection, r.script, r.engine, queries, str(r.errors), _fmt(r.ndcg10),
                      _fmt(r.mrr10), _fmt(r.recall100), build_s, query_s,
                      _fmt(cpu_ms, 0), r.target, r.status])
    numeric = {3, 4, 5, 6, 7, 8, 9, 10}
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = []
    for line in lines:
        cells = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def _csv(value: str, choices: tuple[str, ...]) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in choices]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown {', '.join(bad)}; choose from {', '.join(choices)}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="relevance.py", description=__doc__.split("\n\n")[0],
        epilog="InsuranceQA-zh is read from bench/data/" + INSURANCEQA_SDIST + "; fetch it with: "
        + INSURANCEQA_FETCH,
    )
    parser.add_argument("--collections", type=lambda v: _csv(v, COLLECTIONS), default=list(COLLECTIONS),
                        help=f"comma-separated, from {','.join(COLLECTIONS)} (default: all)")
    parser.add_argument("--engines", type=lambda v: _csv(v, ENGINES), default=list(ENGINES),
                        help=f"comma-separated, from {','.join(ENGINES)} (default: all)")
    parser.add_argument("--max-queries", type=int, default=None, metavar="N",
                        help="a fixed-seed sample of N queries per collection (default: every query)")
    parser.add_argument("--jobs", type=int, default=2, help="query processes (default 2)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild cached indexes and naive rankings")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args(argv)

    runs = load_runs(args.collections)
    rows: list[Row] = []
    built: dict[tuple[str, str], Built | EngineMissing] = {}
    for run in runs:
        qids = sample_queries(run, args.max_queries)
        for engine in args.engines:
            key = (engine_kind(engine), run.docset.name)
            if key not in built:
                try:
                    built[key] = build(key[0], run.docset, args.rebuild)
                except EngineMissing as e:
                    log(f"skipping {engine}: {e}")
                    built[key] = e
                except Exception as e:
                    if key[0] != "zhsearch":
                        raise
                    # The engine under development: keep the baseline rows coming.
                    traceback.print_exc()
                    built[key] = EngineMissing(f"build failed: {type(e).__name__}: {str(e)[:200]}")
                    log(f"skipping {engine} on {run.docset.name}: {built[key]}")
            b = built[key]
            if isinstance(b, EngineMissing):
                rows.append(Row(run.collection, run.script, engine, "", 0, len(qids), skipped=str(b)))
                continue
            row = evaluate(run, engine, b, qids, args.jobs)
            for example in row.error_examples:
                log(f"  query error: {example}")
            rows.append(row)
    apply_targets(rows)

    print(table(rows))
    for skip in dict.fromkeys((r.engine, r.collection, r.skipped) for r in rows if r.skipped):
        print("({} skipped on {}: {})".format(*skip))
    if args.max_queries is not None:
        print(f"(a sample of at most {args.max_queries} queries per collection, seed {SAMPLE_SEED})")
    if args.json:
        meta = {"max_queries": args.max_queries, "sample_seed": SAMPLE_SEED, "jobs": args.jobs}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"meta": meta, "rows": [asdict(r) for r in rows]}, f, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
