"""Helpers shared by the benchmark scripts (not part of zhsearch).

Parts:
  paths         ROOT, SHARED, BLOGS, DATA: where the project, ../shared and the
                generated data live; ``zhsearch_script`` finds the console script
                without going through a pyenv shim
  front matter  ``split_front_matter``: the same lenient split the naive engine uses
  measuring     ``run_measured``: one child process timed (wall clock) with its
                peak memory read two ways — exact per-process peak from wait4(),
                and a sampled peak of the summed RSS/PSS of the whole process tree
  figures       ``median``, ``dir_size``, ``fmt`` and ``table`` for plain aligned text
  quality runs  ``corpus_or_exit``, ``fold`` (NFKC, lower case, traditional -> simplified),
                ``build_engines`` (zhsearch, naive and FTS5 indexes in one work folder, reused
                with ``reuse``) and ``Fts5Peer``: SQLite FTS5 with its trigram tokenizer, the
                peer a Python user reaches for first
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BLOGS = SHARED / "corpora" / "blogs"
DATA = ROOT / "bench" / "data"
POST_SUFFIXES = (".md", ".markdown", ".html", ".htm")

_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def split_front_matter(text: str) -> tuple[str | None, str]:
    """``(yaml_text, body)``; yaml_text is None when the post has no front matter."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return None, text
    return m.group(1), text[m.end():]


def post_files(corpus: Path) -> list[Path]:
    return sorted(
        p for p in corpus.rglob("*") if p.is_file() and p.suffix.lower() in POST_SUFFIXES
    )


def zhsearch_script() -> str | None:
    """Path of the installed ``zhsearch`` console script, never a pyenv shim.

    A pyenv shim is a bash script that re-resolves the interpreter on every call
    (about 100 ms), which would swamp a cold-query figure.
    """
    candidates = [Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]
    for folder in candidates:
        found = shutil.which("zhsearch", path=str(folder))
        if found:
            return found
    found = shutil.which("zhsearch")
    if found and "/shims/" not in found:
        return found
    return None


# --------------------------------------------------------------------- measuring

@dataclass
class Run:
    """One measured child process."""

    argv: list[str]
    returncode: int
    wall: float              # seconds, fork to reap
    maxrss_mb: float         # wait4(): peak RSS of the largest single process in the tree
    tree_rss_mb: float       # sampled peak of the sum of RSS over the process tree
    tree_pss_mb: float       # same with PSS (shared pages split between processes)
    procs: int               # most processes seen at once in the tree
    stdout: str
    stderr: str

    def check(self, ok: tuple[int, ...] = (0,)) -> Run:
        """Raise unless the exit status is one of ``ok``."""
        if self.returncode not in ok:
            raise RuntimeError(
                f"command failed ({self.returncode}): {' '.join(self.argv)}\n{self.stderr[-2000:]}"
            )
        return self


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: ppid follows the last ")".
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1:
            kids.setdefault(int(fields[1]), []).append(int(entry.name))
    return kids


def _tree_memory(root: int) -> tuple[int, int, int]:
    """(rss_kb, pss_kb, n_procs) summed over ``root`` and its descendants."""
    kids = _children_map()
    stack, rss, pss, n = [root], 0, 0, 0
    while stack:
        pid = stack.pop()
        stack.extend(kids.get(pid, ()))
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
            n += 1
        except (OSError, ValueError, IndexError):
            continue
    return rss, pss, n


class _Sampler(threading.Thread):
    def __init__(self, pid: int, interval: float):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.rss = self.pss = self.procs = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            rss, pss, n = _tree_memory(self.pid)
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
            self.procs = max(self.procs, n)
            self.stop.wait(self.interval)


def run_measured(
    argv: list[str],
    *,
    cwd: Path | None = None,
    sample: float | None = 0.25,
    env: dict[str, str] | None = None,
) -> Run:
    """Run ``argv`` to completion and measure it.

    Output goes to temporary files rather than pipes so that the child can be
    reaped with ``os.wait4``, whose rusage gives the exact peak RSS of the child
    (Linux folds in the peak of every descendant it waited for: a max, not a sum).
    ``sample`` (seconds) turns on the tree sampler, which sums RSS and PSS of all
    live processes; it can miss a peak shorter than the interval. Not shorter than
    0.25 s: every 50 ms, reading each process's smaps_rollup took 20-25 % of a core
    (top) beside a build's two workers on this 2-core machine.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        sampler = None
        if sample:
            sampler = _Sampler(proc.pid, sample)
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if sampler:
            sampler.stop.set()
            sampler.join()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    maxrss = usage.ru_maxrss / 1024  # kilobytes on Linux
    return Run(
        argv=list(argv),
        returncode=proc.returncode,
        wall=wall,
        maxrss_mb=maxrss,
        tree_rss_mb=(sampler.rss / 1024) if sampler else maxrss,
        tree_pss_mb=(sampler.pss / 1024) if sampler else 0.0,
        procs=sampler.procs if sampler else 1,
        stdout=stdout,
        stderr=stderr,
    )


# ----------------------------------------------------------------------- figures

def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def dir_size(path: Path) -> int:
    """Bytes of all files under ``path`` (apparent size, as ``du -b`` counts)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:.0f}{suffix}"
    return f"{value:.{digits}f}{suffix}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain text table, columns padded to the widest cell (CJK counted double)."""

    def width(s: str) -> int:
        return sum(2 if "\u2e80" <= ch <= "\uffef" else 1 for ch in s)

    def pad(s: str, n: int) -> str:
        return s + " " * (n - width(s))

    widths = [max(width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(pad(c, w) for c, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(pad(c, w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------ quality runs

DEFAULT_WORKDIR = ROOT / "bench" / "out" / "quality"


def corpus_or_exit(corpus: Path) -> Path:
    """The corpus folder, resolved; exits with a one-line message when it is absent.

    Without ../shared (a user's machine) there is nothing to measure, which is no error: status 0.
    """
    if not corpus.is_dir():
        print(f"no corpus at {corpus}: nothing to measure", file=sys.stderr)
        sys.exit(0 if corpus == BLOGS else 2)
    return corpus.resolve()


_fold_table: dict[int, str] = {}


def fold(text: str) -> str:
    """NFKC, lower case, then OpenCC t2s one character at a time.

    The engine's own folding is not public API. Character by character as the engine does, so that a
    phrase table (乾隆 keeps 乾) cannot make the two foldings disagree.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    new = {ch for ch in text if ord(ch) > 0x2E7F and ord(ch) not in _fold_table}
    if new:
        import opencc

        chars = sorted(new)
        # Newlines keep OpenCC from reading neighbouring characters as one phrase.
        for ch, out in zip(chars, opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")):
            _fold_table[ord(ch)] = out
    return text.translate(_fold_table)


def _zhsearch_index_usable(index_dir: Path) -> bool:
    import search

    try:
        search.open_index(index_dir).close()
    except search.SearchError:  # absent, or built by an engine whose format has changed since
        return False
    return True


@dataclass
class Engines:
    """Where ``build_engines`` put each index."""

    zhsearch: Path
    naive: Path
    fts5: Path


def quality_arguments(description: str) -> argparse.ArgumentParser:
    """The options precision.py and knownitem.py share: the corpus, where their indexes go, and reusing them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--corpus", type=Path, default=BLOGS, help="default: ../shared/corpora/blogs")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR,
                        help=f"indexes go here (default {DEFAULT_WORKDIR})")
    parser.add_argument("--reuse", action="store_true", help="reuse the indexes in --workdir when present")
    return parser


def build_engines(corpus: Path, workdir: Path, reuse: bool, naive_too: bool = True) -> Engines:
    """zhsearch, naive and FTS5 indexes of ``corpus`` under ``workdir``; with ``reuse``, those present are kept."""
    import naive

    import search

    engines = Engines(workdir / "zhsearch", workdir / "naive", workdir / "fts5.sqlite")
    workdir.mkdir(parents=True, exist_ok=True)
    if not (reuse and _zhsearch_index_usable(engines.zhsearch)):
        print(f"building zhsearch index in {engines.zhsearch}", file=sys.stderr)
        search.build_index(corpus, engines.zhsearch)
    if naive_too and not (reuse and engines.naive.is_dir()):
        print(f"building naive index in {engines.naive}", file=sys.stderr)
        naive.build(corpus, engines.naive)
    if not (reuse and engines.fts5.exists()):
        print(f"building FTS5 index in {engines.fts5}", file=sys.stderr)
        Fts5Peer.build(corpus, engines.fts5)
    return engines


class Fts5Peer:
    """SQLite FTS5, trigram tokenizer, over each post's title and text as the naive engine reads them.

    Nothing is folded: a Python user would store the text as it is (FTS5 lower-cases ASCII itself).
    """

    MARK_START, MARK_END = "\x02", "\x03"

    def __init__(self, db_path: Path):
        self._db = sqlite3.connect(db_path)

    @staticmethod
    def _create(db_path: Path) -> sqlite3.Connection:
        db_path.unlink(missing_ok=True)
        db = sqlite3.connect(db_path)
        db.execute("CREATE VIRTUAL TABLE posts USING fts5(path UNINDEXED, title, body, tokenize='trigram')")
        return db

    @classmethod
    def build(cls, corpus: Path, db_path: Path) -> None:
        import naive

        db = cls._create(db_path)
        for file in post_files(corpus):
            post = naive.read_post(file)
            db.execute("INSERT INTO posts VALUES (?, ?, ?)",
                       (file.relative_to(corpus).as_posix(), post["title"], post["body"]))
        db.commit()
        db.close()

    @classmethod
    def build_same_posts(cls, corpus: Path, db_path: Path) -> int:
        """The posts zhsearch indexes (its corpus walk and reader, drafts left out), in one process; their count."""
        import search
        from search.posts.corpus import find_posts

        db = cls._create(db_path)
        files, _ = find_posts(corpus)
        count = 0
        for file in files:
            try:
                post = search.read_post(file, corpus)
            except search.PostError:
                continue
            if not post.draft:
                db.execute("INSERT INTO posts VALUES (?, ?, ?)", (post.path, post.title, post.text))
                count += 1
        db.commit()
        db.close()
        return count

    def close(self) -> None:
        self._db.close()

    def _snippet_spans(self, marked: str) -> tuple[str, list[tuple[int, int]]]:
        """(snippet without the marks, spans the marks enclosed)."""
        pieces: list[str] = []
        spans: list[tuple[int, int]] = []
        at = start = 0
        for piece in re.split(f"([{self.MARK_START}{self.MARK_END}])", marked):
            if piece == self.MARK_START:
                start = at
            elif piece == self.MARK_END:
                spans.append((start, at))
            else:
                pieces.append(piece)
                at += len(piece)
        return "".join(pieces), spans

    def substring(self, needle: str, limit: int | None = None) -> list[tuple[str, str, list[tuple[int, int]]]]:
        """Posts holding ``needle``: (path, snippet, highlighted spans), best first.

        Three characters or more: a trigram MATCH ranked by bm25, with FTS5's snippet(). Shorter: the trigram
        index cannot serve it, so a LIKE scan (unranked), with a snippet cut around instr() by hand.
        """
        if len(needle) >= 3:
            sql = ("SELECT path, snippet(posts, -1, ?, ?, '…', 24) FROM posts WHERE posts MATCH ? ORDER BY rank"
                   + (f" LIMIT {int(limit)}" if limit else ""))
            rows = self._db.execute(sql, (self.MARK_START, self.MARK_END, '"' + needle.replace('"', '""') + '"'))
            return [(path, *self._snippet_spans(marked)) for path, marked in rows]
        like = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql = ("SELECT path, title || char(10) || body FROM posts WHERE title LIKE ? ESCAPE '\\' OR body LIKE ?"
               " ESCAPE '\\' ORDER BY rowid" + (f" LIMIT {int(limit)}" if limit else ""))
        return [(path, *self._cut_around(text, needle)) for path, text in self._db.execute(sql, (like, like))]

    @staticmethod
    def _cut_around(text: str, needle: str) -> tuple[str, list[tuple[int, int]]]:
        """A snippet cut by hand around the first ``needle`` in ``text``, and its span."""
        at = text.lower().find(needle.lower())
        begin = max(0, at - 30)
        return text[begin:at + len(needle) + 30], [(at - begin, at - begin + len(needle))]

    def _where(self, query: str) -> tuple[str, list[str], str | None]:
        """(WHERE clause, its parameters, a short term to cut the snippet around) for a query of words that must
        all stand in a post: a word of 3 characters or more through the trigram index, a shorter one by LIKE."""
        words = [w for w in re.split(r"\s+", query.replace('"', " ")) if w]
        long = [w for w in words if len(w) >= 3]
        short = [w for w in words if len(w) < 3]
        clauses, params = [], []
        if long:
            clauses.append("posts MATCH ?")
            params.append(" AND ".join('"' + w + '"' for w in long))
        for word in short:
            like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append("(title LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\')")
            params += [like, like]
        return " AND ".join(clauses) or "0", params, None if long else (short[0] if short else None)

    def search(self, query: str, limit: int = 10) -> list[tuple[str, str, list[tuple[int, int]]]]:
        """Posts holding every word of ``query``: (path, snippet, highlighted spans). With a word of 3 characters or
        more, by bm25 with FTS5's snippet(); with short words only, a LIKE scan in table order that stops at
        ``limit`` posts (unranked), the snippet cut around the first word by hand."""
        where, params, short = self._where(query)
        if short is None:
            sql = (f"SELECT path, snippet(posts, -1, ?, ?, '…', 24) FROM posts WHERE {where} ORDER BY rank"
                   f" LIMIT {int(limit)}")
            rows = self._db.execute(sql, [self.MARK_START, self.MARK_END, *params])
            return [(path, *self._snippet_spans(marked)) for path, marked in rows]
        sql = f"SELECT path, title || char(10) || body FROM posts WHERE {where} LIMIT {int(limit)}"
        return [(path, *self._cut_around(text, short)) for path, text in self._db.execute(sql, params)]

    def count(self, query: str) -> int:
        """How many posts hold every word of ``query`` (as ``search`` matches them)."""
        where, params, _ = self._where(query)
        return self._db.execute(f"SELECT count(*) FROM posts WHERE {where}", params).fetchone()[0]

    def any_trigram(self, query: str, limit: int = 10) -> list[str]:
        """Paths of the posts holding any trigram of the query's words (split at spaces and punctuation), by bm25."""
        grams = dict.fromkeys(
            word[i:i + 3] for word in re.split(r"[\W_]+", query) for i in range(len(word) - 2))
        if not grams:
            return []
        match = " OR ".join('"' + g.replace('"', '""') + '"' for g in grams)
        rows = self._db.execute("SELECT path FROM posts WHERE posts MATCH ? ORDER BY rank LIMIT ?", (match, limit))
        return [path for (path,) in rows]
