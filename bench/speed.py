"""Speed benchmark: zhsearch beside the naive baseline (bench/naive.py) and SQLite FTS5 on the same corpora.

    python bench/speed.py                                   # project corpus + ../shared blogs
    python bench/speed.py --corpora blogs,1k,5k,20k --skip-naive-above 5000 --json bench/out/speed.json

For each corpus the script copies it to a temporary folder (../shared and corpus/
are never written), then for each engine:

  build      full build in a new process (median of --build-runs): wall seconds,
             posts/s, peak memory — exact peak RSS of the largest process (wait4)
             and a sampled peak of the RSS and PSS summed over all its processes
  size       bytes of the index folder
  cold       one new process per query (the ``zhsearch`` console script, or
             ``python bench/naive.py search``): wall seconds and peak RSS, median
             of --cold-runs runs for each query, runs interleaved across engines
  warm       one process opens the index, runs the query set once to warm up,
             then --warm-reps times, 10 hits with their snippets rendered; the
             median milliseconds per query
  update     zhsearch only (the naive engine can only rebuild): one post of the
             copy changed, then ``zhsearch index`` in a new process, and
             ``search.update_index`` timed inside a process; also a touch
             (mtime only) and a no-op run

FTS5 (trigram tokenizer, ``Fts5Peer`` in _util.py) is built from the posts zhsearch indexes, read by
zhsearch's own reader in its one process (the parse counted in its build), and answers the warm queries with
every word required: a word of 3 characters or more through the index by bm25, a shorter one by a LIKE scan
(unranked when the query has no longer word), as its users must. It has no command: no cold figure.

The results print as a plain table per corpus with the issue's targets beside
them; ``--json FILE`` writes every raw figure. Internal: ``speed.py _worker ...``
is how the build, warm and update steps run in their own processes.
"""

from __future__ import annotations

import argparse
import math
import compileall
import dataclasses
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import realqueries  # noqa: E402
from _util import (  # noqa: E402
    BLOGS, ROOT, Fts5Peer, Run, dir_size, median, post_files, run_measured, zhsearch_script,
)
from speed_report import ENGINES, render  # noqa: E402

HERE = Path(__file__).resolve()
NAIVE = HERE.parent / "naive.py"
FTS5_DB = "posts.sqlite"  # in the FTS5 engine's index folder

COLD_QUERIES = ["内推", "人脉背书", "数据库 索引", '"内推二维码"']
WARM_QUERIES = COLD_QUERIES + [
    "前端", "性能 优化", "浏览器 缓存", "算法", "JavaScript", "学习 方法",
    "Linux 命令", "用户 体验", "面试", "知乎",
]

# Two floors under a cold query: the interpreter alone (with the site-packages .pth files of the Python running
# the benchmark), and the interpreter importing the libraries the design fixes that a query imports, as zhsearch
# imports them (click for the command, jieba without pkg_resources; a query reads Whoosh's files without Whoosh).
INTERPRETER_SCRIPT = "pass"
FLOOR_SCRIPT = "import sys; sys.modules['pkg_resources'] = None; import click, jieba"



# ------------------------------------------------------------------- workers
# These run inside child processes (``speed.py _worker KIND ENGINE ...``) so
# that each measured step has its own interpreter, imports and memory.

def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "_asdict"):
        return value._asdict()
    if isinstance(value, dict):
        return value
    return {k: v for k, v in vars(value).items() if not k.startswith("_")} if hasattr(value, "__dict__") else repr(value)


def _worker(argv: list[str]) -> int:
    kind, engine = argv[0], argv[1]
    sys.path.insert(0, str(ROOT))
    if kind == "build":
        corpus, index_dir = Path(argv[2]), Path(argv[3])
        start = time.perf_counter()
        if engine == "naive":
            import naive

            report: object = naive.build(corpus, index_dir)
        elif engine == "fts5":
            index_dir.mkdir(parents=True, exist_ok=True)
            report = {"posts": Fts5Peer.build_same_posts(corpus, index_dir / FTS5_DB)}
        else:
            import search

            report = search.build_index(corpus, index_dir)
        seconds = time.perf_counter() - start
        print(json.dumps({"seconds": seconds, "report": _plain(report)}, ensure_ascii=False, default=str))
        return 0
    if kind == "update":
        import search

        corpus, index_dir = Path(argv[2]), Path(argv[3])
        start = time.perf_counter()
        report = search.update_index(corpus, index_dir)
        seconds = time.perf_counter() - start
        print(json.dumps({"seconds": seconds, "report": _plain(report)}, ensure_ascii=False, default=str))
        return 0
    if kind == "warm":
        index_dir, queries, reps = Path(argv[2]), json.loads(argv[3]), int(argv[4])
        return _warm(engine, index_dir, queries, reps)
    raise SystemExit(f"unknown worker {kind}")


def _warm(engine: str, index_dir: Path, queries: list[str], reps: int) -> int:
    start = time.perf_counter()
    if engine == "naive":
        import naive

        idx = naive.NaiveIndex(index_dir)

        def run(q: str, snippets: bool = True) -> int:
            total, hits = idx.search(q, limit=10, snippets=snippets)
            for hit in hits:
                len(hit["snippet"])
            return total
    elif engine == "fts5":
        peer = Fts5Peer(index_dir / FTS5_DB)

        def run(q: str, snippets: bool = True) -> int:
            found = peer.search(q, 10)
            for _, snippet, _ in found:
                len(snippet)
            return len(found)
    else:
        import search

        idx = search.open_index(index_dir)

        def run(q: str, snippets: bool = True) -> int:
            results = idx.search(q, limit=10)
            for hit in results:
                # Reading the attributes renders the snippet if it is lazy.
                hit.path, hit.title, len(hit.snippet)
            return results.total

    open_ms = (time.perf_counter() - start) * 1000
    hits = {q: run(q) for q in queries}  # warm-up pass, also the hit counts
    if engine == "fts5":  # its search stops at 10 posts: every match counted apart, untimed
        hits = {q: peer.count(q) for q in queries}
    times: dict[str, list[float]] = {q: [] for q in queries}
    bare: dict[str, list[float]] = {q: [] for q in queries}
    for _ in range(reps):
        for q in queries:
            t0 = time.perf_counter()
            run(q)
            times[q].append((time.perf_counter() - t0) * 1000)
            if engine == "naive":
                t0 = time.perf_counter()
                run(q, snippets=False)
                bare[q].append((time.perf_counter() - t0) * 1000)
    out = {"open_ms": open_ms, "hits": hits, "ms": times}
    if engine == "naive":
        out["ms_no_snippets"] = bare
    print(json.dumps(out, ensure_ascii=False))
    return 0


def _last_json(run: Run) -> dict:
    for line in reversed(run.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON from {' '.join(run.argv)}:\n{run.stdout[-1000:]}\n{run.stderr[-2000:]}")


# ---------------------------------------------------------------- the engines

class Engine:
    """How the benchmark drives one engine: the argv of each step."""

    def __init__(self, name: str, cli: list[str] | None = None):
        self.name = name
        self.cli = cli  # zhsearch: the console script (or python -m search)

    def worker(self, kind: str, *args: str) -> list[str]:
        return [sys.executable, str(HERE), "_worker", kind, self.name, *args]

    def cold(self, index_dir: Path, query: str) -> list[str]:
        if self.name == "naive":
            return [sys.executable, str(NAIVE), "search", str(index_dir), query, "-n", "10"]
        assert self.cli
        return [*self.cli, "search", query, "--index", str(index_dir), "-n", "10"]

    def update_cli(self, corpus: Path, index_dir: Path) -> list[str]:
        assert self.cli
        return [*self.cli, "index", str(corpus), "--index", str(index_dir)]


def zhsearch_engine() -> tuple[Engine | None, str]:
    """The zhsearch engine, or None and why it cannot run yet."""
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys; sys.path.insert(0, sys.argv[1]); import search; "
         "missing = [n for n in ('build_index', 'update_index', 'open_index') if not hasattr(search, n)]; "
         "print(' '.join(missing))", str(ROOT)],
        capture_output=True, text=True,
    )
    if probe.returncode != 0:
        return None, "`import search` fails: " + (probe.stderr.strip().splitlines() or ["?"])[-1]
    if probe.stdout.strip():
        return None, f"search has no {probe.stdout.strip()} yet"
    script = zhsearch_script()
    if script:
        return Engine("zhsearch", [script]), f"console script {script}"
    return (
        Engine("zhsearch", [sys.executable, "-m", "search"]),
        "no installed `zhsearch` script (pip install -e .); cold queries use python -m search",
    )


# ----------------------------------------------------------------- measuring

def measure_corpus(label: str, source: Path, engines: list[Engine], args: argparse.Namespace) -> dict:
    posts = post_files(source)
    result: dict = {
        "corpus": label, "path": str(source), "posts": len(posts),
        "bytes": sum(p.stat().st_size for p in posts), "engines": {},
        "loadavg_at_start": os.getloadavg(), "failed": {},
    }
    reused = args.reuse is not None
    work = args.reuse if reused else Path(tempfile.mkdtemp(prefix=f"zhsearch-bench-{label}-", dir=args.workdir))
    try:
        corpus = work / "corpus"
        if reused:
            say(f"[{label}] reusing the copy and indexes in {work} (no build: those rows stay empty)")
        else:
            shutil.copytree(source, corpus)
            say(f"[{label}] {len(posts)} posts, {result['bytes'] / 1e6:.1f} MB, copied to {corpus}")
        index_dirs = {e.name: work / f"index-{e.name}" for e in engines}

        built = []
        for e in engines:
            if reused:
                if ((index_dirs[e.name] / "CURRENT").exists() or e.name == "naive" and index_dirs[e.name].is_dir()
                        or (index_dirs[e.name] / FTS5_DB).exists()):
                    result["engines"][e.name] = {}
                    built.append(e)
                continue
            try:
                result["engines"][e.name] = measure_build(e, corpus, index_dirs[e.name], len(posts), args)
                built.append(e)
            except RuntimeError as err:
                # One engine failing on one corpus should not cost the other figures.
                result["failed"][e.name] = f"build: {err}"[-3000:]
                say(f"[{label}] {e.name} build FAILED; its other figures are skipped for this corpus")
        engines = built
        warm_engines, engines = engines, [e for e in engines if e.name != "fts5"]  # FTS5: no command to run cold

        # The kernel writes a fresh build's files back to disk for a while after the build (0.6 GB at 20k posts):
        # queries timed meanwhile measured 0.30 s at 20k, and 0.21 s a minute later. Wait for the write-back, so
        # that the figures below are the queries' own.
        os.sync()
        time.sleep(2)
        cold = {e.name: {q: [] for q in args.cold_queries} for e in engines}
        cold_rss = {e.name: {q: [] for q in args.cold_queries} for e in engines}
        say(f"[{label}] cold queries: {args.cold_runs} runs x {len(args.cold_queries)} queries")
        for _ in range(args.cold_runs):
            for q in args.cold_queries:
                for e in engines:
                    # zhsearch exits 1 when nothing matches, like grep.
                    run = run_measured(e.cold(index_dirs[e.name], q), sample=None).check(ok=(0, 1))
                    if "Traceback" in run.stderr:  # a crash exits 1 too (it once timed a broken install)
                        raise RuntimeError(f"cold query crashed: {' '.join(run.argv)}\n{run.stderr[-2000:]}")
                    cold[e.name][q].append(run.wall)
                    cold_rss[e.name][q].append(run.maxrss_mb)
        if any(e.name == "zhsearch" for e in engines):
            # The floor under any cold query of this design: a new interpreter importing the libraries it is built
            # on that a query imports (click for the command, jieba without pkg_resources, as zhsearch does).
            for key, script in (("interpreter_s", INTERPRETER_SCRIPT), ("floor_s", FLOOR_SCRIPT)):
                runs = [run_measured([sys.executable, "-c", script], sample=None).check().wall
                        for _ in range(args.cold_runs * 2)]
                result[key] = median(runs)
        for e in engines:
            per_query = {
                q: {"wall_s": median(cold[e.name][q]), "maxrss_mb": median(cold_rss[e.name][q]),
                    "runs_wall_s": cold[e.name][q]}
                for q in args.cold_queries
            }
            result["engines"][e.name]["cold"] = {
                "runs": args.cold_runs,
                "per_query": per_query,
                "wall_s_worst": max(v["wall_s"] for v in per_query.values()),
                "wall_s_median": median([w for q in args.cold_queries for w in cold[e.name][q]]),
                "maxrss_mb_worst": max(v["maxrss_mb"] for v in per_query.values()),
            }

        for e in warm_engines:
            say(f"[{label}] warm queries: {e.name}")
            run = run_measured(
                e.worker("warm", str(index_dirs[e.name]), json.dumps(args.warm_queries, ensure_ascii=False),
                         str(args.warm_reps)),
                sample=None,
            ).check()
            data = _last_json(run)
            warm = {
                "reps": args.warm_reps, "queries": len(args.warm_queries), "open_ms": data["open_ms"],
                "hits": data["hits"],
                "ms_median": median([t for ts in data["ms"].values() for t in ts]),
                "ms_per_query": {q: median(ts) for q, ts in data["ms"].items()},
            }
            per_query = sorted(warm["ms_per_query"].values())
            warm["ms_worst"] = per_query[-1]
            warm["ms_p50"] = median(per_query)
            warm["ms_p99"] = per_query[max(0, math.ceil(0.99 * len(per_query)) - 1)]
            if "ms_no_snippets" in data:
                warm["ms_median_no_snippets"] = median(
                    [t for ts in data["ms_no_snippets"].values() for t in ts])
            result["engines"][e.name]["warm"] = warm

        for e in engines:
            if e.name == "zhsearch" and args.update_runs > 0:
                try:
                    result["engines"][e.name]["update"] = measure_update(e, corpus, index_dirs[e.name], args)
                except RuntimeError as err:
                    result["failed"][e.name] = f"update: {err}"[-3000:]
                    say(f"[{label}] {e.name} update FAILED")
    finally:
        if args.keep or reused:
            say(f"[{label}] kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    result["loadavg_at_end"] = os.getloadavg()
    return result


def measure_build(e: Engine, corpus: Path, index_dir: Path, n_posts: int, args: argparse.Namespace) -> dict:
    runs: list[Run] = []
    reports = []
    for i in range(args.build_runs):
        say(f"  build {e.name} ({i + 1}/{args.build_runs}) ...")
        shutil.rmtree(index_dir, ignore_errors=True)
        run = run_measured(e.worker("build", str(corpus), str(index_dir))).check()
        runs.append(run)
        reports.append(_last_json(run))
        say(f"    {run.wall:.1f} s, peak {run.maxrss_mb:.0f} MB (largest process), "
            f"{run.tree_rss_mb:.0f} MB RSS summed over {run.procs} process(es)")
    wall = median([r.wall for r in runs])
    return {
        "build": {
            "runs": args.build_runs,
            "wall_s": wall,
            "wall_s_runs": [r.wall for r in runs],
            "in_process_s": median([rep["seconds"] for rep in reports]),
            "posts_per_s": n_posts / wall if wall else None,
            "maxrss_mb": median([r.maxrss_mb for r in runs]),
            "tree_rss_mb": median([r.tree_rss_mb for r in runs]),
            "tree_pss_mb": median([r.tree_pss_mb for r in runs]),
            "max_procs": max(r.procs for r in runs),
            "report": reports[-1]["report"],
        },
        "index_bytes": dir_size(index_dir),
    }


def measure_update(e: Engine, corpus: Path, index_dir: Path, args: argparse.Namespace) -> dict:
    posts = sorted(post_files(corpus), key=lambda p: (p.stat().st_size, str(p)))
    target, largest = posts[len(posts) // 2], posts[-1]
    say(f"  update zhsearch: changing {target.relative_to(corpus)}, then the largest post")
    original = target.read_text(encoding="utf-8")

    def change(tag: str, post: Path = target) -> str:
        token = f"zhbenchupd{tag}"
        is_html = post.read_text(encoding="utf-8").rstrip().endswith(">")
        line = f"<p>{token} 增量更新测试。</p>" if is_html else f"{token} 增量更新测试。"
        with open(post, "a", encoding="utf-8") as f:
            f.write(f"\n\n{line}\n")
        return token

    def bump_mtime(post: Path = target) -> None:
        st = post.stat()
        os.utime(post, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))

    cli_wall, cli_rss, lib_s, touch_wall, noop_wall, verified, largest_wall = [], [], [], [], [], [], []
    try:
        for i in range(args.update_runs):
            token = change(f"c{i}")
            bump_mtime()  # a change within the same mtime tick must still count
            run = run_measured(e.update_cli(corpus, index_dir)).check()
            cli_wall.append(run.wall)
            cli_rss.append(run.maxrss_mb)
            found = run_measured(e.cold(index_dir, token), sample=None)
            verified.append(found.returncode == 0 and target.stem in found.stdout)

            change(f"l{i}")
            bump_mtime()
            lib = _last_json(run_measured(e.worker("update", str(corpus), str(index_dir))).check())
            lib_s.append(lib["seconds"])

            bump_mtime()
            touch_wall.append(run_measured(e.update_cli(corpus, index_dir), sample=None).check().wall)
            noop_wall.append(run_measured(e.update_cli(corpus, index_dir), sample=None).check().wall)
        target.write_text(original, encoding="utf-8")
        largest_original = largest.read_bytes()
        try:
            for i in range(args.update_runs):
                change(f"x{i}", largest)
                bump_mtime(largest)
                largest_wall.append(run_measured(e.update_cli(corpus, index_dir), sample=None).check().wall)
        finally:
            largest.write_bytes(largest_original)
        run_measured(e.update_cli(corpus, index_dir), sample=None).check()  # the index as the corpus is again
    finally:
        target.write_text(original, encoding="utf-8")
    return {
        "runs": args.update_runs,
        "post": str(target.relative_to(corpus)),
        "changed_cli_s": median(cli_wall),
        "changed_cli_s_runs": cli_wall,
        "changed_cli_maxrss_mb": median(cli_rss),
        "changed_lib_s": median(lib_s),
        "touched_cli_s": median(touch_wall),
        "noop_cli_s": median(noop_wall),
        "largest_post": str(largest.relative_to(corpus)),
        "largest_post_kb": largest.stat().st_size / 1024,
        "largest_cli_s": median(largest_wall),
        "change_found_by_search": all(verified) if verified else None,
    }


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------- main

def resolve_corpora(names: list[str], args: argparse.Namespace) -> list[tuple[str, Path]]:
    import scale

    out = []
    for name in names:
        if name == "project":
            path = ROOT / "corpus"
            if not post_files(path):
                say("project: corpus/ has no posts yet; skipped")
                continue
            out.append((name, path))
        elif name == "blogs":
            if not BLOGS.is_dir():
                say(f"blogs: {BLOGS} is absent; skipped")
                continue
            out.append((name, BLOGS))
        else:
            try:
                n = scale.parse_size(name)
            except ValueError:
                raise SystemExit(f"unknown corpus {name!r}: choose project, blogs, 1k, 5k, 20k or a number")
            path = scale.ensure(n, seed=args.seed)
            if path is None:
                say(f"{name}: skipped (no ../shared to build it from)")
                continue
            out.append((name, path))
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_worker"]:
        return _worker(argv[1:])
    parser = argparse.ArgumentParser(
        description="Speed of zhsearch beside the naive jieba+Whoosh baseline and SQLite FTS5 (trigram).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--corpora", default="project,blogs",
                        help="comma list of project, blogs, 1k, 5k, 20k (or any N)")
    parser.add_argument("--engines", default="naive,zhsearch,fts5", help="comma list of naive, zhsearch, fts5")
    parser.add_argument("--skip-naive-above", type=int, default=5000, metavar="N",
                        help="don't run the naive engine on corpora of more than N posts")
    parser.add_argument("--build-runs", type=int, default=1)
    parser.add_argument("--cold-runs", type=int, default=5, help="new processes per query")
    parser.add_argument("--warm-reps", type=int, default=5, help="passes over the warm query set")
    parser.add_argument("--warm-set", choices=("standard", "real"), default="standard",
                        help="warm queries: the 14 standard ones, or the 200 real words and word pairs of "
                             "bench/realqueries.txt (p50 and p99 over queries)")
    parser.add_argument("--update-runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="seed of the scale corpora")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the raw figures here")
    parser.add_argument("--workdir", type=Path, help="where temporary copies go (default: system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the copies and indexes")
    parser.add_argument("--reuse", type=Path, metavar="DIR",
                        help="measure queries and updates on a folder kept by --keep (one corpus), without building")
    args = parser.parse_args(argv)
    args.cold_queries = COLD_QUERIES
    args.warm_queries = WARM_QUERIES if args.warm_set == "standard" else realqueries.load(realqueries.OUT)
    if args.reuse is not None and ("," in args.corpora or not (args.reuse / "corpus").is_dir()):
        parser.error("--reuse takes one folder kept by --keep (with corpus/ inside) and one corpus")

    wanted = [e.strip() for e in args.engines.split(",") if e.strip()]
    for name in wanted:
        if name not in ENGINES:
            parser.error(f"unknown engine {name!r}: choose from {', '.join(ENGINES)}")
    zh_engine, zh_note = (None, "not asked for")
    if "zhsearch" in wanted:
        zh_engine, zh_note = zhsearch_engine()
        if zh_engine is None:
            say(f"zhsearch: SKIPPED — {zh_note}")
        else:
            say(f"zhsearch: {zh_note}")
            # As `pip install` does for an installed package. Without it an editable install recompiles every
            # module of search/ on each cold query when PYTHONDONTWRITEBYTECODE is set (it is on the development
            # machine: 0.12 s of each cold query), which measures the checkout, not the tool.
            compileall.compile_dir(str(ROOT / "search"), quiet=1)
            zh_note += "; search/ byte-compiled first, as pip install does"

    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "python": sys.executable, "python_version": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "loadavg_at_start": os.getloadavg(),
        "commit": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                 capture_output=True, text=True).stdout.strip(),
        "zhsearch": zh_note,
        "memory_note": "maxrss = peak RSS of the largest single process (wait4); "
                       "tree_rss/tree_pss = sampled (50 ms) peak of the sum over the process tree",
    }
    say(f"python {meta['python']} ({meta['python_version']}), {meta['machine']}, "
        f"load {' '.join(f'{x:.2f}' for x in meta['loadavg_at_start'])}")

    results = []
    for label, path in resolve_corpora([c.strip() for c in args.corpora.split(",") if c.strip()], args):
        n = len(post_files(path))
        engines = []
        if "naive" in wanted:
            if n > args.skip_naive_above:
                say(f"[{label}] naive skipped: {n} posts > --skip-naive-above {args.skip_naive_above}")
            else:
                engines.append(Engine("naive"))
        if zh_engine:
            engines.append(zh_engine)
        if "fts5" in wanted:
            engines.append(Engine("fts5"))
        if not engines:
            continue
        result = measure_corpus(label, path, engines, args)
        results.append(result)
        print(render(result) + "\n", flush=True)
        if args.json:
            write_json(args.json, meta, results)
    if zh_engine is None and "zhsearch" in wanted:
        print(f"zhsearch was not measured: {zh_note}")
    if args.json:
        write_json(args.json, meta, results)
        say(f"raw figures: {args.json}")
    return 0


def write_json(path: Path, meta: dict, results: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "corpora": results}, ensure_ascii=False, indent=1),
                    encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
