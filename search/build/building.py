"""`build_index`: a complete new generation of the index, beside the live one, swapped in atomically."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import cast

from ..config import Config
from ..posts.corpus import find_post_names
from ..segments import schema, writing
from ..store import fileio, generations, layout, path_tables
from ..text import lexicon
from ..text.tokenizer import new_tokenizer
from .generation import (
    BuildReport,
    Chunk,
    ProgressCallback,
    SpooledTable,
    finish_generation,
    index_files,
    writer_arguments,
)
from .workers import claimed, run_workers, worker_count


def build_index(corpus: Path | str | None, index_dir: Path | str, *, include_drafts: bool | None = None,
                workers: int | None = None, progress: ProgressCallback | None = None,
                wait: float = 5.0, config: Config | None = None) -> BuildReport:
    """Build a complete new index of `corpus` beside the live one and swap it in atomically (it replaces an index
    of another corpus). `corpus` None: the corpus the index records; `include_drafts` None: as the index was built
    (no drafts for a new one)."""
    corpus, index_dir, config = writer_arguments(corpus, index_dir, config)
    if include_drafts is None:
        include_drafts = generations.drafts_of(index_dir)
    with generations.write_lock(index_dir, wait), generations.removing_unfinished(index_dir):
        return build_locked(corpus, index_dir, include_drafts, workers, progress, config, "")


def build_locked(corpus: Path, index_dir: Path, include_drafts: bool, workers: int | None,
                  progress: ProgressCallback | None, config: Config, reason: str) -> BuildReport:
    started = time.monotonic()
    root = corpus.resolve()
    generations.remove_stale(index_dir)
    stats: dict[str, os.stat_result] = {}
    names, walk_skipped = find_post_names(root, stats)
    total = len(names)
    count = min(worker_count(names, workers), max(total, 1))
    if count > 1:  # the largest posts first, so that the processes end together
        names.sort(key=lambda name: stats[name].st_size, reverse=True)
    temp, final = generations.new_generation_dir(index_dir)
    ix = writing.create_index(temp)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    results: list[Chunk] = []
    if count == 1:
        tokenizer = new_tokenizer(config.user_dict)
        lexicon.write_lexicon(tokenizer, temp / layout.LEXICON)
        writer = writing.SegmentsInTurn(ix, temp)
        chunk = index_files(claimed(names, root, None), root, temp, "text-0.bin", include_drafts,
                             lambda post: schema.document_fields(post, tokenizer, config.pinyin), writer, tick,
                             spooled=True)
        chunk.segments = writer.close()
        results.append(chunk)
    else:
        results = run_workers(names, count, root, temp, include_drafts, config, tick)

    written = [segment for c in results for segment in c.segments]
    build_segments = writing.write_toc(ix, written)
    posts = _write_spooled_tables(temp, results)
    return finish_generation(index_dir, root, temp, final, results, walk_skipped, include_drafts, config,
                              rebuilt=True, started=started, reason=reason, json_files={}, posts=posts,
                              build_segments=build_segments)


def _write_spooled_tables(temp: Path, results: list[Chunk]) -> int:
    """Write a build's tables (layout.TABLES) from its processes' spooled rows, and remove the rows; the number
    of posts indexed.

    POSTS and MANIFEST are written line by line, never whole in memory; RANGES is written as columns in store order,
    so it is read whole.
    """
    spooled: dict[str, list[SpooledTable]] = {name: [] for name in layout.TABLES}
    for chunk in results:
        for name, table in zip(layout.TABLES, (chunk.ranges, chunk.posts, chunk.manifest)):
            spooled[name].append(cast(SpooledTable, table))
    for name, tables in spooled.items():
        lines = (line for table in tables for line in table.lines())
        if name == layout.RANGES:
            path_tables.write_table(temp, name, json.loads("{" + ",".join(lines) + "}"))
        else:
            fileio.write_json_lines(temp / name, lines)
    for table in (table for tables in spooled.values() for table in tables):
        table.path.unlink()
    return sum(len(table) for table in spooled[layout.RANGES])
