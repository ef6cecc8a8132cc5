"""export.py and `zhsearch export`: the files' shape, the words as `zhsearch analyze` gives them, exit codes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from conftest import VISIBLE

import search
from search.cli import main
from search.export import MAX_ID_BYTES, document_id, opensearch_mapping

RECORD_KEYS = {"path", "title", "authors", "categories", "tags", "date", "url", "text", "words"}
WORD_FIELDS = {"title", "author", "category", "tag", "body"}


def run(*args: str):
    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        runner = CliRunner()  # click >= 8.2 keeps stderr apart
    result = runner.invoke(main, list(args))
    assert "Traceback" not in result.output + result.stderr
    return result


def read_lines(path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def exported(index_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    bulk = search.export_index(index_dir, out / "opensearch")
    jsonl = search.export_index(index_dir, out / "jsonl", "jsonl")
    return bulk, jsonl


def test_export_opensearch_bulk_pairs(exported):
    report = exported[0]
    assert [f.name for f in report.files] == ["bulk.ndjson", "mapping.json"]
    lines = read_lines(report.files[0])
    assert len(lines) == 2 * report.posts == 2 * len(VISIBLE)
    for action, doc in zip(lines[::2], lines[1::2]):
        assert action == {"index": {"_id": doc["path"]}}
        assert set(doc) == RECORD_KEYS
        assert set(doc["words"]) == WORD_FIELDS
        assert all(isinstance(doc[k], list) for k in ("authors", "categories", "tags"))
        if doc["date"] is not None:
            dt.datetime.fromisoformat(doc["date"])
    assert sorted(doc["path"] for doc in lines[1::2]) == VISIBLE  # the draft and the unreadable file are not posts


def test_export_opensearch_mapping(exported):
    mapping = json.loads(exported[0].files[1].read_text(encoding="utf-8"))
    assert mapping == opensearch_mapping()
    analyzers = mapping["settings"]["analysis"]["analyzer"]
    properties = mapping["mappings"]["properties"]
    assert mapping["mappings"]["dynamic"] == "strict"  # so every exported field must be mapped
    assert set(properties) == RECORD_KEYS
    for name in WORD_FIELDS:
        field = properties["words"]["properties"][name]
        assert field["type"] == "text"
        assert analyzers[field["analyzer"]] == {"type": "custom", "tokenizer": "whitespace"}
        assert field["similarity"] in mapping["settings"]["similarity"]
    for name in ("authors", "categories", "tags", "path"):
        assert properties[name]["type"] == "keyword"
    assert properties["date"]["type"] == "date"
    assert "words.title^2" in mapping["mappings"]["_meta"]["zhsearch"]["query_fields"]


def test_export_jsonl_one_post_per_line(exported):
    bulk, jsonl = exported
    assert [f.name for f in jsonl.files] == ["posts.jsonl"]
    records = read_lines(jsonl.files[0])
    assert len(records) == jsonl.posts == len(VISIBLE)
    assert records == read_lines(bulk.files[0])[1::2]


def test_export_record_fields(exported):
    records = {r["path"]: r for r in read_lines(exported[1].files[0])}
    post = records["zhihu/neitui.md"]
    assert post["title"] == "大家都内推，内推还有什么意义？"
    assert post["categories"] == ["社交媒体", "知乎日报"]
    assert post["date"] == "2021-04-23T04:10:59"
    assert "内推最有价值的是人脉背书。" in post["text"]
    assert post["words"]["title"] == "大家 都 内 推 内 推 还有 什么 意义"  # jieba's dictionary has no 内推
    assert "人脉" in post["words"]["body"].split()


def analyze_words(index_dir, text: str) -> str:
    """The words `zhsearch analyze TEXT --json` prints, joined by spaces."""
    result = run("analyze", text, "--index", str(index_dir), "--json")
    assert result.exit_code == 0, result.stderr
    return " ".join(t["token"] for t in json.loads(result.stdout)["tokens"] if t["field"] == "words")


def test_export_words_equal_analyze(exported, index_dir):
    records = read_lines(exported[1].files[0])
    for record in records:
        texts = {"title": record["title"], "author": "\n".join(record["authors"]),
                 "category": "\n".join(record["categories"]), "tag": "\n".join(record["tags"]),
                 "body": record["text"]}
        for name, text in texts.items():
            assert record["words"][name] == (analyze_words(index_dir, text) if text else ""), (record["path"], name)


def test_export_words_with_user_dictionary(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "words.txt").write_text("韭菜盒子兄弟 10 n\n", encoding="utf-8")
    (corpus / "zhsearch.toml").write_text('[analysis]\nuser_dict = "words.txt"\n', encoding="utf-8")
    (corpus / "post.md").write_text("---\ntitle: 早餐\n---\n楼下的韭菜盒子兄弟今天没开门。\n", encoding="utf-8")
    search.build_index(corpus, tmp_path / "index", config=search.load_config(corpus), workers=1)
    report = search.export_index(tmp_path / "index", tmp_path / "out", "jsonl")
    [record] = read_lines(report.files[0])
    assert "韭菜盒子兄弟" in record["words"]["body"].split()
    assert record["words"]["body"] == analyze_words(tmp_path / "index", record["text"])


def test_export_leaves_out_deleted_posts(fresh_corpus, tmp_path):
    search.build_index(fresh_corpus, tmp_path / "index", workers=1)
    (fresh_corpus / "blog/marx.md").unlink()
    search.update_index(fresh_corpus, tmp_path / "index")
    report = search.export_index(tmp_path / "index", tmp_path / "out", "jsonl")
    paths = [r["path"] for r in read_lines(report.files[0])]
    assert "blog/marx.md" not in paths
    assert len(paths) == report.posts == len(VISIBLE) - 1


def test_export_long_path_id():
    short = "a/" + "长" * 100 + ".md"
    assert document_id(short) == short
    long = "a/" + "长" * (MAX_ID_BYTES // 3) + ".md"
    assert len(document_id(long)) == 40 and document_id(long) == document_id(long)


def test_export_unknown_format(index_dir, tmp_path):
    with pytest.raises(ValueError, match="opensearch, jsonl"):
        search.export_index(index_dir, tmp_path / "out", "csv")
    assert not (tmp_path / "out").exists()


# -- the command --------------------------------------------------------------------------------------------------

def test_cli_export_writes_and_refuses_to_overwrite(index_dir, tmp_path):
    out = tmp_path / "out"
    result = run("export", str(index_dir), str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert f"exported {len(VISIBLE)} posts" in result.stderr
    bulk = (out / "bulk.ndjson").read_bytes()

    (out / "bulk.ndjson").write_text("mine\n", encoding="utf-8")
    result = run("export", str(index_dir), str(out))
    assert result.exit_code == 2
    assert result.stderr == f"zhsearch: {out / 'bulk.ndjson'} exists already (overwrite it with --force)\n"
    assert (out / "bulk.ndjson").read_text(encoding="utf-8") == "mine\n"  # untouched

    result = run("export", str(index_dir), str(out), "--force")
    assert result.exit_code == 0, result.stderr
    assert (out / "bulk.ndjson").read_bytes() == bulk
    assert sorted(p.name for p in out.iterdir()) == ["bulk.ndjson", "mapping.json"]  # no partial files left


def test_cli_export_jsonl(index_dir, tmp_path):
    result = run("export", "--format", "jsonl", str(index_dir), str(tmp_path / "a" / "b"))
    assert result.exit_code == 0, result.stderr
    assert len(read_lines(tmp_path / "a" / "b" / "posts.jsonl")) == len(VISIBLE)


@pytest.mark.parametrize("case", ["no index", "out is a file", "bad format"])
def test_cli_export_errors(index_dir, tmp_path, case):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    args = {"no index": [str(tmp_path / "none"), str(tmp_path / "out")],
            "out is a file": [str(index_dir), str(tmp_path / "file")],
            "bad format": [str(index_dir), str(tmp_path / "out"), "--format", "csv"]}[case]
    result = run("export", *args)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 if case != "bad format" else "csv" in result.stderr
    assert not (tmp_path / "out").exists()
