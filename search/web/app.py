"""The web server: a search page and a JSON API over one index, through the `search` package's public API only.

- the JSON API: /api/search, /api/posts/{path}, /api/stats, /api/analyze — the documents of `--json`;
- the pages: / (the search page, rendered on the server), /results (the results part of /, which the page's
  script swaps in as the user types) and /posts/{path}; /static holds the script and the style sheet;
- `create_app` builds the Starlette application, `serve` runs it under uvicorn.

Handlers call the library on the event loop, one request at a time: the library is written for one thread, and a
search (a few ms) holds the interpreter's lock anyway, so threads would buy no throughput.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import search

from .live import LiveIndex, watch_corpus
from .params import MAX_QUERY_CHARS, BadRequest, SearchRequest, parse_search
from .views import landing_context, post_context, results_context

HERE = Path(__file__).parent
# The pages load nothing but their own script and style sheet: were anything a post says ever left unescaped,
# the browser would still run none of it.
_PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                                            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
                 "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def _error_status(error: Exception) -> int:
    if isinstance(error, search.NotInIndex):
        return 404
    if isinstance(error, (search.QueryError, ValueError)):
        return 400
    return 500


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


class _Pages:
    """The Jinja2 templates (autoescaped) and the responses made from them."""

    def __init__(self) -> None:
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                                      trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
        self.env.globals["version"] = search.__version__

    def render(self, name: str, context: dict[str, Any], status: int = 200,
               headers: dict[str, str] | None = None) -> HTMLResponse:
        body = self.env.get_template(name).render(context)
        return HTMLResponse(body, status_code=status, headers={**_PAGE_HEADERS, **(headers or {})})


def _timing(ms: float) -> dict[str, str]:
    return {"Server-Timing": f"search;dur={ms:.2f}"}


def create_app(index_dir: Path | str, *, cors_origin: str | None = None, watch: Path | None = None,
               log: Callable[[str], None] | None = None) -> Starlette:
    """The application serving the index at `index_dir` (opened now: IndexNotFound if there is none).

    `cors_origin` lets pages on that origin call the API; `watch` is a corpus whose changes update the index.
    """
    live = LiveIndex(Path(index_dir))
    pages = _Pages()
    say = log or (lambda line: print(f"zhsearch: {line}", file=sys.stderr, flush=True))

    async def gone(request: Request) -> bool:
        # A client that left while its request waited for the loop is owed no work.
        return await request.is_disconnected()

    def search_timed(request: SearchRequest) -> tuple[search.Results, float]:
        with live.use() as ix:
            start = time.perf_counter()
            results = request.run(ix)
            return results, (time.perf_counter() - start) * 1000

    # -- the JSON API ----------------------------------------------------------------------------------------

    async def api_search(request: Request) -> Response:
        wanted = parse_search(request.query_params)
        if not wanted.query.strip() and not wanted.filtered:
            raise BadRequest("q is required: the query to search for (or a filter: category, author, tag, since, "
                             "until)")
        if await gone(request):
            return Response(status_code=204)
        results, ms = search_timed(wanted)
        return JSONResponse(results.to_dict(), headers=_timing(ms))

    async def api_post(request: Request) -> Response:
        with live.use() as ix:
            document = ix.show(request.path_params["path"])
        return JSONResponse(document.to_dict())

    async def api_stats(request: Request) -> Response:
        with live.use() as ix:
            stats = ix.stats()
        return JSONResponse(stats.to_dict())

    async def api_analyze(request: Request) -> Response:
        text = request.query_params.get("text", "")
        if not text:
            raise BadRequest("text is required: the text to analyse")
        if len(text) > 10 * MAX_QUERY_CHARS:
            raise BadRequest(f"text is longer than {10 * MAX_QUERY_CHARS} characters")
        with live.use() as ix:
            tokens = ix.analyze(text)
        return JSONResponse(search.tokens_to_dict(text, tokens))

    # -- the pages -------------------------------------------------------------------------------------------

    def results_page(request: Request, template: str) -> HTMLResponse:
        params = request.query_params
        try:
            wanted = parse_search(params, facets=True)
            if not wanted.query.strip() and not wanted.filtered:
                with live.use() as ix:
                    stats = ix.stats()
                return pages.render(template, landing_context(stats, params))
            results, ms = search_timed(wanted)
        except (search.QueryError, ValueError) as e:
            return pages.render(template, {**landing_context(None, params), "error": _first_line(e)}, status=400)
        return pages.render(template, results_context(results, wanted, params, ms), headers=_timing(ms))

    async def page_index(request: Request) -> Response:
        if await gone(request):
            return Response(status_code=204)
        return results_page(request, "index.html")

    async def page_results(request: Request) -> Response:
        if await gone(request):
            return Response(status_code=204)
        return results_page(request, "results.html")

    async def page_post(request: Request) -> Response:
        with live.use() as ix:
            document = ix.show(request.path_params["path"])
        return pages.render("post.html", post_context(document, request.query_params))

    # -- errors: one line, as JSON for the API and as a page elsewhere; never a traceback ------------------------

    def error_response(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status)
        return pages.render("error.html", {"status": status, "message": message, "query": "", "hidden": []},
                            status=status)

    async def on_library_error(request: Request, error: Exception) -> Response:
        status = _error_status(error)
        if status == 500:
            say(f"error on {request.url.path}: {_first_line(error)}")
        # A reader of the site is told no more than that: not where the index lies on the server.
        message = "no such post in the index" if status == 404 else _first_line(error)
        return error_response(request, status, message)

    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        message = {404: "no such page", 405: "this server only reads"}.get(error.status_code, error.detail)
        return error_response(request, error.status_code, message)

    async def on_unexpected(request: Request, error: Exception) -> Response:
        say(f"error on {request.url.path}: {type(error).__name__}: {_first_line(error)}")
        return error_response(request, 500, "internal error")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_corpus(watch, live.index_dir, say, stop)) if watch else None
        try:
            yield
        finally:
            stop.set()
            if watcher is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    watcher.cancel()
                    await watcher
            live.close()

    middleware = []
    if cors_origin:
        middleware.append(Middleware(CORSMiddleware, allow_origins=[cors_origin], allow_methods=["GET"],
                                     expose_headers=["Server-Timing"], max_age=3600))
    routes = [
        Route("/api/search", api_search), Route("/api/posts/{path:path}", api_post),
        Route("/api/stats", api_stats), Route("/api/analyze", api_analyze),
        Route("/", page_index), Route("/results", page_results), Route("/posts/{path:path}", page_post),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    handlers: dict[Any, Callable[..., Any]] = {
        search.SearchError: on_library_error, ValueError: on_library_error, HTTPException: on_http_error,
        Exception: on_unexpected}
    return Starlette(routes=routes, middleware=middleware, exception_handlers=handlers, lifespan=lifespan)


# What `serve(workers=N)` hands each worker process, which builds its own application (app_from_environment).
_INDEX_VARIABLE, _CORS_VARIABLE = "ZHSEARCH_SERVE_INDEX", "ZHSEARCH_SERVE_CORS"


def app_from_environment() -> Starlette:
    """The application of one worker process of `serve(workers=N)` (uvicorn imports it by name in each)."""
    return create_app(os.environ[_INDEX_VARIABLE], cors_origin=os.environ.get(_CORS_VARIABLE) or None)


def serve(index_dir: Path | str, *, host: str = "127.0.0.1", port: int = 8000, watch: Path | None = None,
          cors_origin: str | None = None, log: Callable[[str], None] | None = None, workers: int = 1) -> None:
    """Serve the index at `index_dir` until interrupted; with `watch`, build it from that corpus if missing.

    `workers` > 1 answers from that many processes (one search at a time each: the library is not shared between
    threads); the watcher then runs once, in this process."""
    import uvicorn

    say = log or (lambda line: print(f"zhsearch: {line}", file=sys.stderr, flush=True))
    if watch is not None:
        try:
            search.open_index(index_dir).close()
        except search.IndexNotFound:
            say(f"no index at {index_dir} yet; indexing {watch} first")
            report = search.build_index(watch, index_dir)
            say(f"built {index_dir}: {report.indexed} posts, {report.seconds:.1f} s")
    search.open_index(index_dir).close()  # a missing or damaged index: said before anything listens
    _check_port(host, port)
    say(f"serving {index_dir} on http://{_url_host(host)}:{port}/ (Ctrl-C stops)")
    if workers <= 1:
        app = create_app(index_dir, cors_origin=cors_origin, watch=watch, log=say)
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        return
    os.environ[_INDEX_VARIABLE] = str(Path(index_dir).resolve())
    os.environ[_CORS_VARIABLE] = cors_origin or ""
    if watch is not None:
        threading.Thread(target=asyncio.run, args=(watch_corpus(watch, Path(index_dir), say),), daemon=True).start()
    uvicorn.run("search.web.app:app_from_environment", factory=True, workers=workers, host=host, port=port,
                log_level="warning", access_log=False)


@contextlib.contextmanager
def running(app: Starlette, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` under uvicorn from a background thread on a free port (for tests, screenshots and benchmarks);
    gives its base URL, and stops it on leaving."""
    import socket
    import threading

    import uvicorn

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.bind((host, 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        yield f"http://{_url_host(host)}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _check_port(host: str, port: int) -> None:
    """OSError, in one line, when `host`:`port` cannot be listened on (taken, or not an address of this machine)."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as e:
        raise OSError(e.errno, f"cannot listen on {_url_host(host)}:{port}: {e.strerror or e}") from None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) only accepts connections from this machine."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

