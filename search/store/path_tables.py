"""The path-keyed tables of a generation (RANGES, POSTS, MANIFEST) and their changes.

A build writes them whole; an update links them from the previous generation and writes only CHANGES (what
changed since they were written whole), until the changes outgrow `COMPACT_SHARE` of the posts and the tables are
written whole again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import IndexCorrupt
from . import text_ranges
from .fileio import read_binary, read_json, write_bytes, write_json
from .layout import CHANGES, DOCUMENTS, RANGES, RANGES_BINARY
from .text_ranges import RangeColumns, read_ranges, segments_signature


def read_changes(gen: Path) -> dict[str, dict[str, Any]]:
    """The generation's changes to its tables since they were last written whole (empty if none)."""
    path = gen / CHANGES
    if not path.exists():
        return {}
    changes = read_json(path)
    if not isinstance(changes, dict) or not all(isinstance(v, dict) for v in changes.values()):
        raise IndexCorrupt(f"{path} is damaged (not a table of changes); "
                           "rebuild the index with `zhsearch index --rebuild`")
    return changes


def write_table(gen: Path, name: str, table: dict[str, Any]) -> None:
    """Write table `name` whole into generation directory `gen`: RANGES as binary columns (RANGES_BINARY, see
    `RangeColumns`), the others as JSON."""
    if name == RANGES:
        write_bytes(gen / RANGES_BINARY, RangeColumns.of(table).to_bytes())
    else:
        write_json(gen / name, table)


def table_file(gen: Path, name: str) -> Path:
    """The file holding table `name` of `gen` as last written whole."""
    return gen / (RANGES_BINARY if name == RANGES else name)


def read_table(gen: Path, name: str, changes: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Table `name` (one of TABLES) of generation `gen`: as last written whole, with `changes` applied (read from
    the generation when not given)."""
    table = read_ranges(gen, {})[0].table() if name == RANGES else read_json(gen / name)
    if not isinstance(table, dict):
        raise IndexCorrupt(f"{gen / name} is damaged (not a table); rebuild the index with `zhsearch index --rebuild`")
    for rel, entry in (read_changes(gen) if changes is None else changes).get(name, {}).items():
        if entry is None:
            table.pop(rel, None)
        else:
            table[rel] = entry
    return table


def write_documents(gen: Path, segments: list[Any], added: dict[str, Any] | None = None) -> None:
    """Write DOCUMENTS for the Whoosh `segments` of generation `gen`, from its RANGES table and changes; or, given
    the posts an update `added` (see `updated_document_ranges`), from the DOCUMENTS it links from the previous
    commit when that is still valid."""
    found_ranges = None
    if added is not None:
        found = read_binary(gen / DOCUMENTS, RangeColumns.from_documents_bytes)
        if found is not None:
            found_ranges = text_ranges.updated_document_ranges(*found, segments, added)
    if found_ranges is None:
        columns, changes = read_ranges(gen, read_changes(gen))
        found_ranges = text_ranges.document_ranges(segments, columns, changes)
    write_bytes(gen / DOCUMENTS, found_ranges.documents_bytes(segments_signature(segments)))
