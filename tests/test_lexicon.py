"""search.lexicon: a Lexicon segments exactly as a fully loaded jieba Tokenizer does."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from search.errors import ConfigError, IndexCorrupt
from search.text.lexicon import Lexicon, write_lexicon
from search.text.tokenizer import import_jieba, new_tokenizer

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BLOGS = SHARED / "corpora" / "blogs"

TRICKY = [
    "人脉背书",
    "中华人民共和国",
    "马克思主义",
    "定期人寿保险支付时会发生什么？",
    "南京市长江大桥",
    "结婚的和尚未结婚的",
    "研究生命起源",
    "工信处女干事每月经过下属科室都要亲口交代24口交换机等技术性器件的安装工作",
    # Names and other words only the HMM finds.
    "他来到了网易杭研大厦",
    "小明硕士毕业于中国科学院计算所，后在日本京都大学深造",
    "李小福是创新办主任也是云计算方面的专家；欧阳娜娜和诸葛亮",
    # Latin, digits and jieba's joining symbols (+#&._%-).
    "Python3.11和C++",
    "AT&T的iPhone 15 Pro售价$999.99，涨幅100%",
    "C#与.NET 6.0、e-mail地址foo_bar@example.com",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    # Full-width letters, digits and space.
    "ＡＢＣ１２３全角字符，全角空格　在这里",
    "“你好！”她说——（括号）《书名》……【注】",
    "今天很开心😀🎉，吃了火锅🍲",
    "臺灣的電腦軟體",
    "これは日本語です 한국어",
    "的的的的的的的的的的的的的的的的的的的的的的的",
    "长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长长",
    "  \t\n\r\n",
    "\ud800孤立代理项",
    "",
]

# freq 0 makes jieba force-split the HMM's "杭研"; the long word is longer than any dictionary word.
USER_DICT = """韭菜盒子兄弟 10 nz
杭研 0
云计算 5
创新办 3 i
超长的用户自定义词语测试一二三四五六七八九十
机器 学习 7
"""
USER_SENTENCES = [
    "我和韭菜盒子兄弟去了网易杭研大厦",
    "他来到了网易杭研大厦",
    "李小福是创新办主任也是云计算方面的专家",
    "超长的用户自定义词语测试一二三四五六七八九十和机器学习",
]


@pytest.fixture(scope="module")
def full():
    return new_tokenizer()


@pytest.fixture(scope="module")
def lexicon_path(full, tmp_path_factory):
    path = tmp_path_factory.mktemp("lexicon") / "lexicon.bin"
    write_lexicon(full, path)
    return path


@pytest.fixture(scope="module")
def lexicon(lexicon_path):
    with Lexicon(lexicon_path) as lexicon:
        yield lexicon


@pytest.fixture(scope="module")
def user_dict_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("userdict") / "user.txt"
    path.write_text(USER_DICT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def user_full(user_dict_path):
    return new_tokenizer(user_dict_path)


@pytest.fixture(scope="module")
def user_lexicon_path(user_full, tmp_path_factory):
    path = tmp_path_factory.mktemp("userlexicon") / "lexicon.bin"
    write_lexicon(user_full, path)
    return path


def assert_same(lexicon, tokenizer, text):
    for hmm in (True, False):
        assert lexicon.cut(text, hmm=hmm) == tokenizer.lcut(text, HMM=hmm), (text, hmm)
        assert lexicon.cut_for_search(text, hmm=hmm) == tokenizer.lcut_for_search(text, HMM=hmm), (text, hmm)


@pytest.mark.parametrize("text", TRICKY)
def test_lexicon_cut_tricky_sentences(lexicon, full, text):
    assert_same(lexicon, full, text)


def test_lexicon_cut_all_tricky_sentences_at_once(lexicon, full):
    assert_same(lexicon, full, "\n".join(TRICKY))


def test_lexicon_cut_known_segmentation(lexicon):
    assert lexicon.cut("定期人寿保险支付时会发生什么？") == ["定期", "人寿保险", "支付", "时会", "发生", "什么", "？"]
    assert lexicon.cut("Python3.11和C++") == ["Python3.11", "和", "C++"]
    assert lexicon.cut("") == []


def test_lexicon_tokenizer_for_holds_only_needed_entries(lexicon, full):
    tokenizer = lexicon.tokenizer_for("中华人民共和国")
    assert 0 < len(tokenizer.FREQ) < 50
    assert tokenizer.total == full.total
    assert all(full.FREQ[word] == freq for word, freq in tokenizer.FREQ.items())
    # A tokenizer made for a text also cuts any part of it.
    assert tokenizer.lcut("人民共和") == full.lcut("人民共和")


def test_lexicon_find_from_a_prefix_gives_the_same_entry(lexicon, full):
    # entries_for looks each longer fragment up from its prefix's entry on (galloping): the same entry, or none, as
    # a search of every key; jieba's FREQ holds every prefix of a word.
    words = ["中华人民共和国", "人寿保险", "数据库索引", "研究生命起源", "内推二维码", "的确", "python3", "c++", "鿕一"]
    for word in words:
        for end in range(2, len(word) + 1):
            prefix = lexicon._find(word[:end - 1].encode("utf-8"))
            whole = lexicon._find(word[:end].encode("utf-8"))
            assert (whole >= 0) == (word[:end] in full.FREQ)
            if prefix >= 0:
                assert lexicon._find(word[:end].encode("utf-8"), prefix + 1) == whole, word[:end]


def test_lexicon_header(lexicon, full):
    assert len(lexicon) == len(full.FREQ)
    assert lexicon.total == full.total
    assert lexicon.max_chars == max(map(len, full.FREQ))


def test_lexicon_user_dict(user_full, user_lexicon_path):
    jieba = import_jieba()
    # The user words change jieba's output, so the comparison below tests something.
    assert user_full.lcut("他来到了网易杭研大厦") == ["他", "来到", "了", "网易", "杭", "研", "大厦"]
    assert "韭菜盒子兄弟" in user_full.lcut(USER_SENTENCES[0])
    expected = {s: (user_full.lcut(s), user_full.lcut_for_search(s, HMM=False)) for s in USER_SENTENCES}
    # A query process has not loaded the user dictionary: the lexicon must bring the force-split word back.
    jieba.finalseg.Force_Split_Words.discard("杭研")
    with Lexicon(user_lexicon_path) as lexicon:
        got = {s: (lexicon.cut(s), lexicon.cut_for_search(s, hmm=False)) for s in USER_SENTENCES}
        assert got == expected
        for text in USER_SENTENCES + TRICKY:
            assert_same(lexicon, user_full, text)


def test_lexicon_in_new_process(user_full, user_lexicon_path):
    """A fresh interpreter: pkg_resources left alone, nothing on stderr, force-split words read from the file."""
    script = """
import json, sys
from pathlib import Path
had = "pkg_resources" in sys.modules
from search.text.lexicon import Lexicon
from search.text.tokenizer import import_jieba
import_jieba()
assert ("pkg_resources" in sys.modules) == had, "pkg_resources entry left behind"
lexicon = Lexicon(Path(sys.argv[1]))
print(json.dumps([lexicon.cut(s) for s in json.loads(sys.argv[2])], ensure_ascii=False))
"""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(
        [sys.executable, "-c", script, str(user_lexicon_path), json.dumps(USER_SENTENCES)],
        capture_output=True, encoding="utf-8", env=env, cwd=REPO, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout) == [user_full.lcut(s) for s in USER_SENTENCES]


def test_import_jieba_leaves_pkg_resources_importable():
    script = """
import sys
from search.text.tokenizer import import_jieba
assert "pkg_resources" not in sys.modules
import_jieba()
assert "pkg_resources" not in sys.modules, sys.modules["pkg_resources"]
assert "jieba" in sys.modules
try:
    import setuptools
except ImportError:
    pass
else:
    import pkg_resources
    assert pkg_resources is not None
"""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "PYTHONWARNINGS": "ignore"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, encoding="utf-8", env=env,
                            cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr


def test_import_jieba_silences_logger():
    jieba = import_jieba()
    assert import_jieba() is jieba
    assert not logging.getLogger("jieba").isEnabledFor(logging.DEBUG)


def test_write_lexicon_is_deterministic(full, lexicon_path, tmp_path):
    again = tmp_path / "again.bin"
    write_lexicon(full, again)
    assert again.read_bytes() == lexicon_path.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["again.bin"]  # no temp file left behind


def test_write_lexicon_encodes_words_a_chunk_at_a_time(full, lexicon_path, tmp_path, monkeypatch):
    # The words' bytes are made a chunk at a time (a build's first process held all 500,000 at once, its peak): the
    # same string table as all at once, and the same file, whatever the chunk's size.
    from search.text import lexicon as lexicon_module

    words = ["中文", "", "a", "\udcff", "𠮷", "python", "数据库"] * 3
    keys = [word.encode("utf-8", lexicon_module.ENCODING_ERRORS) for word in words]
    for chunk in (1, 2, 5, 100):
        monkeypatch.setattr(lexicon_module, "_ENCODE_CHUNK", chunk)
        assert lexicon_module._encoded_string_table(words) == lexicon_module._string_table(keys)
        assert lexicon_module._encoded_string_table([]) == lexicon_module._string_table([])
    monkeypatch.setattr(lexicon_module, "_ENCODE_CHUNK", 1000)
    again = tmp_path / "chunked.bin"
    write_lexicon(full, again)
    assert again.read_bytes() == lexicon_path.read_bytes()


def test_lexicon_fingerprint(lexicon_path, user_lexicon_path):
    with Lexicon(lexicon_path) as a, Lexicon(lexicon_path) as b, Lexicon(user_lexicon_path) as c:
        assert a.fingerprint == b.fingerprint
        assert a.fingerprint != c.fingerprint
        assert len(a.fingerprint) == 16 and int(a.fingerprint, 16) >= 0


def test_lexicon_missing_file(tmp_path):
    with pytest.raises(IndexCorrupt, match="cannot read lexicon"):
        Lexicon(tmp_path / "nope.bin")


@pytest.mark.parametrize("content", [b"", b"not a lexicon" * 10], ids=["empty", "garbage"])
def test_lexicon_not_a_lexicon(tmp_path, content):
    path = tmp_path / "lexicon.bin"
    path.write_bytes(content)
    with pytest.raises(IndexCorrupt):
        Lexicon(path)


def test_lexicon_truncated(lexicon_path, tmp_path):
    path = tmp_path / "lexicon.bin"
    path.write_bytes(lexicon_path.read_bytes()[:-1])
    with pytest.raises(IndexCorrupt, match="truncated"):
        Lexicon(path)


def test_new_tokenizer_missing_user_dict(tmp_path):
    with pytest.raises(ConfigError, match="user dictionary"):
        new_tokenizer(tmp_path / "missing.txt")


def blog_blocks() -> list[str]:
    """Every distinct run jieba cuts on its own (``jieba.re_han_default``) in the raw blog posts.

    jieba splits a sentence at everything else (punctuation, spaces, other scripts) and cuts each run
    independently, so checking every distinct run checks every sentence.
    """
    jieba = import_jieba()
    blocks: set[str] = set()
    for path in sorted(BLOGS.rglob("*")):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            blocks.update(m.group() for m in jieba.re_han_default.finditer(text))
    return sorted(blocks)


@pytest.mark.skipif(not BLOGS.is_dir(), reason="../shared/corpora/blogs is absent")
@pytest.mark.parametrize("hmm", [True, pytest.param(False, marks=pytest.mark.slow)], ids=["hmm", "no_hmm"])
def test_lexicon_blog_corpus_identical(lexicon, full, hmm):
    """Search-mode tokens with offsets include every word of `cut` and every gram of `cut_for_search`."""
    blocks = blog_blocks()
    assert len(blocks) > 1000
    mismatches = []
    for block in blocks:
        got = lexicon.tokenizer_for(block).tokenize(block, mode="search", HMM=hmm)
        if list(got) != list(full.tokenize(block, mode="search", HMM=hmm)):
            mismatches.append(block)
    assert mismatches == []


def test_new_tokenizer_user_dict_not_utf8(tmp_path):
    path = tmp_path / "user.txt"
    path.write_bytes("韭菜盒子 3\n".encode("gbk"))
    with pytest.raises(ConfigError, match="user dictionary"):
        new_tokenizer(path)


def test_import_jieba_cuts_dictionary_and_hmm_words(lexicon_path):
    # In a fresh process (as a cold query): jieba imported quietly, without pkg_resources, cuts dictionary words and
    # joins with its HMM the words its dictionary lacks.
    script = """
import json, sys
from pathlib import Path
from search.text.lexicon import Lexicon
from search.text.tokenizer import import_jieba
pkg_resources_before = "pkg_resources" in sys.modules
jieba = import_jieba()
assert pkg_resources_before or "pkg_resources" not in sys.modules
lexicon = Lexicon(Path(sys.argv[1]))
words = [lexicon.cut("数据库索引"), lexicon.cut(sys.argv[2])]
import jieba.finalseg
assert jieba.finalseg is sys.modules["jieba.finalseg"] and hasattr(jieba.finalseg, "viterbi")
print(json.dumps(words, ensure_ascii=False))
"""
    unknown = "他来到了网易杭研大厦"  # 杭研 is not in jieba's dictionary: only the HMM joins it
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", script, str(lexicon_path), unknown], capture_output=True,
                            encoding="utf-8", env=env, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr
    # (Compared with known cuts, not with `full` in this process: another test's user dictionary force-splits 杭研
    # here, jieba's force-split words being process-wide.)
    assert json.loads(result.stdout) == [["数据库", "索引"], ["他", "来到", "了", "网易", "杭研", "大厦"]]


def test_import_search_leaves_urllib_request_real():
    # `import search` loads whoosh.compat without its urllib.request (30 ms of a cold query); a later import
    # of urllib.request must still get the real module, and whoosh's urlretrieve must still work.
    script = """
import sys
import search
assert "urllib.request" not in sys.modules
import urllib.request
assert hasattr(urllib.request, "urlopen") and hasattr(urllib.request, "Request")
import whoosh.compat
assert whoosh.compat.urlretrieve.__name__ == "urlretrieve"
"""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, encoding="utf-8", env=env,
                            cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr


def _jieba_loaded_by_itself():
    jieba = import_jieba()
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def test_default_dictionary_copy_loads_what_jieba_loads(tmp_path, monkeypatch):
    import shutil
    import tempfile

    from search.text import tokenizer as loading

    expected = _jieba_loaded_by_itself()
    shutil.copy2(Path(tempfile.gettempdir()) / "jieba.cache", tmp_path / "jieba.cache")
    jieba = import_jieba()
    first = jieba.Tokenizer()
    loading._initialize_default(first, str(tmp_path))  # jieba's load, then the copy written
    assert (tmp_path / loading._DEFAULT_COPY).is_file()

    def no_jieba_load(self, dictionary=None):
        raise AssertionError("jieba's own load ran")

    monkeypatch.setattr(jieba.Tokenizer, "initialize", no_jieba_load)
    second = jieba.Tokenizer()
    loading._initialize_default(second, str(tmp_path))
    assert second.initialized
    assert second.total == expected.total
    assert second.FREQ == expected.FREQ
    assert list(second.FREQ) == list(expected.FREQ)


def test_default_dictionary_copy_ignored_when_stale_or_damaged(tmp_path):
    import shutil
    import tempfile

    from search.text import tokenizer as loading

    shutil.copy2(Path(tempfile.gettempdir()) / "jieba.cache", tmp_path / "jieba.cache")
    jieba = import_jieba()
    loading._initialize_default(jieba.Tokenizer(), str(tmp_path))
    copy = tmp_path / loading._DEFAULT_COPY
    assert loading._load_default_copy(jieba.Tokenizer(), str(tmp_path))
    # jieba.cache replaced (jieba would load the new one): the copy no longer stands for it.
    os.utime(tmp_path / "jieba.cache", ns=(1, 1))
    assert not loading._load_default_copy(jieba.Tokenizer(), str(tmp_path))
    loading._initialize_default(jieba.Tokenizer(), str(tmp_path))  # written again for the new one
    assert loading._load_default_copy(jieba.Tokenizer(), str(tmp_path))
    data = bytearray(copy.read_bytes())
    data[-1] ^= 1
    copy.write_bytes(bytes(data))
    assert not loading._load_default_copy(jieba.Tokenizer(), str(tmp_path))
    copy.write_bytes(bytes(data[:100]))
    assert not loading._load_default_copy(jieba.Tokenizer(), str(tmp_path))


_EMISSIONS_SCRIPT = """
import importlib.util, json, sys
import search
ix = search.open_index(sys.argv[1])
words = ix._words("他来到了网易杭研大厦")
others = ["内推二维码的人脉背书", "小明硕士毕业于中国科学院计算所", "喵喵酱的ｉＰｈｏｎｅ壳", "𠀀𠀁吖嗷嗷"]
others_words = [ix._words(t) for t in others]
import jieba.finalseg
from_copy = type(jieba.finalseg.emit_P["B"]).__name__ == "_StateEmissions"
spec = importlib.util.spec_from_file_location("real_prob_emit", jieba.finalseg.__file__.replace("__init__.py", "prob_emit.py"))
real = importlib.util.module_from_spec(spec)
spec.loader.exec_module(real)
same = all(dict(jieba.finalseg.emit_P[s]) == real.P[s] and len(jieba.finalseg.emit_P[s]) == len(real.P[s])
           and all(jieba.finalseg.emit_P[s].get(c) == p for c, p in real.P[s].items()) for s in "BMES")
same = same and jieba.finalseg.emit_P["B"].get("not one character", -1.0) == -1.0
print(json.dumps([words, from_copy, same, others_words], ensure_ascii=False))
"""


@pytest.mark.parametrize("copy", ["kept", "stale"])
def test_hmm_emission_table_comes_from_the_index_copy(tmp_path, copy):
    # A query with words jieba's dictionary lacks runs its HMM: the emission table is read from the index's copy
    # instead of jieba's module. The same table, the same words; a copy not made from the installed jieba is not used.
    import search
    from search.store import generations, layout

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("---\ntitle: 杭研\n---\n他来到了网易杭研大厦。\n", encoding="utf-8")
    search.build_index(corpus, tmp_path / "index", workers=1)
    gen = generations.current_generation(tmp_path / "index")
    if copy == "stale":  # as if jieba had been reinstalled since the build (another mtime)
        data = (gen / layout.EMISSIONS).read_bytes()
        import marshal

        source, *table = marshal.loads(data[8:])
        (gen / layout.EMISSIONS).unlink()
        (gen / layout.EMISSIONS).write_bytes(data[:8] + marshal.dumps(([source[0], source[1] + 1, source[2]],
                                                                             *table)))
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", _EMISSIONS_SCRIPT, str(tmp_path / "index")], capture_output=True,
                            encoding="utf-8", env=env, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr
    words, from_copy, same_table, others_words = json.loads(result.stdout)
    assert words == ["他", "来到", "了", "网易", "杭研", "大厦"]  # 杭研: only the HMM joins it
    assert from_copy == (copy == "kept")
    assert same_table  # the copy holds jieba's own table, entry for entry
    assert others_words[1][:2] == ["小明", "硕士"]
