"""The naive baseline that zhsearch is measured against.

This is what the issue calls the naive way: jieba's ``jieba.analyse.ChineseAnalyzer``
with Whoosh's defaults and BeautifulSoup, all in one process. It is deliberately
plain — no caching, no multiprocessing, no incremental update — so that the
speed benchmark compares zhsearch with what a person would write in an afternoon
from the Whoosh quick start.

Parts:
  read_post     file -> dict (YAML front matter via yaml.safe_load, body via
                BeautifulSoup(lxml).get_text())
  build         full rebuild: create_in + writer.add_document for every post
  search        QueryParser("body") default (AND of terms; ``any_word=True``: Whoosh's
                OrGroup, any of them), top N hits, and ``hit.highlights("body")``
                for each hit when snippets are asked
  main          ``python bench/naive.py index CORPUS DIR`` and
                ``python bench/naive.py search DIR QUERY...``, so that a cold
                query can be timed as a new process

The ``index`` command prints one JSON line (posts, errors, seconds) on stdout.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from _util import post_files, split_front_matter


def _as_text(value: object) -> str:
    # Front matter lists may nest (Hexo's [[a, b], c] category hierarchies).
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(_as_text(v) for v in value)
    return str(value)


def read_post(path: Path) -> dict[str, str]:
    """One post as the fields of the naive schema."""
    import yaml
    from bs4 import BeautifulSoup

    text = path.read_text(encoding="utf-8", errors="replace")
    meta: dict = {}
    header, body = split_front_matter(text)
    if header is not None:
        try:
            loaded = yaml.safe_load(header)
        except yaml.YAMLError:
            loaded = None
        if isinstance(loaded, dict):
            meta = loaded
    return {
        "path": str(path),
        "title": _as_text(meta.get("title")) or path.stem,
        "author": _as_text(meta.get("author")),
        "categories": _as_text(meta.get("categories")),
        "body": BeautifulSoup(body, "lxml").get_text(),
    }


def make_schema():
    from jieba.analyse import ChineseAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    analyzer = ChineseAnalyzer()
    return Schema(
        path=ID(stored=True, unique=True),
        title=TEXT(stored=True, analyzer=analyzer),
        author=TEXT(analyzer=analyzer),
        categories=TEXT(analyzer=analyzer),
        body=TEXT(stored=True, analyzer=analyzer),
    )


def build(corpus: Path, index_dir: Path) -> dict[str, float]:
    """Full rebuild of the naive index; returns posts, errors and seconds."""
    from whoosh import index

    start = time.perf_counter()
    if index_dir.exists():
        shutil.rmtree(index_dir)
    index_dir.mkdir(parents=True)
    ix = index.create_in(str(index_dir), make_schema())
    writer = ix.writer()
    posts = errors = 0
    for path in post_files(corpus):
        try:
            doc = read_post(path)
        except (OSError, ValueError):
            errors += 1
            continue
        writer.add_document(**doc)
        posts += 1
    writer.commit()
    return {"posts": posts, "errors": errors, "seconds": time.perf_counter() - start}


class NaiveIndex:
    """An open naive index; ``search`` returns plain dicts (this is a baseline)."""

    def __init__(self, index_dir: Path, any_word: bool = False):
        from whoosh import index
        from whoosh.qparser import AndGroup, OrGroup, QueryParser

        self._ix = index.open_dir(str(index_dir))
        self._searcher = self._ix.searcher()
        self._parser = QueryParser("body", self._ix.schema, group=OrGroup if any_word else AndGroup)

    def search(self, query: str, limit: int = 10, snippets: bool = True) -> tuple[int, list[dict]]:
        results = self._searcher.search(self._parser.parse(query), limit=limit)
        hits = []
        for hit in results:
            hits.append({
                "path": hit["path"],
                "title": hit["title"],
                "snippet": hit.highlights("body") if snippets else "",
            })
        return len(results), hits

    def close(self) -> None:
        self._searcher.close()
        self._ix.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="naive.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_index = sub.add_parser("index", help="full rebuild of a naive index")
    p_index.add_argument("corpus", type=Path)
    p_index.add_argument("index_dir", type=Path)
    p_search = sub.add_parser("search", help="query a naive index")
    p_search.add_argument("index_dir", type=Path)
    p_search.add_argument("query", nargs="+")
    p_search.add_argument("-n", type=int, default=10, help="hits to show (default 10)")
    p_search.add_argument("--no-snippets", action="store_true", help="skip highlights")
    p_search.add_argument("--any", action="store_true", help="posts with any of the words (default: all)")
    args = parser.parse_args(argv)

    if args.command == "index":
        report = build(args.corpus, args.index_dir)
        print(json.dumps(report))
        return 0
    idx = NaiveIndex(args.index_dir, any_word=args.any)
    total, hits = idx.search(" ".join(args.query), limit=args.n, snippets=not args.no_snippets)
    out = sys.stdout
    out.write(f"{total} hits\n")
    for hit in hits:
        out.write(f"{hit['title']}\n  {hit['path']}\n  {hit['snippet']}\n")
    idx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
