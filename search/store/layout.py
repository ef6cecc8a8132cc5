"""The files of an index directory and of each generation in it, and the index format's version."""

# The version of the files a generation holds: an index of any other version is rebuilt, never read.
INDEX_FORMAT = 8
WHOOSH_INDEX_NAME = "MAIN"
CURRENT = "CURRENT"
LOCK = "LOCK"
META = "zhsearch.json"
# In META: Whoosh's field length of each length byte, 0-255 (query/index.py reads it).
LENGTH_DECODING = "length_decoding"
RANGES = "ranges.json"  # the table's name (in CHANGES); it is written whole as RANGES_BINARY
RANGES_BINARY = "ranges.bin"  # RangeColumns.to_bytes
DOCUMENTS = "documents.bin"
MANIFEST = "manifest.json"
POSTS = "posts.json"
SYNONYMS = "synonyms.json"
LEXICON = "lexicon.bin"
CHANGES = "changes.json"  # {table name: {path: entry, or null when the path left the table}}
TABLES = (RANGES, POSTS, MANIFEST)
# Once an update's changes hold more paths than this share of the posts (and more than COMPACT_MIN), the tables
# are written whole again: the changes file is read by every query, and merged by every update.
COMPACT_SHARE = 1 / 16
COMPACT_MIN = 256
EMISSIONS = "jieba-emit.bin"  # a copy of jieba's HMM emission table (lexicon.emissions_copy)
FOLD = "fold.json"  # the 繁→简 table the posts were folded with (analysis.fold_table_record)
_PREFIX = "gen-"


def generation_name(number: int) -> str:
    return f"{_PREFIX}{number:06d}"


def generation_number(name: str) -> int:
    try:
        return int(name[len(_PREFIX):])
    except ValueError:
        return -1


def is_generation_name(name: str) -> bool:
    return name.startswith(_PREFIX)


GENERATION_GLOB = _PREFIX + "*"

# In META: the ids of the build's Whoosh segments, which updates never merge (segments/writing.py, merge_policy).
BUILD_SEGMENTS = "build_segments"
