"""Tests for search/posts/corpus.py and frontmatter.py on what real blogs hold: Hexo and Jekyll site roots, file
names that are not UTF-8, and hexo-front-matter's front-matter forms."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import search
from search.posts.corpus import find_post_names, find_site
from search.posts.post import parse_post

POST = "---\ntitle: {title}\ndate: 2020-01-02 10:00:00\n---\n{body}\n"


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


# --- Hexo and Jekyll site roots -----------------------------------------------------------------------------------

HEXO_SITE = {  # as `hexo init`, `hexo new`, `hexo new draft`, `hexo generate` and `hexo deploy` leave a blog
    "_config.yml": "title: 博客\nsource_dir: source\npublic_dir: public\n",
    "package.json": "{}\n",
    "scaffolds/post.md": "---\ntitle: {{ title }}\ndate: {{ date }}\ntags:\n---\n",
    "scaffolds/draft.md": "---\ntitle: {{ title }}\ntags:\n---\n",
    "source/_posts/hello-world.md": POST.format(title="你好世界", body="欢迎使用 Hexo 写博客"),
    "source/_posts/2020/nested.md": POST.format(title="嵌套", body="子目录里的文章"),
    "source/_drafts/unfinished.md": "---\ntitle: 草稿\n---\n还没写完的草稿\n",
    "source/about/index.md": "---\ntitle: 关于\n---\n关于页面\n",
    "public/2020/01/02/hello-world/index.html": "<html><body><nav>首页 归档</nav><p>欢迎使用 Hexo 写博客</p></body></html>",
    "public/index.html": "<html><body>首页</body></html>",
    "themes/landscape/README.md": "# Landscape\n主题说明\n",
    "themes/landscape/layout/post.ejs": "<%- page.content %>\n",
    "node_modules/hexo/README.md": "# Hexo\n",
    ".deploy_git/index.html": "<html><body>部署副本</body></html>",
}

JEKYLL_SITE = {  # as `jekyll new` and `jekyll build` leave a site, with a collection and a category folder
    "_config.yml": "title: 博客\ncollections:\n  notes:\n    output: true\n",
    "Gemfile": "source 'https://rubygems.org'\n",
    "index.md": "---\nlayout: home\n---\n",
    "about.markdown": "---\ntitle: 关于\n---\n关于页面\n",
    "_posts/2020-01-02-welcome-to-jekyll.markdown": POST.format(title="欢迎", body="Jekyll 的第一篇文章"),
    "_drafts/a-draft.md": "---\ntitle: 草稿\n---\n还没写完的草稿\n",
    "_notes/2020-02-02-note.md": POST.format(title="笔记", body="集合里的笔记"),
    "blog/_posts/2020-03-03-category.md": POST.format(title="分类", body="分类目录里的文章"),
    "_layouts/post.html": "<html>{{ content }}</html>\n",
    "_includes/head.html": "<head></head>\n",
    "_site/2020/01/02/welcome-to-jekyll.html": "<html><body><p>Jekyll 的第一篇文章</p></body></html>",
    "_site/index.html": "<html><body>首页</body></html>",
    "vendor/bundle/gems/minima/README.md": "# minima\n",
    "node_modules/x/README.md": "# x\n",
}


def test_find_post_names_hexo_site_reads_posts_and_drafts_only(tmp_path):
    write(tmp_path, HEXO_SITE)
    found, skipped = find_post_names(tmp_path)
    assert found == ["source/_drafts/unfinished.md", "source/_posts/2020/nested.md", "source/_posts/hello-world.md"]
    assert dict(skipped) == {
        "public/": "Hexo site: generated output; not read",
        "scaffolds/": "Hexo site: post templates; not read",
        "source/": "Hexo site: pages and files other than source/_posts/ and source/_drafts/; not read",
        "themes/": "Hexo site: themes; not read",
        "node_modules/": "Hexo site: dependencies; not read",
    }
    site = find_site(tmp_path)
    assert site is not None and site.kind == "Hexo" and site.post_folders == ("source/_posts", "source/_drafts")


def test_find_post_names_jekyll_site_reads_posts_collections_and_drafts(tmp_path):
    write(tmp_path, JEKYLL_SITE)
    found, skipped = find_post_names(tmp_path)
    assert found == ["_drafts/a-draft.md", "_notes/2020-02-02-note.md", "_posts/2020-01-02-welcome-to-jekyll.markdown",
                     "blog/_posts/2020-03-03-category.md"]
    assert {path for path, _ in skipped} == {"_includes/", "_layouts/", "_site/", "about.markdown", "index.md",
                                            "node_modules/", "vendor/"}
    assert all(reason.startswith("Jekyll site: ") for _, reason in skipped)
    assert find_site(tmp_path).kind == "Jekyll"


def test_find_site_plain_folder_is_read_whole(tmp_path):
    write(tmp_path, {"a.md": "正文\n", "_posts/b.md": "正文\n", "public/c.md": "正文\n"})  # no _config.yml
    assert find_site(tmp_path) is None
    assert find_post_names(tmp_path) == (["_posts/b.md", "a.md", "public/c.md"], [])


@pytest.mark.parametrize(("layout", "posts"), [(HEXO_SITE, 2), (JEKYLL_SITE, 3)], ids=["hexo", "jekyll"])
def test_build_index_site_root_drafts_only_with_drafts(tmp_path, layout, posts):
    write(tmp_path / "blog", layout)
    report = search.build_index(tmp_path / "blog", tmp_path / "index")
    assert report.added == posts and report.drafts == 1
    assert any("site" in reason for _, reason in report.skipped)
    with search.open_index(tmp_path / "index") as ix:
        assert ix.search("草稿").total == 0
        assert ix.search("首页").total == 0  # generated output is never read
    search.build_index(tmp_path / "blog", tmp_path / "index-drafts", include_drafts=True)
    with search.open_index(tmp_path / "index-drafts") as ix:
        assert ix.search("草稿").total == 1


def test_parse_post_drafts_folder_is_a_draft():
    assert parse_post(b"text\n", "source/_drafts/a.md").draft
    assert not parse_post(b"text\n", "source/_posts/a.md").draft


# --- file names that are not UTF-8 --------------------------------------------------------------------------------

def test_build_index_gbk_file_name_is_named_and_the_rest_indexed(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    gbk = os.fsencode(corpus) + b"/" + "测试".encode("gbk") + b".md"
    with open(gbk, "wb") as f:
        f.write("---\ntitle: 测试\n---\n正文\n".encode())
    os.mkdir(os.fsencode(corpus) + b"/" + "草稿".encode("gbk"))
    (corpus / "ok.md").write_text("---\ntitle: 好\n---\n好的正文\n", encoding="utf-8")
    for _ in range(2):  # the same name, the same way, on every run
        report = search.build_index(corpus, tmp_path / "index")
        assert report.added + report.unchanged == 1
        assert dict(report.skipped) == {
            "\\xb2\\xe2\\xca\\xd4.md":
                "name is not UTF-8 (as GB18030: 测试.md); not read: rename it to UTF-8 to index it",
            "\\xb2\\xdd\\xb8\\xe5":
                "name is not UTF-8 (as GB18030: 草稿); not read: rename it to UTF-8 to index it"}
    json.dumps(report.skipped, ensure_ascii=False).encode("utf-8")  # valid UTF-8 for --json and the report


# --- hexo-front-matter's forms --------------------------------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "---\ntitle: 你好\ndate: 2013-12-02 15:30:16\ntags: [甲, 乙]\n---\n正文一段\n",
    "title: 你好\ndate: 2013-12-02 15:30:16\ntags: [甲, 乙]\n---\n正文一段\n",
    ';;;\n"title": "你好",\n"date": "2013-12-02 15:30:16",\n"tags": ["甲", "乙"]\n;;;\n正文一段\n',
    '"title": "你好",\n"date": "2013-12-02 15:30:16",\n"tags": ["甲", "乙"]\n;;;\n正文一段\n',
], ids=["yaml", "yaml-without-first-separator", "json", "json-without-first-separator"])
def test_parse_post_hexo_front_matter_forms(source):
    post = parse_post(source.encode(), "2013/hello.md")
    assert (post.title, str(post.date), post.tags, post.text, post.problems) == (
        "你好", "2013-12-02 15:30:16", ("甲", "乙"), "正文一段", ())


@pytest.mark.parametrize("source", [
    "# 标题\n\n一段话\n\n---\n\n分隔线之后\n",  # a heading is a YAML comment; the rest is no mapping
    "注意: 第一行像键\n但第二行不是\n\n---\n\n分隔线之后\n",
    "没有分隔线的文章: 只有正文\n",
    "---\n\n分隔线开头，没有结束\n",
    "a < b;\n;;;;\n分号行之后\n",
])
def test_parse_post_head_that_is_no_mapping_stays_body(source):
    post = parse_post(source.encode(), "p.md")
    assert post.title == "p" and post.date is None
    assert post.text.endswith(source.strip().split("\n")[-1]) and post.problems[:1] != ["front matter"]


@pytest.mark.parametrize("source", [
    ';;;\n"title": "你好",\n"date": 2013-12-02\n;;;\n正文一段\n',
    '"title": "你好",\n;;;\n正文一段\n',
])
def test_parse_post_malformed_json_front_matter_is_degraded(source):
    post = parse_post(source.encode(), "p.md")
    assert post.text == "正文一段" and post.title == "p"
    assert len(post.problems) == 1 and post.problems[0].startswith("front matter is not valid JSON (line ")


def test_parse_post_json_front_matter_is_never_evaluated():
    post = parse_post(b';;;\n"title": __import__("os").getcwd()\n;;;\nbody\n', "p.md")
    assert post.title == "p" and post.problems and "JSON" in post.problems[0]
