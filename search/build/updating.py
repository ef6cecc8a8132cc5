"""`update_index`: bring the index up to date with the corpus, applying only what changed.

It compares the corpus with the live generation's manifest (size and mtime, confirmed by a content hash) and
writes a new generation that shares the unchanged files (hard links: Whoosh never rewrites a segment file) and adds
or deletes only what changed. Falls back to a build when there is no compatible index.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..config import Config, file_digest, read_synonyms
from ..errors import CorpusMismatch, IndexCorrupt, IndexNotFound, RebuildNeeded
from ..posts.corpus import find_post_names
from ..segments import schema, writing
from ..segments.access import live_documents_of_paths
from ..store import fileio, generations, layout, path_tables, text_ranges
from ..store.generations import check_compatible
from ..store.pairs import PAIRS_SUFFIX
from ..store.verbatim import TextStore
from ..text import folding, lexicon
from ..text.tokenizer import import_jieba
from .building import build_locked
from .generation import BuildReport, ProgressCallback, fingerprint, finish_generation, index_files, writer_arguments

if TYPE_CHECKING:
    from ..posts.post import Post

# Each update writes the text of the posts it reads to a store file of its own. Once STORE_MERGE_AT of those hold
# live posts, the update moves the live posts of the STORE_MERGE_COUNT smallest into its own file (as LSM trees
# merge their smallest runs): a query opens every store file holding live posts, and an hourly update would
# otherwise add 8,760 of them a year. Files left without live posts are not carried into the next generation.
UPDATE_STORE_PREFIX = "text-gen-"
STORE_MERGE_AT = 16
STORE_MERGE_COUNT = 8


def _update_fields(lex: lexicon.Lexicon, pinyin: bool) -> Callable[[Post], tuple[dict[str, Any], dict[str, str]]]:
    """schema.document_fields for a few changed posts: jieba loaded with just the dictionary entries each post's
    text needs."""
    def fields_for(post: Post) -> tuple[dict[str, Any], dict[str, str]]:
        texts = schema.field_texts(post)
        return schema.document_fields(post, lex.tokenizer_for(folding.fold("\n".join(texts.values()))), pinyin)

    return fields_for


def update_index(corpus: Path | str | None, index_dir: Path | str, *, include_drafts: bool | None = None,
                 workers: int | None = None, progress: ProgressCallback | None = None,
                 wait: float = 5.0, config: Config | None = None) -> BuildReport:
    """Bring the index up to date with `corpus`, applying only what changed since the last build.

    `corpus` None: the corpus the index records; `include_drafts` None: as the index was built (no drafts for a
    new one). CorpusMismatch when the index holds another corpus (build_index replaces it)."""
    corpus, index_dir, config = writer_arguments(corpus, index_dir, config)
    if include_drafts is None:
        include_drafts = generations.drafts_of(index_dir)
    root = corpus.resolve()
    with generations.write_lock(index_dir, wait), generations.removing_unfinished(index_dir):
        rebuild_reason = None
        try:
            gen = generations.current_generation(index_dir)
            meta = fileio.read_json(gen / layout.META)
            _check_corpus(meta, corpus, index_dir)
            check_compatible(meta)
            generations.check_files(gen, meta)
            changes = path_tables.read_changes(gen)
            manifest = path_tables.read_table(gen, layout.MANIFEST, changes)
            rebuild_reason = _rebuild_reason(meta, corpus, include_drafts, config) or None
        except IndexNotFound:
            rebuild_reason = ""
        except (IndexCorrupt, RebuildNeeded) as e:
            rebuild_reason = str(e)
        if rebuild_reason is not None:
            return build_locked(corpus, index_dir, include_drafts, workers, progress, config, rebuild_reason)
        return _update_locked(root, index_dir, gen, meta, manifest, changes, include_drafts, config, progress)


def _read_optional(path: Path) -> Any:
    return fileio.read_json(path) if path.exists() else []


def _check_corpus(meta: dict[str, Any], corpus: Path, index_dir: Path) -> None:
    recorded = meta.get("corpus")
    if recorded and recorded != str(corpus.resolve()):
        raise CorpusMismatch(f"the index at {index_dir} holds the corpus {recorded}, not {corpus}; "
                             f"`zhsearch index --index {index_dir}` updates it, "
                             f"`zhsearch index {corpus} --index {index_dir} --rebuild` replaces it")


def _rebuild_reason(meta: dict[str, Any], corpus: Path, include_drafts: bool, config: Config) -> str:
    if meta["settings"].get("include_drafts") != include_drafts:
        return "drafts are now " + ("included" if include_drafts else "excluded")
    jieba = import_jieba()
    if meta["settings"].get("jieba") != getattr(jieba, "__version__", "unknown"):
        return "jieba's version changed"
    if meta["settings"].get("user_dict_sha1") != file_digest(config.user_dict):
        return "the user dictionary changed (every post is segmented again)"
    if bool(meta["settings"].get("pinyin")) != config.pinyin:
        return "pinyin indexing is now " + ("on" if config.pinyin else "off")
    return ""


def _drafts(files: int, posts: int, include_drafts: bool) -> int:
    """The drafts left out of the whole corpus, as a build counts them: the manifest holds every post file read,
    the index every post but the drafts."""
    return 0 if include_drafts else max(files - posts, 0)


def _store_files_to_move(gen: Path, changes: dict[str, dict[str, Any]], leaving: set[str]
                         ) -> tuple[TextStore, list[str], set[str]]:
    """(the generation's text store; the posts an update moves to its own store file, see STORE_MERGE_AT; the
    store files the next generation does without: no live post left, or all moved)."""
    columns, range_changes = text_ranges.read_ranges(gen, changes)
    store = TextStore.from_columns(gen, columns, range_changes)
    live: dict[str, tuple[list[str], int]] = {}  # file → (its posts still live after this update, their bytes)
    for name, (keys, size) in store.live_files().items():
        staying = [key for key in keys if key not in leaving]
        if staying:
            live[name] = (staying, size)  # (the bytes of a few leaving posts counted too: only an order)
    updates = sorted((size, name) for name, (_, size) in live.items() if name.startswith(UPDATE_STORE_PREFIX))
    merged = [name for _, name in updates[:STORE_MERGE_COUNT]] if len(updates) >= STORE_MERGE_AT else []
    every = {child.name for child in gen.iterdir() if child.name.startswith("text-") and child.name.endswith(".bin")}
    return store, [key for name in merged for key in live[name][0]], (every - live.keys()) | set(merged)


def _update_locked(root: Path, index_dir: Path, gen: Path, meta: dict[str, Any], manifest: dict[str, Any],
                   changes: dict[str, dict[str, Any]], include_drafts: bool, config: Config,
                   progress: ProgressCallback | None) -> BuildReport:
    started = time.monotonic()
    generations.remove_stale(index_dir)
    # Relative names and os.stat on strings: a Path per file was most of a no-op update's time.
    stats: dict[str, os.stat_result] = {}
    prefix = os.path.join(str(root), "")
    to_read: list[Path] = []
    changed_paths: list[str] = []
    unchanged = 0
    refreshed: dict[str, Any] = {}

    def compare(names: list[str]) -> None:
        nonlocal unchanged
        for rel in names:
            old = manifest.get(rel)
            if old is not None:
                st = stats[rel]
                if st.st_size == old[0] and st.st_mtime_ns == old[1]:
                    unchanged += 1
                    continue
                touched = fingerprint(Path(prefix + rel))
                if touched[2] == old[2]:  # touched, same content
                    refreshed[rel] = touched
                    unchanged += 1
                    continue
                changed_paths.append(rel)
            to_read.append(root.joinpath(*rel.split("/")))

    names, walk_skipped = find_post_names(root, stats, compare)
    current = set(names)
    gone = [rel for rel in manifest if rel not in current]
    # Synonyms are applied at query time: a changed file needs a new generation, not new segments.
    synonyms_changed = (read_synonyms(config.synonyms) != _read_optional(gen / layout.SYNONYMS)
                        or meta["settings"].get("synonyms") != (str(config.synonyms) if config.synonyms else None))
    if not to_read and not gone and not synonyms_changed:
        if refreshed:
            changes.setdefault(layout.MANIFEST, {}).update(refreshed)
            fileio.write_json(gen / layout.CHANGES, changes)
        return BuildReport(index_dir=index_dir, rebuilt=False, indexed=meta["posts"], unchanged=unchanged,
                           drafts=_drafts(len(manifest), meta["posts"], include_drafts),
                           skipped=tuple(sorted(walk_skipped)), seconds=time.monotonic() - started)
    generations.adopt_fold_table(gen)
    temp, final = generations.new_generation_dir(index_dir)
    old_store, to_move, dead_files = _store_files_to_move(gen, changes, set(gone) | set(changed_paths))
    # The tables are linked as they are: this update's changes go to CHANGES (path_tables.read_table).
    for child in gen.iterdir():
        if (child.is_file() and child.name not in (layout.META, layout.CHANGES, layout.SYNONYMS)
                and child.name.removesuffix(PAIRS_SUFFIX) not in dead_files):
            os.link(child, temp / child.name)
    new_changes = {name: dict(changes.get(name, {})) for name in layout.TABLES}
    ix = writing.open_index(temp)
    deleting = live_documents_of_paths(gone + changed_paths, temp)
    writer, merge_policy = writing.update_writer(ix, meta.get(layout.BUILD_SEGMENTS), deleting)
    removed_posts = len(deleting)
    for rel in gone + changed_paths:
        for table in new_changes.values():
            table[rel] = None
    lex = lexicon.Lexicon(temp / layout.LEXICON)
    lexicon.offer_emissions(temp / layout.EMISSIONS)  # jieba's HMM without importing its table
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(to_read))

    store_name = f"text-{final.name}.bin"
    moved = ((rel, old_store.stored(rel)) for rel in to_move)
    chunk = index_files(to_read, root, temp, store_name, include_drafts, _update_fields(lex, config.pinyin),
                         writer, tick, moved)
    writing.commit(writer, merge_policy)
    # An update's tables are held in memory (only a build's are spooled to files).
    ranges = cast("dict[str, list[Any]]", chunk.ranges)
    chunk_manifest = cast("dict[str, list[Any]]", chunk.manifest)
    added_hashes = {chunk_manifest[rel][2] for rel in ranges if rel not in changed_paths}
    # A deleted post whose content reappears under a new path was renamed (counted once, not as add + delete).
    renamed = sum(1 for rel in gone if manifest[rel][2] in added_hashes)
    new_changes[layout.RANGES].update(chunk.moved)
    new_changes[layout.RANGES].update(ranges)
    new_changes[layout.POSTS].update(cast("dict[str, dict[str, Any]]", chunk.posts))
    new_changes[layout.MANIFEST].update(refreshed)
    new_changes[layout.MANIFEST].update(chunk_manifest)
    posts = meta["posts"] - removed_posts + len(ranges)
    added = len([r for r in ranges if r not in changed_paths])
    counts = {"added": added - renamed, "changed": len([r for r in changed_paths if r in ranges]),
              "deleted": len(gone) - renamed, "renamed": renamed, "unchanged": unchanged}
    json_files: dict[str, Any]
    if len(new_changes[layout.MANIFEST]) > max(layout.COMPACT_MIN, posts * layout.COMPACT_SHARE):
        # write_json replaces the links to `gen`'s tables; it never writes through them.
        json_files = {name: path_tables.read_table(gen, name, new_changes) for name in layout.TABLES}
    else:
        json_files = {layout.CHANGES: new_changes}
    return finish_generation(index_dir, root, temp, final, [chunk], walk_skipped, include_drafts, config,
                              rebuilt=False, started=started, reason="", json_files=json_files, posts=posts,
                              drafts=_drafts(len(manifest) - len(gone) - len(changed_paths) + len(chunk_manifest),
                                             posts, include_drafts),
                              built=meta["built"], counts=counts, added=None if chunk.moved else dict(ranges),
                              build_segments=meta.get(layout.BUILD_SEGMENTS))
