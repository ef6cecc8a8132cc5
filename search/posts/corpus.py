"""Finding the posts of a corpus: `find_posts`, `find_post_names`, and `find_site` for a Hexo or Jekyll site's root.

Apart from post.py so that an update that finds nothing changed doesn't import what reading a post needs (PyYAML,
markdown-it, four dozen regular expressions): for a large corpus the walk is most of such an update.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import PostError

POST_SUFFIXES = (".md", ".markdown", ".html")


def find_posts(root: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Every post file under `root` sorted by relative path, and the skipped ones as (relative path, reason).

    Hidden entries (`.git`, editor lock files) and `node_modules` are skipped silently, as are other suffixes.
    """
    root = Path(root)
    found, skipped = find_post_names(root)
    return [root.joinpath(*rel.split("/")) for rel in found], skipped


def find_post_names(root: Path, stats: dict[str, os.stat_result] | None = None,
                    found_in_directory: Callable[[list[str]], None] | None = None
                    ) -> tuple[list[str], list[tuple[str, str]]]:
    """`find_posts` with each post as its path relative to `root` ("/" separators): what an update compares with
    its manifest, without making a Path of each file. Given `stats`, each post's stat goes in it; given
    `found_in_directory`, it is called with each directory's posts (sorted) as soon as they are found."""
    root = Path(root)
    try:
        real_root = root.resolve(strict=True)
    except (OSError, RuntimeError) as e:
        raise PostError(f"{root}: cannot open the corpus root: {reason(e)}") from e
    if not real_root.is_dir():
        raise PostError(f"{root}: the corpus root is not a directory")
    found: list[str] = []
    skipped: list[tuple[str, str]] = []
    visited = {real_root}  # real paths of directories entered: symlink loops end here
    stack = [(str(root), "", real_root)]
    site = find_site(root)
    if site is not None:
        # only the site's post folders are walked; what is left out is named in the report
        skipped += [(name, f"{site.kind} site: {why}; not read") for name, why in site.left_out]
        stack = []
        for folder in reversed(site.post_folders):
            real = root.joinpath(*folder.split("/")).resolve()
            if real.is_relative_to(real_root) and real not in visited:
                visited.add(real)
                stack.append((os.path.join(root, *folder.split("/")), folder, real))
            else:
                skipped.append((folder, "symlink points outside the corpus root or to a folder read already"))
    while stack:
        directory, rel_dir, real_dir = stack.pop()
        try:
            entries, fd = _list_directory(directory)
        except OSError as e:
            skipped.append((rel_dir or ".", f"cannot list directory: {reason(e)}"))
            continue
        before = len(found)
        try:
            _walk_entries(directory, rel_dir, real_dir, real_root, entries, visited, stack, found, skipped, stats)
        finally:
            if fd is not None:
                os.close(fd)
        if found_in_directory is not None and len(found) > before:
            found_in_directory(sorted(found[before:]))
    found.sort()
    skipped.sort()
    return found, skipped


@dataclass(frozen=True)
class Site:
    """A Hexo or Jekyll site's root: the folders its posts are in, and what else it holds that is not read."""

    kind: str                                   # "Hexo" or "Jekyll"
    post_folders: tuple[str, ...]               # relative to the root, "/" separators; drafts folders among them
    left_out: tuple[tuple[str, str], ...]       # (top-level entry, what it is)


# What a site's other top-level folders are, for the report.
_LEFT_OUT = {"public": "generated output", "_site": "generated output", "themes": "themes", "_layouts": "templates",
             "_includes": "templates", "scaffolds": "post templates", "node_modules": "dependencies",
             "vendor": "dependencies", "_sass": "style sheets", "_data": "data files", "_plugins": "plugins"}
# Jekyll's own folders: every other top-level `_name` folder is a collection, read for its posts.
_JEKYLL_FOLDERS = frozenset(("_site", "_layouts", "_includes", "_sass", "_data", "_plugins"))


def find_site(root: Path) -> Site | None:
    """The Hexo site (`_config.yml` beside `source/_posts/`) or Jekyll site (`_config.yml` beside `_posts/`) whose
    root `root` is, else None (a plain folder of posts, read whole).

    Hexo's posts are in `source/_posts/`; Jekyll's in `_posts/`, its collections' `_name/` folders and a
    category folder's `_posts/`. Drafts folders (`_drafts/`) are read too: their posts are drafts (see
    `parse_post`), indexed only with drafts. Generated output, themes, templates and dependencies are never read.
    """
    root = Path(root)
    if not (root / "_config.yml").is_file():
        return None
    if (root / "source" / "_posts").is_dir():
        kind = "Hexo"
        folders = [f"source/{name}" for name in ("_posts", "_drafts") if (root / "source" / name).is_dir()]
    elif (root / "_posts").is_dir():
        kind = "Jekyll"
        folders = []
        for entry in sorted(_top_level(root)):
            if not (root / entry).is_dir() or entry in _JEKYLL_FOLDERS or entry in _LEFT_OUT or not _is_unicode(entry):
                continue
            if entry.startswith("_"):
                folders.append(entry)
            else:
                folders += [f"{entry}/{name}" for name in ("_posts", "_drafts") if (root / entry / name).is_dir()]
    else:
        return None
    walked = {folder.split("/")[0] for folder in folders if kind == "Jekyll"}
    left_out = []
    for entry in sorted(_top_level(root)):
        is_dir = (root / entry).is_dir()
        if entry in walked or not (is_dir or entry.lower().endswith(POST_SUFFIXES)):
            continue
        if entry == "source":
            what = "pages and files other than source/_posts/ and source/_drafts/"
        else:
            what = _LEFT_OUT.get(entry) or ("not a post folder" if is_dir else "a page, not a post")
        shown = entry if _is_unicode(entry) else os.fsencode(entry).decode("ascii", "backslashreplace")
        left_out.append((shown + "/" if is_dir else shown, what))
    return Site(kind, tuple(folders), tuple(left_out))


def _top_level(root: Path) -> list[str]:
    try:
        return [name for name in os.listdir(root) if not name.startswith(".")]
    except OSError:
        return []


# Listed through a file descriptor, a directory's entries are stat'ed relative to it (fstatat), without looking up
# every component of each full path again.
_LIST_BY_FD = os.scandir in os.supports_fd and os.stat in os.supports_dir_fd


def _list_directory(directory: str) -> tuple[list[os.DirEntry], int | None]:
    """The entries of `directory` (only the directories need an order: posts are sorted at the end), and the file
    descriptor their stat() uses if any (the caller closes it)."""
    if not _LIST_BY_FD:
        with os.scandir(directory) as it:
            return list(it), None
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        with os.scandir(fd) as it:
            return list(it), fd
    except BaseException:
        os.close(fd)
        raise


def _walk_entries(directory: str, rel_dir: str, real_dir: Path, real_root: Path, entries: list[os.DirEntry],
                  visited: set[Path], stack: list[tuple[str, str, Path]], found: list[str],
                  skipped: list[tuple[str, str]], stats: dict[str, os.stat_result] | None) -> None:
    """find_post_names for one directory's `entries`: its posts into `found`, its subdirectories onto `stack`."""
    subdirs = []
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        rel = f"{rel_dir}/{name}" if rel_dir else name
        is_post_name = name.lower().endswith(POST_SUFFIXES)
        if not name.isascii() and not _is_unicode(name):
            if is_post_name or entry.is_dir():
                skipped.append(_undecodable(rel))
            continue
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir()  # follows symlinks
            real = Path(directory, name).resolve(strict=True) if is_link else None
        except (OSError, RuntimeError):  # RuntimeError: symlink loop on Python < 3.13
            if is_post_name or "." not in name:
                skipped.append((rel, "broken symlink or symlink loop"))
            continue
        if not is_dir and not is_post_name:
            continue
        if is_dir and name == "node_modules":
            continue
        if real is not None and not real.is_relative_to(real_root):
            skipped.append((rel, f"symlink points outside the corpus root ({real}); not followed"))
            continue
        if is_dir:
            real = real or real_dir / name
            if real in visited:
                skipped.append((rel, "directory already visited through another path (symlink loop?)"))
            else:
                visited.add(real)
                subdirs.append((os.path.join(directory, name), rel, real))
        elif not entry.is_file():  # opening a FIFO would block the build forever, holding the write lock
            skipped.append((rel, "not a regular file (a directory, FIFO, socket or device); not read"))
        else:
            try:
                st = entry.stat()
            except OSError as e:
                skipped.append((rel, f"cannot read: {reason(e)}"))
                continue
            # (_readable's first test inline: it holds for the usual post, and this loop runs for every file)
            if (st.st_uid != _UID or not st.st_mode & stat.S_IRUSR) and not _readable(directory, name, st):
                skipped.append((rel, "permission denied"))
                continue
            found.append(rel)
            if stats is not None:
                stats[rel] = st
    subdirs.sort(key=lambda subdir: subdir[1])
    stack.extend(reversed(subdirs))  # depth-first in name order, so the first path to a directory wins


def _is_unicode(name: str) -> bool:
    """False for a name with bytes that are not UTF-8 (Python holds them as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _undecodable(rel: str) -> tuple[str, str]:
    """A skipped entry for a name that is not UTF-8: its bytes escaped (`\\xb2\\xe2`), and what they read as in
    GB18030 (Windows archives), so that the user can find and rename it: a post can't be stored under it."""
    rel_dir, _, name = rel.rpartition("/")
    raw = os.fsencode(name)
    shown = raw.decode("ascii", "backslashreplace")
    try:
        hint = f" (as GB18030: {raw.decode('gb18030')})"
    except UnicodeDecodeError:
        hint = ""
    reason = f"name is not UTF-8{hint}; not read: rename it to UTF-8 to index it"
    return f"{rel_dir}/{shown}" if rel_dir else shown, reason


def _readable(directory: str, name: str, st: os.stat_result) -> bool:
    # A file its user owns with the owner's read bit set is readable (an ACL can't take that away): no system call
    # for the usual post. os.access, which knows ACLs and root, decides the rest.
    if st.st_uid == _UID and st.st_mode & stat.S_IRUSR:
        return True
    return os.access(os.path.join(directory, name), os.R_OK)


_UID = os.getuid() if hasattr(os, "getuid") else -1


def reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
