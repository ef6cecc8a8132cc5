"""Generate scale corpora for the speed benchmark: N Hexo posts built from real paragraphs.

    python bench/scale.py 1k 5k 20k          # into bench/data/scale-1k/ ... (git-ignored)
    python bench/scale.py 5k --seed 7 --force

Each generated post is a Hexo post — YAML front matter, then a Markdown body or a
Zhihu-Daily-style HTML body (the users' main format) — whose paragraphs are drawn
from the 707 real posts of ../shared/corpora/blogs. The layout is deterministic for
a given (N, seed, --html-share).

Parts:
  load_pool     real posts -> paragraphs (fenced code kept whole), titles,
                categories, tags, authors, body sizes
  make_post     one post: a real post is the template for its size (so sizes
                follow the real distribution, ±30 %), its format and its blog;
                70 % of paragraphs come from that blog, the rest from any
  generate      N posts under DIR/source/_posts/<category>/, plus a manifest
                DIR.json; ``ensure`` regenerates only when the manifest differs

Without ../shared the script says so and exits 0 (``ensure`` returns None).
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import shutil
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from _util import BLOGS, DATA, post_files, split_front_matter

GENERATOR_VERSION = 1
SIZES = {"1k": 1000, "5k": 5000, "20k": 20000}

# Clause boundaries for cutting titles out of prose.
_CLAUSE = re.compile(r"[。！？；，、：\n]|[.!?;:,](?:\s|$)")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\s#%]+')


@dataclass
class Block:
    text: str
    html: bool       # raw HTML from an HTML post, else a Markdown chunk


@dataclass
class Source:
    blog: str
    title: str
    html: bool
    body_chars: int
    author: str
    categories: list[str]
    tags: list[str]
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Pool:
    sources: list[Source]
    by_blog: dict[str, list[Block]]
    all_blocks: list[Block]
    categories: list[list[str]]
    tags: list[str]
    prose: list[str]        # plain paragraphs long enough to cut titles from


def _strings(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        out: list[str] = []
        for v in value:
            out += _strings(v)
        return out
    return [str(value)]


def _markdown_blocks(body: str) -> list[str]:
    """Blank-line separated chunks; a fenced code block stays one chunk."""
    blocks, current, fenced = [], [], False
    for line in body.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced and not line.strip():
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current and not fenced:
        blocks.append("\n".join(current))
    return [b for b in blocks if b.strip()]


def _html_blocks(body: str) -> list[str]:
    """Lines of an HTML body that carry text (these posts put one element a line)."""
    out = []
    for line in body.splitlines():
        if re.sub(r"<[^>]+>", "", line).strip() and "</" in line:
            out.append(line.strip())
    return out


def load_pool(blogs: Path = BLOGS) -> Pool:
    sources: list[Source] = []
    for path in post_files(blogs):
        text = path.read_text(encoding="utf-8", errors="replace")
        header, body = split_front_matter(text)
        try:
            meta = yaml.safe_load(header) if header else {}
        except yaml.YAMLError:
            meta = {}
        if not isinstance(meta, dict):
            meta = {}
        is_html = body.lstrip().startswith("<")
        chunks = _html_blocks(body) if is_html else _markdown_blocks(body)
        if not chunks:
            continue
        sources.append(Source(
            blog=path.relative_to(blogs).parts[0],
            title=" ".join(_strings(meta.get("title"))) or path.stem,
            html=is_html,
            body_chars=len(body),
            author=" ".join(_strings(meta.get("author"))),
            categories=_strings(meta.get("categories") or meta.get("category")),
            tags=_strings(meta.get("tags")),
            blocks=[Block(c, is_html) for c in chunks],
        ))
    by_blog: dict[str, list[Block]] = {}
    for s in sources:
        by_blog.setdefault(s.blog, []).extend(s.blocks)
    all_blocks = [b for s in sources for b in s.blocks]
    prose = [
        b.text for b in all_blocks
        if not b.html and len(_HAN.findall(b.text)) > 20 and not b.text.startswith(("```", "#", "|", "    "))
    ]
    return Pool(
        sources=sources,
        by_blog=by_blog,
        all_blocks=all_blocks,
        categories=[s.categories for s in sources if s.categories],
        tags=sorted({t for s in sources for t in s.tags}),
        prose=prose,
    )


def _as_html(block: Block) -> str:
    if block.html:
        return block.text
    text = block.text
    if text.lstrip().startswith(("```", "~~~")):
        code = "\n".join(text.splitlines()[1:-1])
        return f"<pre><code>{html.escape(code)}</code></pre>"
    if text.startswith("#"):
        return f"<h2>{html.escape(text.lstrip('#').strip())}</h2>"
    return f"<p>{html.escape(' '.join(text.split()))}</p>"


def _title(rng: random.Random, pool: Pool) -> str:
    roll = rng.random()
    if roll < 0.4 or not pool.prose:
        return rng.choice(pool.sources).title
    clauses = [c.strip(" *>-_`") for c in _CLAUSE.split(rng.choice(pool.prose))]
    clauses = [c for c in clauses if 4 <= len(c) <= 28 and _HAN.search(c)]
    if not clauses:
        return rng.choice(pool.sources).title
    title = rng.choice(clauses)
    if roll > 0.8:
        title += rng.choice(["？", "", "：一些思考", "（笔记）", " 小结"])
    return title


def _q(value: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(value, ensure_ascii=False)


def make_post(rng: random.Random, pool: Pool, number: int, html_share: float) -> tuple[str, str]:
    """``(relative path, file text)`` of post ``number``."""
    template = rng.choice(pool.sources)
    as_html = template.html or rng.random() < html_share
    target = max(200, int(template.body_chars * rng.uniform(0.7, 1.3)))
    own = pool.by_blog[template.blog]
    blocks, size = [], 0
    while size < target:
        block = rng.choice(own if rng.random() < 0.7 else pool.all_blocks)
        text = _as_html(block) if as_html else block.text
        blocks.append(text)
        size += len(text) + 2

    title = _title(rng, pool)
    categories = template.categories or rng.choice(pool.categories)
    tags = rng.sample(pool.tags, k=min(len(pool.tags), rng.randint(0, 3)))
    date = datetime(2013, 1, 1) + timedelta(seconds=rng.randrange(12 * 365 * 86400))

    fm = ["---", f"title: {_q(title)}"]
    if template.author:
        fm.append(f"author: {_q(template.author)}")
    fm.append(f"date: {date:%Y-%m-%d %H:%M:%S}")
    if categories:
        fm.append("categories:")
        fm += [f" - {_q(c)}" for c in categories]
    if tags:
        fm.append("tags:")
        fm += [f"  - {_q(t)}" for t in tags]
    fm.append("---")
    if as_html:
        body = (
            '<div class="main-wrap content-wrap">\n<div class="answer">\n<div class="content">\n'
            + "\n".join(blocks)
            + "\n</div>\n</div>\n</div>\n"
        )
    else:
        body = "\n\n".join(blocks) + "\n"

    folder = _UNSAFE_NAME.sub("-", categories[0]).strip("-.")[:40] if categories else ""
    stem = _UNSAFE_NAME.sub("-", title).strip("-.")[:60] if rng.random() < 0.4 else "post"
    name = f"{date:%Y-%m-%d}-{number:05d}-{stem or 'post'}.md"
    rel = f"source/_posts/{folder or 'uncategorized'}/{name}"
    return rel, "\n".join(fm) + "\n\n" + body


def generate(n: int, out_dir: Path, seed: int = 0, html_share: float = 0.25, pool: Pool | None = None) -> dict:
    pool = pool or load_pool()
    rng = random.Random(f"zhsearch-scale:{seed}:{n}:{html_share}")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    total = 0
    for i in range(n):
        rel, text = make_post(rng, pool, i, html_share)
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        total += len(text.encode("utf-8"))
    manifest = {
        "version": GENERATOR_VERSION, "posts": n, "seed": seed,
        "html_share": html_share, "bytes": total,
    }
    out_dir.with_suffix(".json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def ensure(n: int, seed: int = 0, html_share: float = 0.25, out: Path = DATA, force: bool = False) -> Path | None:
    """The scale corpus of ``n`` posts, generated if missing; None without ../shared."""
    if not BLOGS.is_dir():
        print(f"scale: {BLOGS} is absent; cannot generate a scale corpus", file=sys.stderr)
        return None
    label = next((k for k, v in SIZES.items() if v == n), str(n))
    out_dir = out / f"scale-{label}"
    manifest_path = out_dir.with_suffix(".json")
    wanted = {"version": GENERATOR_VERSION, "posts": n, "seed": seed, "html_share": html_share}
    if not force and out_dir.is_dir() and manifest_path.is_file():
        have = json.loads(manifest_path.read_text(encoding="utf-8"))
        if all(have.get(k) == v for k, v in wanted.items()):
            return out_dir
    print(f"scale: generating {n} posts into {out_dir} ...", file=sys.stderr)
    manifest = generate(n, out_dir, seed=seed, html_share=html_share)
    print(f"scale: {n} posts, {manifest['bytes'] / 1e6:.1f} MB", file=sys.stderr)
    return out_dir


def parse_size(text: str) -> int:
    text = text.strip().lower()
    if text in SIZES:
        return SIZES[text]
    if text.endswith("k"):
        return int(float(text[:-1]) * 1000)
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate scale corpora (bench/data/scale-N).")
    parser.add_argument("sizes", nargs="*", default=["1k"], help="1k, 5k, 20k or a number (default 1k)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--html-share", type=float, default=0.25,
                        help="share of Markdown-template posts written as HTML (default 0.25)")
    parser.add_argument("--out", type=Path, default=DATA)
    parser.add_argument("--force", action="store_true", help="regenerate even if up to date")
    args = parser.parse_args(argv)
    if not BLOGS.is_dir():
        print(f"scale: {BLOGS} is absent; nothing generated", file=sys.stderr)
        return 0
    for size in args.sizes:
        path = ensure(parse_size(size), args.seed, args.html_share, args.out, args.force)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
