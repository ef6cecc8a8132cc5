"""A fixed set of real queries for latency figures: words and word pairs taken from the blog posts.

Half are single words, half are two words of one sentence typed with a space (`数据库 索引`), drawn with a fixed
seed from jieba's words of ../shared/corpora/blogs (two characters or more, Han or Latin, not a particle or
question word, in at least MIN_POSTS posts). Single words are drawn evenly over the words sorted by how many posts
hold them, so that the set has common words (thousands of hits at 20k posts) as well as rare ones. The set is
written to bench/realqueries.txt, one query a line, and read by speed.py's `--warm-set real`.

    python bench/realqueries.py              # writes bench/realqueries.txt (200 queries)
    python bench/realqueries.py --count 100 --seed 2 --out FILE
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _util import BLOGS, corpus_or_exit, post_files, split_front_matter  # noqa: E402

OUT = HERE / "realqueries.txt"
MIN_POSTS = 3
_WORD = re.compile(r"[\u4e00-\u9fff]{2,}|[A-Za-z][A-Za-z0-9+#.]{2,}")
_SENTENCE = re.compile(r"[。！？；\n]")


def load(path: Path) -> list[str]:
    """The queries of a set file: one a line, # lines and blank lines skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def make(corpus: Path, count: int, seed: int) -> list[str]:
    import jieba

    from search.text.segmentation import QUESTION_WORDS

    jieba.setLogLevel(60)
    posts_of: Counter[str] = Counter()
    sentences: list[list[str]] = []
    for file in post_files(corpus):
        _, body = split_front_matter(file.read_text(encoding="utf-8", errors="replace"))
        body = re.sub(r"<[^>]+>|`[^`]*`|\([^)]*\)", " ", body)  # tags, inline code, link targets
        words_of_post: set[str] = set()
        for sentence in _SENTENCE.split(body):
            words = [w for w in jieba.cut(sentence) if _WORD.fullmatch(w) and w not in QUESTION_WORDS]
            words_of_post.update(words)
            if len(words) >= 2:
                sentences.append(words)
        posts_of.update(words_of_post)
    rng = random.Random(seed)
    common = sorted((w for w, n in posts_of.items() if n >= MIN_POSTS), key=lambda w: (-posts_of[w], w))
    singles = [common[int(i * len(common) / (count // 2))] for i in range(count // 2)]
    pairs: list[str] = []
    while len(pairs) < count - len(singles):
        words = rng.choice(sentences)
        i = rng.randrange(len(words) - 1)
        a, b = words[i], words[i + 1 + rng.randrange(min(3, len(words) - i - 1))]
        pair = f"{a} {b}"
        if a != b and posts_of[a] >= MIN_POSTS and posts_of[b] >= MIN_POSTS and pair not in pairs:
            pairs.append(pair)
    return singles + pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    corpus = corpus_or_exit(BLOGS)
    queries = make(corpus, args.count, args.seed)
    header = (f"# {len(queries)} queries from ../shared/corpora/blogs: `python bench/realqueries.py "
              f"--count {args.count} --seed {args.seed}` (see its docstring)\n")
    args.out.write_text(header + "\n".join(queries) + "\n", encoding="utf-8")
    print(f"wrote {len(queries)} queries to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
