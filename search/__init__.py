"""zhsearch: full-text search for Chinese Hexo/Jekyll posts, from the terminal or from Python.

    import search

    search.build_index("corpus", "index")          # or update_index: only what changed
    with search.open_index("index") as ix:
        for hit in ix.search("内推 -校招", limit=5):
            print(hit.score, hit.path, hit.title, hit.snippet)
"""

__version__ = "0.1.0"

from .errors import (
    ConfigError as ConfigError,
    IndexCorrupt as IndexCorrupt,
    IndexLocked as IndexLocked,
    IndexNotFound as IndexNotFound,
    PostError as PostError,
    QueryError as QueryError,
    RebuildNeeded as RebuildNeeded,
    SearchError as SearchError,
)
from .indexing import BuildReport as BuildReport, build_index as build_index, update_index as update_index
from .posts import Post as Post, read_post as read_post
from .searching import Hit as Hit, Index as Index, Results as Results, open_index as open_index

__all__ = [
    "BuildReport", "ConfigError", "Hit", "Index", "IndexCorrupt", "IndexLocked", "IndexNotFound", "Post",
    "PostError", "QueryError", "RebuildNeeded", "Results", "SearchError", "build_index", "open_index",
    "read_post", "update_index", "__version__",
]
