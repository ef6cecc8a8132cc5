"""`zhsearch serve` under load: requests/s and p50/p99 latency of /api/search with 1 and 8 clients, on the blogs
corpus, while the server is idle and while `zhsearch index` commits an update; and the same queries as library
calls in one process, the floor the server adds HTTP to.

    python bench/serve.py                 # ../shared/corpora/blogs, 1 and 8 clients
    python bench/serve.py --requests 400  # requests per client per run

Only loopback traffic; every loop is bounded. The corpus is copied to a temporary directory (the update changes
posts there). Each client is a process with one keep-alive connection, sending the queries in turn.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import BLOGS, ROOT, table

QUERIES = ["内推", "人工智能", "git", "数据库 索引", "生活", "前端 框架", "linux 命令", "设计模式", "读书笔记",
           "python", "java 并发", "javascript", "工具", "博客", "docker", "算法", "浏览器", "性能 优化",
           "学习", "面试", "\"版本控制\"", "vim", "css 布局", "android", "知乎"]
CHANGED_POSTS = 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client(port: int, requests: int, offset: int, writing: Any, answers: multiprocessing.Queue) -> None:
    """Send `requests` searches (and more while `writing` is set, up to 20 times as many), one at a time."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies: list[float] = []
    failures = 0
    i = 0
    while (i < requests or writing.is_set()) and i < 20 * requests:
        query = QUERIES[(offset + i) % len(QUERIES)]
        start = time.perf_counter()
        try:
            connection.request("GET", "/api/search?" + urlencode({"q": query, "limit": 10}))
            response = connection.getresponse()
            body = response.read()
            if response.status != 200 or "hits" not in json.loads(body):
                failures += 1
        except (OSError, http.client.HTTPException, ValueError):
            failures += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        latencies.append(time.perf_counter() - start)
        i += 1
    connection.close()
    answers.put((latencies, failures))


def load(port: int, clients: int, requests: int, during: list[str] | None = None) -> dict[str, float]:
    """Run `clients` clients; with `during`, run that command meanwhile and keep the clients going until it ends."""
    answers: multiprocessing.Queue = multiprocessing.Queue()
    writing = multiprocessing.Event()
    if during:
        writing.set()
    start = time.perf_counter()
    processes = [multiprocessing.Process(target=client, args=(port, requests, k * 7, writing, answers))
                 for k in range(clients)]
    for p in processes:
        p.start()
    update_seconds = 0.0
    if during:
        time.sleep(0.2)  # the clients are sending before the update starts
        writer = subprocess.run(during, check=False, cwd=ROOT, stderr=subprocess.PIPE, text=True, timeout=600)
        writing.clear()
        if writer.returncode != 0:
            raise SystemExit(f"the update failed: {writer.stderr}")
        update_seconds = time.perf_counter() - start - 0.2
    results = []
    for _ in processes:
        results.append(answers.get(timeout=900))
    for p in processes:
        p.join()
    elapsed = time.perf_counter() - start
    latencies = sorted(x for lat, _ in results for x in lat)
    return {"requests": len(latencies), "failed": sum(f for _, f in results), "rps": len(latencies) / elapsed,
            "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
            "update_s": update_seconds}


def library_floor(index_dir: Path, rounds: int) -> dict[str, float]:
    """The same queries as library calls in this process: what a search costs before any HTTP."""
    import search

    with search.open_index(index_dir) as ix:
        for q in QUERIES:
            ix.search(q, limit=10)
        latencies = []
        start = time.perf_counter()
        for i in range(rounds):
            t = time.perf_counter()
            ix.search(QUERIES[i % len(QUERIES)], limit=10)
            latencies.append(time.perf_counter() - t)
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {"requests": rounds, "failed": 0, "rps": rounds / elapsed, "p50": latencies[rounds // 2] * 1000,
            "p99": latencies[int(rounds * 0.99)] * 1000, "update_s": 0.0}


def change_posts(corpus: Path, count: int, round_number: int) -> None:
    posts = sorted(p for p in corpus.rglob("*.md"))[:count]
    for post in posts:
        with open(post, "a", encoding="utf-8") as f:
            f.write(f"\n\n基准测试第 {round_number} 轮追加的一行。\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=BLOGS)
    parser.add_argument("--requests", type=int, default=500, help="requests per client per run")
    parser.add_argument("--workers", type=int, default=1, help="server processes (zhsearch serve --workers)")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        raise SystemExit(f"no corpus at {args.corpus} (../shared is needed)")
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        shutil.copytree(args.corpus, corpus)
        command = [sys.executable, "-m", "search"]
        subprocess.run([*command, "index", str(corpus), "--index", str(index_dir)], cwd=ROOT, check=True,
                       stderr=subprocess.DEVNULL)
        port = free_port()
        server = subprocess.Popen([*command, "serve", "--index", str(index_dir), "--port", str(port),
                                   "--workers", str(args.workers)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(300):
                try:
                    http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/api/stats")
                    break
                except OSError:
                    time.sleep(0.05)
            load(port, 1, 50)  # warm: the first queries segment words and fill caches
            rows = [("library call (no HTTP)", 1, "idle", library_floor(index_dir, args.requests))]
            update = [*command, "index", str(corpus), "--index", str(index_dir)]
            for clients in (1, 8):
                rows.append(("GET /api/search", clients, "idle", load(port, clients, args.requests)))
                change_posts(corpus, CHANGED_POSTS, clients)
                rows.append(("GET /api/search", clients, f"update of {CHANGED_POSTS} posts",
                             load(port, clients, args.requests, during=update)))
        finally:
            server.terminate()
            server.wait(10)
    print(f"corpus: {args.corpus} ({sum(1 for _ in args.corpus.rglob('*.md'))} .md files), "
          f"{os.cpu_count()} cores, {args.workers} server process(es), {args.requests} requests per client per run")
    print(table(["path", "clients", "while", "requests", "failed", "req/s", "p50 ms", "p99 ms", "update s"],
                [[name, str(c), what, str(r["requests"]), str(r["failed"]), f"{r['rps']:.0f}", f"{r['p50']:.2f}",
                  f"{r['p99']:.2f}", f"{r['update_s']:.1f}" if r["update_s"] else "-"]
                 for name, c, what, r in rows]))


if __name__ == "__main__":
    main()
