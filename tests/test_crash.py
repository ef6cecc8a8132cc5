"""Never lose the index: kill -9 trials, two writers, searches during writes, damaged-index messages, hostile trees.

The kill trials SIGKILL a writer process (`build_index` or `update_index`, after a few posts of the corpus
changed) at a random moment, then check that the index answers with one whole state (the old corpus's results or
the new one's, each computed beforehand with a clean build) and that the next `update_index` completes the work.
The CI variant runs a few trials; the `slow` variant runs 100+ and is skipped unless `ZHSEARCH_SLOW=1` or
`-m slow` is given. `ZHSEARCH_SEED` replays the random delays of a run.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

import search
from search.store import generations, layout
from search.cli import main

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux (/proc, flock, fork)")

# -- the corpus: 30 tiny posts, and the same corpus after a few changes ------------------------------------------

QUERIES = ("蝴蝶", "花园", '"第2篇"')


def _post(title: str, body: str, day: int = 1) -> str:
    return f"---\ntitle: {title}\ndate: 2020-01-{day:02d}\ncategories: [昆虫]\n---\n{body}\n"


OLD: dict[str, str] = {
    f"posts/p{i:02d}.md": _post(f"第{i}篇", f"今天的文章讲{'蝴蝶' if i % 3 == 0 else '蜻蜓'}和花园。", i % 28 + 1)
    for i in range(30)
}
NEW = dict(OLD)
NEW["posts/p03.md"] = _post("第3篇", "今天的文章讲蜻蜓和花园。")       # loses 蝴蝶
NEW["posts/p04.md"] = _post("第4篇", "今天的文章讲蝴蝶和花园。")       # gains 蝴蝶
del NEW["posts/p06.md"]                                                 # deleted
NEW["posts/moved/p09.md"] = NEW.pop("posts/p09.md")                     # renamed
NEW["posts/p30.md"] = _post("新的一篇", "新来的文章也讲蝴蝶和花园。")  # added

State = tuple[frozenset[str], ...]


def write_corpus(root: Path, posts: dict[str, str]) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    for rel, text in posts.items():
        file = root / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    return root


def state(index_dir: Path) -> State:
    """What the index answers: the posts each of QUERIES finds (花园 is in every post)."""
    with search.open_index(index_dir) as ix:
        return tuple(frozenset(h.path for h in ix.search(q, limit=None)) for q in QUERIES)


def leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("gen-*") if "." in p.name)


@pytest.fixture(scope="module")
def states(pristine: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, State]:
    """The old and the new corpus's answers, from clean builds."""
    work = tmp_path_factory.mktemp("states")
    search.build_index(write_corpus(work / "new", NEW), work / "index-new", workers=1)
    result = {"old": state(pristine[1]), "new": state(work / "index-new")}
    assert result["old"] != result["new"]
    assert result["new"][0] == {f"posts/p{i:02d}.md" for i in (0, 4, 12, 15, 18, 21, 24, 27, 30)} | {
        "posts/moved/p09.md"}
    return result


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A corpus folder and an index of its old state; trials copy the index and rewrite the corpus in place.

    Built twice, so that the index has a previous generation too, and a writer's commit removes one.
    """
    work = tmp_path_factory.mktemp("trials")
    corpus = write_corpus(work / "corpus", OLD)
    for _ in range(2):
        search.build_index(corpus, work / "pristine-index", workers=1)
    return corpus, work / "pristine-index"


# -- processes --------------------------------------------------------------------------------------------------

# SIGHUP ignored (and so in its workers): when a killed writer leaves stopped workers behind, the kernel sends
# them SIGHUP, which would end them before a test can see what they hold.
WRITER = ("import signal, sys, search; signal.signal(signal.SIGHUP, signal.SIG_IGN); "
          "getattr(search, sys.argv[1])(sys.argv[2], sys.argv[3], workers=int(sys.argv[4]))")


def start_writer(kind: str, corpus: Path, index_dir: Path, workers: int) -> subprocess.Popen:
    # A session of its own, so that its build workers can be found (and cleaned up) after it is killed.
    return subprocess.Popen([sys.executable, "-c", WRITER, kind, str(corpus), str(index_dir), str(workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def session_members(sid: int) -> list[int]:
    """Live processes of session `sid` (a writer and the workers it forked, even after it died)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:  # state, ppid, pgrp, session
            members.append(int(entry.name))
    return members


def reap_session(sid: int, grace: float) -> list[int]:
    """Wait up to `grace` s for what is left of session `sid` to exit; kill -9 and return the pids still there."""
    deadline = time.monotonic() + grace
    while (left := session_members(sid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


# -- 1. kill -9 trials ------------------------------------------------------------------------------------------

SEED = int(os.environ.get("ZHSEARCH_SEED", time.time_ns() % 1_000_000))
_typical: dict[tuple[str, int], float] = {}


def typical_duration(kind: str, workers: int, pristine: tuple[Path, Path], states: dict[str, State],
                     work: Path) -> float:
    """How long an uninterrupted writer takes, measured once per kind (a check that it ends in the new state)."""
    if (kind, workers) not in _typical:
        corpus, index_dir = prepare_trial(pristine, work / "measure")
        started = time.monotonic()
        proc = start_writer(kind, corpus, index_dir, workers)
        _, err = proc.communicate(timeout=300)
        _typical[kind, workers] = time.monotonic() - started
        assert proc.returncode == 0, err.decode("utf-8", "replace")
        assert state(index_dir) == states["new"]
    return _typical[kind, workers]


def prepare_trial(pristine: tuple[Path, Path], index_dir: Path) -> tuple[Path, Path]:
    corpus, pristine_index = pristine
    write_corpus(corpus, OLD)
    shutil.rmtree(index_dir, ignore_errors=True)
    shutil.copytree(pristine_index, index_dir)
    write_corpus(corpus, NEW)
    return corpus, index_dir


def kill_trial(kind: str, workers: int, delay: float, pristine: tuple[Path, Path], states: dict[str, State],
               index_dir: Path) -> str:
    """One trial; returns which state the killed writer left ('old' or 'new'), or raises AssertionError."""
    corpus, index_dir = prepare_trial(pristine, index_dir)
    proc = start_writer(kind, corpus, index_dir, workers)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    where = f"{kind} workers={workers} killed after {delay:.3f} s (ZHSEARCH_SEED={SEED})"

    seen = state(index_dir)  # never an error
    assert seen in (states["old"], states["new"]), f"{where}: a mixed state {seen}"
    left = "old" if seen == states["old"] else "new"

    # Workers of a killed build may run on for a moment; they must not keep the index locked meanwhile.
    report = search.update_index(corpus, index_dir, workers=1, wait=0.5)
    assert state(index_dir) == states["new"], f"{where}: update after the kill left {report}"
    hung = reap_session(proc.pid, grace=30)
    assert not hung, f"{where}: build workers {hung} still ran 30 s after their parent was killed"
    search.update_index(corpus, index_dir, workers=1, wait=5)  # the next writer cleans what they left
    assert leftovers(index_dir) == [], where
    assert len(list(index_dir.glob("gen-*"))) <= 2, where
    return left


def run_trials(kind: str, workers: int, trials: int, pristine, states, tmp_path: Path) -> dict[str, int]:
    typical = typical_duration(kind, workers, pristine, states, tmp_path)
    rng = random.Random(f"{SEED}-{kind}-{workers}")
    outcomes = {"old": 0, "new": 0}
    for trial in range(trials):
        outcomes[kill_trial(kind, workers, rng.uniform(0, typical), pristine, states, tmp_path / f"t{trial}")] += 1
        shutil.rmtree(tmp_path / f"t{trial}")
    print(f"{kind} workers={workers}: {trials} kills within {typical:.2f} s, left {outcomes}")
    return outcomes


WRITERS = [("build_index", 1), ("build_index", 2), ("update_index", 1), ("update_index", 2)]
WRITER_IDS = [f"{kind}-w{workers}" for kind, workers in WRITERS]
slow = pytest.mark.skipif("os.environ.get('ZHSEARCH_SLOW') != '1' and 'slow' not in config.getoption('markexpr')",
                          reason="slow: set ZHSEARCH_SLOW=1 or run `pytest -m slow`")


@pytest.mark.parametrize(("kind", "workers"), WRITERS, ids=WRITER_IDS)
def test_kill_writer_leaves_whole_state(kind, workers, pristine, states, tmp_path):
    run_trials(kind, workers, 2, pristine, states, tmp_path)


@slow
@pytest.mark.slow
@pytest.mark.parametrize(("kind", "workers"), WRITERS, ids=WRITER_IDS)
def test_kill_writer_leaves_whole_state_many(kind, workers, pristine, states, tmp_path):
    run_trials(kind, workers, 30, pristine, states, tmp_path)


# A writer that SIGKILLs itself just before its Nth rename, replace, unlink or rmdir: every step of the commit
# protocol (and of Whoosh's own commit inside the new generation) gets its crash, deterministically. Uninterrupted,
# it prints the operations it made.
STEP_KILLER = textwrap.dedent("""
    import json, os, signal, sys
    import search
    limit, done = int(sys.argv[5]), []
    def killing(name, real):
        def call(path, *args, **kwargs):
            done.append(f"{name} {os.path.basename(path)}")
            if len(done) == limit:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(path, *args, **kwargs)
        return call
    for name in ("rename", "replace", "unlink", "rmdir"):
        setattr(os, name, killing(name, getattr(os, name)))
    getattr(search, sys.argv[1])(sys.argv[2], sys.argv[3], workers=int(sys.argv[4]))
    print(json.dumps(done))
""")


def step_kills(kind: str, pristine, states, tmp_path: Path, chosen: Callable[[list[str]], list[int]]) -> list[str]:
    """Kill `kind` before each chosen step; returns the operations the uninterrupted writer makes."""
    corpus, index_dir = prepare_trial(pristine, tmp_path / "count")
    done = subprocess.run([sys.executable, "-c", STEP_KILLER, kind, str(corpus), str(index_dir), "1", "0"],
                          capture_output=True, text=True, check=True)
    operations = json.loads(done.stdout)
    for step in chosen(operations):
        corpus, index_dir = prepare_trial(pristine, tmp_path / "index")
        proc = subprocess.run([sys.executable, "-c", STEP_KILLER, kind, str(corpus), str(index_dir), "1",
                               str(step)], capture_output=True)
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        where = f"{kind} killed before file operation {step} of {len(operations)} ({operations[step - 1]})"
        assert state(index_dir) in (states["old"], states["new"]), where
        search.update_index(corpus, index_dir, workers=1, wait=5)
        assert state(index_dir) == states["new"], where
        assert leftovers(index_dir) == [], where
    return operations


def commit_steps(operations: list[str]) -> list[int]:
    """The steps around the commit point: the new generation's rename, CURRENT's replace, and the first and
    last operations of removing the oldest generation."""
    rename = next(i for i, op in enumerate(operations, 1) if op.startswith("rename gen-"))
    return sorted({rename - 1, rename, rename + 1, rename + 2, len(operations)})


def test_kill_update_around_commit(pristine, states, tmp_path):
    operations = step_kills("update_index", pristine, states, tmp_path, commit_steps)
    assert any(op.startswith("replace CURRENT") for op in operations)
    assert any(op.startswith("rmdir gen-") for op in operations)  # the oldest generation was removed


@slow
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["update_index", "build_index"])
def test_kill_writer_at_every_file_operation(kind, pristine, states, tmp_path):
    operations = step_kills(kind, pristine, states, tmp_path, lambda ops: list(range(1, len(ops) + 1)))
    print(f"{kind}: killed before each of {len(operations)} file operations")


# -- 2. two writers ---------------------------------------------------------------------------------------------

LOCK_HOLDER = ("import sys, time; from pathlib import Path; from search.store import generations\n"
               "with generations.write_lock(Path(sys.argv[1]), 0):\n"
               "    print('locked', flush=True); time.sleep(300)")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "search", *args], capture_output=True, text=True, timeout=120)


def test_second_writer_names_lock_holder_until_it_is_killed(tmp_path):
    corpus, index_dir = write_corpus(tmp_path / "corpus", OLD), tmp_path / "index"
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(index_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(search.IndexLocked, match=f"pid {holder.pid} "):
            search.build_index(corpus, index_dir, workers=1, wait=0.5)
        with pytest.raises(search.IndexLocked, match=f"pid {holder.pid} "):
            search.update_index(corpus, index_dir, workers=1, wait=0)
        result = cli("index", str(corpus), "--index", str(index_dir), "--wait", "0.5")
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and f"pid {holder.pid} " in result.stderr, result.stderr
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    report = search.build_index(corpus, index_dir, workers=1, wait=0)
    assert report.indexed == len(OLD)


def test_lock_dies_with_a_killed_build(tmp_path):
    # Regression: build workers inherited the write lock, so a build killed with kill -9 left the index locked
    # (by a dead pid) for as long as its workers ran on -- with a large corpus, forever: they blocked writing to
    # a queue nobody reads. Workers now close their copy of the lock and die with the build (on Linux).
    corpus, index_dir = write_corpus(tmp_path / "corpus", NEW), tmp_path / "index"
    proc = start_writer("build_index", corpus, index_dir, 2)
    try:
        deadline = time.monotonic() + 120
        while len(session_members(proc.pid)) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGSTOP)  # the build and its two workers, frozen mid-build
        if proc.poll() is not None or len(session_members(proc.pid)) < 3:
            pytest.skip("the build ended before both its workers were seen")
        with pytest.raises(search.IndexLocked, match=f"pid {proc.pid} "):
            search.build_index(corpus, index_dir, workers=1, wait=0.2)
        proc.kill()  # the build itself
        proc.wait()
        # Its workers go on (nothing keeps a worker stopped outside this test): one frozen before it could drop
        # its copy of the lock and arm its death signal does both now, sees its build gone and exits.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGCONT)
        assert search.build_index(corpus, index_dir, workers=1, wait=30).indexed == len(NEW)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reap_session(proc.pid, grace=0)
        proc.stdout.close()
        proc.stderr.close()


@slow
@pytest.mark.slow
def test_workers_of_a_killed_build_exit(tmp_path):
    posts = {f"p{i:04d}.md": _post(f"第{i}篇关于花园和蝴蝶的一个长标题", "今天的文章讲蝴蝶和花园。" * 3, i % 28 + 1)
             for i in range(800)}
    proc = start_writer("build_index", write_corpus(tmp_path / "corpus", posts), tmp_path / "index", 2)
    deadline = time.monotonic() + 120
    while len(session_members(proc.pid)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    assert reap_session(proc.pid, grace=90) == []


# -- 3. searches during writes ----------------------------------------------------------------------------------

WRITE_LOOP = textwrap.dedent("""
    import json, shutil, sys
    from pathlib import Path
    import search
    corpus, index_dir, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    old, new = json.loads(Path(sys.argv[4]).read_text(encoding="utf-8"))
    for i in range(rounds):
        shutil.rmtree(corpus)
        for rel, text in (new if i % 2 == 0 else old).items():
            (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
            (corpus / rel).write_text(text, encoding="utf-8")
        writer = search.build_index if i % 4 == 3 else search.update_index
        writer(corpus, index_dir, workers=1, wait=30)
        print(i, flush=True)
""")


def test_searches_during_writes_see_whole_states(pristine, states, tmp_path):
    corpus, index_dir = pristine[0], tmp_path / "index"
    write_corpus(corpus, OLD)
    shutil.copytree(pristine[1], index_dir)
    posts = tmp_path / "posts.json"
    posts.write_text(json.dumps([OLD, NEW], ensure_ascii=False), encoding="utf-8")
    writer = subprocess.Popen([sys.executable, "-c", WRITE_LOOP, str(corpus), str(index_dir), "4", str(posts)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = {"old": 0, "new": 0}
    searches = 0
    try:
        while writer.poll() is None:
            answer = state(index_dir)  # open, search, close: never an error, always a whole state
            assert answer in (states["old"], states["new"]), answer
            seen["old" if answer == states["old"] else "new"] += 1
            searches += 1
        _, err = writer.communicate()
        assert writer.returncode == 0, err.decode("utf-8", "replace")
        assert searches > 0
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert state(index_dir) == states["old"]  # the last of 4 rounds (a full build) writes the old corpus
    print(f"{searches} searches during 4 writes: {seen}")


def test_index_opened_before_two_updates_still_answers(pristine, states, tmp_path):
    corpus, index_dir = pristine[0], tmp_path / "index"
    write_corpus(corpus, OLD)
    shutil.copytree(pristine[1], index_dir)
    with search.open_index(index_dir) as ix:
        for posts in (NEW, OLD):
            write_corpus(corpus, posts)
            search.update_index(corpus, index_dir, workers=1)
        assert {h.path for h in ix.search("蝴蝶", limit=None)} == states["old"][0]
        assert ix.stats().posts == len(OLD)


def test_pinned_generation_survives_writers(pristine, tmp_path):
    # What a reader gets from generations.open_generation: writers keep its generation until it lets go.
    corpus, index_dir = pristine[0], tmp_path / "index"
    write_corpus(corpus, OLD)
    shutil.copytree(pristine[1], index_dir)
    gen, pin = generations.open_generation(index_dir)
    try:
        for posts in (NEW, OLD, NEW):
            write_corpus(corpus, posts)
            search.update_index(corpus, index_dir, workers=1)
        assert (gen / layout.POSTS).is_file()
    finally:
        os.close(pin)
    search.update_index(corpus, index_dir, workers=1)  # nothing changed: cleans up only
    write_corpus(corpus, OLD)
    search.update_index(corpus, index_dir, workers=1)
    assert not gen.exists()
    assert len(list(index_dir.glob("gen-*"))) == 1  # the live one: older ones go once no reader holds them


# -- 4. damaged index: the message says how to recover, and the recovery works ----------------------------------

def cli_runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        return CliRunner()  # click >= 8.2 keeps stderr apart


def _live(index_dir: Path) -> Path:
    return generations.current_generation(index_dir)


def _current_names_removed_generation(index_dir: Path) -> None:
    shutil.rmtree(_live(index_dir))


def _lexicon_missing(index_dir: Path) -> None:
    (_live(index_dir) / layout.LEXICON).unlink()


def _ranges_truncated(index_dir: Path) -> None:
    path = _live(index_dir) / layout.RANGES_BINARY
    path.write_bytes(path.read_bytes()[:20])


def _postings_truncated(index_dir: Path) -> None:
    for file in _live(index_dir).glob("MAIN_*.pst"):
        with open(file, "r+b") as f:
            f.truncate(10)


def _toc_missing(index_dir: Path) -> None:
    for toc in _live(index_dir).glob("*.toc"):
        toc.unlink()


DAMAGE = [_current_names_removed_generation, _lexicon_missing, _ranges_truncated,
          _postings_truncated, _toc_missing]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda d: d.__name__.lstrip("_"))
def test_cli_damaged_index_says_rebuild_and_rebuild_recovers(damage, pristine, states, tmp_path):
    corpus, index_dir = pristine[0], tmp_path / "index"
    write_corpus(corpus, OLD)
    shutil.copytree(pristine[1], index_dir)
    damage(index_dir)
    result = cli_runner().invoke(main, ["search", "蝴蝶", "--index", str(index_dir), "--corpus", str(corpus)])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "zhsearch index --rebuild" in result.stderr, result.stderr
    result = cli_runner().invoke(main, ["index", str(corpus), "--index", str(index_dir), "--rebuild"])
    assert result.exit_code == 0, result.stderr
    assert state(index_dir) == states["old"]
    assert len(list(index_dir.glob("gen-*"))) <= 2


@pytest.mark.parametrize("damage", [_lexicon_missing, _ranges_truncated, _postings_truncated, _toc_missing],
                         ids=lambda d: d.__name__.lstrip("_"))
def test_plain_index_rebuilds_a_damaged_index(damage, pristine, states, tmp_path):
    # cron runs plain `zhsearch index`: it must not report "unchanged" over an index that can't answer
    corpus, index_dir = pristine[0], tmp_path / "index"
    write_corpus(corpus, OLD)
    shutil.copytree(pristine[1], index_dir)
    damage(index_dir)
    report = search.update_index(corpus, index_dir, workers=1)
    assert report.rebuilt and ("damaged" in report.reason or "missing" in report.reason), report.reason
    assert state(index_dir) == states["old"]


# -- 5. hostile corpus trees ------------------------------------------------------------------------------------

def skipped(report: search.BuildReport) -> dict[str, str]:
    return dict(report.skipped)


def test_build_symlink_outside_corpus_skipped(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {"a.md": _post("甲", "花园")})
    (tmp_path / "secret.md").write_text(_post("秘密", "外面的花园"), encoding="utf-8")
    (corpus / "link.md").symlink_to(tmp_path / "secret.md")
    (corpus / "linked-dir").symlink_to(tmp_path, target_is_directory=True)
    report = search.build_index(corpus, tmp_path / "index", workers=1)
    assert report.indexed == 1
    assert "outside the corpus" in skipped(report)["link.md"]
    assert "outside the corpus" in skipped(report)["linked-dir"]


def test_build_symlink_loop_finishes(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {"a/b.md": _post("乙", "花园")})
    (corpus / "a" / "up").symlink_to(corpus, target_is_directory=True)
    (corpus / "a" / "self").symlink_to(corpus / "a" / "self")  # a link to itself
    (corpus / "loop.md").symlink_to("loop.md")
    report = search.build_index(corpus, tmp_path / "index", workers=1)
    assert report.indexed == 1
    assert {"a/up", "a/self", "loop.md"} <= set(skipped(report))


def test_build_broken_symlink_and_directory_named_like_a_post(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {"a.md": _post("甲", "花园"), "x.md/inner.md": _post("丙", "花园")})
    (corpus / "gone.md").symlink_to(corpus / "nowhere.md")
    report = search.build_index(corpus, tmp_path / "index", workers=1)
    assert "broken symlink" in skipped(report)["gone.md"]
    assert report.indexed == 2  # x.md is a folder, and its post is indexed


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_build_unreadable_file_and_folder_named(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {"a.md": _post("甲", "花园"), "locked.md": _post("乙", "花园"),
                                                "closed/b.md": _post("丙", "花园")})
    (corpus / "locked.md").chmod(0)
    (corpus / "closed").chmod(0)
    try:
        report = search.build_index(corpus, tmp_path / "index", workers=1)
    finally:
        (corpus / "locked.md").chmod(0o644)
        (corpus / "closed").chmod(0o755)
    assert report.indexed == 1
    assert {"locked.md", "closed"} <= set(skipped(report))


def test_build_fifo_named_like_a_post_not_opened(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {"a.md": _post("甲", "花园")})
    fifo = corpus / "pipe.md"
    os.mkfifo(fifo)
    proc = start_writer("build_index", corpus, tmp_path / "index", 1)
    opened = False
    try:
        while proc.poll() is None:
            try:  # succeeds only while someone has the FIFO open for reading: the build
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # and closing it lets that reader go on
                opened = True
            except OSError:
                time.sleep(0.02)
        assert proc.wait() == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert not opened, "the build opened a FIFO as a post"


# -- Whoosh temp files of parallel build workers ----------------------------------------------------------------

def _await(marker: Path) -> None:
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_build_workers_finishing_apart(tmp_path, monkeypatch):
    # Forced order: worker 1 opens its segment writer, then worker 0 finishes, then worker 1 adds its posts.
    from whoosh.writing import SegmentWriter

    from search.build import generation, workers

    real_finish, real_index_files = SegmentWriter._finish, generation.index_files

    def finish(self):
        folder = Path(self.storage.folder)
        if (folder / "text-0.bin").exists() and not (folder / "text-1.bin").exists():  # worker 0
            _await(folder / "worker-1-started")
            real_finish(self)
            (folder / "worker-0-done").touch()
        else:
            real_finish(self)

    def index_files(files, root, gen_dir, store_name, *args, **kwargs):
        if store_name == "text-1.bin":
            (gen_dir / "worker-1-started").touch()
            _await(gen_dir / "worker-0-done")
        return real_index_files(files, root, gen_dir, store_name, *args, **kwargs)

    monkeypatch.setattr(SegmentWriter, "_finish", finish)
    monkeypatch.setattr(workers, "index_files", index_files)
    corpus = write_corpus(tmp_path / "corpus", OLD)
    report = search.build_index(corpus, tmp_path / "index", workers=2)
    assert report.indexed == len(OLD)


def test_index_dropped_without_close_unpins_its_generation(pristine, tmp_path):
    corpus, index_dir = pristine[0], tmp_path / "index"
    write_corpus(corpus, OLD)
    shutil.copytree(pristine[1], index_dir)
    first = _live(index_dir)
    ix = search.open_index(index_dir)
    del ix  # no close(): the pin goes with the object
    for posts in (NEW, OLD):
        write_corpus(corpus, posts)
        search.update_index(corpus, index_dir, workers=1)
    assert not first.exists()  # two commits later, nobody holds it: removed
