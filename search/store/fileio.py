"""A generation's small files: written atomically (a reader sees the old file or the new one, never a part),
JSON read with damage reported as IndexCorrupt."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from ..errors import IndexCorrupt

Parsed = TypeVar("Parsed")

def fsync_path(path: Path) -> None:
    """fsync a file or a directory (a directory's entries: a rename in it is durable once it is synced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def json_text(value: Any) -> str:
    """`value` as the index's JSON files hold it: compact, characters as they are."""
    # dumps, not dump: json.dump streams through the pure-Python encoder, much slower on large tables.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_json(path: Path, value: Any) -> None:
    """Write JSON atomically (write_bytes)."""
    write_bytes(path, json_text(value).encode("utf-8"))


def write_json_lines(path: Path, members: Iterable[str]) -> None:
    """Write a JSON object from its members (`"key":value`, JSON text each) atomically, as `write_json` does, without
    holding the whole object or its text."""

    def pieces() -> Iterator[bytes]:
        yield b"{"
        for i, member in enumerate(members):
            yield ("," + member if i else member).encode("utf-8")
        yield b"}"

    write_bytes(path, pieces())


def read_json(path: Path) -> Any:
    try:
        # From bytes: json.load's text file decodes in small pieces, slow on a large manifest.
        return json.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise IndexCorrupt(f"{path.name} is missing from {path.parent}; "
                           "rebuild the index with `zhsearch index --rebuild`") from None
    except (OSError, ValueError) as e:
        raise IndexCorrupt(f"{path} is damaged ({e}); rebuild the index with `zhsearch index --rebuild`") from e


def write_bytes(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write a file atomically (its bytes, or its pieces in turn): a reader sees the old file or the new one, never
    a part."""
    temp = path.with_name(path.name + ".tmp")
    with open(temp, "wb") as f:
        if isinstance(data, bytes):
            f.write(data)
        else:
            f.writelines(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)


def read_binary(path: Path, parse: Callable[[bytes], Parsed]) -> Parsed | None:
    """`parse` of the file's bytes; None if there is no such file, IndexCorrupt if it can't be read or parsed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise IndexCorrupt(f"{path} cannot be read ({e.strerror}); "
                           "rebuild the index with `zhsearch index --rebuild`") from e
    try:
        return parse(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise IndexCorrupt(f"{path} is damaged ({e}); rebuild the index with `zhsearch index --rebuild`") from None
