"""Tests for search/posts/from_markdown.py and from_html.py: the Markdown fast path gives what rendering the whole
post and reading it with BeautifulSoup gives, and no void or unclosed element swallows the rest of a post."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.posts import from_html, from_markdown, frontmatter, liquid
from search.posts.post import parse_post

BLOGS = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "blogs"


def _whole(source: str) -> tuple:
    """The plain path: the whole post rendered to HTML by markdown-it, its text read by BeautifulSoup."""
    return from_html.html_text(from_markdown._render_markdown(source), False)


def _text(markdown: str) -> str:
    return parse_post(markdown.encode(), "p.md").text


MARKDOWN_PIECES = [
    "# 标题一\n", "段落第一行\n第二行中文\n", "English line\nnext line\n", "行尾两个空格  \n硬换行\n", "行尾反斜杠\\\n换行\n",
    "- 列表一\n- 列表二\n  - 嵌套\n", "1. 有序\n2. 第二\n\n   段落在列表里\n", "> 引用\n> 第二行\n>> 嵌套引用\n",
    "```python\nprint('内推')\n\n  缩进\n```\n", "    缩进代码\n    第二行\n", "`行内代码` 和 **粗体** *斜体* ~~删除~~\n",
    "| 表头 | 二 |\n|---|---|\n| 单元 | 格 |\n", "![图片说明](a.png) 和 ![](b.png) ![alt *强调*](c.png)\n",
    "![同图](1.png)\n", "![同图](2.png) ![同图](3.png)\n", "[![同图](4.png)](x.html)\n",
    "[链接文字](http://x.cn) <http://auto.link>\n", "&amp; &lt;tag&gt; &#123; &copy; \\* \\_\n", "---\n", "***\n",
    "中文\x0b控制\x01字符\n", "{% raw %}{{ x }}{% endraw %}\n", "{{ site.title }} 和 {% include a.html %}\n",
    "脚注[^1]\n\n[^1]: 注释\n", "setext 标题\n===\n", "\n", "  \n", "\t缩进\t制表\n", "，**不过……**所以\n",
    "- [ ] 任务\n- [x] 完成\n", "1) 括号列表\n", "行内 `a\nb` 跨行\n", "图片![a\nb](x.png)跨行\n",
]
HTML_PIECES = [
    "<details>\n<summary>展开代码</summary>\n", "</details>\n", "<div>\n", "</div>\n", "<div hidden>\n",
    '<div style="display:none">\n', "<div class=\"answer\">\n", '<span class="author">作者甲，</span>\n',
    '<a class="originUrl" href="https://www.zhihu.com/question/1/answer/2">查看知乎</a>\n', "<pre>\n预格式\n  缩进\n",
    "</pre>\n", "<p>段落\n", "</p>\n", "<table><tr><td>单元\n", "</td></tr></table>\n", "<td>格</td>\n",
    "<iframe src=x>\n", "</iframe>\n", "a < b 比较\n", "<!-- 注释 <b> -->\n", "<!-- 没有结束\n", "<title>标题</title>\n",
    "<br>\n**粗体**\n", "行内 <kbd>Ctrl</kbd> 和 <abbr title=\"x\">缩写</abbr>\n", "<b>加粗\n", "</b>\n",
    "<img src=a.png alt=\"图说\">\n", "<section>\n", "</section>\n", "<center>居中</center>\n", "<br/>\n",
    "<div/>\n", "<summary>摘要\n", "</summary>\n", "<blockquote>\n", "</blockquote>\n", "<script>x<y</script>\n",
    '<embed width="100%" height="600" src="/a.pdf">\n', "<source src=x.mp4>\n", "<input type=text>\n",
    "<video controls>\n<source src=a.webm>\n", "<object data=x>\n", "<img alt=同图 srcset=\"a 1x, b 2x\">\n",
]


def test_tokens_and_whole_are_compared_by_these_tests():
    # markdown_text takes the token path exactly for Markdown without raw HTML.
    tokens = from_markdown._markdown_tokens("段落 **粗体**\n")
    assert not from_markdown._has_html(tokens)
    assert from_markdown._has_html(from_markdown._markdown_tokens("段落 <b>粗体</b>\n"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(MARKDOWN_PIECES + HTML_PIECES), min_size=1, max_size=14),
       st.sampled_from(["", "\n", "\n\n"]))
def test_markdown_text_equals_the_whole_post_through_html(pieces, joiner):
    source = liquid.protect(joiner.join(pieces), markdown=True)
    assert from_markdown.markdown_text(source) == _whole(source)


@pytest.mark.skipif(not BLOGS.is_dir(), reason="../shared/corpora/blogs is absent")
def test_markdown_text_equals_the_whole_post_through_html_on_blogs():
    compared = with_html = 0
    for file in sorted(BLOGS.rglob("*.md")) + sorted(BLOGS.rglob("*.markdown")):
        _, body, _ = frontmatter.read_front_matter(file.read_text(encoding="utf-8", errors="replace"))
        source = liquid.protect(body, markdown=True)
        assert from_markdown.markdown_text(source) == _whole(source), file.name
        compared += 1
        with_html += from_markdown._has_html(from_markdown._markdown_tokens(source))
    assert compared > 700 and with_html > 100


# --- no text lost ------------------------------------------------------------------------------------------------
# Each marker stands where a reader sees it; whatever raw HTML stands around it, it must be in the text.

MARKED = ["{m}\n", "- {m}\n", "# {m}\n", "> {m}\n", "文字 <b>{m}</b>\n", "<div>\n{m}\n</div>\n",
          "<div><div><p>{m}</p></div></div>\n", "<details>\n<summary>{m}</summary>\n\n正文\n\n</details>\n",
          "<table><tr><td>{m}</td></tr></table>\n", "**{m}**\n", "<span>{m}\n"]
NOISE = [
    '<embed width="100%" height="600" src="/files/a.pdf">\n', "<source src=a.mp4>\n", "<input type=text>\n",
    "<br>\n", "<img src=a.png>\n", "<track src=a.vtt>\n", "<wbr>\n", "<video controls>\n<source src=a.webm>\n",
    "<div>\n", "<span>\n", "<b>\n", "<details>\n", "<section>\n", "<p>\n", "<iframe src=x>\n", "<object data=x>\n",
    "<select>\n", "<button>\n", "<canvas>\n", "<noscript>\n", "<script>\n", "<style>\n", "<textarea>\n",
    "<div hidden>\n", '<div style="display:none">\n', "a < b\n", "1 <2\n", "<\n", "<中文\n", "x <= y\n",
    "<!-- 注释 -->\n", "</p>\n", "</span>\n",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(MARKED), st.sampled_from(NOISE)), min_size=1, max_size=16),
       st.sampled_from(["", "\n"]))
def test_markdown_with_raw_html_loses_no_text(pieces, joiner):
    markers = [f"标记{i}号" for i in range(len(pieces))]
    source = joiner.join(piece.format(m=marker) for piece, marker in zip(pieces, markers))
    text = _text(source)
    assert [m for m, piece in zip(markers, pieces) if "{m}" in piece and m not in text] == [], source


def test_parse_post_embed_does_not_swallow_the_rest():
    # Regression: libxml2 nests what follows <embed> in it, and <embed> was dropped with all of it.
    source = "前言\n\n<embed width=\"100%\" height=\"600\" src=\"/files/slides.pdf\">\n\n后面的正文\n\n## 小节\n\n结尾\n"
    assert _text(source) == "前言\n后面的正文\n小节\n结尾"


def test_parse_post_void_and_unclosed_elements_keep_what_follows():
    assert _text("<video controls>\n<source src=a.webm>\n<track src=a.vtt>\n\n视频之后\n") == "视频之后"
    assert _text("<iframe src=x>\n\n框架之后 **粗体**\n\n段落\n") == "框架之后 粗体\n段落"
    assert _text("<object data=x>\n\n对象之后\n") == "对象之后"
    # closed, they still hide what they hold
    assert _text("<iframe src=x>框架内</iframe>\n\n<div hidden>\n藏\n</div>\n\n<script>x()</script>\n正文\n") == "正文"


def test_parse_post_image_alt_indexed_once():
    html = ('<figure><picture><source srcset="a.webp"><img alt="火星车" src="a.jpg"></picture></figure>\n'
            '<img alt="火星车" src="a-2x.jpg"> <img alt="火星车" srcset="a.jpg 1x, b.jpg 2x">\n'
            '<a href="a.jpg"><img alt="火星车"></a>\n<p>正文</p>\n<img alt="火星车">\n')
    assert _text(html) == "火星车\n正文\n火星车"
    assert _text("![同图](1.png) ![同图](2.png)\n\n![同图](3.png)\n") == "同图"


def test_parse_post_zhihu_formula_image_gives_its_tex():
    html = ('<p>质能方程 <img src="https://www.zhihu.com/equation?tex=E%3Dmc%5E2+%5Cfrac%7B1%7D%7B2%7D" alt="" '
            'eeimg="1"> 成立</p>\n<img src="https://www.zhihu.com/equation?tex=x" alt="x" eeimg="1">\n')
    assert _text(html) == "质能方程 E=mc^2 \\frac{1}{2} 成立\nx"
    assert parse_post(html.encode(), "a.html").text == "质能方程 E=mc^2 \\frac{1}{2} 成立\nx"
