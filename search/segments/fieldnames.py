"""The names of the indexed fields (without Whoosh: a query imports these, and schema.py builds on them)."""

from ..store.verbatim import FIELD_ORDER

# Searchable fields, by their name in the query language; verbatim.py stores them in this order too.
SEARCH_FIELDS = FIELD_ORDER

# The pinyin syllable of each Han character of all fields (only with pinyin = true in zhsearch.toml).
PINYIN_FIELD = "w_pinyin"


def word_field(name: str) -> str:
    """The Whoosh field holding the words of the searchable field `name`."""
    return "w_" + name
