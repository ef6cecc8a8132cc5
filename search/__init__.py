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
    BuildFailed as BuildFailed,
    ConfigError as ConfigError,
    CorpusMismatch as CorpusMismatch,
    CorpusNotFound as CorpusNotFound,
    ExportError as ExportError,
    IndexClosed as IndexClosed,
    IndexCorrupt as IndexCorrupt,
    IndexLocked as IndexLocked,
    IndexNotFound as IndexNotFound,
    IndexPathInvalid as IndexPathInvalid,
    NotInIndex as NotInIndex,
    PostError as PostError,
    QueryError as QueryError,
    RebuildNeeded as RebuildNeeded,
    SearchError as SearchError,
)

# Each part is imported on first use: building needs BeautifulSoup, markdown-it and the whole jieba dictionary,
# searching needs Whoosh's reader, and the command's `--help` needs neither (a cold process pays every import).
_LAZY = {"Coverage": "query.results", "Document": "query.results", "Facets": "query.results",
         "Hit": "query.results", "IndexStats": "query.results", "Results": "query.results",
         "Index": "query.index", "open_index": "query.index",
         "BuildReport": "build.generation", "build_index": "build.building", "update_index": "build.updating",
         "corpus_of": "store.generations",
         "Config": "config", "load_config": "config",
         "Post": "posts.post", "read_post": "posts.post", "tokens_to_dict": "jsonout",
         "ExportReport": "export", "export_index": "export"}

if TYPE_CHECKING:  # what type checkers and editors see; at run time, __getattr__ imports each on first use
    from .build.building import build_index as build_index
    from .build.generation import BuildReport as BuildReport
    from .build.updating import update_index as update_index
    from .config import Config as Config, load_config as load_config
    from .export import ExportReport as ExportReport, export_index as export_index
    from .jsonout import tokens_to_dict as tokens_to_dict
    from .posts.post import Post as Post, read_post as read_post
    from .query.index import Index as Index, open_index as open_index
    from .query.results import (
        Coverage as Coverage,
        Document as Document,
        Facets as Facets,
        Hit as Hit,
        IndexStats as IndexStats,
        Results as Results,
    )
    from .store.generations import corpus_of as corpus_of


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "BuildFailed", "BuildReport", "Config", "ConfigError", "CorpusMismatch", "CorpusNotFound", "Coverage", "Document",
    "ExportError", "ExportReport", "Facets", "Hit", "Index", "IndexClosed", "IndexCorrupt", "IndexLocked",
    "IndexNotFound", "IndexPathInvalid", "IndexStats", "NotInIndex", "Post", "PostError", "QueryError",
    "RebuildNeeded", "Results", "SearchError", "build_index", "corpus_of", "export_index", "load_config",
    "open_index", "read_post", "tokens_to_dict", "update_index", "__version__",
]
