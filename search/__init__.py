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
)
from .errors import (
    ExportError as ExportError,
)
from .errors import (
    IndexCorrupt as IndexCorrupt,
)
from .errors import (
    IndexLocked as IndexLocked,
)
from .errors import (
    IndexNotFound as IndexNotFound,
)
from .errors import (
    NotInIndex as NotInIndex,
)
from .errors import (
    PostError as PostError,
)
from .errors import (
    QueryError as QueryError,
)
from .errors import (
    RebuildNeeded as RebuildNeeded,
)
from .errors import (
    SearchError as SearchError,
)

# Each part is imported on first use: building needs BeautifulSoup, markdown-it and the whole jieba dictionary,
# searching needs Whoosh's reader, and the command's `--help` needs neither (a cold process pays every import).
_LAZY = {"Coverage": "query.results", "Document": "query.results", "Facets": "query.results", "Hit": "query.results", "Index": "query.index",
         "IndexStats": "query.results", "Results": "query.results", "open_index": "query.index",
         "BuildReport": "build.generation", "build_index": "build.building", "update_index": "build.updating",
         "Config": "config", "load_config": "config",
         "Post": "posts.post", "read_post": "posts.post", "tokens_to_dict": "jsonout",
         "ExportReport": "export", "export_index": "export"}

if TYPE_CHECKING:  # what type checkers and editors see; at run time, __getattr__ imports each on first use
    from .build.building import build_index as build_index
    from .build.generation import BuildReport as BuildReport
    from .build.updating import update_index as update_index
    from .config import Config as Config
    from .config import load_config as load_config
    from .export import ExportReport as ExportReport
    from .export import export_index as export_index
    from .jsonout import tokens_to_dict as tokens_to_dict
    from .posts.post import Post as Post
    from .posts.post import read_post as read_post
    from .query.index import Index as Index
    from .query.index import open_index as open_index
    from .query.results import Coverage as Coverage
    from .query.results import Document as Document
    from .query.results import Facets as Facets
    from .query.results import Hit as Hit
    from .query.results import IndexStats as IndexStats
    from .query.results import Results as Results


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "BuildReport", "Config", "ConfigError", "Coverage", "Document", "ExportError", "ExportReport", "Facets", "Hit",
    "Index", "IndexCorrupt", "IndexLocked", "IndexNotFound", "IndexStats", "NotInIndex", "Post", "PostError",
    "QueryError", "RebuildNeeded", "Results", "SearchError", "__version__", "build_index", "export_index",
    "load_config", "open_index", "read_post", "tokens_to_dict", "update_index",
]
