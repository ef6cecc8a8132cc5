"""zhsearch: full-text search for Chinese Hexo/Jekyll posts, from the terminal or from Python.

    import search

    search.build_index("corpus", "index")          # or update_index: only what changed
    with search.open_index("index") as ix:
        for hit in ix.search("内推 -校招", limit=5):
            print(hit.score, hit.path, hit.title, hit.snippet)
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING

from .errors import (
    ConfigError as ConfigError,
    IndexCorrupt as IndexCorrupt,
    IndexLocked as IndexLocked,
    IndexNotFound as IndexNotFound,
    NotInIndex as NotInIndex,
    PostError as PostError,
    QueryError as QueryError,
    RebuildNeeded as RebuildNeeded,
    SearchError as SearchError,
)


def _import_whoosh_compat() -> None:
    """Import whoosh.compat without the urllib.request it imports for one function zhsearch never calls.

    urllib.request brings http.client, email and ssl: 30 ms of every process that imports Whoosh (a build, an
    update, a pinyin query; other queries read Whoosh's files without it, see segments.py). While whoosh.compat
    loads, a stand-in module offers its urlretrieve, which imports the real one if ever called; the stand-in is
    then removed, so any later `import urllib.request` gets the real module.
    """
    import sys
    import types

    if "whoosh.compat" in sys.modules or "urllib.request" in sys.modules:
        return

    def urlretrieve(*args: object, **kwargs: object) -> object:
        import urllib.request

        return urllib.request.urlretrieve(*args, **kwargs)  # type: ignore[arg-type]

    stand_in = types.ModuleType("urllib.request")
    stand_in.urlretrieve = urlretrieve  # type: ignore[attr-defined]
    sys.modules["urllib.request"] = stand_in
    try:
        import whoosh.compat  # noqa: F401
    finally:
        if sys.modules.get("urllib.request") is stand_in:
            del sys.modules["urllib.request"]


# Each part is imported on first use: building needs BeautifulSoup, markdown-it and the whole jieba dictionary,
# searching needs Whoosh's reader, and the command's `--help` needs neither (a cold process pays every import).
_LAZY = {"Document": "searching", "Facets": "searching", "Hit": "searching", "Index": "searching",
         "IndexStats": "searching", "Results": "searching", "open_index": "searching",
         "BuildReport": "indexing", "build_index": "indexing", "update_index": "indexing",
         "Config": "config", "load_config": "config",
         "Post": "posts", "read_post": "posts", "tokens_to_dict": "jsonout"}

if TYPE_CHECKING:  # what type checkers and editors see; at run time, __getattr__ imports each on first use
    from .config import Config as Config, load_config as load_config
    from .indexing import BuildReport as BuildReport, build_index as build_index, update_index as update_index
    from .jsonout import tokens_to_dict as tokens_to_dict
    from .posts import Post as Post, read_post as read_post
    from .searching import (Document as Document, Facets as Facets, Hit as Hit, Index as Index,
                            IndexStats as IndexStats, Results as Results, open_index as open_index)


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "BuildReport", "Config", "ConfigError", "Document", "Facets", "Hit", "Index", "IndexCorrupt", "IndexLocked",
    "IndexNotFound", "IndexStats", "NotInIndex", "Post",
    "PostError", "QueryError", "RebuildNeeded", "Results", "SearchError", "build_index", "open_index",
    "load_config", "read_post", "tokens_to_dict", "update_index", "__version__",
]
