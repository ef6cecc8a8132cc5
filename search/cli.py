"""The `zhsearch` command: a thin click layer over the `search` package.

Each command makes one library call and formats its result. Exit status, like grep: 0 found, 1 nothing found,
2 bad usage, a bad query, or a missing or unreadable index; 130 interrupted (Ctrl-C). The library is imported
inside the commands so that `--help` does not load jieba or Whoosh. ZHSEARCH_INDEX and ZHSEARCH_CORPUS set the
defaults of --index and of the corpus.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

DEFAULT_CORPUS = Path("corpus")
DEFAULT_INDEX = Path("index")
INDEX_VARIABLE = "ZHSEARCH_INDEX"
CORPUS_VARIABLE = "ZHSEARCH_CORPUS"
INTERRUPTED = 130  # what a shell reports for a command ended by SIGINT


class _Failure(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"zhsearch: {self.format_message()}", err=True)


def _library_call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a library call; its errors become one line on stderr and exit status 2."""
    from .errors import SearchError

    try:
        return function(*args, **kwargs)
    except SearchError as e:
        raise _Failure(str(e)) from None
    except ValueError as e:
        raise _Failure(str(e)) from None
    except OSError as e:
        raise _Failure(f"{e.filename or ''}: {e.strerror or e}".lstrip(": ")) from None


class _Interrupted(_Failure):
    exit_code = INTERRUPTED


class _Group(click.Group):
    """click's group, but Ctrl-C exits 130 with one line (click says "Aborted!" and exits 1, grep's "nothing")."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted("interrupted") from None


def index_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--index", "index_dir", type=click.Path(path_type=Path), default=DEFAULT_INDEX,
                        envvar=INDEX_VARIABLE, show_envvar=True, show_default=True,
                        help=f"Index directory (default ${INDEX_VARIABLE}, else ./index).")(f)


def _given(name: str) -> bool:
    """Whether the option was given, on the command line or through its environment variable."""
    return click.get_current_context().get_parameter_source(name) in (ParameterSource.COMMANDLINE,
                                                                      ParameterSource.ENVIRONMENT)


def _default_corpus(index_dir: Path) -> Path:
    """The corpus when none is named: the one the index records, else $ZHSEARCH_CORPUS, else ./corpus."""
    import search

    return search.corpus_of(index_dir) or Path(os.environ.get(CORPUS_VARIABLE) or DEFAULT_CORPUS)


def _colour(stream: Any) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zhsearch", prog_name="zhsearch")
def main() -> None:
    """Full-text search for Chinese Hexo/Jekyll posts.

    \b
    zhsearch index                 # index ./corpus into ./index
    zhsearch search 内推            # ranked hits with highlighted snippets
    zhsearch search '"人脉背书"' --json
    zhsearch search --category 知乎日报   # a category's posts, newest first

    ZHSEARCH_INDEX and ZHSEARCH_CORPUS set the default index and corpus of every command.
    """


def _count(number: int, noun: str) -> str:
    """`1 post`, `2 posts`."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _print_report(report: Any) -> None:
    kind = "rebuilt" if report.rebuilt else "updated"
    line = (f"{kind} {report.index_dir}: {_count(report.indexed, 'post')} indexed"
            f" ({report.added} added, {report.changed} changed, {report.deleted} deleted, {report.renamed} renamed,"
            f" {report.unchanged} unchanged), {len(report.skipped)} skipped, {_count(report.drafts, 'draft')} left out,"
            f" {report.seconds:.1f} s")
    if report.reason:
        click.echo(f"full rebuild: {report.reason}", err=True)
    for path, reason in report.skipped:
        click.echo(f"skipped {path}: {reason}", err=True)
    for path, reason in report.degraded:
        click.echo(f"degraded {path}: {reason}", err=True)
    click.echo(line, err=True)


def _progress_bar() -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    if not sys.stderr.isatty():
        return None, lambda: None
    state: dict[str, Any] = {}

    def progress(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = click.progressbar(length=total, label="indexing", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    def close() -> None:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)

    return progress, close


@main.command("index")
@click.argument("corpus", type=click.Path(path_type=Path), required=False)
@index_option
@click.option("--rebuild", is_flag=True, help="Build a complete new index instead of applying changes.")
@click.option("--drafts/--no-drafts", default=None,
              help="Include posts marked `published: false` (default: as the index was built; none in a new one).")
@click.option("--wait", type=float, default=5.0, show_default=True,
              help="Seconds to wait for another writer to finish.")
@click.option("--config", "config_file", type=click.Path(path_type=Path),
              help="Configuration file (default: CORPUS/zhsearch.toml when present).")
@click.option("--user-dict", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="jieba user dictionary (overrides the configuration).")
@click.option("--synonyms", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Synonyms file (overrides the configuration).")
@click.option("--pinyin/--no-pinyin", default=None, help="Also index pinyin (overrides the configuration).")
def index_command(corpus: Path | None, index_dir: Path, rebuild: bool, drafts: bool | None, wait: float,
                  config_file: Path | None, user_dict: Path | None, synonyms: Path | None, pinyin: bool | None) -> None:
    """Index CORPUS: only what changed, or everything with --rebuild.

    Without CORPUS, the corpus the index was built from (else $ZHSEARCH_CORPUS, else ./corpus). An index of
    another corpus is never replaced without --rebuild.

    \b
    zhsearch index
    zhsearch index ~/blog/source/_posts --index ~/.cache/blog-index
    zhsearch index --index ~/.cache/blog-index      # update it from the corpus it holds
    zhsearch index --rebuild
    """
    import search
    from search.config import load_config

    if corpus is None:
        corpus = _default_corpus(index_dir)
    config = _library_call(load_config, corpus, config_file).with_overrides(
        user_dict=user_dict.resolve() if user_dict else None, synonyms=synonyms.resolve() if synonyms else None,
        pinyin=pinyin)
    progress, close = _progress_bar()
    function = search.build_index if rebuild else search.update_index
    try:
        report = _library_call(function, corpus, index_dir, include_drafts=drafts, progress=progress, wait=wait,
                               config=config)
    except KeyboardInterrupt:
        raise _Interrupted(f"interrupted; the index at {index_dir} is as it was") from None
    finally:
        close()
    _print_report(report)


def _marked(text: str, spans: Any, colour: bool, bold: bool = False) -> str:
    """`text` with its matched `spans` in red (and all of it bold with `bold`), on a colour terminal."""
    if not colour:
        return text
    pieces, last = [], 0
    for start, end in spans:
        pieces.append(click.style(text[last:start], bold=bold))
        pieces.append(click.style(text[start:end], fg="red", bold=True))
        last = end
    pieces.append(click.style(text[last:], bold=bold))
    return "".join(pieces)


def _first_index(index_dir: Path, corpus: Path | None) -> Any:
    """No index yet: build it, when no --index was given (the quickstart) or a corpus was; else exit 2."""
    import search

    if _given("index_dir") and corpus is None:
        raise _Failure(f"no index at {index_dir}; build it with `zhsearch index CORPUS --index {index_dir}`")
    corpus = corpus or DEFAULT_CORPUS
    if not corpus.is_dir():
        raise _Failure(f"no index at {index_dir} and no corpus at {corpus} to build one from "
                       "(run `zhsearch index CORPUS`)")
    click.echo(f"zhsearch: no index at {index_dir} yet; indexing {corpus} first", err=True)
    try:
        _print_report(_library_call(search.build_index, corpus, index_dir))
    except KeyboardInterrupt:
        raise _Interrupted(f"interrupted; no index was written at {index_dir}") from None
    return _open(index_dir)


def _openable(corpus: Path | None, path: str) -> str:
    """A post's file path as it opens from the current folder: relative when the file is under it."""
    if corpus is None:
        return path
    file = corpus.joinpath(*path.split("/"))
    here = Path.cwd()
    return str(file.relative_to(here)) if file.is_relative_to(here) else str(file)


def _format_hit(rank: int, hit: Any, colour: bool) -> str:
    def style(text: str, **kw: Any) -> str:
        return click.style(text, **kw) if colour else text

    snippet = _marked(hit.snippet, hit.highlights, colour)
    title = _marked(hit.title, hit.title_highlights, colour, bold=True)
    heading = f"{style(f'{rank:>3}.', dim=True)} {title}"
    details = "  ".join(x for x in (hit.date[:10] if hit.date else "", " / ".join(hit.categories)) if x)
    lines = [heading + (f"  {style(details, fg='cyan')}" if details else ""),
             f"     {style(hit.path, fg='green')}"]
    if snippet:
        lines.append(f"     {snippet}")
    return "\n".join(lines)


def _open(index_dir: Path) -> Any:
    import search

    return _library_call(search.open_index, index_dir)


def _facet_lines(facets: Any) -> list[str]:
    lines = []
    for name, counts in (("categories", facets.categories), ("authors", facets.authors), ("years", facets.years)):
        shown = ", ".join(f"{k} {v}" for k, v in list(counts.items())[:12])
        lines.append(f"{name}: {shown or '-'}")
    return lines


@main.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1, type=click.UNPROCESSED)
@index_option
@click.option("-n", "--limit", type=click.IntRange(min=0), default=10, show_default=True,
              help="Hits per page; 0 shows every match.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True, help="Page of hits to show.")
@click.option("--category", "categories", multiple=True, help="Only posts in this category (repeatable: any).")
@click.option("--author", "authors", multiple=True, help="Only posts by this author (repeatable: any).")
@click.option("--tag", "tags", multiple=True, help="Only posts with this tag (repeatable: any).")
@click.option("--since", metavar="DATE", help="Only posts dated on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="Only posts dated on or before DATE (inclusive).")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance",
              show_default=True, help="Order of the hits.")
@click.option("--facets", is_flag=True, help="Count categories, authors and years over all matches.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option("--pager", is_flag=True, help="Show long output through a pager.")
@click.option("-l", "--files-with-matches", "files_only", is_flag=True,
              help="Print only the matching posts' file paths, one a line (every match unless -n is given).")
@click.option("-c", "--count", "count_only", is_flag=True, help="Print only the number of matching posts.")
@click.option("--corpus", type=click.Path(path_type=Path), envvar=CORPUS_VARIABLE, show_envvar=True,
              help=f"Corpus to index first when there is no index yet (default ${CORPUS_VARIABLE}, else ./corpus "
                   "when --index is not given either).")
def search_command(query: tuple[str, ...], index_dir: Path, limit: int, page: int, categories: tuple[str, ...],
                   authors: tuple[str, ...], tags: tuple[str, ...], since: str | None, until: str | None,
                   sort: str, facets: bool, as_json: bool, pager: bool, files_only: bool, count_only: bool,
                   corpus: Path | None) -> None:
    """Search the index for QUERY, or list the posts passing the filters (newest first) when there is none.

    \b
    zhsearch search 内推                  # posts containing 内推
    zhsearch search 内推 OR 内部推荐 -校招
    zhsearch search '"人脉背书"' title:简历
    zhsearch search 内推 --category 知乎日报 --since 2021 --sort newest
    zhsearch search --category 知乎日报    # that category's posts, newest first
    zhsearch search category:知乎日报 date:2021 --facets --json
    zhsearch search 内推 -l               # file paths only, like grep -l
    """
    import search
    from search.errors import IndexNotFound

    if sum((files_only, count_only, as_json)) > 1:
        raise click.UsageError("choose one of -l/--files-with-matches, -c/--count and --json")
    text = " ".join(query)
    if not text.strip() and not (categories or authors or tags or since or until):
        raise _Failure("the query is empty: give a word to search for, or a filter "
                       "(--category, --author, --tag, --since, --until) to list its posts")
    try:
        ix = search.open_index(index_dir)
    except IndexNotFound:
        ix = _first_index(index_dir, corpus)
    except search.SearchError as e:
        raise _Failure(str(e)) from None
    stale = ix.stale_reason()
    if stale:
        click.echo(f"zhsearch: warning: {stale}", err=True)
    if files_only and not _given("limit"):
        limit = 0
    with ix:
        results = _library_call(ix.search, text, limit=1 if count_only else limit or None, page=page,
                                categories=categories, authors=authors, tags=tags, since=since, until=until,
                                sort=sort, facets=facets)
        corpus_root = ix.corpus
    if count_only or files_only:
        for hit in results if files_only else ():
            click.echo(_openable(corpus_root, hit.path))
        if count_only:
            click.echo(str(results.total))
        sys.exit(0 if results.total else 1)
    if as_json:
        click.echo(json.dumps(results.to_dict(), ensure_ascii=False, indent=2))
    else:
        colour = _colour(sys.stdout) and not pager
        lines = []
        if results.total:
            first = (results.page - 1) * (limit or results.total) + 1
            matching = f"{_count(results.total, 'post')} match{'es' if results.total == 1 else ''}"
            click.echo(f"{matching}; showing {first}–{first + len(results.hits) - 1}"
                       if results.hits else f"{matching}; page {results.page} is empty", err=True)
        if results.notice:
            click.echo(f"zhsearch: {results.notice}", err=True)
        for rank, hit in enumerate(results, (results.page - 1) * (limit or 0) + 1):
            lines.append(_format_hit(rank, hit, colour) + "\n")
        if results.facets is not None:
            lines.extend(_facet_lines(results.facets))
        output = "\n".join(lines)
        if pager and output:
            click.echo_via_pager(output)
        elif output:
            click.echo(output)
        if results.filter_note:
            click.echo(f"zhsearch: {results.filter_note}", err=True)
        elif not results.total:
            counts = ", ".join(f"{term}: {count}" for term, count in results.term_counts)
            click.echo(f"zhsearch: nothing matches {text or 'the filters'}"
                       + (f" (posts per term: {counts})" if counts else ""), err=True)
            if results.suggestion:
                click.echo(f"zhsearch: try: zhsearch search {results.suggestion}", err=True)
            if results.hint:
                click.echo(f"zhsearch: {results.hint}", err=True)
    sys.exit(0 if results.total else 1)


@main.command("analyze")
@click.argument("words", nargs=-1, required=True)
@index_option
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def analyze_command(words: tuple[str, ...], index_dir: Path, as_json: bool) -> None:
    """Show the tokens the index would store for WORDS (joined by spaces): word, position, offsets, field.

    Uses the index's own analysis settings, user dictionary included; without an index, jieba's defaults.

    \b
    zhsearch analyze 人脉背书很重要
    zhsearch analyze 韭菜盒子兄弟 --index ~/.cache/zhsearch/blog --json
    zhsearch analyze 人脉 背书
    """
    import search
    from search.errors import IndexNotFound
    from search.text import segmentation, tokenizer

    text = " ".join(words)
    try:
        with search.open_index(index_dir) as ix:
            tokens = _library_call(ix.analyze, text)
    except IndexNotFound:
        click.echo(f"zhsearch: no index at {index_dir}; using jieba's default dictionary", err=True)
        tokens = segmentation.analyze(text, tokenizer.new_tokenizer())
    except search.SearchError as e:
        raise _Failure(str(e)) from None
    if as_json:
        click.echo(json.dumps(search.tokens_to_dict(text, tokens), ensure_ascii=False, indent=2))
        return
    for t in tokens:
        click.echo(f"{t.pos:>4}  {t.start:>4}-{t.end:<4} {t.field:<7} {t.text}")


@main.command("show")
@click.argument("path")
@index_option
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def show_command(path: str, index_dir: Path, as_json: bool) -> None:
    """Show a post's metadata and clean text as indexed (PATH as search prints it, or the post's file).

    \b
    zhsearch show jekyll-blog/_posts/2019-12-31-year-review.md
    zhsearch show corpus/jekyll-blog/_posts/2019-12-31-year-review.md
    """
    with _open(index_dir) as ix:
        document = _library_call(ix.show, path)
    if as_json:
        click.echo(json.dumps(document.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(click.style(document.title, bold=True) if _colour(sys.stdout) else document.title)
    for label, value in (("path", document.path), ("author", document.author), ("date", document.date),
                         ("categories", " / ".join(document.categories)), ("tags", ", ".join(document.tags)),
                         ("url", document.url)):
        if value:
            click.echo(f"{label}: {value}")
    click.echo("")
    click.echo(document.text)


@main.command("stats")
@index_option
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def stats_command(index_dir: Path, as_json: bool) -> None:
    """Show what the index holds: posts, categories, authors, dates, size, when built.

    \b
    zhsearch stats
    zhsearch stats --json
    """
    with _open(index_dir) as ix:
        stats = _library_call(ix.stats)
    if as_json:
        click.echo(json.dumps(stats.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"posts: {stats.posts}")
    click.echo(f"dates: {stats.first_date} … {stats.last_date}" if stats.first_date else "dates: no dated posts")
    click.echo("categories: " + ", ".join(f"{k} {v}" for k, v in list(stats.categories.items())[:10]))
    click.echo("authors: " + ", ".join(f"{k} {v}" for k, v in list(stats.authors.items())[:10]))
    click.echo(f"size on disk: {stats.size_bytes / 1e6:.1f} MB")
    click.echo(f"built: {stats.built}, updated: {stats.updated}")
    click.echo(f"corpus: {stats.corpus}")
    click.echo("analysis: " + ", ".join(f"{k}={v}" for k, v in stats.settings.items()))


@main.command("serve")
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--watch", "watch_text", is_flag=False, flag_value="", metavar="[CORPUS]",
              help="Keep the index current as posts in CORPUS change (default: the corpus the index holds, "
                   f"else ${CORPUS_VARIABLE}, else ./corpus).")
@click.option("--cors", "cors_origin", metavar="ORIGIN", help="Let pages on ORIGIN call the JSON API.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes answering requests (each answers one at a time): 2 on a 2-core machine.")
def serve_command(index_dir: Path, host: str, port: int, watch_text: str | None, cors_origin: str | None,
                  workers: int) -> None:
    """Serve a search page and a JSON API over the index (read-only).

    \b
    zhsearch serve                          # http://127.0.0.1:8000/
    zhsearch serve --watch ~/blog/source/_posts --index ~/.cache/blog-index
    zhsearch serve --cors https://blog.example --port 8080
    curl -G http://127.0.0.1:8000/api/search --data-urlencode q=内推 -d limit=5
    """
    from search.web import is_loopback, serve

    # --watch without a value: "" (a str option, as a click.Path would make it ".")
    watch = None if watch_text is None else Path(watch_text) if watch_text else _default_corpus(index_dir)
    if not is_loopback(host):
        click.echo(f"zhsearch: warning: listening on {host}: anyone who can reach port {port} can read the index",
                   err=True)
    _library_call(serve, index_dir, host=host, port=port, watch=watch, cors_origin=cors_origin, workers=workers)


@main.command("export")
@click.argument("index_dir", metavar="INDEX", type=click.Path(path_type=Path))
@click.argument("out_dir", metavar="OUT", type=click.Path(path_type=Path))
@click.option("--format", "format_name", type=click.Choice(["opensearch", "jsonl"]), default="opensearch",
              show_default=True, help="opensearch: bulk.ndjson and mapping.json; jsonl: posts.jsonl.")
@click.option("--force", is_flag=True, help="Overwrite the export's files in OUT.")
def export_command(index_dir: Path, out_dir: Path, format_name: str, force: bool) -> None:
    """Export every post of INDEX, with its words as zhsearch indexes them, into OUT for another engine.

    \b
    zhsearch export index out/                  # out/bulk.ndjson + out/mapping.json (OpenSearch, Elasticsearch)
    zhsearch export index out/ --format jsonl   # out/posts.jsonl, one post per line
    """
    import search

    report = _library_call(search.export_index, index_dir, out_dir, format_name, force=force)
    click.echo(f"exported {report.posts} posts to {', '.join(str(f) for f in report.files)}", err=True)


def run() -> None:
    """The `zhsearch` command (and `python -m search`): `main`, then a quicker exit.

    Speed trick: leave by os._exit once the exit handlers have run and the output is flushed, skipping the
    interpreter's teardown (a cold query 0.19 -> 0.15 s: `python bench/speed.py --corpora blogs`, docs/decisions.md).
    Every file the commands write is closed before they return.
    """
    status = 1  # an exception other than SystemExit: Python prints it and exits with 1

    def leave() -> None:  # registered first, so it runs after every other exit handler
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe (`zhsearch search x | head`)
                stream.flush()
        os._exit(status)

    atexit.register(leave)
    try:
        main(prog_name="zhsearch")
        status = 0
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
        raise


if __name__ == "__main__":  # pragma: no cover
    run()
