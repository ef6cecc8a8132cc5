"""What Chinese search users ask for: zhsearch.toml, the user dictionary, synonyms, pinyin and mixed scripts.

Each feature is checked through the library and through the CLI (click's CliRunner), on tiny corpora written
here. A build costs a few seconds (jieba loads its dictionary), so each index is built once per module where
the tests only read it; tests that change a corpus build their own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import search
from search.cli import main
from search.config import Config, load_config


def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        return CliRunner()  # click >= 8.2 keeps stderr apart


def run(*args: str | Path):
    result = runner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output + result.stderr
    return result


def write(root: Path, rel: str, text: str) -> Path:
    file = root / rel
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
    return file


def post(root: Path, rel: str, title: str, body: str) -> Path:
    return write(root, rel, f"---\ntitle: {title}\ndate: 2024-01-01\n---\n{body}\n")


def paths(ix: search.Index, query: str) -> list[str]:
    return [hit.path for hit in ix.search(query, limit=None)]


def cli_paths(index_dir: Path, *query: str) -> list[str]:
    result = run("search", *query, "--index", index_dir, "--json", "-n", "0")
    assert result.exit_code in (0, 1), result.stderr
    return [hit["path"] for hit in json.loads(result.stdout)["hits"]]


def cli_tokens(index_dir: Path, text: str) -> list[tuple[str, int, int, int, str]]:
    result = run("analyze", text, "--index", index_dir, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["text"] == text
    return [(t["token"], t["position"], t["start"], t["end"], t["field"]) for t in data["tokens"]]


# ---------------------------------------------------------------------------------------------------------------
# zhsearch.toml: where it is read from, overrides, errors

def test_config_read_from_corpus_root(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus, "words.txt", "韭菜盒子兄弟 10 n\n")
    write(corpus, "synonyms.txt", "内推 内部推荐\n")
    write(corpus, "zhsearch.toml", '[analysis]\nuser_dict = "words.txt"\nsynonyms = "synonyms.txt"\npinyin = true\n')
    config = load_config(corpus)
    assert config == Config(user_dict=(corpus / "words.txt").resolve(),
                            synonyms=(corpus / "synonyms.txt").resolve(), pinyin=True)
    assert config.source == corpus / "zhsearch.toml"


def test_config_absent_is_default(tmp_path):
    assert load_config(tmp_path) == Config()
    assert Config() == Config(user_dict=None, synonyms=None, pinyin=False)


def test_config_file_given_replaces_corpus_root(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus, "zhsearch.toml", "[analysis]\npinyin = true\n")
    elsewhere = tmp_path / "conf"
    write(elsewhere, "mine.txt", "韭菜盒子兄弟\n")
    other = write(elsewhere, "other.toml", '[analysis]\nuser_dict = "mine.txt"\n')  # relative to other.toml
    assert load_config(corpus, other) == Config(user_dict=(elsewhere / "mine.txt").resolve())


def test_config_overrides_keep_unset_values(tmp_path):
    config = Config(user_dict=tmp_path / "a.txt", synonyms=tmp_path / "s.txt", pinyin=True)
    assert config.with_overrides(user_dict=None, synonyms=None, pinyin=None) == config
    assert config.with_overrides(pinyin=False, synonyms=tmp_path / "t.txt") == Config(
        user_dict=tmp_path / "a.txt", synonyms=tmp_path / "t.txt", pinyin=False)


BAD_CONFIGS = [
    # (zhsearch.toml, the message after "<path>: ")
    ("[search]\nlimit = 5\n", "unknown section [search] (valid: [analysis])"),
    ("[analysis]\npinyn = true\n", "unknown key analysis.pinyn (valid: pinyin, synonyms, user_dict)"),
    ('[analysis]\npinyin = "yes"\n', "analysis.pinyin must be true or false, not 'yes'"),
    ("[analysis]\nuser_dict = 3\n", "analysis.user_dict must be a file path, not 3"),
    ("[analysis]\nsynonyms = true\n", "analysis.synonyms must be a file path, not True"),
    ('[analysis]\nuser_dict = "nope.txt"\n', "analysis.user_dict names 'nope.txt', which is not a file"),
    ('[analysis]\nsynonyms = "gone.txt"\n', "analysis.synonyms names 'gone.txt', which is not a file"),
]


@pytest.mark.parametrize("toml, message", BAD_CONFIGS)
def test_config_error_library(tmp_path, toml, message):
    corpus = tmp_path / "corpus"
    post(corpus, "a.md", "一", "内容")
    write(corpus, "zhsearch.toml", toml)
    with pytest.raises(search.ConfigError) as caught:
        load_config(corpus)
    assert str(caught.value) == f"{corpus / 'zhsearch.toml'}: {message}"
    with pytest.raises(search.ConfigError) as caught:
        search.build_index(corpus, tmp_path / "index", workers=1)
    assert str(caught.value) == f"{corpus / 'zhsearch.toml'}: {message}"
    assert not (tmp_path / "index" / "CURRENT").exists()


@pytest.mark.parametrize("toml, message", BAD_CONFIGS)
def test_config_error_cli(tmp_path, toml, message):
    corpus = tmp_path / "corpus"
    post(corpus, "a.md", "一", "内容")
    write(corpus, "zhsearch.toml", toml)
    result = run("index", corpus, "--index", tmp_path / "index")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"zhsearch: {corpus / 'zhsearch.toml'}: {message}\n"


def test_config_error_cli_config_option(tmp_path):
    corpus = tmp_path / "corpus"
    post(corpus, "a.md", "一", "内容")
    bad = write(tmp_path, "other.toml", "[analysis]\nstemming = true\n")
    result = run("index", corpus, "--index", tmp_path / "index", "--config", bad)
    assert result.exit_code == 2
    assert result.stderr == f"zhsearch: {bad}: unknown key analysis.stemming (valid: pinyin, synonyms, user_dict)\n"
    missing = tmp_path / "missing.toml"
    result = run("index", corpus, "--index", tmp_path / "index", "--config", missing)
    assert result.exit_code == 2
    assert result.stderr == f"zhsearch: {missing}: no such configuration file\n"


def test_config_not_toml(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus, "zhsearch.toml", "[analysis\npinyin = \n")
    with pytest.raises(search.ConfigError, match="not valid TOML"):
        load_config(corpus)
    result = run("index", corpus, "--index", tmp_path / "index")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"zhsearch: {corpus / 'zhsearch.toml'}: not valid TOML")
    assert result.stderr.count("\n") == 1


def test_config_cli_user_dict_missing(tmp_path):
    corpus = tmp_path / "corpus"
    post(corpus, "a.md", "一", "内容")
    result = run("index", corpus, "--index", tmp_path / "index", "--user-dict", tmp_path / "nope.txt")
    assert result.exit_code == 2
    assert "nope.txt" in result.stderr and "does not exist" in result.stderr


def test_config_cli_options_override_file(tmp_path):
    corpus = tmp_path / "corpus"
    post(corpus, "a.md", "一", "朋友帮我内推了一份工作。")
    # The corpus root's file is ignored when --config names another one.
    write(corpus, "zhsearch.toml", '[analysis]\nuser_dict = "nope.txt"\n')
    conf = tmp_path / "conf"
    write(conf, "words.txt", "韭菜盒子兄弟\n")
    write(conf, "syn1.txt", "内推 内部推荐\n")
    syn2 = write(tmp_path, "syn2.txt", "跳槽 换工作\n")
    other = write(conf, "other.toml", '[analysis]\nuser_dict = "words.txt"\nsynonyms = "syn1.txt"\npinyin = true\n')
    index_dir = tmp_path / "index"
    result = run("index", corpus, "--index", index_dir, "--config", other, "--synonyms", syn2, "--no-pinyin")
    assert result.exit_code == 0, result.stderr
    with search.open_index(index_dir) as ix:
        settings = ix.stats().settings
        assert (settings["user_dict"], settings["synonyms"], settings["pinyin"]) == (
            str((conf / "words.txt").resolve()), str(syn2.resolve()), False)
        assert ix.pinyin is False
    result = run("stats", "--index", index_dir, "--json")
    assert json.loads(result.stdout)["settings"]["synonyms"] == str(syn2.resolve())


# ---------------------------------------------------------------------------------------------------------------
# Default configuration: mixed scripts, and the baseline the other features are compared with

MIXED = "我在学 Python3.11、C++ 和 C#，也写 Node.js；手机用上了５G，２０２４年的计划。"
SYMBOLS = "今天很开心😀，学了カタカナ，还有𠮷野家。"


@pytest.fixture(scope="module")
def plain_index(tmp_path_factory) -> Path:
    """Default configuration (no zhsearch.toml)."""
    root = tmp_path_factory.mktemp("plain")
    corpus = root / "corpus"
    post(corpus, "mixed.md", "杂记", MIXED)
    post(corpus, "symbols.md", "符号", SYMBOLS)
    post(corpus, "neitui.md", "求职", "朋友帮我内推了一份工作。")
    post(corpus, "leek.md", "吃饭", "我和韭菜盒子兄弟一起吃饭。")
    index_dir = root / "index"
    search.build_index(corpus, index_dir, workers=1)
    return index_dir


MIXED_QUERIES = ["python3", "python", "c++", "c#", "node.js", "5g", "2024", "２０２４", "PYTHON", "Python3.11",
                 "C++", "５G", "NODE.JS"]


@pytest.mark.parametrize("query", MIXED_QUERIES)
def test_mixed_scripts_found(plain_index, query):
    with search.open_index(plain_index) as ix:
        assert paths(ix, query) == ["mixed.md"]
    assert cli_paths(plain_index, query) == ["mixed.md"]


@pytest.mark.parametrize("query", ["😀", "カタカナ", "𠮷"])
def test_emoji_kana_extension_found(plain_index, query):
    with search.open_index(plain_index) as ix:
        assert paths(ix, query) == ["symbols.md"]
    assert cli_paths(plain_index, query) == ["symbols.md"]


def test_analyze_keeps_emoji_kana_extension(plain_index):
    with search.open_index(plain_index) as ix:
        tokens = [(t.text, t.start, t.end) for t in ix.analyze(SYMBOLS)]
    assert ("😀", 5, 6) in tokens
    assert ("𠮷", 16, 17) in tokens
    # Kana are kept (jieba cuts this word into its characters; each stands at its own offset).
    kana = [t for t in tokens if 9 <= t[1] < 13]
    assert "".join(t[0] for t in kana) == "カタカナ"
    assert all(SYMBOLS[s:e] == text for text, s, e in tokens)
    cli = cli_tokens(plain_index, SYMBOLS)
    assert ("😀", 3, 5, 6, "words") in cli
    assert ("𠮷", 10, 16, 17, "words") in cli


def test_analyze_json_shape_full_width(plain_index):
    result = run("analyze", "２０２４年", "--index", plain_index, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"text": "２０２４年", "tokens": [
        {"token": "2024", "position": 0, "start": 0, "end": 4, "field": "words", "original": "２０２４"},
        {"token": "年", "position": 1, "start": 4, "end": 5, "field": "words", "original": "年"},
    ]}
    with search.open_index(plain_index) as ix:
        assert [(t.field, t.text, t.pos, t.start, t.end) for t in ix.analyze("２０２４年")] == [
            ("words", "2024", 0, 0, 4), ("words", "年", 1, 4, 5)]


def test_analyze_mixed_offsets_into_original(plain_index):
    result = run("analyze", MIXED, "--index", plain_index, "--json")
    assert result.exit_code == 0, result.stderr
    tokens = json.loads(result.stdout)["tokens"]
    assert all(t["original"] == MIXED[t["start"]:t["end"]] for t in tokens)
    found = {(t["token"], t["original"]) for t in tokens}
    assert {("python3.11", "Python3.11"), ("c++", "C++"), ("c#", "C#"), ("node.js", "Node.js"), ("5g", "５G"),
            ("2024", "２０２４")} <= found


def test_analyze_human_output(plain_index):
    result = run("analyze", "２０２４年", "--index", plain_index)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["   0     0-4    words   2024", "   1     4-5    words   年"]


def test_pinyin_off_by_default(plain_index):
    with search.open_index(plain_index) as ix:
        assert ix.pinyin is False
        assert ix.search("neitui").total == 0
        assert paths(ix, "内推") == ["neitui.md"]
        assert all(t.field == "words" for t in ix.analyze("内推"))
    result = run("search", "neitui", "--index", plain_index)
    assert result.exit_code == 1
    assert result.stdout == ""


# ---------------------------------------------------------------------------------------------------------------
# User dictionary

@pytest.fixture(scope="module")
def dict_index(tmp_path_factory) -> Path:
    """zhsearch.toml in the corpus root naming words.txt with 韭菜盒子兄弟."""
    root = tmp_path_factory.mktemp("userdict")
    corpus = root / "corpus"
    write(corpus, "words.txt", "韭菜盒子兄弟 10 n\n")
    write(corpus, "zhsearch.toml", '[analysis]\nuser_dict = "words.txt"\n')
    post(corpus, "leek.md", "吃饭", "我和韭菜盒子兄弟一起吃饭。")
    post(corpus, "other.md", "别的", "今天吃了饺子。")
    index_dir = root / "index"
    search.build_index(corpus, index_dir, workers=1)
    return index_dir


LEEK_WITH_DICT = [("韭菜盒子兄弟", 0, 0, 6, "words"), ("韭菜", 0, 0, 2, "words"), ("盒子", 0, 2, 4, "words"),
                  ("兄弟", 0, 4, 6, "words")]


def test_user_dict_one_token(dict_index):
    assert cli_tokens(dict_index, "韭菜盒子兄弟") == LEEK_WITH_DICT
    with search.open_index(dict_index) as ix:
        assert [(t.text, t.pos, t.start, t.end, t.field) for t in ix.analyze("韭菜盒子兄弟")] == LEEK_WITH_DICT
        assert ix.stale_reason() is None


def test_user_dict_absent_several_positions(plain_index):
    assert cli_tokens(plain_index, "韭菜盒子兄弟") == [
        ("韭菜", 0, 0, 2, "words"), ("盒子", 1, 2, 4, "words"), ("兄弟", 2, 4, 6, "words")]


def test_user_dict_search(dict_index):
    with search.open_index(dict_index) as ix:
        assert paths(ix, "韭菜盒子兄弟") == ["leek.md"]
        assert ix.search("韭菜盒子兄弟").hits[0].snippet.count("韭菜盒子兄弟") == 1
    result = run("search", "韭菜盒子兄弟", "--index", dict_index)
    assert result.exit_code == 0, result.stderr
    assert "leek.md" in result.stdout
    assert "warning" not in result.stderr


SCALLION_DEFAULT = [("葱油", 0, 0, 2, "words"), ("拌面", 1, 2, 4, "words"), ("大叔", 2, 4, 6, "words")]


def test_user_dict_change_makes_index_stale(tmp_path):
    corpus = tmp_path / "corpus"
    words = write(corpus, "words.txt", "韭菜盒子兄弟 10 n\n")
    write(corpus, "zhsearch.toml", '[analysis]\nuser_dict = "words.txt"\n')
    post(corpus, "leek.md", "吃饭", "我和韭菜盒子兄弟一起吃饭，又点了葱油拌面大叔。")
    index_dir = tmp_path / "index"
    result = run("index", corpus, "--index", index_dir)
    assert result.exit_code == 0, result.stderr
    assert cli_tokens(index_dir, "葱油拌面大叔") == SCALLION_DEFAULT

    words.write_text("韭菜盒子兄弟 10 n\n葱油拌面大叔 10 n\n", encoding="utf-8")
    warning = (f"zhsearch: warning: the user dictionary {words.resolve()} changed since the index was built; "
               "run `zhsearch index`\n")
    with search.open_index(index_dir) as ix:
        assert ix.stale_reason() == warning[len("zhsearch: warning: "):-1]
    result = run("search", "韭菜盒子兄弟", "--index", index_dir)
    assert result.exit_code == 0, result.stderr
    assert "leek.md" in result.stdout
    assert warning in result.stderr

    result = run("index", corpus, "--index", index_dir)  # an update, not --rebuild
    assert result.exit_code == 0, result.stderr
    assert "full rebuild: the user dictionary changed (every post is segmented again)\n" in result.stderr
    assert f"rebuilt {index_dir}: 1 post indexed" in result.stderr
    with search.open_index(index_dir) as ix:
        assert ix.stale_reason() is None
    assert cli_tokens(index_dir, "葱油拌面大叔") == [("葱油拌面大叔", 0, 0, 6, "words"), ("葱油", 0, 0, 2, "words"),
                                                   ("拌面", 0, 2, 4, "words"), ("大叔", 0, 4, 6, "words")]
    result = run("search", "葱油拌面大叔", "--index", index_dir)
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr

    # The library: an update with nothing changed applies nothing; after a dictionary change it rebuilds.
    report = search.update_index(corpus, index_dir, workers=1)
    assert (report.rebuilt, report.unchanged, report.reason) == (False, 1, "")
    words.write_text("韭菜盒子兄弟 10 n\n", encoding="utf-8")
    with search.open_index(index_dir) as ix:
        assert ix.stale_reason() is not None
    report = search.update_index(corpus, index_dir, workers=1)
    assert (report.rebuilt, report.indexed) == (True, 1)
    assert "user dictionary" in report.reason
    with search.open_index(index_dir) as ix:
        assert ix.stale_reason() is None
        assert [(t.text, t.pos, t.start, t.end, t.field) for t in ix.analyze("葱油拌面大叔")] == SCALLION_DEFAULT


# ---------------------------------------------------------------------------------------------------------------
# Synonyms and pinyin (one index with both)

@pytest.fixture(scope="module")
def syn_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synpinyin")
    corpus = root / "corpus"
    write(corpus, "synonyms.txt", "# 求职\n内推 内部推荐\n")
    write(corpus, "zhsearch.toml", '[analysis]\nsynonyms = "synonyms.txt"\npinyin = true\n')
    post(corpus, "neitui.md", "甲", "朋友帮我内推了一份工作。")
    post(corpus, "neibu.md", "乙", "公司鼓励内部推荐人才。")
    post(corpus, "banana.md", "丙", "香蕉是一种水果。")
    post(corpus, "cross.md", "丁", "两条直线相交于一点。")
    post(corpus, "latin.md", "戊", "The word xiangjiao is written in Latin here.")
    post(corpus, "mars.md", "火星", "火星探测器登陆火星，火星表面有水冰。")
    post(corpus, "char.md", "己", "活性炭可以吸附异味。")
    index_dir = root / "index"
    search.build_index(corpus, index_dir, workers=1)
    return index_dir


@pytest.mark.parametrize("query, expected", [
    ("内部推荐", ["neibu.md", "neitui.md"]),   # typed word first, then the synonym-only post
    ("内推", ["neitui.md", "neibu.md"]),
    ('"内部推荐"', ["neibu.md"]),              # quoted: never expanded
    ('"内推"', ["neitui.md"]),
])
def test_synonyms(syn_index, query, expected):
    with search.open_index(syn_index) as ix:
        assert paths(ix, query) == expected
    assert cli_paths(syn_index, query) == expected


def test_synonyms_rank_by_typed_word(syn_index):
    with search.open_index(syn_index) as ix:
        hits = ix.search("内部推荐").hits
    assert hits[0].score > hits[1].score


def test_synonyms_change_without_resegmenting(tmp_path):
    corpus = tmp_path / "corpus"
    synonyms = write(corpus, "synonyms.txt", "内推 内部推荐\n")
    write(corpus, "zhsearch.toml", '[analysis]\nsynonyms = "synonyms.txt"\n')
    post(corpus, "hop.md", "职场", "去年我跳槽了。")
    post(corpus, "neitui.md", "求职", "朋友帮我内推了一份工作。")
    index_dir = tmp_path / "index"
    search.build_index(corpus, index_dir, workers=1)
    with search.open_index(index_dir) as ix:
        assert paths(ix, "换工作") == []
        assert paths(ix, "内部推荐") == ["neitui.md"]
    synonyms.write_text("跳槽，换工作\n", encoding="utf-8")  # a full-width comma separates too
    with search.open_index(index_dir) as ix:
        assert ix.stale_reason() is None          # synonyms are query-time: the index is not stale
        assert paths(ix, "换工作") == []            # the index keeps the file it was built with
    report = search.update_index(corpus, index_dir, workers=1)
    assert (report.rebuilt, report.reason, report.unchanged) == (False, "", 2)
    with search.open_index(index_dir) as ix:
        assert paths(ix, "换工作") == ["hop.md"]
        assert paths(ix, "内部推荐") == []
    assert cli_paths(index_dir, "换工作") == ["hop.md"]
    # Through the CLI: change the file again; `zhsearch index` updates, the search sees it.
    synonyms.write_text("内推 内部推荐\n", encoding="utf-8")
    result = run("index", corpus, "--index", index_dir)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(f"updated {index_dir}: 2 posts indexed")
    assert "full rebuild" not in result.stderr
    assert cli_paths(index_dir, "内部推荐") == ["neitui.md"]
    assert cli_paths(index_dir, "换工作") == []


@pytest.mark.parametrize("query", [("neitui",), ("nei tui",), ("nei", "tui"), ("nèi tuì",), ("nèi", "tuì"),
                                   ("NeiTui",)])
def test_pinyin_finds_han(syn_index, query):
    with search.open_index(syn_index) as ix:
        assert paths(ix, " ".join(query)) == ["neitui.md"]
    assert cli_paths(syn_index, *query) == ["neitui.md"]


def test_pinyin_ranks_below_literal(syn_index):
    with search.open_index(syn_index) as ix:
        hits = ix.search("xiangjiao", limit=None).hits
    assert hits[0].path == "latin.md"
    assert sorted(h.path for h in hits[1:]) == ["banana.md", "cross.md"]
    assert hits[0].score > max(h.score for h in hits[1:])
    found = cli_paths(syn_index, "xiangjiao")
    assert found[0] == "latin.md" and sorted(found[1:]) == ["banana.md", "cross.md"]


@pytest.mark.parametrize("query, expected", [("香蕉", ["banana.md"]), ("相交", ["cross.md"])])
def test_pinyin_never_for_chinese_query(syn_index, query, expected):
    with search.open_index(syn_index) as ix:
        assert paths(ix, query) == expected
    assert cli_paths(syn_index, query) == expected


@pytest.mark.parametrize("query", ["nei", "tui"])
def test_pinyin_lone_syllable_not_read(syn_index, query):
    with search.open_index(syn_index) as ix:
        assert ix.search(query).total == 0
    result = run("search", query, "--index", syn_index)
    assert result.exit_code == 1
    assert result.stdout == ""


def test_pinyin_hits_ranked_by_bm25_and_highlighted(syn_index):
    # mars.md says 火星 four times (title too), char.md says 活性 once: BM25 over the readings orders them.
    with search.open_index(syn_index) as ix:
        hits = ix.search("huoxing", limit=None).hits
    assert [h.path for h in hits] == ["mars.md", "char.md"]
    assert hits[0].score > hits[1].score > 0
    assert [hits[0].snippet[s:e] for s, e in hits[0].highlights] == ["火星", "火星", "火星"]
    assert [hits[0].title[s:e] for s, e in hits[0].title_highlights] == ["火星"]
    assert [hits[1].snippet[s:e] for s, e in hits[1].highlights] == ["活性"]


def test_pinyin_off_hint(tmp_path):
    corpus = tmp_path / "corpus"
    post(corpus, "chip.md", "芯片", "芯片的制程。")
    search.build_index(corpus, tmp_path / "index", workers=1)
    with search.open_index(tmp_path / "index") as ix:
        results = ix.search("xinpian")
        assert (results.total, results.hint) == (0, "pinyin is off for this index: zhsearch index --pinyin")
        assert ix.search("zzqx").hint is None      # not pinyin
        assert ix.search("芯片xyz +abc").hint is None
    result = run("search", "xinpian", "--index", tmp_path / "index")
    assert result.exit_code == 1
    assert "zhsearch: pinyin is off for this index: zhsearch index --pinyin" in result.stderr.splitlines()


def test_pinyin_lone_syllable_only_literal(syn_index):
    # xiang stands in latin.md's "xiangjiao" (verbatim); it does not bring 香蕉 or 相交 through pinyin.
    with search.open_index(syn_index) as ix:
        assert paths(ix, "xiang") == ["latin.md"]
    assert cli_paths(syn_index, "xiang") == ["latin.md"]


def test_pinyin_analyze(syn_index):
    expected = [("内", 0, 0, 1, "words"), ("推", 1, 1, 2, "words"), ("nei", 0, 0, 1, "pinyin"),
                ("tui", 1, 1, 2, "pinyin")]
    assert cli_tokens(syn_index, "内推") == expected
    with search.open_index(syn_index) as ix:
        assert ix.pinyin is True
        assert [(t.text, t.pos, t.start, t.end, t.field) for t in ix.analyze("内推")] == expected
        # Offsets of pinyin tokens point at the Han character in the text as given.
        tokens = ix.analyze("ａ香蕉")
    assert [(t.text, t.start, t.end) for t in tokens if t.field == "pinyin"] == [("xiang", 1, 2), ("jiao", 2, 3)]
