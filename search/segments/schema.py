"""The Whoosh schema: which fields a post becomes, and the field types that take pre-analysed text.

Parts:
- `WordField`: a Whoosh field whose values are computed by text/segmentation.py (`{term: count}`), so a
  document is analysed once, by our code, and Whoosh only encodes and stores it.
- `SEARCH_FIELDS`: the searchable fields (each a word field here and a part of the verbatim text store).
- `make_schema()` and `document_fields()`: the schema, and the Whoosh document and folded texts of one `Post`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from whoosh import fields, formats
from whoosh.analysis import SpaceSeparatedTokenizer

from ..text import folding, segmentation, unfolding
from ..text.pinyin import PINYIN_FIELD_GAP, pinyin_postings
from .fieldnames import PINYIN_FIELD as PINYIN_FIELD, SEARCH_FIELDS as SEARCH_FIELDS, word_field as word_field

if TYPE_CHECKING:  # posts/post.py pulls in BeautifulSoup and markdown-it: not needed to search
    from ..posts.post import Post


class WordField(fields.FieldType):
    """jieba words (and Latin tokens), indexed from values computed by text/segmentation.py: `{term: count}` (all that
    matching and BM25F read), or `{term: [positions]}` when `positions` (the pinyin field, whose phrases need them)."""

    def __init__(self, positions: bool = False) -> None:
        # Without positions Whoosh stores no value per posting (the count is its weight): a faster build, a smaller
        # index.
        self.format = formats.Positions() if positions else formats.Existence()
        # Only used if something asks Whoosh itself to tokenize this field (it never happens in zhsearch).
        self.analyzer = SpaceSeparatedTokenizer()
        self.scorable = True
        self.stored = False
        self.unique = False
        self.vector = None
        self.column_type = None

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if isinstance(self.format, formats.Positions):
            encode = self.format.encode
            for term, positions in value.items():
                yield term.encode("utf-8"), len(positions), float(len(positions)), encode(positions)
        else:
            for term, count in value.items():
                yield term.encode("utf-8"), count, float(count), b""


# Posting lists this short are stored inside the term's dictionary entry instead of as a block of their own in
# the postings file: most words of a blog corpus occur in one or two posts, and writing each its own pickled,
# compressed block was a quarter of a segment's commit time. Whoosh reads inlined postings without help
# (W3Codec.postings_reader).
INLINE_LIMIT = 8


def index_codec() -> Any:
    """The Whoosh codec segments are written with."""
    from whoosh.codec.whoosh3 import W3Codec, W3TermInfo

    if not hasattr(W3TermInfo, "set_inline"):
        # Whoosh 2.7.4's postings writer calls terminfo.set_inline(), a method W3TermInfo names set_inlined: so
        # inlining, off by default (inlinelimit=1), raises AttributeError when turned on. Only the writer's call
        # is misnamed; the stored format and the reader are Whoosh's own.
        W3TermInfo.set_inline = W3TermInfo.set_inlined
    codec = W3Codec(inlinelimit=INLINE_LIMIT)
    # Whoosh's codec attribute for per-block min/max field lengths, which only its top-N pruning reads (zhsearch
    # scores from the posting lists and each post's own length); writing them looks up every posting's length.
    codec.length_stats = False
    return codec


def make_schema() -> fields.Schema:
    schema = fields.Schema(
        path=fields.ID(stored=True, unique=True, sortable=True),
        # Local wall-clock time as YYYYMMDDhhmmss: date filters and sorting; posts without a date have none.
        stamp=fields.NUMERIC(numtype=int, bits=64, sortable=True, signed=False),
        meta=fields.STORED(),
        # The text as written, when the changes folding made to it are not kept instead.
        text=fields.STORED(),
        changes=fields.STORED(),
    )
    for name in SEARCH_FIELDS:
        schema.add(word_field(name), WordField())
    # The pinyin syllable of each Han character of all fields (only with pinyin = true in zhsearch.toml).
    schema.add(PINYIN_FIELD, WordField(positions=True))
    return schema


def date_stamp(date: dt.datetime | None) -> int | None:
    """The post's date as written (its own time zone's wall clock), as a sortable YYYYMMDDhhmmss number."""
    if date is None:
        return None
    return int(date.strftime("%Y%m%d%H%M%S"))


def post_meta(post: Post) -> dict[str, Any]:
    return {
        "title": post.title,
        "authors": list(post.authors),
        "categories": list(post.categories),
        "tags": list(post.tags),
        "date": post.date.isoformat() if post.date else None,
        "url": post.url,
    }


def field_texts(post: Post) -> dict[str, str]:
    """The text of each searchable field as written. Several values stand on separate lines."""
    return {
        "title": post.title,
        "author": "\n".join(post.authors),
        "category": "\n".join(post.categories),
        "tag": "\n".join(post.tags),
        "body": post.text,
    }


def document_fields(post: Post, segmenter: segmentation.Segmenter,
                    pinyin: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """The keyword arguments of `writer.add_document` for `post`, and its folded fields for the text store."""
    doc: dict[str, Any] = {
        "path": post.path,
        "meta": post_meta(post),
    }
    folded_fields: dict[str, str] = {}
    readings: dict[str, list[int]] = {}
    for number, (name, value) in enumerate(field_texts(post).items()):
        folded = folding.fold(value) if value else ""
        counts = segmentation.word_counts(folded, segmenter) if folded else {}
        folded_fields[name] = folded
        if folded:
            doc[word_field(name)] = counts
            if pinyin:
                base = number * PINYIN_FIELD_GAP
                for reading, positions in pinyin_postings(folded, base).items():
                    readings.setdefault(reading, []).extend(positions)
    if readings:
        doc[PINYIN_FIELD] = readings
    # The text as written: the text store holds it folded, so only what folding changed (unfolding.py), from the
    # body as the store keeps it (what UTF-8 cannot encode, lone surrogates, as "?").
    stored_body = folded_fields["body"].encode("utf-8", "replace").decode("utf-8")
    changes = unfolding.changes_made(post.text, stored_body)
    if changes is None:
        doc["text"] = post.text
    elif changes != unfolding.UNCHANGED:
        doc["changes"] = changes
    stamp = date_stamp(post.date)
    if stamp is not None:
        doc["stamp"] = stamp
    return doc, folded_fields
