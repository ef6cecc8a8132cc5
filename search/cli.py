"""The `zhsearch` command: a thin click layer over the `search` package.

Each command makes one library call and formats its result. Exit status, like grep: 0 found, 1 nothing found,
2 bad usage, a bad query, or a missing or unreadable index. The library is imported inside the commands so that
`--help` does not load jieba or Whoosh.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

DEFAULT_CORPUS = Path("corpus")
DEFAULT_INDEX = Path("index")


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


def index_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--index", "index_dir", type=click.Path(path_type=Path), default=DEFAULT_INDEX,
                        show_default=True, help="Index directory.")(f)


def _colour(stream: Any) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zhsearch", prog_name="zhsearch")
def main() -> None:
    """Full-text search for Chinese Hexo/Jekyll posts.

    \b
    zhsearch index                 # index ./corpus into ./index
    zhsearch search 内推            # ranked hits with highlighted snippets
    zhsearch search '"人脉背书"' --json
    """


def _print_report(report: Any) -> None:
    kind = "rebuilt" if report.rebuilt else "updated"
    line = (f"{kind} {report.index_dir}: {report.indexed} posts indexed"
            f" ({report.added} added, {report.changed} changed, {report.deleted} deleted, {report.renamed} renamed,"
            f" {report.unchanged} unchanged), {len(report.skipped)} skipped, {report.drafts} drafts left out,"
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
@click.argument("corpus", type=click.Path(path_type=Path), default=DEFAULT_CORPUS, required=False)
@index_option
@click.option("--rebuild", is_flag=True, help="Build a complete new index instead of applying changes.")
@click.option("--drafts", is_flag=True, help="Include posts marked `published: false`.")
@click.option("--wait", type=float, default=5.0, show_default=True,
              help="Seconds to wait for another writer to finish.")
def index_command(corpus: Path, index_dir: Path, rebuild: bool, drafts: bool, wait: float) -> None:
    """Index CORPUS (default ./corpus): only what changed, or everything with --rebuild.

    \b
    zhsearch index
    zhsearch index ~/blog/source/_posts --index ~/.cache/blog-index
    zhsearch index --rebuild
    """
    import search

    progress, close = _progress_bar()
    function = search.build_index if rebuild else search.update_index
    try:
        report = _library_call(function, corpus, index_dir, include_drafts=drafts, progress=progress, wait=wait)
    finally:
        close()
    _print_report(report)


def _format_hit(rank: int, hit: Any, colour: bool) -> str:
    def style(text: str, **kw: Any) -> str:
        return click.style(text, **kw) if colour else text

    snippet = hit.snippet
    if colour and hit.highlights:
        pieces, last = [], 0
        for start, end in hit.highlights:
            pieces.append(snippet[last:start])
            pieces.append(click.style(snippet[start:end], fg="red", bold=True))
            last = end
        pieces.append(snippet[last:])
        snippet = "".join(pieces)
    heading = f"{style(f'{rank:>3}.', dim=True)} {style(hit.title, bold=True)}"
    details = "  ".join(x for x in (hit.date[:10] if hit.date else "", " / ".join(hit.categories)) if x)
    lines = [heading + (f"  {style(details, fg='cyan')}" if details else ""),
             f"     {style(hit.path, fg='green')}"]
    if snippet:
        lines.append(f"     {snippet}")
    return "\n".join(lines)


@main.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1, required=True, type=click.UNPROCESSED)
@index_option
@click.option("-n", "--limit", type=click.IntRange(min=0), default=10, show_default=True,
              help="Hits to show; 0 shows every match.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option("--corpus", type=click.Path(path_type=Path), default=DEFAULT_CORPUS, show_default=True,
              help="Corpus to index first when there is no index yet.")
def search_command(query: tuple[str, ...], index_dir: Path, limit: int, as_json: bool, corpus: Path) -> None:
    """Search the index for QUERY.

    \b
    zhsearch search 内推                  # posts containing 内推
    zhsearch search 内推 OR 内部推荐 -校招
    zhsearch search '"人脉背书"' title:简历
    zhsearch search category:知乎日报 date:2021 --json
    """
    import search
    from search.errors import IndexNotFound

    text = " ".join(query)
    try:
        ix = search.open_index(index_dir)
    except IndexNotFound:
        if not corpus.is_dir():
            raise _Failure(f"no index at {index_dir} and no corpus at {corpus} to build one from "
                           "(run `zhsearch index CORPUS`)") from None
        click.echo(f"zhsearch: no index at {index_dir} yet; indexing {corpus} first", err=True)
        _print_report(_library_call(search.build_index, corpus, index_dir))
        ix = _library_call(search.open_index, index_dir)
    except search.SearchError as e:
        raise _Failure(str(e)) from None
    with ix:
        results = _library_call(ix.search, text, limit=limit or None)
    if as_json:
        click.echo(json.dumps(results.to_dict(), ensure_ascii=False, indent=2))
    else:
        colour = _colour(sys.stdout)
        if results.total:
            shown = len(results.hits)
            click.echo(f"{results.total} posts match" + (f", showing {shown}" if shown < results.total else ""),
                       err=True)
        for rank, hit in enumerate(results, 1):
            click.echo(_format_hit(rank, hit, colour) + "\n")
        if not results.total:
            click.echo(f"zhsearch: nothing matches {text}", err=True)
    sys.exit(0 if results.total else 1)


if __name__ == "__main__":  # pragma: no cover
    main()
