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
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BLOGS = SHARED / "corpora" / "blogs"
DATA = ROOT / "bench" / "data"
POST_SUFFIXES = (".md", ".markdown", ".html", ".htm")

_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


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

    def check(self, ok: tuple[int, ...] = (0,)) -> "Run":
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
