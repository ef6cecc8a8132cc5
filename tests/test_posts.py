"""Tests for search/posts.py: fixtures, hostile input (hypothesis), find_posts, and the real corpora in ../shared."""

from __future__ import annotations

import datetime
import os
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.errors import PostError
from search.posts import corpus, frontmatter
from search.posts.corpus import POST_SUFFIXES, find_posts
from search.posts.post import MAX_POST_BYTES, Post, parse_post, read_post

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "posts"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BLOGS = SHARED / "corpora" / "blogs"
SEED = SHARED / "seed" / "000_48d9f4073440e31b.txt"

needs_shared = pytest.mark.skipif(not BLOGS.is_dir(), reason="../shared (real corpora) is not available")

# CI has 2 cores and the whole file should stay well under a minute.
HYPOTHESIS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fixture(name: str) -> Post:
    return read_post(FIXTURES / name, FIXTURES)


# --- front matter ------------------------------------------------------------------------------------------------

def test_parse_post_zhihu_format():
    post = fixture("zhihu-answer.md")
    assert post.path == "zhihu-answer.md"
    assert post.title == "为什么冬天的自行车胎容易瘪？"
    assert post.authors == ("知乎", "骑车的老王")
    assert post.categories == ("社交媒体", "知乎", "知乎日报")
    assert post.date == datetime.datetime(2021, 11, 2, 7, 30, 5)
    assert post.url == "https://www.zhihu.com/question/100000001/answer/200000002"
    assert post.problems == ()
    lines = post.text.split("\n")
    assert lines[0] == "自行车放了一个冬天，轮胎为什么会瘪？"  # the question
    assert "先说结论：气体遇冷收缩，橡胶也会慢慢透气。" in lines  # <strong> joined without a separator
    assert "一只被冻瘪的前轮" in lines  # figcaption
    assert "查看知乎原文" not in post.text  # hidden originUrl link
    assert "查看知乎讨论" not in post.text  # the boilerplate link under every answer


def test_parse_post_categories_nested_and_tags_fullwidth_commas():
    post = fixture("hexo-nested-categories.md")
    assert post.categories == ("技术", "前端", "JavaScript", "42")
    assert post.tags == ("Vue", "React", "Angular")
    assert post.authors == ("甲", "乙")
    assert post.url == "https://blog.example.com/hexo-categories/"
    assert post.date == datetime.datetime(2016, 5, 18, 22, 30, 22,
                                          tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def test_parse_post_category_tag_keywords_and_draft():
    post = fixture("keywords-list.md")
    assert post.categories == ("读书",)
    assert post.tags == ("随笔", "读书", "笔记")  # tag, then keywords; de-duplicated, order kept
    assert post.draft is True
    assert post.date == datetime.datetime(2017, 8, 12, 9, 47)


def test_parse_post_category_forms():
    def cats(value: str) -> tuple[str, ...]:
        return parse_post(f"---\ncategories: {value}\n---\n".encode(), "a.md").categories

    assert cats("~") == ()
    assert cats("单个") == ("单个",)
    assert cats("[a, [b, [c, ' d ']], '', null]") == ("a", "b", "c", "d")


@pytest.mark.parametrize("value, expected", [
    ("2021-04-23 04:10:59", datetime.datetime(2021, 4, 23, 4, 10, 59)),
    ('"2017-08-12 09:47"', datetime.datetime(2017, 8, 12, 9, 47)),
    ("2020-10-9", datetime.datetime(2020, 10, 9)),
    ("2016-05-18 22:30:22 +0800",
     datetime.datetime(2016, 5, 18, 22, 30, 22, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))),
    ("2016-05-18T22:30:22-05:30",
     datetime.datetime(2016, 5, 18, 22, 30, 22, tzinfo=datetime.timezone(-datetime.timedelta(hours=5, minutes=30)))),
    ("Mon, 13 Dec 2021 14:40:19 GMT", datetime.datetime(2021, 12, 13, 14, 40, 19, tzinfo=datetime.timezone.utc)),
    ("2019-02-03", datetime.datetime(2019, 2, 3)),
    ("!!timestamp 2001-12-14", datetime.datetime(2001, 12, 14)),
])
def test_parse_post_date_formats(value, expected):
    post = parse_post(f"---\ndate: {value}\n---\n".encode(), "x.md")
    assert post.date == expected
    assert post.problems == ()


def test_parse_post_date_fixtures():
    assert fixture("rfc-date.md").date == datetime.datetime(2021, 12, 13, 14, 40, 19, tzinfo=datetime.timezone.utc)
    assert fixture("date-only.md").date == datetime.datetime(2019, 2, 3)
    assert fixture("2020-10-9-short-date.md").date == datetime.datetime(2020, 10, 9)  # from the file name
    assert fixture("body-only.md").date is None


def test_parse_post_unparseable_date_is_a_problem():
    post = fixture("no-date-bad.md")
    assert post.date is None
    assert post.problems == ("unparseable date '32/13/2020'",)
    # With a dated file name, the name's date is the better guess; the problem is still reported.
    post = fixture("2015-03-04-bad-date.md")
    assert post.date == datetime.datetime(2015, 3, 4)
    assert "unparseable date" in post.problems[0]


def test_parse_post_titles():
    assert fixture("multiline-title.md").title == "第一行 第二行"
    assert fixture("numeric-title.md").title == "2048"
    assert fixture("2021-01-02-empty-title.md").title == "empty-title"  # date prefix stripped
    assert fixture("2020-10-9-short-date.md").title == "short-date"  # `title:` with no value
    assert fixture("body-only.md").title == "body-only"
    assert parse_post(b"---\ntitle: 'It''s \"quoted\"'\n---\n", "q.md").title == 'It\'s "quoted"'
    assert parse_post(b"---\ntitle: [a, b]\n---\n", "q.md").title == "a b"


def test_parse_post_url_only_absolute_http():
    assert fixture("2020-10-9-short-date.md").url is None  # url: /not/absolute
    assert fixture("rfc-date.md").url == "http://feed.example.com/item/1"  # source_url
    assert parse_post(b"---\nlink: javascript:alert(1)\n---\n", "x.md").url is None


def test_parse_post_broken_yaml_indexes_body():
    post = fixture("broken-yaml.md")
    assert post.title == "broken-yaml"
    assert post.text == "这一段仍然要被索引。"
    assert len(post.problems) == 1
    assert post.problems[0].startswith("front matter is not valid YAML (line 4): ")


def test_parse_post_python_tag_is_never_constructed(tmp_path):
    marker = Path("/tmp/zhsearch-posts-owned")  # what the fixture's os.system call would create
    marker.unlink(missing_ok=True)
    post = fixture("python-tag.md")
    assert not marker.exists()
    assert post.title == "python-tag"
    assert post.text == "正文照常。"
    assert "python/object/apply:os.system" in post.problems[0]


def test_parse_post_front_matter_not_a_mapping():
    post = fixture("not-a-mapping.md")
    assert post.title == "not-a-mapping"
    assert post.text == "列表不是映射。"
    assert post.problems == ("front matter is not a mapping (it is a list)",)


def test_parse_post_front_matter_guards():
    deep = parse_post(b"---\na: " + b"[" * 3000 + b"\n---\nbody", "deep.md")  # ~50,000 crashes libyaml
    assert deep.text == "body" and "nests too deeply" in deep.problems[0]
    huge = parse_post(b"---\na: '" + b"x" * (frontmatter._MAX_FRONT_MATTER_CHARS + 1) + b"'\n---\nbody", "huge.md")
    assert huge.text == "body" and "larger than" in huge.problems[0]
    merge = b"---\na0: &a0 {k: 1}\n" + b"".join(b"a%d: &a%d {<<: [*a%d, *a%d]}\n" % (i, i, i - 1, i - 1)
                                                for i in range(1, 40)) + b"---\nbody"
    assert "merge keys" in parse_post(merge, "merge.md").problems[0]
    aliases = b"---\na0: &a0 [x, y]\n" + b"".join(b"a%d: &a%d [*a%d, *a%d]\n" % (i, i, i - 1, i - 1)
                                                  for i in range(1, 60)) + b"tags: *a59\n---\nbody"
    post = parse_post(aliases, "aliases.md")  # 2**60 leaves: must stop early, not hang
    assert post.text == "body" and len(post.tags) <= frontmatter._MAX_META_ITEMS


def test_parse_post_bom_blank_lines_and_crlf():
    post = fixture("bom-crlf.md")
    assert post.title == "带 BOM 的文章"
    assert post.text == "第一行第二行"  # one Markdown paragraph; no space inserted between CJK characters
    assert post.problems == ()


def test_parse_post_unclosed_front_matter_is_body():
    post = parse_post(b"---\ntitle: x\nno closing line", "open.md")
    assert post.title == "open"
    assert "no closing" in post.problems[0]


# --- bodies ------------------------------------------------------------------------------------------------------

def test_parse_post_markdown_syntax_does_not_pollute_text():
    lines = fixture("markdown-syntax.md").text.split("\n")
    assert lines[:5] == ["二级标题", "引用的一段话", "列表一", "粗体和斜体和_下划线_", "有序"]
    assert "链接文字 和 图片说明 以及" in lines  # link text and alt text kept, brackets and URLs gone
    assert "名称 数值" in lines and "甲 1" in lines  # table cells separated, no pipes
    assert '# 代码注释 保留' in lines and 'print("**不是粗体**")' in lines  # code kept verbatim
    assert "indented_code = 1" in lines
    assert "中文加粗，后面紧跟文字。引用脚注。" in lines  # CJK emphasis CommonMark leaves unmatched; footnote
    assert lines[-1] == "最后一段"
    assert not any(line.startswith(("#" + " ", ">", "* ", "|", "```", "***")) and "代码" not in line
                   for line in lines)


def test_parse_post_liquid_tags():
    lines = fixture("jekyll-liquid.md").text.split("\n")
    assert lines[0] == "标题是 吗？转义的 {{ page.title }} 要保留。"  # entities survive, the real tag is gone
    assert "{% assign base = site.url %}" in lines and "{{ base }}/assets" in lines  # {% raw %} content kept
    assert "if (a < b) { run(); }" in lines  # {% highlight %} content kept as code
    assert "Vue 模板 {{ message }} 写在代码里。" in lines  # inline code keeps its braces
    assert not any("include" in line or "注释" in line or "endraw" in line for line in lines)


def test_parse_post_html_file():
    post = fixture("page.html")
    assert post.title == "网页标题"  # no front matter: the document's <title>
    assert post.text.split("\n") == [
        "HTML 文章",
        "隨機產生的數字&符号<tag>",  # inline tags join without a separator; entities decoded
        "示意图",  # alt text
        "图一 说明",
        "表头一 表头二",
        "格一 格二",
        "第一行",
        "第二行",
        "项一",
        "项二",
        "中文段落跨行继续写。English words wrap here.",  # a source line break is a space, but not between CJK
    ]


def test_parse_post_embedded_html_in_markdown():
    # CommonMark would read the indented HTML after a blank line as code, and `**` after `<br>` as raw HTML.
    assert fixture("embedded-html.md").text.split("\n") == [
        "转载自我的回答", "第一段 HTML", "第二行", "空行后缩进的 HTML 不是代码", "行首标签后的粗体"]


def test_parse_post_html_comments_and_hidden_in_markdown():
    data = "前<!-- 注释 -->后\n\n<div style=\"DISPLAY:none\">藏</div>\n\n<script>x()</script>\n".encode()
    assert parse_post(data, "h.md").text == "前后"


# --- encodings, NULs, empty, truncation -----------------------------------------------------------------------------

def test_parse_post_gb18030_and_big5():
    gb = fixture("gb18030.md")
    assert (gb.title, gb.categories, gb.problems) == ("国标编码", ("测试",), ("decoded as GB18030",))
    assert gb.text == "这是一篇用国标编码保存的文章，请正确读取。"
    big5 = fixture("big5.md")
    assert (big5.title, big5.problems) == ("繁體編碼", ("decoded as Big5",))
    assert big5.text == "這是一篇以大五碼儲存的文章，請正確讀取。"


def test_parse_post_undecodable_raises_post_error():
    with pytest.raises(PostError, match=r"^undecodable\.md: "):
        fixture("undecodable.md")


def test_parse_post_nul_bytes_removed():
    post = fixture("nul-bytes.md")
    assert (post.title, post.text, post.problems) == ("NUL", "abcd", ("removed 2 NUL bytes",))


def test_parse_post_empty_file():
    post = fixture("empty.md")
    assert (post.title, post.text, post.problems, post.date) == ("empty", "", (), None)
    assert parse_post(b"", "2020-01-02-x.md").date == datetime.datetime(2020, 1, 2)


def test_read_post_truncates_on_a_character_boundary(tmp_path):
    # 4 MiB is not a multiple of 3, so the cut lands inside a 3-byte character.
    file = tmp_path / "big.md"
    file.write_bytes("中".encode() * (MAX_POST_BYTES // 3 + 10))
    post = read_post(file, tmp_path)
    assert post.problems[0] == "truncated at 4 MiB"
    assert set(post.text) == {"中"} and len(post.text) == MAX_POST_BYTES // 3


@pytest.mark.slow
def test_parse_post_ten_megabyte_single_line():
    # Not under hypothesis: one big input. Truncated, and too big for Markdown rendering, but still a Post.
    data = ("一行很长的文字 with words *and* [brackets] " * 250_000).encode()[: 10 * 1024 * 1024]
    post = parse_post(data, "long.md")
    assert post.problems[0] == "truncated at 4 MiB"
    assert "Markdown syntax not rendered" in post.problems[1]
    assert "\n" not in post.text and post.text.startswith("一行很长的文字 with words")


def test_read_post_missing_file_names_it(tmp_path):
    with pytest.raises(PostError, match=r"^gone\.md: cannot read"):
        read_post(tmp_path / "gone.md", tmp_path)


# --- hostile input (hypothesis) -----------------------------------------------------------------------------------

def parses_or_post_error(data: bytes, path: str = "fuzz.md") -> Post | None:
    """The contract under test: a Post, or PostError, never anything else."""
    try:
        post = parse_post(data, path)
    except PostError:
        return None
    assert isinstance(post, Post) and post.title
    assert "\n\n" not in post.text and "\x00" not in post.text
    return post


@HYPOTHESIS
@given(st.binary(max_size=2000), st.sampled_from(("a.md", "b.html", "c.markdown", "2020-01-01-d.md")))
def test_fuzz_random_bytes(data, path):
    parses_or_post_error(data, path)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30)
yaml_keys = st.sampled_from(("title", "date", "categories", "category", "tags", "tag", "keywords", "author",
                             "published", "link", "url")) | st.text(max_size=10)


@HYPOTHESIS
@given(st.dictionaries(yaml_keys, yaml_values, max_size=8), st.text(max_size=200))
def test_fuzz_random_yaml_front_matter(meta, body):
    data = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n" + body
    post = parses_or_post_error(data.encode("utf-8", "surrogatepass"))
    if post is not None and isinstance(meta.get("title"), str) and meta["title"].strip():
        assert post.title == " ".join(meta["title"].split())


@HYPOTHESIS
@given(st.text(alphabet="[]{}-?:, \n\tab'\"&*!#|>", max_size=400))
def test_fuzz_yaml_punctuation_soup(front):
    parses_or_post_error(f"---\n{front}\n---\nbody".encode())


@HYPOTHESIS
@given(st.integers(1, 120_000), st.sampled_from(("[", "{a: ", "- ", "? ", "[{", "- [")))
def test_fuzz_deeply_nested_yaml(depth, opener):
    post = parses_or_post_error(f"---\nk: {opener * depth}x\n---\nbody".encode())
    assert post is not None and post.text == "body"


MARKER = Path(tempfile.gettempdir()) / f"zhsearch-yaml-marker-{os.getpid()}"
PYTHON_TAGS = [
    f"!!python/object/apply:os.mkdir ['{MARKER}']",
    f"!!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path ['{MARKER}']]",
    f"!!python/object/new:os.makedirs ['{MARKER}']",
    "!!python/name:os.system",
    "!!python/module:os",
    f"!!python/object/apply:subprocess.call [[touch, '{MARKER}']]",
]


@HYPOTHESIS
@given(st.sampled_from(PYTHON_TAGS), st.sampled_from(("title", "tags", "date", "x")), st.sampled_from(("{k}: {t}\n", "{k}:\n  - {t}\n", "{k}: [{t}]\n")))
def test_fuzz_yaml_python_tags_never_run(tag, key, layout):
    post = parses_or_post_error(("---\n" + layout.format(k=key, t=tag) + "---\nbody").encode())
    assert not MARKER.exists()
    assert post is not None and post.text == "body"
    assert post.problems[0].startswith("front matter is not valid YAML")


html_pieces = st.sampled_from([
    "<div>", "</div>", "<p>", "</p>", "<span>", "</span>", "<br>", "<pre>", "</pre>", "<table><tr><td>", "</td>",
    "<img alt='图'>", "<!--", "-->", "<script>", "</script>", "<div hidden>", "<style>", "&amp;", "&#123;", "&#0;",
    "&#x110000;", "{{", "}}", "{%", "%}", "{% raw %}", "```", "\n", "\n\n", "    ", "*", "**", "_", "[", "](", ")",
    "> ", "- ", "# ", "|", "中文", "text", "\t", "\x0b", "\ufeff", "\ue000", "<![CDATA[", "]]>", "<?xml ?>",
    "<a href='x'>", "</a>", "<svg><text>", "<math>", "<template>", "<", ">", "&", "\r",
])


@HYPOTHESIS
@given(st.lists(html_pieces, max_size=80), st.sampled_from(("a.md", "a.html")))
def test_fuzz_random_html_and_markdown(pieces, path):
    parses_or_post_error("".join(pieces).encode(), path)


@HYPOTHESIS
@given(st.text(max_size=300), st.lists(st.integers(0, 300), max_size=10))
def test_fuzz_nul_bytes(text, positions):
    data = bytearray(("---\ntitle: t\n---\n" + text).encode("utf-8", "surrogatepass"))
    for position in positions:
        data.insert(min(position, len(data)), 0)
    post = parses_or_post_error(bytes(data))
    if post is not None and positions:
        assert any(problem.startswith("removed") for problem in post.problems)


@HYPOTHESIS
@given(st.text(max_size=200), st.binary(min_size=1, max_size=50), st.sampled_from(("gb18030", "big5", "utf-16")))
def test_fuzz_invalid_and_other_encodings(text, junk, encoding):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    parses_or_post_error(data + junk)
    parses_or_post_error(junk + data)


# --- find_posts -------------------------------------------------------------------------------------------------

def make_tree(root: Path, files: list[str]) -> None:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")


def test_find_posts_suffixes_hidden_and_order(tmp_path):
    make_tree(tmp_path, ["b.md", "a/z.MARKDOWN", "a/y.html", "a/x.txt", "c.Md", ".git/x.md", "a/.hidden/y.md",
                         "node_modules/pkg/readme.md", ".draft.md", "img.png"])
    found, skipped = find_posts(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a/y.html", "a/z.MARKDOWN", "b.md", "c.Md"]
    assert skipped == []
    assert all(p.suffix.lower() in POST_SUFFIXES for p in found)


def test_find_posts_symlink_outside_root_not_followed(tmp_path):
    outside = tmp_path / "outside"
    make_tree(outside, ["secret.md", "dir/secret2.md"])
    root = tmp_path / "root"
    make_tree(root, ["in.md"])
    (root / "link.md").symlink_to(outside / "secret.md")
    (root / "linkdir").symlink_to(outside / "dir")
    (root / "inside.md").symlink_to(root / "in.md")  # inside the root: followed
    found, skipped = find_posts(root)
    assert [p.name for p in found] == ["in.md", "inside.md"]
    assert [rel for rel, _ in skipped] == ["link.md", "linkdir"]
    assert all("outside the corpus root" in reason for _, reason in skipped)


def test_find_post_names_the_same_listing_directories_by_descriptor_or_by_path(tmp_path, monkeypatch):
    # Directories are listed through a descriptor where the OS allows (each entry stat'ed relative to it, fstatat):
    # the posts, the skipped entries and each post's stat are what listing by path finds.

    make_tree(tmp_path / "root", ["b.md", "a/z.md", "a/deep/y.html", "c/x.md", "c/notes.txt"])
    root = tmp_path / "root"
    (root / "a" / "alias.md").symlink_to(root / "b.md")
    (root / "c" / "up").symlink_to(root / "a")  # a directory reached twice
    (root / "broken.md").symlink_to(root / "missing.md")
    make_tree(tmp_path, ["outside.md"])
    (root / "out.md").symlink_to(tmp_path / "outside.md")
    results = []
    for by_descriptor in (True, False):
        monkeypatch.setattr(corpus, "_LIST_BY_FD", by_descriptor)
        stats: dict[str, os.stat_result] = {}
        found, skipped = corpus.find_post_names(root, stats)
        results.append((found, skipped, {rel: (st.st_ino, st.st_size, st.st_mtime_ns) for rel, st in stats.items()}))
    assert results[0] == results[1]
    found, skipped, stats = results[0]
    assert found == ["a/alias.md", "a/deep/y.html", "a/z.md", "b.md", "c/x.md"]
    assert stats["a/alias.md"] == stats["b.md"]  # (a symlink's stat is its target's)
    assert [rel for rel, _ in skipped] == ["broken.md", "c/up", "out.md"]


def test_find_post_names_tells_each_directorys_posts_as_it_finds_them(tmp_path):
    # An update asks its reading process for a changed post as soon as the walk has listed its directory.

    make_tree(tmp_path, ["b.md", "a/z.md", "a/y.md", "a/deep/x.html", "c/w.md", "c/notes.txt", "empty/readme.txt"])
    told: list[list[str]] = []
    found, _ = corpus.find_post_names(tmp_path, None, lambda names: told.append(list(names)))
    assert told == [["b.md"], ["a/y.md", "a/z.md"], ["a/deep/x.html"], ["c/w.md"]]  # (depth-first, by name)
    assert sorted(name for names in told for name in names) == found


def test_find_posts_symlink_loop_terminates(tmp_path):
    make_tree(tmp_path, ["a/post.md"])
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a")
    (tmp_path / "self.md").symlink_to(tmp_path / "self.md")
    (tmp_path / "broken.md").symlink_to(tmp_path / "missing.md")
    found, skipped = find_posts(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a/post.md"]
    assert dict(skipped).keys() == {"a/loop", "self.md", "broken.md"}


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores file permissions")
def test_find_posts_unreadable_entries_reported(tmp_path):
    make_tree(tmp_path, ["ok.md", "locked.md", "closed/x.md"])
    (tmp_path / "locked.md").chmod(0)
    (tmp_path / "closed").chmod(0)
    try:
        found, skipped = find_posts(tmp_path)
    finally:
        (tmp_path / "locked.md").chmod(0o644)
        (tmp_path / "closed").chmod(0o755)
    assert [p.name for p in found] == ["ok.md"]
    assert dict(skipped) == {"locked.md": "permission denied", "closed": "cannot list directory: Permission denied"}


def test_find_posts_unreadable_entries_reported_simulated(tmp_path, monkeypatch):
    # The same reporting paths, for CI that runs as root: the OS calls are made to fail as they would.
    make_tree(tmp_path, ["ok.md", "locked.md", "closed/x.md"])
    (tmp_path / "locked.md").chmod(0o200)  # the owner can't read it: only os.access can tell (and root could)
    real_access, real_scandir, real_open = os.access, os.scandir, os.open

    def access(path, mode):
        return not str(path).endswith("locked.md") and real_access(path, mode)

    def scandir(path):
        if str(path).endswith("closed"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    def open_(path, flags, *args, **kwargs):  # (a directory is listed through its descriptor where the OS allows)
        if str(path).endswith("closed"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "open", open_)
    found, skipped = find_posts(tmp_path)
    assert [p.name for p in found] == ["ok.md"]
    assert dict(skipped) == {"locked.md": "permission denied", "closed": "cannot list directory: Permission denied"}


def test_find_posts_missing_root(tmp_path):
    with pytest.raises(PostError):
        find_posts(tmp_path / "nope")


# --- the real posts in ../shared ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_posts() -> dict[str, Post]:
    if not BLOGS.is_dir():
        pytest.skip("../shared (real corpora) is not available")
    found, skipped = find_posts(BLOGS)
    assert skipped == []
    return {post.path: post for post in (read_post(file, BLOGS) for file in found)}


@needs_shared
def test_real_posts_all_parse(real_posts):
    assert len(real_posts) == 707
    assert all(post.title for post in real_posts.values())
    assert all(post.problems == () for post in real_posts.values())
    no_date = [path for path, post in real_posts.items() if post.date is None]
    no_categories = [path for path, post in real_posts.items() if not post.categories]
    # Measured when this test was written: 1 post has no date anywhere, 88 have no categories.
    assert len(no_date) <= 5 and len(no_categories) <= 100
    assert sum(post.draft for post in real_posts.values()) == 7
    assert sum(not post.text for post in real_posts.values()) <= 5  # pure template/iframe pages


@needs_shared
def test_real_posts_no_template_tags_left(real_posts):
    # 176 yanhaijing posts start with `{% include JB/setup %}`; Liquid shown on purpose sits in code or raw.
    assert not any("JB/setup" in post.text or "\ue000" in post.text for post in real_posts.values())
    liquid_in_text = {path.rsplit("/", 1)[1] for path, post in real_posts.items() if "{%" in post.text}
    assert liquid_in_text == {"2020-05-01-cdn-for-github-pages.md", "2020-05-03-blog-template-qna.md",
                              "2020-10-07-cdn-for-github-pages-2.md", "jekyll.md", "django.md"}


@needs_shared
def test_real_posts_regressions(real_posts):
    def text(suffix: str) -> str:
        return next(post.text for path, post in real_posts.items() if path.endswith(suffix))

    # Table cells between CJK text used to be glued together ("调整前调整后").
    assert "# 调整前 调整后" in text("2015-12-02-excel-sift.md")
    # Indented HTML after a blank line inside an HTML block used to come out as code, tags and all.
    assert "<p>" not in text("2014-09-04-is-pure-android-better.markdown")
    # `<br>` on its own line made CommonMark leave the `**` of the next line in the text.
    assert "**最让我惊讶" not in text("2015-03-25-digital-native.markdown")
    # A word split across spans (`隨機</span><span>產生`) stays one word.
    assert "如果想隨機產生指定範圍內的整數" in text("Excel如何產生隨機亂數(random number)？.md")


@needs_shared
def test_real_posts_rock_candy_format(real_posts):
    rock = {path: post for path, post in real_posts.items() if path.startswith("Rock-Candy-Tea")}
    assert len(rock) == 9
    assert all(post.date is not None and len(post.categories) == 3 for post in rock.values())
    zhihu = [post for post in rock.values() if "知乎日报" in post.categories]
    assert len(zhihu) == 3
    assert all(post.authors[0] == "知乎" and len(post.authors) == 2 for post in zhihu)
    assert all(post.url and post.url.startswith("https://www.zhihu.com/question/") for post in zhihu)


@pytest.mark.skipif(not SEED.is_file(), reason="../shared seed is not available")
def test_seed_post():
    post = read_post(SEED, SEED.parent)
    assert post.title == "大家都内推，内推还有什么意义？"
    assert post.authors == ("知乎", "章牧之")
    assert post.categories == ("社交媒体", "知乎", "知乎日报")
    assert post.date == datetime.datetime(2021, 4, 23, 4, 10, 59)
    assert post.url == "https://www.zhihu.com/question/417500350/answer/1846693784"
    assert post.text.startswith("章牧之，互联网行业不知名小公司 HR，有事儿您先看简介\n谢邀。先说结论：\n")
    assert post.text.endswith("\n以上。")
    assert "查看知乎" not in post.text and post.problems == ()
