"""Errors raised by zhsearch: one base class, one subclass per kind of failure.

The CLI maps every `SearchError` to a one-line message and exit status 2.
"""


class SearchError(Exception):
    """Base class of every error zhsearch raises on purpose."""


class IndexNotFound(SearchError):
    """No index at that path."""


class IndexPathInvalid(SearchError):
    """The index path cannot hold an index (it is a file, or a folder that cannot be written)."""


class IndexClosed(SearchError):
    """The Index was closed; open it again with `open_index`."""


class CorpusNotFound(SearchError):
    """No corpus folder at that path."""


class CorpusMismatch(SearchError):
    """The index holds another corpus: rebuild to replace it."""


class BuildFailed(SearchError):
    """A build or update could not finish (a full disk, a failed process); the index is as it was."""


class IndexCorrupt(SearchError):
    """The index exists but cannot be read."""


class RebuildNeeded(SearchError):
    """The index was built with other analysis settings or by an incompatible version."""


class IndexLocked(SearchError):
    """Another process holds the index's write lock."""


class NotInIndex(SearchError):
    """No post with that path in the index."""


class QueryError(SearchError):
    """The query cannot be parsed or is not valid."""


class PostError(SearchError):
    """A post file cannot be read at all."""


class ConfigError(SearchError):
    """zhsearch.toml (or --config) has an unknown key or a bad value."""


class ExportError(SearchError):
    """The export cannot write its files where it was asked to."""
