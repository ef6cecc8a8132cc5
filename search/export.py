"""Exporting an index for another engine: an OpenSearch/Elasticsearch bulk file and mapping, or JSON Lines.

Parts:
- `FORMATS`, `export_index` (what `zhsearch export` calls) and its `ExportReport`;
- `post_record`: one post as exported: its metadata, its clean text, and the words of each searchable field joined
  by spaces, as the index stores them (`field_words`);
- `opensearch_mapping`: index settings and mapping under which a whitespace analyzer reads those words back, so the
  engine matches the words zhsearch matches (docs/scale-out.md says how to load it and what carries over).

Posts are read one at a time from the index and written as they are read: an export of any size holds one post in
memory. Files are written beside their final names and renamed into place once complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from .errors import ExportError
from .query.index import Index, open_index
from .query.ranking import BM25_B, BM25_K1, FIELD_BOOSTS
from .query.results import Document
from .segments.fieldnames import SEARCH_FIELDS

FORMATS = ("opensearch", "jsonl")
BULK_FILE = "bulk.ndjson"
MAPPING_FILE = "mapping.json"
JSONL_FILE = "posts.jsonl"
WORDS_ANALYZER = "zhsearch_words"
# Elasticsearch and OpenSearch refuse a document _id longer than 512 bytes; a longer path is hashed into one.
MAX_ID_BYTES = 512


class ExportReport(NamedTuple):
    """What an export wrote."""

    format: str
    posts: int
    files: tuple[Path, ...]


def field_texts(document: Document) -> dict[str, str]:
    """The text of each searchable field of a post, as the index analyses it (several values on separate lines)."""
    return {"title": document.title, "author": "\n".join(document.authors),
            "category": "\n".join(document.categories), "tag": "\n".join(document.tags), "body": document.text}


def field_words(ix: Index, text: str) -> str:
    """The words the index stores for `text` (`Index.analyze`'s word tokens, so those `zhsearch analyze` prints),
    in order, joined by spaces. A search-mode sub-word repeated inside one word stands once at that position, as
    in the index, so that a word's count in the field is the one zhsearch scores with."""
    seen: set[tuple[int, str]] = set()
    words: list[str] = []
    for token in ix.analyze(text) if text else ():
        if token.field == "words" and (token.pos, token.text) not in seen:
            seen.add((token.pos, token.text))
            words.append(token.text)
    return " ".join(words)


def post_record(ix: Index, document: Document) -> dict[str, Any]:
    """One post as both formats export it."""
    return {"path": document.path, "title": document.title, "authors": list(document.authors),
            "categories": list(document.categories), "tags": list(document.tags), "date": document.date,
            "url": document.url, "text": document.text,
            "words": {name: field_words(ix, text) for name, text in field_texts(document).items()}}


def document_id(path: str) -> str:
    """The post's document _id in the engine: its path, or the SHA-1 of a path too long to be one."""
    if len(path.encode("utf-8")) <= MAX_ID_BYTES:
        return path
    return hashlib.sha1(path.encode("utf-8")).hexdigest()


def opensearch_mapping() -> dict[str, Any]:
    """The body of `PUT /INDEX` in OpenSearch or Elasticsearch for the bulk file: the word fields are cut at
    spaces only (the words are folded already), scored by BM25 with zhsearch's parameters; names are keywords
    (filters and facets), the date a date; title, text and URL are kept for display only."""
    words = {"type": "text", "analyzer": WORDS_ANALYZER, "similarity": "zhsearch_bm25"}
    return {
        "settings": {
            "analysis": {"analyzer": {WORDS_ANALYZER: {"type": "custom", "tokenizer": "whitespace"}}},
            "similarity": {"zhsearch_bm25": {"type": "BM25", "k1": BM25_K1, "b": BM25_B}},
        },
        "mappings": {
            "dynamic": "strict",
            # Not read by the engine: the field boosts a query gives, as zhsearch weighs its fields.
            "_meta": {"zhsearch": {"query_fields": [f"words.{name}^{FIELD_BOOSTS[name]:g}" for name in SEARCH_FIELDS],
                                   "words_analyzer": WORDS_ANALYZER}},
            "properties": {
                "path": {"type": "keyword"},
                "title": {"type": "text", "index": False},
                "authors": {"type": "keyword"},
                "categories": {"type": "keyword"},
                "tags": {"type": "keyword"},
                "date": {"type": "date", "format": "strict_date_optional_time"},
                "url": {"type": "keyword", "index": False},
                "text": {"type": "text", "index": False},
                "words": {"properties": {name: dict(words) for name in SEARCH_FIELDS}},
            },
        },
    }


def _line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def _records(ix: Index) -> Iterator[dict[str, Any]]:
    for path in ix.paths():
        yield post_record(ix, ix.show(path))


def _write_bulk(ix: Index, out: TextIO) -> int:
    count = 0
    for record in _records(ix):
        out.write(_line({"index": {"_id": document_id(record["path"])}}))
        out.write(_line(record))
        count += 1
    return count


def _write_jsonl(ix: Index, out: TextIO) -> int:
    count = 0
    for record in _records(ix):
        out.write(_line(record))
        count += 1
    return count


def _targets(out_dir: Path, format: str, force: bool) -> list[Path]:
    """The files the export writes, after checking it may write them."""
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}: choose one of {', '.join(FORMATS)}")
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} is not a folder")
    names = [BULK_FILE, MAPPING_FILE] if format == "opensearch" else [JSONL_FILE]
    targets = [out_dir / name for name in names]
    if not force:
        for target in targets:
            if target.exists() or target.is_symlink():
                raise ExportError(f"{target} exists already (overwrite it with --force)")
    return targets


def export_index(index_dir: Path | str, out_dir: Path | str, format: str = "opensearch", *,
                 force: bool = False) -> ExportReport:
    """Write every live post of the index at `index_dir` into `out_dir` in `format` (one of `FORMATS`).

    opensearch: `bulk.ndjson` (an action line, then the post, for each post) and `mapping.json`; jsonl:
    `posts.jsonl` (one post per line). Existing files of the export are an error unless `force`.
    """
    out_dir = Path(out_dir)
    targets = _targets(out_dir, format, force)
    with open_index(index_dir) as ix:
        out_dir.mkdir(parents=True, exist_ok=True)
        partial = [target.with_name(f".{target.name}.partial") for target in targets]
        try:
            with open(partial[0], "w", encoding="utf-8", newline="\n") as out:
                posts = _write_bulk(ix, out) if format == "opensearch" else _write_jsonl(ix, out)
            if format == "opensearch":
                partial[1].write_text(json.dumps(opensearch_mapping(), ensure_ascii=False, indent=2) + "\n",
                                      encoding="utf-8")
            for written, target in zip(partial, targets):
                os.replace(written, target)
        finally:
            for written in partial:
                written.unlink(missing_ok=True)
    return ExportReport(format=format, posts=posts, files=tuple(targets))
