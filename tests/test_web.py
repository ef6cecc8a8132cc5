"""search/web through Starlette's TestClient: the API's documents equal the CLI's, errors are one line, the pages
escape what posts say, no URL reaches outside the index, and a committed update is served on the next request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2", reason="Starlette's TestClient needs httpx2 (pip install -e '.[test]')")

from click.testing import CliRunner
from starlette.testclient import TestClient

import search
from search.cli import main
from search.web import create_app, is_loopback
from search.web.views import mark_spans, query_words

SCRIPT_TITLE = "<script>alert(1)</script>"
SCRIPT_POST = f"""---
title: '{SCRIPT_TITLE}'
categories: [<b>粗体分类</b>]
author: '<img src=x onerror=alert(2)>'
date: 2022-02-02 10:00:00
url: javascript:alert(3)
---
一篇标题里有脚本的文章，正文提到内推和 <i>斜体</i>。
"""


def cli_json(*args: str) -> dict:
    result = CliRunner().invoke(main, [*args, "--json"])
    assert "Traceback" not in result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def client(index_dir: Path):
    with TestClient(create_app(index_dir)) as c:
        yield c


@pytest.fixture()
def script_client(fresh_corpus: Path, tmp_path: Path):
    (fresh_corpus / "blog" / "script.md").write_text(SCRIPT_POST, encoding="utf-8")
    index_dir = tmp_path / "index"
    search.build_index(fresh_corpus, index_dir, workers=1)
    with TestClient(create_app(index_dir)) as c:
        yield c


@pytest.mark.parametrize("cli_args, params", [
    (["内推"], {"q": "内推"}),
    (["内推", "-n", "1", "--page", "2"], {"q": "内推", "limit": "1", "page": "2"}),
    (["内推", "--facets", "--sort", "newest"], {"q": "内推", "facets": "1", "sort": "newest"}),
    (["内推", "--category", "知乎日报", "--category", "职场"], [("q", "内推"), ("category", "知乎日报"),
                                                            ("category", "职场")]),
    (["马克思", "--author", "历史爱好者", "--since", "2017", "--until", "2017-12"],
     {"q": "马克思", "author": "历史爱好者", "since": "2017", "until": "2017-12"}),
    (["完全不存在的词", "内推"], {"q": "完全不存在的词 内推"}),
    (["--category", "知乎日报"], {"category": "知乎日报"}),           # filters alone list their posts
])
def test_web_api_search_equals_cli(client, index_dir, cli_args, params):
    expected = cli_json("search", *cli_args, "--index", str(index_dir))
    response = client.get("/api/search", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == expected


def test_web_api_post_stats_analyze_equal_cli(client, index_dir):
    assert client.get("/api/posts/zhihu/neitui.md").json() == cli_json("show", "zhihu/neitui.md",
                                                                          "--index", str(index_dir))
    assert client.get("/api/stats").json() == cli_json("stats", "--index", str(index_dir))
    assert client.get("/api/analyze", params={"text": "人脉背书很重要"}).json() == cli_json(
        "analyze", "人脉背书很重要", "--index", str(index_dir))


@pytest.mark.parametrize("params, says", [
    ({}, "q is required"),
    ({"q": "   "}, "q is required"),
    ({"q": "内推", "limit": "0"}, "limit"),
    ({"q": "内推", "limit": "101"}, "limit"),
    ({"q": "内推", "limit": "ten"}, "whole number"),
    ({"q": "内推", "page": "0"}, "page"),
    ({"q": "内推", "sort": "random"}, "sort"),
    ({"q": "内推", "since": "yesterday"}, "not a date"),
    ({"q": "内推", "facets": "maybe"}, "facets"),
    ({"q": "内" * 257}, "longer than 256"),
    ({"q": "title:"}, "empty"),
])
def test_web_api_search_bad_request_is_400(client, params, says):
    response = client.get("/api/search", params=params)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["error"] and says in body["error"] and "\n" not in body["error"]


def test_web_api_analyze_without_text_is_400(client):
    assert client.get("/api/analyze").status_code == 400


@pytest.mark.parametrize("url", [
    "/api/posts/no/such/post.md",
    "/api/posts/..%2F..%2Fetc%2Fpasswd",
    "/api/posts/%2e%2e/%2e%2e/etc/passwd",
    "/api/posts//etc/passwd",
])
def test_web_api_unknown_or_escaping_post_is_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "error" in response.json()
    assert "root:" not in response.text


def test_web_path_escapes_refused_everywhere(client):
    for url in ("/api/posts/../../etc/passwd", "/posts/..%2F..%2Fetc%2Fpasswd", "/static/..%2F..%2Fapp.py",
                "/static/../app.py"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "root:" not in response.text and "create_app" not in response.text


def test_web_is_read_only(client):
    for method in ("post", "put", "delete"):
        assert getattr(client, method)("/api/search?q=内推").status_code == 405


def test_web_page_without_query_is_a_search_box(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'name="q"' in response.text and "篇文章" in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_web_page_renders_results_on_the_server(client):
    response = client.get("/", params={"q": "人脉背书"})
    assert response.status_code == 200
    page = response.text
    assert "<mark>人脉背书</mark>" in page
    assert 'href="/posts/zhihu/neitui.md?q=' in page
    assert "找到 <strong>2</strong> 篇" in page
    assert "用时" in page and "server-timing" in response.headers


def test_web_page_facets_link_to_filtered_views(client):
    page = client.get("/", params={"q": "内推"}).text
    assert "/?q=%E5%86%85%E6%8E%A8&amp;category=%E7%9F%A5%E4%B9%8E%E6%97%A5%E6%8A%A5" in page
    filtered = client.get("/", params=[("q", "内推"), ("category", "知乎日报")]).text
    assert "分类：知乎日报" in filtered  # the active filter, with a link removing it


def test_web_page_zero_hits_gives_help(client):
    page = client.get("/", params={"q": "+完全不存在的词 内推"}).text
    assert "没有文章同时符合所有条件" in page and "各词单独匹配" in page


def test_web_page_filters_alone_list_their_posts(client, index_dir):
    page = client.get("/", params={"category": "知乎日报"}).text
    expected = cli_json("search", "--category", "知乎日报", "--index", str(index_dir))
    assert expected["hits"] and all(hit["title"] in page for hit in expected["hits"])


def test_web_page_says_when_hits_hold_only_some_words(client):
    page = client.get("/", params={"q": "内推 鲲鹏展翅"}).text
    assert "没有文章包含全部词语；3 篇只包含部分词语（缺少：鲲鹏展翅）。" in page
    assert "包含全部词语" not in client.get("/", params={"q": "内推"}).text


def test_web_page_names_a_filter_that_emptied_the_result(client):
    page = client.get("/", params=[("q", "内推"), ("category", "不存在的分类")]).text
    assert "有文章包含这些词，但都不符合上面的筛选条件" in page


def test_web_page_bad_query_is_400_page(client):
    response = client.get("/", params={"q": "内推", "sort": "random"})
    assert response.status_code == 400 and "查询有误" in response.text and "Traceback" not in response.text


def test_web_results_fragment_is_the_page_part(client):
    fragment = client.get("/results", params={"q": "人脉背书"}).text
    assert "<mark>人脉背书</mark>" in fragment and "<html" not in fragment


def test_web_post_page_marks_the_query(client):
    response = client.get("/posts/zhihu/neitui.md", params={"q": "人脉背书 -校招"})
    assert response.status_code == 200
    assert "<mark>人脉背书</mark>" in response.text
    assert client.get("/posts/no/such.md").status_code == 404


def test_web_escapes_what_posts_say(script_client):
    for url, params in (("/", {"q": "内推"}), ("/results", {"q": "脚本"}), ("/posts/blog/script.md", {"q": "脚本"})):
        page = script_client.get(url, params=params).text
        assert SCRIPT_TITLE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
        assert "<img src=x" not in page and "<b>粗体分类</b>" not in page
        assert 'href="javascript:' not in page


def test_web_serves_a_committed_update_on_the_next_request(fresh_corpus, tmp_path):
    index_dir = tmp_path / "index"
    search.build_index(fresh_corpus, index_dir, workers=1)
    with TestClient(create_app(index_dir)) as c:
        assert c.get("/api/search", params={"q": "独一无二的新词"}).json()["total"] == 0
        (fresh_corpus / "blog" / "new.md").write_text("---\ntitle: 新文章\n---\n独一无二的新词出现了。\n",
                                                      encoding="utf-8")
        search.update_index(fresh_corpus, index_dir)
        found = c.get("/api/search", params={"q": "独一无二的新词"}).json()
        assert found["total"] == 1 and found["hits"][0]["path"] == "blog/new.md"


def test_web_request_in_flight_keeps_its_generation(fresh_corpus, tmp_path):
    from search.web.live import LiveIndex

    index_dir = tmp_path / "index"
    search.build_index(fresh_corpus, index_dir, workers=1)
    live = LiveIndex(index_dir)
    with live.use() as before:
        (fresh_corpus / "blog" / "marx.md").unlink()
        search.update_index(fresh_corpus, index_dir)
        with live.use() as after:
            assert after.search("马克思").total == 0
        assert before.search("马克思").total == 1  # still readable: closed only once returned
    live.close()


def test_web_cors_only_when_asked(index_dir):
    origin = {"Origin": "https://blog.example"}
    with TestClient(create_app(index_dir)) as c:
        assert "access-control-allow-origin" not in c.get("/api/stats", headers=origin).headers
    with TestClient(create_app(index_dir, cors_origin="https://blog.example")) as c:
        response = c.get("/api/search", params={"q": "内推"}, headers=origin)
        assert response.headers["access-control-allow-origin"] == "https://blog.example"
        other = c.get("/api/stats", headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers


def test_web_missing_index_is_index_not_found(tmp_path):
    with pytest.raises(search.IndexNotFound):
        create_app(tmp_path / "nothing")


def test_web_loopback_hosts():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


def test_web_query_words_leave_out_excluded_words_and_operators():
    assert query_words('内推 -校招 title:简历 "人脉 背书" OR NOT 实习') == ["人脉 背书", "内推", "简历"]


def test_web_mark_spans_covers_the_text():
    assert mark_spans("abcdef", [(1, 3), (4, 5)]) == [("a", False), ("bc", True), ("d", False), ("e", True),
                                                      ("f", False)]


def test_cli_serve_refuses_a_missing_index(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--index", str(tmp_path / "none")])
    assert result.exit_code == 2 and "no index" in result.output and "Traceback" not in result.output


def test_cli_serve_warns_on_a_public_host(tmp_path, monkeypatch):
    import search.web

    calls = []
    monkeypatch.setattr(search.web, "serve", lambda *a, **k: calls.append((a, k)))
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--index", str(tmp_path)])
    assert result.exit_code == 0 and "warning" in result.output and calls[0][1]["host"] == "0.0.0.0"
    result = CliRunner().invoke(main, ["serve", "--watch", "--index", str(tmp_path)])
    assert calls[1][1]["watch"] == Path("corpus")


def test_web_package_data_ships_templates_and_static():
    here = Path(search.__file__).parent / "web"
    assert (here / "templates" / "index.html").is_file() and (here / "static" / "app.js").is_file()


def test_web_watch_updates_the_index_when_posts_change(fresh_corpus, tmp_path):
    import time

    index_dir = tmp_path / "index"
    search.build_index(fresh_corpus, index_dir, workers=1)
    lines: list[str] = []
    with TestClient(create_app(index_dir, watch=fresh_corpus, log=lines.append)) as c:
        time.sleep(0.5)  # the watcher is running
        (fresh_corpus / "blog" / "watched.md").write_text("---\ntitle: 看守\n---\n看守者写下的新词汇。\n",
                                                          encoding="utf-8")
        for _ in range(120):  # bounded: up to 30 s on a busy machine
            if c.get("/api/search", params={"q": "看守者"}).json()["total"]:
                break
            time.sleep(0.25)
        assert c.get("/api/search", params={"q": "看守者"}).json()["total"] == 1
    assert any(line.startswith("updated ") and "1 added" in line for line in lines), lines


def test_web_serve_with_two_worker_processes_answers(index_dir, tmp_path):
    # `zhsearch serve --workers 2`: each worker process builds its own application from the environment.
    import http.client
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "search", "serve", "--index", str(index_dir), "--port", str(port),
                               "--workers", "2"], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/api/search?q=%E5%86%85%E6%8E%A8")
                answer = connection.getresponse()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.1)
        assert answer.status == 200
        assert [h["path"] for h in json.loads(answer.read())["hits"]][0] == "zhihu/neitui.md"
    finally:
        server.terminate()
        server.wait(20)


def test_web_serve_says_what_stops_it_before_serving(index_dir, tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--index", str(index_dir), "--port", str(port)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"zhsearch: cannot listen on 127.0.0.1:{port}: ") and "serving" not in result.stderr
    missing = CliRunner().invoke(main, ["serve", "--index", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "serving" not in missing.stderr and "no index at" in missing.stderr
