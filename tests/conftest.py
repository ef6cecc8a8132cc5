"""Shared fixtures: a small corpus written by the tests, its index (built once per session), and the project's
own corpus/ and its index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import search

PROJECT_CORPUS = Path(__file__).parents[1] / "corpus"

# Relative path → file content. Each post exists to pin one behaviour; the comments say which.
POSTS: dict[str, str] = {
    # The users' main format: a Zhihu Daily answer saved as a Hexo post (author and URL in the HTML body).
    "zhihu/neitui.md": """---
title: '大家都内推，内推还有什么意义？'
categories:
 - 社交媒体
 - 知乎日报
author: 知乎
comments: false
date: 2021-04-23 04:10:59
---

<div class="main-wrap content-wrap">
<div class="answer">
<strong>
<span class="author">章牧之，</span><span class="bio">互联网行业 HR</span>
<a href="https://www.zhihu.com/question/417500350/answer/1846693784" class="originUrl" hidden>查看知乎原文</a>
</strong>
<div class="content">
<p>谢邀。先说结论：内推本质上肯定是有用的。</p>
<p><strong>内推最有价值的是人脉背书。</strong></p>
<p>一份被贴上「我前同事」标签的简历比直接从招聘软件上拿到的简历更具备信任基础。</p>
</div>
</div>
</div>
""",
    # The words of 人脉背书, scattered: found by the words, ranked below the verbatim post.
    "blog/scattered.md": """---
title: 关于职场的杂谈
date: 2016-06-01 10:00:00
categories: [职场]
tags: [杂谈]
---
经营人脉需要时间。另一件事：老师让我们背书，背了一整个下午。
""",
    # 马克思 must be highlighted whole, never as 马克.
    "blog/marx.md": """---
title: 伦敦的冬天
date: 2017-03-10 08:00:00
categories: [历史]
tags: [读书]
author: 历史爱好者
---
马克思在伦敦度过了后半生，他常去大英博物馆的阅览室。
""",
    # Another 马克 that is not 马克思.
    "blog/twain.md": """---
title: 幽默的力量
date: 2017-11-20
categories: [文学]
tags: [读书]
---
马克·吐温的幽默到底好在哪里？他写过很多短篇小说。
""",
    # Traditional characters: 臺灣 must match 台湾 and the other way round.
    "blog/taiwan-trad.md": """---
title: 旅行札記
date: 2019-05-05
categories: [旅行]
tags: [游记]
---
去年夏天我去了臺灣，在夜市吃了很多小吃。
""",
    "blog/taiwan-simp.md": """---
title: 海峡两岸
date: 2019-08-08
categories: [旅行]
tags: [游记]
---
台湾的高山茶很有名，阿里山的茶园值得一去。
""",
    # Latin, digits, full-width forms, a ligature.
    "blog/python.md": """---
title: 编程笔记
date: 2024-01-15 21:30:00
categories: [技术]
tags: [Python, C++]
---
我在学 Python3.11和C++，手机已经用上了５Ｇ网络，２０２４年的计划是读完 ﬁle system 的书。
""",
    # Title match vs body-only match of the same word (内推): the title one ranks first.
    "blog/title-neitui.md": """---
title: 内推
date: 2022-02-02
categories: [求职]
---
这篇讲的是找工作的经验。
""",
    "blog/body-neitui.md": """---
title: 求职经验
date: 2022-03-03
categories: [求职]
---
朋友帮我做了一次内推，结果还不错。
""",
    # An HTML post (no Markdown) with its own front matter.
    "blog/html-post.html": """---
title: 网页文章
date: 2018-12-24
categories: [杂项]
tags: [HTML]
---
<html><body><h1>圣诞快乐</h1><p>平安夜的<b>苹果</b>和<em>雪花</em>。</p><script>var hidden = "看不见";</script></body></html>
""",
    # A draft: left out unless include_drafts=True.
    "blog/draft.md": """---
title: 草稿
published: false
date: 2020-01-01
---
这是一篇还没有写完的草稿，独角兽。
""",
    # Broken front matter: indexed with a problem, never stops the build.
    "blog/broken-yaml.md": """---
title: [未闭合
date: : :
---
前言坏了但正文还在，麒麟。
""",
}

# Bytes that are not UTF-8, GB18030 or Big5: skipped, never stopping the build.
UNDECODABLE = ("blog/binary.md", b"\xff\xfe\xfd\x80\x81" * 40)

VISIBLE = sorted(p for p in POSTS if p != "blog/draft.md")


def write_corpus(root: Path) -> Path:
    for rel, text in POSTS.items():
        file = root / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    (root / UNDECODABLE[0]).write_bytes(UNDECODABLE[1])
    return root


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def built(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, search.BuildReport]:
    index_dir = tmp_path_factory.mktemp("index")
    report = search.build_index(corpus_dir, index_dir, workers=1)
    return index_dir, report


@pytest.fixture(scope="session")
def index_dir(built: tuple[Path, search.BuildReport]) -> Path:
    return built[0]


@pytest.fixture(scope="session")
def ix(index_dir: Path):
    with search.open_index(index_dir) as index:
        yield index


@pytest.fixture(scope="session")
def project_ix(tmp_path_factory: pytest.TempPathFactory):
    if not PROJECT_CORPUS.is_dir():
        pytest.skip("the project's corpus/ is absent")
    index_dir = tmp_path_factory.mktemp("project-index")
    search.build_index(PROJECT_CORPUS, index_dir, workers=1)
    with search.open_index(index_dir) as index:
        yield index


@pytest.fixture(scope="session")
def tokenizer():
    from search.text import tokenizer

    return tokenizer.new_tokenizer()


@pytest.fixture()
def fresh_corpus(tmp_path: Path) -> Path:
    """A private, writable copy of the small corpus for tests that change it."""
    return write_corpus(tmp_path / "corpus")


@pytest.fixture()
def copy_index(index_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the built index, for tests that damage it."""
    target = tmp_path / "index"
    shutil.copytree(index_dir, target)
    return target
