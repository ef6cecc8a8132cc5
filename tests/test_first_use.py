"""What a new user trips on first: an index never replaced by mistake, interrupted builds, old generations, drafts
and dates reported alike, consistent errors, grep's -l and -c, `show` by file path, `analyze` of several words,
and ZHSEARCH_INDEX / ZHSEARCH_CORPUS; through the CLI and the library."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import VISIBLE

import search
from search.cli import main
from search.store import generations


@pytest.fixture(autouse=True)
def no_variables(monkeypatch):
    """The user's own ZHSEARCH_INDEX / ZHSEARCH_CORPUS must not leak into the tests."""
    monkeypatch.delenv("ZHSEARCH_INDEX", raising=False)
    monkeypatch.delenv("ZHSEARCH_CORPUS", raising=False)


def run(*args: str, env: dict[str, str] | None = None):
    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        runner = CliRunner()
    result = runner.invoke(main, list(args), env=env)
    assert "Traceback" not in result.output + result.stderr
    return result


def generation_dirs(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("gen-*"))


@pytest.fixture()
def built_copy(fresh_corpus, tmp_path):
    """A private corpus and its index."""
    index_dir = tmp_path / "index"
    search.build_index(fresh_corpus, index_dir, workers=1)
    return fresh_corpus, index_dir


# -- 1. another corpus never replaces an index by mistake ---------------------------------------------------------

def test_update_refuses_another_corpus(built_copy, tmp_path):
    corpus, index_dir = built_copy
    (tmp_path / "empty").mkdir()
    live = generation_dirs(index_dir)
    with pytest.raises(search.CorpusMismatch, match=str(corpus.resolve())) as caught:
        search.update_index(tmp_path / "empty", index_dir)
    assert "--rebuild" in str(caught.value) and "\n" not in str(caught.value)
    assert generation_dirs(index_dir) == live
    with search.open_index(index_dir) as ix:
        assert len(ix) == len(VISIBLE)


def test_cli_index_refuses_another_corpus_then_rebuild_replaces(built_copy, tmp_path):
    corpus, index_dir = built_copy
    (tmp_path / "empty").mkdir()
    result = run("index", str(tmp_path / "empty"), "--index", str(index_dir))
    assert result.exit_code == 2
    assert str(corpus.resolve()) in result.stderr and "--rebuild" in result.stderr
    assert result.stderr.count("\n") == 1
    assert run("search", "马克思", "--index", str(index_dir)).exit_code == 0  # still the user's index
    result = run("index", str(tmp_path / "empty"), "--index", str(index_dir), "--rebuild")
    assert result.exit_code == 0, result.stderr
    assert "0 posts indexed" in result.stderr


# -- 2. no CORPUS: the corpus the index records --------------------------------------------------------------------

def test_cli_index_without_corpus_updates_the_recorded_one(built_copy, tmp_path, monkeypatch):
    corpus, index_dir = built_copy
    (corpus / "blog" / "new.md").write_text("---\ntitle: 新的\n---\n麒麟又来了。\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "corpus").mkdir(parents=True)  # another ./corpus here: it must not be used
    monkeypatch.chdir(elsewhere)
    result = run("index", "--index", str(index_dir))
    assert result.exit_code == 0, result.stderr
    assert f"updated {index_dir}: {len(VISIBLE) + 1} posts indexed (1 added" in result.stderr


def test_update_and_build_without_corpus_use_the_recorded_one(built_copy):
    corpus, index_dir = built_copy
    assert search.corpus_of(index_dir) == corpus.resolve()
    assert search.update_index(None, index_dir).unchanged == len(VISIBLE) + 1  # and the draft
    assert search.build_index(None, index_dir, workers=1).indexed == len(VISIBLE)


def test_corpus_of_no_index(tmp_path):
    assert search.corpus_of(tmp_path / "none") is None
    with pytest.raises(search.CorpusNotFound):
        search.update_index(None, tmp_path / "none")


# -- 3. a search builds an index only for the quickstart or a named corpus ----------------------------------------

def test_cli_search_mistyped_index_is_exit_2(built_copy, tmp_path, monkeypatch):
    corpus = built_copy[0]
    monkeypatch.chdir(corpus.parent)  # ./corpus exists: it must not be indexed into the mistyped folder
    typo = tmp_path / "indexx"
    result = run("search", "马克思", "--index", str(typo))
    assert result.exit_code == 2
    assert result.stderr == f"zhsearch: no index at {typo}; build it with `zhsearch index CORPUS --index {typo}`\n"
    assert not typo.exists()


def test_cli_search_quickstart_builds_the_default_index(fresh_corpus, monkeypatch):
    monkeypatch.chdir(fresh_corpus.parent)
    result = run("search", "马克思")
    assert result.exit_code == 0, result.stderr
    assert "no index at index yet; indexing corpus first" in result.stderr
    assert "blog/marx.md" in result.stdout
    assert (fresh_corpus.parent / "index" / "CURRENT").is_file()


def test_cli_search_named_corpus_builds(fresh_corpus, tmp_path):
    result = run("search", "马克思", "--index", str(tmp_path / "ix"), "--corpus", str(fresh_corpus))
    assert result.exit_code == 0, result.stderr
    assert "blog/marx.md" in result.stdout


# -- 4. Ctrl-C ----------------------------------------------------------------------------------------------------

class Interrupt:
    """A progress callback that raises KeyboardInterrupt (what Ctrl-C raises) after `after` posts."""

    def __init__(self, after: int) -> None:
        self.after = after

    def __call__(self, done: int, total: int) -> None:
        if done >= self.after:
            raise KeyboardInterrupt


@pytest.mark.parametrize("workers", [1, 2])
def test_interrupted_build_removes_what_it_wrote(built_copy, workers):
    corpus, index_dir = built_copy
    live = generation_dirs(index_dir)
    with pytest.raises(KeyboardInterrupt):
        search.build_index(corpus, index_dir, workers=workers, progress=Interrupt(3))
    assert generation_dirs(index_dir) == live  # no gen-….tmp-… left
    with search.open_index(index_dir) as ix:
        assert [h.path for h in ix.search("马克思")] == ["blog/marx.md"]
    assert search.update_index(corpus, index_dir).unchanged == len(VISIBLE) + 1  # the next writer just works


def test_interrupted_update_removes_what_it_wrote(built_copy):
    corpus, index_dir = built_copy
    for i in range(3):
        (corpus / f"new-{i}.md").write_text(f"---\ntitle: 新{i}\n---\n独角兽{i}号。\n", encoding="utf-8")
    live = generation_dirs(index_dir)
    with pytest.raises(KeyboardInterrupt):
        search.update_index(corpus, index_dir, progress=Interrupt(1))
    assert generation_dirs(index_dir) == live
    with search.open_index(index_dir) as ix:
        assert len(ix) == len(VISIBLE)


def test_cli_ctrl_c_exits_130_and_the_old_index_answers(built_copy):
    # A real SIGINT, as the terminal sends it, in the middle of `zhsearch index --rebuild`.
    corpus, index_dir = built_copy
    live = generation_dirs(index_dir)
    program = (
        "import os, signal, sys\n"
        # As in a terminal: Python keeps SIGINT ignored if it starts so (a test run started in the background).
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "import search.posts.post as post\n"
        "from search import cli\n"
        "real, calls = post.read_post, []\n"
        "def read_post(*args, **kwargs):\n"
        "    calls.append(1)\n"
        "    if len(calls) == 3:\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(*args, **kwargs)\n"
        "post.read_post = read_post\n"
        f"sys.argv = ['zhsearch', 'index', {str(corpus)!r}, '--index', {str(index_dir)!r}, '--rebuild']\n"
        "cli.run()\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHSEARCH_")}
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, encoding="utf-8", timeout=120,
                            env=env, check=False)
    assert result.returncode == 130, result.stderr
    assert result.stderr.endswith(f"zhsearch: interrupted; the index at {index_dir} is as it was\n")
    assert "Traceback" not in result.stderr and "Aborted" not in result.stderr
    assert generation_dirs(index_dir) == live
    assert run("search", "马克思", "--index", str(index_dir)).exit_code == 0


def test_cli_ctrl_c_in_any_command_exits_130(index_dir, monkeypatch):
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(search.Index, "stats", interrupted)
    result = run("stats", "--index", str(index_dir))
    assert result.exit_code == 130
    assert result.stderr == "zhsearch: interrupted\n"


# -- 5. old generations removed; stats reports the folder on disk --------------------------------------------------

def du_bytes(path: Path) -> int:
    du = shutil.which("du")
    if du is None:
        pytest.skip("no du here")
    out = subprocess.run([du, "-s", "-B1", str(path)], capture_output=True, encoding="utf-8", check=True).stdout
    return int(out.split()[0])


def test_rebuild_leaves_one_generation(built_copy):
    corpus, index_dir = built_copy
    for _ in range(2):
        search.build_index(corpus, index_dir, workers=1)
    assert len(generation_dirs(index_dir)) == 1


def test_old_generation_removed_when_its_last_reader_closes(built_copy):
    corpus, index_dir = built_copy
    with search.open_index(index_dir) as first, search.open_index(index_dir) as second:
        search.build_index(corpus, index_dir, workers=1)
        assert len(generation_dirs(index_dir)) == 2  # readers keep theirs
        first.close()
        assert len(generation_dirs(index_dir)) == 2  # another still reads it
        assert [h.path for h in second.search("马克思")] == ["blog/marx.md"]
    assert len(generation_dirs(index_dir)) == 1


def test_stats_size_is_what_the_folder_takes_on_disk(built_copy):
    corpus, index_dir = built_copy
    with search.open_index(index_dir) as reader:  # holds the old generation through the rebuild
        search.build_index(corpus, index_dir, workers=1)
        with search.open_index(index_dir) as ix:
            assert ix.stats().size_bytes == du_bytes(index_dir)
    with search.open_index(index_dir) as ix:
        assert ix.stats().size_bytes == du_bytes(index_dir)
    result = run("stats", "--index", str(index_dir))
    assert f"size on disk: {du_bytes(index_dir) / 1e6:.1f} MB" in result.stdout.splitlines()
    assert reader is not None


# -- 8. drafts counted alike ----------------------------------------------------------------------------------------

def test_update_counts_drafts_like_a_build(built_copy):
    corpus, index_dir = built_copy
    assert search.build_index(corpus, index_dir, workers=1).drafts == 1
    assert search.update_index(corpus, index_dir).drafts == 1  # nothing changed
    (corpus / "blog" / "marx.md").write_text("---\ntitle: 改了\n---\n马克思。\n", encoding="utf-8")
    assert search.update_index(corpus, index_dir).drafts == 1  # one post changed
    (corpus / "blog" / "draft2.md").write_text("---\ntitle: 又一篇草稿\npublished: false\n---\n草稿。\n",
                                               encoding="utf-8")
    assert search.update_index(corpus, index_dir).drafts == 2
    (corpus / "blog" / "draft.md").unlink()
    assert search.update_index(corpus, index_dir).drafts == 1
    assert search.build_index(corpus, index_dir, workers=1).drafts == 1


def test_cli_update_and_rebuild_report_the_same_drafts(built_copy):
    corpus, index_dir = built_copy
    lines = [run("index", str(corpus), "--index", str(index_dir), *extra).stderr for extra in ([], ["--rebuild"])]
    assert all("1 draft left out" in line for line in lines), lines


def test_drafts_are_kept_as_the_index_was_built(built_copy):
    # A cron job re-running `zhsearch index --index DIR` keeps what the index was built with.
    corpus, index_dir = built_copy
    first = run("index", str(corpus), "--index", str(index_dir), "--drafts")
    assert "full rebuild: drafts are now included" in first.stderr
    again = run("index", "--index", str(index_dir))
    assert again.exit_code == 0 and "full rebuild" not in again.stderr and "0 drafts left out" in again.stderr
    assert search.update_index(None, index_dir).drafts == 0
    dropped = run("index", "--index", str(index_dir), "--no-drafts")
    assert "full rebuild: drafts are now excluded" in dropped.stderr and "1 draft left out" in dropped.stderr


# -- 9. dates in one form ---------------------------------------------------------------------------------------------

def test_stats_dates_in_one_form(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("---\ntitle: 甲\ndate: 2017-11-21T06:00:00+00:00\n---\n一。\n", encoding="utf-8")
    (corpus / "b.md").write_text("---\ntitle: 乙\ndate: 2022-09-11 04:59:55\n---\n二。\n", encoding="utf-8")
    search.build_index(corpus, tmp_path / "index", workers=1)
    with search.open_index(tmp_path / "index") as ix:
        stats = ix.stats()
    assert (stats.first_date, stats.last_date) == ("2017-11-21", "2022-09-11")
    assert "dates: 2017-11-21 … 2022-09-11" in run("stats", "--index", str(tmp_path / "index")).stdout


def test_stats_no_dated_posts(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("---\ntitle: 甲\n---\n没有日期。\n", encoding="utf-8")
    for name, files in (("undated", ["a.md"]), ("empty", [])):
        if not files:
            (corpus / "a.md").unlink()
        search.build_index(corpus, tmp_path / name, workers=1)
        with search.open_index(tmp_path / name) as ix:
            assert (ix.stats().first_date, ix.stats().last_date) == (None, None)
        assert "dates: no dated posts" in run("stats", "--index", str(tmp_path / name)).stdout.splitlines()


# -- 11. every error on purpose is a SearchError with one line -----------------------------------------------------

def test_build_into_a_file_is_a_search_error(fresh_corpus, tmp_path):
    file = tmp_path / "a-file"
    file.write_text("not an index", encoding="utf-8")
    for function in (search.build_index, search.update_index):
        with pytest.raises(search.IndexPathInvalid, match="is a file"):
            function(fresh_corpus, file)
    assert file.read_text(encoding="utf-8") == "not an index"
    result = run("index", str(fresh_corpus), "--index", str(file))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "is a file" in result.stderr


def test_missing_corpus_is_its_own_error(tmp_path):
    for function in (search.build_index, search.update_index):
        with pytest.raises(search.CorpusNotFound, match="no corpus folder"):
            function(tmp_path / "none", tmp_path / "index")
    assert issubclass(search.CorpusNotFound, search.SearchError)
    assert not issubclass(search.CorpusNotFound, search.IndexNotFound)


def test_using_a_closed_index_is_a_search_error(index_dir):
    ix = search.open_index(index_dir)
    ix.close()
    for call in (lambda: ix.search("内推"), lambda: ix.show("blog/marx.md"), ix.stats, lambda: ix.analyze("内推")):
        with pytest.raises(search.IndexClosed, match="closed"):
            call()
    ix.close()  # twice: harmless


# -- 12. -l and -c ------------------------------------------------------------------------------------------------

def test_cli_files_with_matches_prints_paths_that_open(index_dir, corpus_dir, monkeypatch):
    monkeypatch.chdir(corpus_dir.parent)
    result = run("search", "内推", "-l", "--index", str(index_dir))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sorted(lines) == sorted(f"{corpus_dir.name}/{p}" for p in
                                   ("zhihu/neitui.md", "blog/title-neitui.md", "blog/body-neitui.md"))
    assert all(Path(line).is_file() for line in lines)
    assert result.stderr == ""


def test_cli_files_with_matches_outside_the_current_folder(index_dir, corpus_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = run("search", "马克思", "--files-with-matches", "--index", str(index_dir)).stdout.splitlines()
    assert lines == [str(corpus_dir.resolve() / "blog" / "marx.md")]


def test_cli_files_with_matches_every_match_unless_n(index_dir):
    assert len(run("search", "--since", "1900", "-l", "--index", str(index_dir)).stdout.splitlines()) == 10
    assert len(run("search", "--since", "1900", "-l", "-n", "2", "--index", str(index_dir)).stdout.splitlines()) == 2


def test_cli_count(index_dir):
    result = run("search", "内推", "-c", "--index", str(index_dir))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "3\n", "")
    nothing = run("search", "完全不存在的一句话", "--count", "--index", str(index_dir))
    assert (nothing.exit_code, nothing.stdout) == (1, "0\n")
    assert run("search", "完全不存在的一句话", "-l", "--index", str(index_dir)).exit_code == 1


def test_cli_count_and_files_exclude_each_other(index_dir):
    result = run("search", "内推", "-c", "-l", "--index", str(index_dir))
    assert result.exit_code == 2 and "choose one of" in result.stderr


# -- 13. show by file path ------------------------------------------------------------------------------------------

def test_show_by_file_path(ix, corpus_dir, monkeypatch):
    expected = ix.show("blog/marx.md")
    assert ix.show(corpus_dir / "blog" / "marx.md") == expected
    assert ix.show(str(corpus_dir.resolve() / "blog" / "marx.md")) == expected
    monkeypatch.chdir(corpus_dir / "blog")
    assert ix.show("marx.md") == expected
    assert ix.show("./marx.md") == expected
    with pytest.raises(search.NotInIndex):
        ix.show("../../elsewhere.md")


def test_cli_show_by_file_path(index_dir, corpus_dir, monkeypatch):
    monkeypatch.chdir(corpus_dir.parent)
    for path in ("blog/marx.md", f"{corpus_dir.name}/blog/marx.md", str(corpus_dir / "blog" / "marx.md")):
        result = run("show", path, "--index", str(index_dir))
        assert result.exit_code == 0, result.stderr
        assert "path: blog/marx.md" in result.stdout
    missing = run("show", "nowhere.md", "--index", str(index_dir))
    assert missing.exit_code == 2 and missing.stderr.count("\n") == 1


# -- 14. analyze several words --------------------------------------------------------------------------------------

def test_cli_analyze_several_words(index_dir):
    # Regression: `zhsearch analyze 人脉 背书` failed with "unexpected extra argument".
    result = run("analyze", "马克思", "背书", "--index", str(index_dir))
    assert result.exit_code == 0, result.stderr
    words = [line.split()[-1] for line in result.stdout.splitlines()]
    assert "马克思" in words and "背书" in words
    assert result.stdout == run("analyze", "马克思 背书", "--index", str(index_dir)).stdout


# -- 15. ZHSEARCH_INDEX and ZHSEARCH_CORPUS --------------------------------------------------------------------------

def test_cli_index_variable_is_every_commands_default(index_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./index here
    env = {"ZHSEARCH_INDEX": str(index_dir)}
    assert "blog/marx.md" in run("search", "马克思", env=env).stdout
    assert run("show", "blog/marx.md", env=env).exit_code == 0
    assert f"posts: {len(VISIBLE)}" in run("stats", env=env).stdout
    assert "no index" not in run("analyze", "马克思", env=env).stderr
    # --index wins
    result = run("search", "马克思", "--index", str(tmp_path / "other"), env=env)
    assert result.exit_code == 2 and "no index at" in result.stderr


def test_cli_variables_build_and_update(fresh_corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"ZHSEARCH_INDEX": str(tmp_path / "ix"), "ZHSEARCH_CORPUS": str(fresh_corpus)}
    only_index = run("search", "马克思", env={"ZHSEARCH_INDEX": env["ZHSEARCH_INDEX"]})
    assert only_index.exit_code == 2  # an index named and no corpus: not built from ./corpus
    result = run("search", "马克思", env=env)  # both named: the first search builds it
    assert result.exit_code == 0, result.stderr
    assert search.corpus_of(tmp_path / "ix") == fresh_corpus.resolve()
    assert "updated" in run("index", env=env).stderr


def test_cli_recorded_corpus_wins_over_the_variable(built_copy, tmp_path):
    index_dir = built_copy[1]
    (tmp_path / "other").mkdir()
    result = run("index", "--index", str(index_dir), env={"ZHSEARCH_CORPUS": str(tmp_path / "other")})
    assert result.exit_code == 0, result.stderr
    assert f"updated {index_dir}: {len(VISIBLE)} posts indexed" in result.stderr


def test_cli_corpus_variable_for_a_new_index(fresh_corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("index", "--index", str(tmp_path / "new"), env={"ZHSEARCH_CORPUS": str(fresh_corpus)})
    assert result.exit_code == 0, result.stderr
    assert search.corpus_of(tmp_path / "new") == fresh_corpus.resolve()


def test_generations_corpus_of_is_the_library_call(built_copy):
    corpus, index_dir = built_copy
    assert generations.corpus_of(index_dir) == search.corpus_of(index_dir) == corpus.resolve()
