"""cli.py through click's CliRunner: exit codes, --json shape, first-run build, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from search.cli import main

from conftest import VISIBLE


def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        return CliRunner()  # click >= 8.2 keeps stderr apart


def run(*args: str):
    result = runner().invoke(main, list(args))
    assert "Traceback" not in result.output + result.stderr
    return result


def test_cli_search_found(index_dir):
    result = run("search", "人脉背书", "--index", str(index_dir))
    assert result.exit_code == 0, result.output + result.stderr
    assert "zhihu/neitui.md" in result.stdout
    assert "大家都内推，内推还有什么意义？" in result.stdout
    assert "2 posts match" in result.stderr


def test_cli_search_nothing(index_dir):
    result = run("search", "完全不存在的一句话", "--index", str(index_dir))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "nothing matches" in result.stderr


@pytest.mark.parametrize("query", [")", "a )", "date:2021-13"])
def test_cli_search_bad_query(index_dir, query):
    result = run("search", query, "--index", str(index_dir))
    assert result.exit_code == 2
    assert result.stderr.startswith("zhsearch: ")


def test_cli_search_no_index_no_corpus(tmp_path):
    result = run("search", "内推", "--index", str(tmp_path / "index"), "--corpus", str(tmp_path / "none"))
    assert result.exit_code == 2
    assert "no index" in result.stderr


def test_cli_search_json_shape(index_dir):
    result = run("search", "人脉背书", "--json", "--index", str(index_dir))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"query", "total", "page", "hits", "complete", "notice"}
    assert (data["query"], data["total"], len(data["hits"])) == ("人脉背书", 2, 2)
    assert (data["complete"], data["notice"]) == (2, None)  # the second holds 人脉 and 背书 apart
    hit = data["hits"][0]
    assert {"path", "title", "author", "categories", "tags", "date", "url", "score", "snippet"} <= set(hit)
    assert hit["path"] == "zhihu/neitui.md"
    assert hit["title"] == "大家都内推，内推还有什么意义？"
    assert hit["author"] == "知乎, 章牧之"
    assert hit["categories"] == ["社交媒体", "知乎日报"]
    assert hit["tags"] == []
    assert hit["date"] == "2021-04-23T04:10:59"
    assert hit["url"] == "https://www.zhihu.com/question/417500350/answer/1846693784"
    assert isinstance(hit["score"], float)
    assert isinstance(hit["snippet"], str) and "人脉背书" in hit["snippet"]
    second = data["hits"][1]
    assert (second["path"], second["author"], second["url"]) == ("blog/scattered.md", None, None)
    assert "人脉背书" in result.stdout  # ensure_ascii=False: Chinese as written


def test_cli_search_json_nothing(index_dir):
    result = run("search", "完全不存在的一句话", "--json", "--index", str(index_dir))
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"query": "完全不存在的一句话", "total": 0, "page": 1, "hits": [],
                                         "complete": 0, "notice": None,
                                         "term_counts": {"完全不存在的一句话": 0}, "suggestion": None}


def test_cli_search_limit(index_dir):
    everything = ["NOT", "不存在的词", "--json", "--index", str(index_dir)]
    data = json.loads(run("search", *everything, "-n", "0").stdout)
    assert (data["total"], len(data["hits"])) == (len(VISIBLE), len(VISIBLE))
    data = json.loads(run("search", *everything, "-n", "2").stdout)
    assert (data["total"], len(data["hits"])) == (len(VISIBLE), 2)
    assert len(json.loads(run("search", *everything).stdout)["hits"]) == 10


def test_cli_search_negative_limit(index_dir):
    result = run("search", "内推", "-n", "-1", "--index", str(index_dir))
    assert result.exit_code == 2


def test_cli_query_words_joined(index_dir):
    # `--` ends the options, so that -知乎 is a query word (excluded term), not an option.
    data = json.loads(run("search", "--json", "--index", str(index_dir), "--", "内推", "-知乎").stdout)
    assert sorted(h["path"] for h in data["hits"]) == ["blog/body-neitui.md", "blog/title-neitui.md"]


def test_cli_first_search_builds_index_then_index_updates(fresh_corpus, tmp_path):
    index = tmp_path / "index"
    result = run("search", "马克思", "--index", str(index), "--corpus", str(fresh_corpus))
    assert result.exit_code == 0, result.stderr
    assert "indexing" in result.stderr and "first" in result.stderr
    assert f"{len(VISIBLE)} posts indexed" in result.stderr
    assert "blog/marx.md" in result.stdout

    result = run("index", str(fresh_corpus), "--index", str(index))
    assert result.exit_code == 0, result.stderr
    assert f"updated {index}: {len(VISIBLE)} posts indexed" in result.stderr
    assert "0 added, 0 changed, 0 deleted, 0 renamed" in result.stderr
    assert "skipped blog/binary.md" in result.stderr


def test_cli_index_missing_corpus(tmp_path):
    result = run("index", str(tmp_path / "none"), "--index", str(tmp_path / "index"))
    assert result.exit_code == 2
    assert result.stderr.startswith("zhsearch: no corpus")


def test_cli_damaged_index_is_one_line(copy_index):
    (copy_index / "CURRENT").write_text("garbage", encoding="utf-8")
    result = run("search", "内推", "--index", str(copy_index))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "rebuild" in result.stderr


def test_cli_help_and_version():
    result = run("--help")
    assert result.exit_code == 0
    assert "index" in result.stdout and "search" in result.stdout
    assert run("-h").exit_code == 0
    version = run("--version")
    assert version.exit_code == 0 and "0.1.0" in version.stdout


def test_python_m_search_help():
    result = subprocess.run([sys.executable, "-m", "search", "--help"], capture_output=True, text=True,
                            encoding="utf-8", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Usage: zhsearch" in result.stdout


def test_python_m_search_exit_statuses(tmp_path):
    # The command's entry point (search.cli:run) leaves without the interpreter's teardown, after the exit handlers:
    # output, exit statuses and other exit handlers must be those of `main`.
    def command(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "search", *args], capture_output=True, encoding="utf-8",
                              cwd=tmp_path, timeout=120)

    missing = command("search", "内推", "--index", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.startswith("zhsearch: no index at") and "Traceback" not in missing.stderr
    bad_usage = command("search", "内推", "--page", "x")
    assert bad_usage.returncode == 2 and "Usage:" in bad_usage.stderr
    assert command("--version").stdout.strip() == "zhsearch, version 0.1.0"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(300):
        (corpus / f"{i}.md").write_text(f"---\ntitle: 第{i}篇\n---\n内推的第{i}篇文章。\n" * 3, encoding="utf-8")
    assert command("index", str(corpus), "--index", str(tmp_path / "index")).returncode == 0
    found = command("search", "内推", "--index", str(tmp_path / "index"), "--json", "-n", "300")
    assert found.returncode == 0 and len(json.loads(found.stdout)["hits"]) == 300  # (all of it, flushed)
    assert command("search", "没有的词", "--index", str(tmp_path / "index")).returncode == 1

    def program(code: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", "import atexit, sys\nfrom search import cli\n" + code],
                              capture_output=True, encoding="utf-8", cwd=tmp_path, timeout=120)

    handler = program("real = cli.main\ndef main(**kwargs):\n    atexit.register(print, 'handler ran')\n    real(**kwargs)\n"
                      "cli.main = main\nsys.argv = ['zhsearch', '--version']\ncli.run()")
    assert handler.returncode == 0 and handler.stdout.split("\n")[:2] == ["zhsearch, version 0.1.0", "handler ran"]
    failing = program("def boom(**kwargs):\n    raise RuntimeError('boom')\ncli.main = boom\ncli.run()")
    assert failing.returncode == 1 and "RuntimeError: boom" in failing.stderr
