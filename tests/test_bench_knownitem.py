"""The known-item query set of bench/knownitem.py: well formed, balanced over its styles, every target a post."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import search

ROOT = Path(__file__).parents[1]
QUERIES = ROOT / "bench" / "knownitem.tsv"
BLOGS = ROOT.parent / "shared" / "corpora" / "blogs"
STYLES = {"keywords", "phrase", "question", "half", "mixed"}


def _rows() -> list[list[str]]:
    lines = QUERIES.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith(("#", "style\t"))]


def test_knownitem_set_balanced_over_styles() -> None:
    rows = _rows()
    assert all(len(row) == 3 and row[0] in STYLES and row[1].strip() for row in rows)
    counts = Counter(row[0] for row in rows)
    assert len(rows) >= 60 and set(counts) == STYLES and len(set(counts.values())) == 1, counts
    assert len({row[2] for row in rows}) == len(rows), "each query has its own target post"


@pytest.mark.skipif(not BLOGS.is_dir(), reason="needs ../shared/corpora/blogs")
def test_knownitem_targets_are_indexed_posts() -> None:
    for _, query, target in _rows():
        post = search.read_post(BLOGS / target, BLOGS)
        assert not post.draft, f"{query!r}: its target {target} is a draft, which the index leaves out"
