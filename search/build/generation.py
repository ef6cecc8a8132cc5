"""What a build and an update share: indexing a list of files into a chunk, and finishing a generation.

Parts:
- `BuildReport`: what happened, including every file skipped or degraded and why;
- `index_files`: read, analyse and add posts to a segment writer and a text store file (`Chunk`: the result,
  its tables spooled to files in a build, `SpooledTable`);
- `finish_generation`: the generation's tables, meta and DOCUMENTS written, then committed.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..config import Config, file_digest, load_config, read_synonyms
from ..errors import CorpusNotFound, IndexPathInvalid, PostError
from ..segments import schema
from ..segments.access import index_segments
from ..segments.writing import length_decoding
from ..store import fileio, generations, layout, path_tables
from ..store.layout import INDEX_FORMAT
from ..store.verbatim import TextStoreWriter
from ..text import ANALYSIS_VERSION, folding, lexicon
from ..text.tokenizer import import_jieba

if TYPE_CHECKING:  # reading posts imports PyYAML and markdown-it: not needed when nothing changed
    from ..posts.post import Post

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class BuildReport:
    """What `build_index` or `update_index` did."""

    index_dir: Path
    rebuilt: bool               # a complete new index (else an incremental update)
    indexed: int                # posts in the index afterwards
    added: int = 0
    changed: int = 0
    deleted: int = 0
    renamed: int = 0
    unchanged: int = 0
    drafts: int = 0             # posts skipped because they are drafts (published: false)
    skipped: tuple[tuple[str, str], ...] = ()   # (path, reason): not indexed
    degraded: tuple[tuple[str, str], ...] = ()  # (path, reason): indexed, with a problem
    seconds: float = 0.0
    reason: str = ""            # why a full rebuild happened, when it was not asked for


class SpooledTable:
    """One table's rows from a build's process, written to a file as they come instead of held.

    Held as Python objects, the rows took memory in each process, and the parent unpickled all of them again.
    Each row is one line, `"path":value` in JSON (a fragment of the table's JSON object), so the parent writes the
    POSTS and MANIFEST tables by copying lines (`write_spooled_tables`). Sent to the parent: its path and count only.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file: Any = open(path, "w", encoding="utf-8")  # noqa: SIM115 - held open until close()

    def __setitem__(self, key: str, value: Any) -> None:
        self._file.write(f"{fileio.json_text(key)}:{fileio.json_text(value)}\n")
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def lines(self) -> Iterator[str]:
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                yield line.rstrip("\n")

    def __getstate__(self) -> dict[str, Any]:
        self.close()
        return {"path": self.path, "count": self.count, "_file": None}


@dataclass
class Chunk:
    """The result of indexing a list of files in one process (a build's tables spooled to files, see SpooledTable)."""

    ranges: dict[str, list[Any]] | SpooledTable = field(default_factory=dict)
    posts: dict[str, dict[str, Any]] | SpooledTable = field(default_factory=dict)
    manifest: dict[str, list[Any]] | SpooledTable = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    degraded: list[tuple[str, str]] = field(default_factory=list)
    drafts: int = 0
    moved: dict[str, list[Any]] = field(default_factory=dict)  # ranges of posts moved from older store files
    segments: list[Any] = field(default_factory=list)  # the Whoosh segments a build's process wrote


def fingerprint(file: Path) -> list[Any]:
    """[size, mtime_ns, sha1] of a file, for change detection."""
    digest = hashlib.sha1()
    with open(file, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    st = file.stat()
    return [st.st_size, st.st_mtime_ns, digest.hexdigest()]


def _relative(file: Path, root: Path) -> str:
    return file.relative_to(root).as_posix()


def settings(tokenizer_fingerprint: str, include_drafts: bool, config: Config) -> dict[str, Any]:
    """The analysis settings recorded in an index: an index is only read with the same ones."""
    jieba = import_jieba()
    return {
        "analysis_version": ANALYSIS_VERSION,
        "jieba": getattr(jieba, "__version__", "unknown"),
        "dictionary": tokenizer_fingerprint,
        "include_drafts": include_drafts,
        "user_dict": str(config.user_dict) if config.user_dict else None,
        "user_dict_sha1": file_digest(config.user_dict),
        "synonyms": str(config.synonyms) if config.synonyms else None,
        "pinyin": config.pinyin,
    }


def index_files(files: Iterable[Path], root: Path, gen_dir: Path, store_name: str, include_drafts: bool,
                 fields_for: Callable[[Post], tuple[dict[str, Any], dict[str, str]]], writer: Any,
                 progress: Callable[[], None], moved: Iterable[tuple[str, bytes]] = (), spooled: bool = False) -> Chunk:
    """Read, analyse (`fields_for`: schema.document_fields)
    and add `files` with `writer`, appending their folded text to store `store_name`; then append `moved` posts
    (key, bytes as an older store file holds them) to it too.
    `spooled`: the chunk's tables are _SpooledTables beside the store file (a build), else dicts."""
    from ..posts.post import read_post

    chunk = Chunk()
    if spooled:
        stem = store_name.removesuffix(".bin")
        chunk.ranges, chunk.posts, chunk.manifest = (SpooledTable(gen_dir / f"rows-{stem}-{name}")
                                                      for name in layout.TABLES)
    with TextStoreWriter(gen_dir / store_name) as store:
        for file in files:
            rel = _relative(file, root)
            try:
                post, file_fingerprint = read_post(file, root), fingerprint(file)
            except (PostError, OSError) as e:
                chunk.skipped.append((rel, str(e).removeprefix(rel + ": ")))
                progress()
                continue
            chunk.manifest[rel] = file_fingerprint
            if post.draft and not include_drafts:
                chunk.drafts += 1
                progress()
                continue
            for problem in post.problems:
                chunk.degraded.append((rel, problem))
            doc, folded = fields_for(post)
            writer.add_document(**doc)
            start, end = store.add(folded)
            chunk.ranges[rel] = [store_name, start, end]
            chunk.posts[rel] = schema.post_meta(post)
            # BeautifulSoup's trees are cycles: freed after each post, not left to pile up in an older generation.
            gc.collect(1)
            progress()
        for rel, data in moved:
            start, end = store.add_stored(data)
            chunk.moved[rel] = [store_name, start, end]
    for table in (chunk.ranges, chunk.posts, chunk.manifest):
        if isinstance(table, SpooledTable):
            table.close()
    return chunk


def writer_arguments(corpus: Path | str | None, index_dir: Path | str, config: Config | None
                     ) -> tuple[Path, Path, Config]:
    """Checked before taking the write lock, so that a bad corpus or config fails at once, not after a wait.
    `corpus` None: the corpus the index records."""
    index_dir = Path(index_dir)
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexPathInvalid(f"{index_dir} is a file, not an index folder; choose another --index")
    if corpus is None:
        recorded = generations.corpus_of(index_dir)
        if recorded is None:
            raise CorpusNotFound(f"no index at {index_dir} to take its corpus from; name the corpus folder")
        corpus = recorded
    corpus = Path(corpus)
    if not corpus.is_dir():
        what = "is a file, not a corpus folder" if corpus.exists() else "does not exist"
        raise CorpusNotFound(f"no corpus folder at {corpus} (it {what}); name the folder that holds the posts")
    return corpus, index_dir, config if config is not None else load_config(corpus)


def finish_generation(index_dir: Path, root: Path, temp: Path, final: Path, results: list[Chunk],
                       walk_skipped: list[tuple[str, str]], include_drafts: bool, config: Config, *, rebuilt: bool,
                       started: float, reason: str, json_files: dict[str, Any], posts: int,
                       built: str | None = None, counts: dict[str, int] | None = None,
                       added: dict[str, list[Any]] | None = None,
                       build_segments: list[str] | None = None, drafts: int | None = None) -> BuildReport:
    """Write `json_files` (name → value: the tables whole, or an update's changes) and the generation's meta,
    and commit it. `added`: the ranges of the posts an update added, when it moved none (see write_documents).
    `drafts`: those of the whole corpus (an update's chunk counts only the files it read)."""
    skipped = list(walk_skipped)
    degraded: list[tuple[str, str]] = []
    for chunk in results:
        skipped.extend(chunk.skipped)
        degraded.extend(chunk.degraded)
    if drafts is None:
        drafts = sum(chunk.drafts for chunk in results)
    dictionary = lexicon.Lexicon(temp / layout.LEXICON).fingerprint
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    meta = {
        "format": INDEX_FORMAT,
        "zhsearch": __version__,
        "settings": settings(dictionary, include_drafts, config),
        "corpus": str(root),
        "built": built or now,
        "updated": now,
        "posts": posts,
        # Whoosh's table of field length by length byte (BM25F reads it): a query then needs no Whoosh module.
        layout.LENGTH_DECODING: length_decoding(),
    }
    if build_segments is not None:
        meta[layout.BUILD_SEGMENTS] = build_segments
    for name, value in json_files.items():
        path_tables.write_table(temp, name, value)
    _write_documents(temp, added)
    fileio.write_json(temp / layout.SYNONYMS, read_synonyms(config.synonyms))
    if not (temp / layout.FOLD).exists():  # an update keeps the table of the build (linked)
        fileio.write_json(temp / layout.FOLD, folding.fold_table_record())
    if not (temp / layout.EMISSIONS).exists():  # (linked too)
        fileio.write_bytes(temp / layout.EMISSIONS, lexicon.emissions_copy())
    meta["files"] = generations.file_sizes(temp)
    fileio.write_json(temp / layout.META, meta)
    generations.commit_generation(index_dir, temp, final)
    counts = counts or {"added": posts}
    return BuildReport(index_dir=index_dir, rebuilt=rebuilt, indexed=posts, drafts=drafts,
                       skipped=tuple(sorted(skipped)), degraded=tuple(sorted(degraded)),
                       seconds=time.monotonic() - started, reason=reason, **counts)


def _write_documents(gen: Path, added: dict[str, list[Any]] | None = None) -> None:
    """DOCUMENTS for the Whoosh index committed in `gen`, once its tables and changes are written; from the
    previous commit's (linked in `gen`) and the posts an update `added`, where that holds
    (path_tables.write_documents)."""
    with index_segments(gen) as found:
        path_tables.write_documents(gen, found, added)
