"""verbatim.py: the text store's pair index (the `.pairs` sidecar) finds exactly what a full scan (grep) finds."""

from __future__ import annotations

import errno
import os
import random
from pathlib import Path

import pytest

import search
from search.store import fileio, generations, layout, pairs as pairs_module, path_tables, text_ranges, verbatim
from search.store.pairs import PAIRS_SUFFIX
from search.store.verbatim import FIELD_ORDER, TextStore, TextStoreWriter

# Texts with what the prefilter must get right: CJK, Latin, digits, mixed, traditional forms, emoji (two UTF-16
# units), kana, fullwidth leftovers, punctuation, one-character posts and empty fields.
SAMPLES = [
    "大家都内推，内推还有什么意义？内推最有价值的是人脉背书。",
    "经营人脉需要时间。另一件事：老师让我们背书，背了一整个下午。",
    "javascript 的 react hooks 与 python 3.12 的 asyncio；node.js 和 c++ 的性能对比",
    "数据库索引：b+ 树、lsm 树，mysql 与 postgresql 的 explain analyze",
    "表情 😀🎉 和 𠮷野家（扩展 b 区汉字），カタカナ、ひらがな",
    "臺灣 台湾 5g ２０２４年 file.txt",
    "的",
    "a",
    "",
    "前端性能优化：缓存一致性、首屏时间、懒加载",
    "噪\uffff声 内\uffff",  # U+FFFF, whose pairs share codes with single units
]


def _posts(rng: random.Random, count: int) -> list[dict[str, str]]:
    """Posts whose fields are random cuts and joins of SAMPLES."""
    posts = []
    for _ in range(count):
        fields = {}
        for name in FIELD_ORDER:
            text = "".join(rng.choice(SAMPLES) for _ in range(rng.randint(0, 3 if name == "body" else 1)))
            if text and rng.random() < 0.5:
                at = rng.randrange(len(text))
                text = text[at:at + rng.randint(1, 40)]
            fields[name] = text
        posts.append(fields)
    return posts


def _write(path: Path, posts: list[dict[str, str]], keys: list[str]) -> dict[str, tuple[str, int, int]]:
    ranges = {}
    with TextStoreWriter(path) as writer:
        for key, fields in zip(keys, posts):
            start, end = writer.add(fields)
            ranges[key] = (path.name, start, end)
    return ranges


def _grep(posts: dict[str, dict[str, str]], needle: str, fields: tuple[str, ...] | None) -> set[str]:
    return {key for key, post in posts.items() if any(needle in post[f] for f in (fields or FIELD_ORDER))}


def _needles(rng: random.Random, posts: list[dict[str, str]], count: int) -> list[str]:
    needles = ["的", "a", "😀", "𠮷", "内\uffff", "噪\uffff", "\uffff", "内推", "人脉背书", "javascript", "c++", "5g",
               "不存在的文字", "zzzz"]
    texts = [t for post in posts for t in post.values() if t]
    while len(needles) < count:
        text = rng.choice(texts)
        size = rng.choice([1, 1, 2, 2, 3, 4, 7])
        at = rng.randrange(max(1, len(text) - size + 1))
        needles.append(text[at:at + size])
    return [n for n in needles if n]


FIELD_CHOICES = [None, ("title",), ("body",), ("tag", "category"), ("author",)]


def _check_equal(store: TextStore, live: dict[str, dict[str, str]], needles: list[str]) -> None:
    full = TextStore.__new__(TextStore)
    full.__dict__.update(store.__dict__)
    full._files = {name: verbatim._StoreFile(f.path, f.starts, f.ends, f.keys) for name, f in store._files.items()}
    for f in full._files.values():
        f._pairs = None  # no sidecar: the full scan
    for needle in needles:
        for fields in FIELD_CHOICES:
            expected = _grep(live, needle, fields)
            assert store.find(needle, fields) == expected, (needle, fields)
            assert full.find(needle, fields) == expected, (needle, fields)


@pytest.mark.parametrize(("count", "wide", "narrow"),
                         [(150, False, 1 << 16), (7, False, 1 << 16), (1, False, 1 << 16), (150, True, 1 << 16),
                          (7, True, 1 << 16), (150, False, 20)])
def test_indexed_find_equals_grep(tmp_path, monkeypatch, count, wide, narrow):
    """Random substrings (one character, multi-byte, Latin, mixed, emoji), all fields or some: the pair index's
    posts (scanned for longer texts) are exactly grep's answer. Few posts: every code's posts as a bitmap; wide:
    the 64-bit table of a file with more than 4 GB of postings; narrow: a file of more posts than uint16 lists."""
    monkeypatch.setattr(pairs_module, "NARROW_LIMIT", narrow)
    if wide:
        monkeypatch.setattr(pairs_module, "WIDE_AT", 0)
    rng = random.Random(20251126 + count)
    posts = _posts(rng, count)
    keys = [f"p{i}" for i in range(len(posts))]
    ranges = _write(tmp_path / "text-0.bin", posts, keys)
    assert (tmp_path / ("text-0.bin" + PAIRS_SUFFIX)).exists()
    store = TextStore(tmp_path, ranges)
    _check_equal(store, dict(zip(keys, posts)), _needles(rng, posts, 150))


def test_index_skips_dead_posts_and_reads_several_files(tmp_path):
    """After an update some posts of a file are no longer live (deleted, or replaced by a post in a newer file)."""
    rng = random.Random(7)
    old, new = _posts(rng, 60), _posts(rng, 20)
    old_keys = [f"p{i}" for i in range(len(old))]
    ranges = _write(tmp_path / "text-0.bin", old, old_keys)
    new_keys = [f"p{i}" for i in range(0, 40, 2)]  # every other old post replaced
    ranges.update(_write(tmp_path / "text-gen-000002.bin", new, new_keys))
    live = dict(zip(old_keys, old))
    live.update(zip(new_keys, new))
    for key in old_keys[40:50]:  # deleted
        del ranges[key], live[key]
    store = TextStore(tmp_path, ranges)
    _check_equal(store, live, _needles(rng, old + new, 120))


def test_a_post_is_looked_up_by_key_in_its_file(tmp_path):
    # A query's keys are document numbers, ascending in each of a build's files (found by bisection); a writer's
    # are paths, in no order (found through a dict). Each key gives its own post's fields; a key no file has, none.
    rng = random.Random(11)
    old, new = _posts(rng, 40), _posts(rng, 10)
    for keys, new_keys in (([n * 3 for n in range(40)], [7, 1, 200, 50, 4, 301, 2, 31, 8, 11]),
                           ([f"p{i}" for i in rng.sample(range(40), 40)], [f"q{i}" for i in range(10)])):
        for stale in tmp_path.glob("text-*"):
            stale.unlink()
        ranges = _write(tmp_path / "text-0.bin", old, keys)
        ranges.update(_write(tmp_path / "text-gen-000002.bin", new, new_keys))
        store = TextStore(tmp_path, ranges)
        for key, post in [*zip(keys, old), *zip(new_keys, new)]:
            assert store.fields_of(key) == post
        missing = 5 if isinstance(keys[0], int) else "p99"
        with pytest.raises(KeyError):
            store.fields_of(missing)


def test_sidecar_of_another_version_is_damage(tmp_path):
    """A sidecar this version did not write is never read: the index is to be rebuilt."""
    rng = random.Random(11)
    posts = _posts(rng, 20)
    ranges = _write(tmp_path / "text-0.bin", posts, [f"p{i}" for i in range(len(posts))])
    sidecar = tmp_path / ("text-0.bin" + PAIRS_SUFFIX)
    sidecar.write_bytes(b"ZHPAIRS0" + sidecar.read_bytes()[8:])
    store = TextStore(tmp_path, ranges)
    with pytest.raises(search.IndexCorrupt, match="zhsearch index --rebuild"):
        store._files["text-0.bin"].pairs()


def test_short_texts_are_answered_without_reading_posts(tmp_path, monkeypatch):
    """One character or two: the pair index's posts are the answer (the posts are not read); three: the posts
    holding both pairs are read, and only those holding the text are found."""
    posts = [{name: "" for name in FIELD_ORDER} for _ in range(4)]
    posts[0]["body"] = "大家都内推"
    posts[1]["title"] = "推内"
    posts[2]["body"] = "内推二维码"
    posts[3]["body"] = "推二 内推"
    ranges = _write(tmp_path / "text-0.bin", posts, ["a", "b", "c", "d"])
    store = TextStore(tmp_path, ranges)
    pairs = store._files["text-0.bin"].pairs()
    assert pairs.candidates("内推") == [0, 2, 3]
    assert pairs.candidates("内推二") == [2, 3]
    read: list[list[int]] = []
    scan = TextStore._find_among
    monkeypatch.setattr(TextStore, "_find_among", staticmethod(lambda s, c, *rest: (read.append(c), scan(s, c, *rest))))
    assert store.find("内推") == {"a", "c", "d"}
    assert store.find("推") == {"a", "b", "c", "d"}
    assert read == []
    assert store.find("内推二") == {"c"}
    assert read == [[2, 3]]


def test_store_without_sidecar_is_scanned(tmp_path):
    """A store file written before sidecars existed has none: find scans it in full."""
    rng = random.Random(3)
    posts = _posts(rng, 40)
    keys = [f"p{i}" for i in range(len(posts))]
    ranges = _write(tmp_path / "text-0.bin", posts, keys)
    (tmp_path / ("text-0.bin" + PAIRS_SUFFIX)).unlink()
    store = TextStore(tmp_path, ranges)
    _check_equal(store, dict(zip(keys, posts)), _needles(rng, posts, 60))
    assert store._files["text-0.bin"].pairs() is None


@pytest.mark.parametrize("sidecar", [True, False])
def test_find_leaves_out_skipped_posts(tmp_path, sidecar):
    """`skip` names posts the caller knows to match: they are neither read nor returned, the rest as grep."""
    rng = random.Random(5)
    posts = _posts(rng, 60)
    keys = [f"p{i}" for i in range(len(posts))]
    ranges = _write(tmp_path / "text-0.bin", posts, keys)
    if not sidecar:
        (tmp_path / ("text-0.bin" + PAIRS_SUFFIX)).unlink()
    store = TextStore(tmp_path, ranges)
    live = dict(zip(keys, posts))
    for needle in _needles(rng, posts, 40):
        expected = _grep(live, needle, None)
        skip = set(rng.sample(sorted(expected), len(expected) // 2)) | {"p0"}
        assert store.find(needle, None, skip) == expected - skip, needle


def test_store_appended_to_has_no_sidecar(tmp_path):
    """A sidecar covers a whole store file: a writer that appends to one removes it instead."""
    rng = random.Random(4)
    first, second = _posts(rng, 10), _posts(rng, 10)
    ranges = _write(tmp_path / "text-0.bin", first, [f"a{i}" for i in range(10)])
    ranges.update(_write(tmp_path / "text-0.bin", second, [f"b{i}" for i in range(10)]))
    assert not (tmp_path / ("text-0.bin" + PAIRS_SUFFIX)).exists()
    live = dict(zip([f"a{i}" for i in range(10)], first)) | dict(zip([f"b{i}" for i in range(10)], second))
    _check_equal(TextStore(tmp_path, ranges), live, _needles(rng, first + second, 40))


def _truncate(path: Path) -> None:
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - 3)


def _garbage_header(path: Path) -> None:
    with open(path, "r+b") as f:
        f.write(b"not a sidecar")


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _other_starts(path: Path) -> None:
    # The starts table (at the end) no longer names the live posts: the sidecar is not this file's.
    data = bytearray(path.read_bytes())
    data[-8:] = (10 ** 9).to_bytes(8, "little")
    path.write_bytes(bytes(data))


SIDECAR_DAMAGE = [_truncate, _garbage_header, _empty, _other_starts]


@pytest.mark.parametrize("damage", SIDECAR_DAMAGE, ids=[d.__name__.lstrip("_") for d in SIDECAR_DAMAGE])
def test_damaged_sidecar_is_index_corrupt(tmp_path, damage):
    rng = random.Random(5)
    posts = _posts(rng, 30)
    ranges = _write(tmp_path / "text-0.bin", posts, [f"p{i}" for i in range(len(posts))])
    damage(tmp_path / ("text-0.bin" + PAIRS_SUFFIX))
    store = TextStore(tmp_path, ranges)
    with pytest.raises(search.IndexCorrupt):
        store.find("的")


def test_index_has_a_sidecar_per_store_with_its_size_recorded(index_dir):
    gen = generations.current_generation(index_dir)
    stores = sorted(gen.glob("text-*.bin"))
    assert stores
    files = fileio.read_json(gen / layout.META)["files"]
    for store in stores:
        assert store.name + PAIRS_SUFFIX in files


def test_truncated_sidecar_in_index_is_index_corrupt(copy_index):
    for sidecar in generations.current_generation(copy_index).glob("text-*.bin" + PAIRS_SUFFIX):
        _truncate(sidecar)
    with pytest.raises(search.IndexCorrupt), search.open_index(copy_index) as ix:
        ix.search('"人脉背书"')


def test_index_without_sidecars_still_searched(copy_index):
    """An index written before sidecars (none on disk, none in its file sizes) answers by full scans."""
    gen = generations.current_generation(copy_index)
    meta = fileio.read_json(gen / layout.META)
    for sidecar in gen.glob("text-*.bin" + PAIRS_SUFFIX):
        sidecar.unlink()
        del meta["files"][sidecar.name]
    fileio.write_json(gen / layout.META, meta)
    with search.open_index(copy_index) as ix:
        assert {h.path for h in ix.search('"人脉背书"')} == {"zhihu/neitui.md"}
        assert {h.path for h in ix.search('"马克思"')} == {"blog/marx.md"}


def test_update_writes_a_sidecar_and_finds_exactly(fresh_corpus, tmp_path):
    """update_index writes a store file (and its sidecar) for changed posts; old versions are no longer found."""
    index_dir = tmp_path / "index"
    search.build_index(fresh_corpus, index_dir, workers=1)
    post = fresh_corpus / "blog" / "marx.md"
    post.write_text(post.read_text(encoding="utf-8").replace("马克思", "恩格斯"), encoding="utf-8")
    (fresh_corpus / "zhihu" / "neitui.md").unlink()
    report = search.update_index(fresh_corpus, index_dir, workers=1)
    assert (report.changed, report.deleted) == (1, 1)
    gen = generations.current_generation(index_dir)
    update_store = gen / f"text-{gen.name}.bin"
    assert (gen / (update_store.name + PAIRS_SUFFIX)).exists()
    ranges = {k: tuple(v) for k, v in path_tables.read_table(gen, layout.RANGES).items()}
    store = TextStore(gen, ranges)
    assert store.find("恩格斯") == {"blog/marx.md"}
    assert store.find("马克思") == set()
    assert store.find("人脉背书") == set()
    live = {key: store.fields_of(key) for key in ranges}
    rng = random.Random(11)
    needles = _needles(rng, list(live.values()), 80)
    _check_equal(store, live, needles)
    # The store as an Index makes it: from the table's columns, with the update's changes applied.
    columns, changes = text_ranges.read_ranges(gen, path_tables.read_changes(gen))
    assert changes and (gen / layout.RANGES_BINARY).exists()
    from_columns = TextStore.from_columns(gen, columns, changes)

    def store_layout(s: TextStore) -> dict:
        return {name: (f.starts, f.ends, f.keys) for name, f in s._files.items() if f.keys}

    assert store_layout(from_columns) == store_layout(store)
    assert {key: from_columns.fields_of(key) for key in ranges} == live
    _check_equal(from_columns, live, needles)


def _reference_sidecar(texts: list[str], starts: list[int]) -> bytes:
    """The sidecar of `texts` as the format in pairs.py defines it, written the plain way: a list per code."""
    import struct
    import sys
    from array import array

    places: dict[int, list[int]] = {}
    for place, text in enumerate(texts):
        data = text.encode("utf-16-le", "surrogatepass")
        # Units and pairs of adjacent units as this machine reads the bytes (on a little-endian one: a | b << 16).
        pairs = [array("I", data[at:at + (len(data) - at) // 4 * 4]) for at in (0, 2)]
        codes = {unit | 0xFFFF << 16 for unit in array("H", data)} | set(pairs[0]) | set(pairs[1])
        for code in codes:
            places.setdefault(code, []).append(place)
    count, bitmap_size = len(texts), (len(texts) + 7) // 8
    item = "H" if count <= pairs_module.NARROW_LIMIT else "I"
    body, ends = b"", array("Q")
    for code in sorted(places):
        listed = array(item, places[code]).tobytes()
        if len(listed) >= bitmap_size:
            bits = 0
            for place in places[code]:
                bits |= 1 << place
            listed = bits.to_bytes(bitmap_size, "little")
        body += listed
        ends.append(len(body))
    header = struct.Struct("=8sBB6xQQQ")
    wide = len(body) >= pairs_module.WIDE_AT
    padding = bytes(-(header.size + len(body)) % 8)
    tables = array("I", sorted(places)).tobytes() + (ends if wide else array("I", ends)).tobytes()
    if wide and len(places) % 2:
        tables += bytes(4)
    table_at = header.size + len(body) + len(padding)
    return (header.pack(b"ZHPAIRS2", sys.byteorder == "big", wide, count, len(places), table_at) + body + padding
            + tables + array("Q", starts).tobytes())


@pytest.mark.parametrize(("count", "wide", "narrow", "sorted_at"),
                         [(150, False, 1 << 16, 1 << 18), (150, False, 1 << 16, 50), (9, True, 1 << 16, 7),
                          (150, False, 20, 100), (1, False, 1 << 16, 1 << 18), (0, False, 1 << 16, 1 << 18)])
def test_pair_index_writer_writes_the_format(tmp_path, monkeypatch, count, wide, narrow, sorted_at):
    # The writer's numpy sorting, a range of codes at a time (sorted_at: codes per range), gives the bytes of the
    # plain definition: bitmaps and lists, narrow and wide tables, no post at all.
    monkeypatch.setattr(pairs_module, "NARROW_LIMIT", narrow)
    monkeypatch.setattr(pairs_module, "_CODES_SORTED", sorted_at)
    if wide:
        monkeypatch.setattr(pairs_module, "WIDE_AT", 0)
    rng = random.Random(99 + count)
    texts = ["\x1f".join(post.values()) for post in _posts(rng, count)]
    starts = [rng.randrange(1 << 40) for _ in texts]
    writer = pairs_module.PairsWriter(tmp_path / "x.pairs")
    for start, text in zip(starts, texts):
        writer.add(start, text)
    writer.close()
    assert (tmp_path / "x.pairs").read_bytes() == _reference_sidecar(texts, starts)


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files through /proc")
def test_a_store_writer_that_fails_writes_no_pair_index_and_leaves_no_file_open(tmp_path, monkeypatch):
    before = _open_files()
    # The build stopped while posts were being written.
    with pytest.raises(KeyboardInterrupt), TextStoreWriter(tmp_path / "text-0.bin") as store:
        store.add({"body": "内推"})
        raise KeyboardInterrupt
    assert not (tmp_path / "text-0.bin.pairs").exists()
    assert _open_files() == before

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(verbatim.os, "fsync", full_disk)
    with pytest.raises(OSError), TextStoreWriter(tmp_path / "text-1.bin") as store:  # the store's own flush failed
        store.add({"body": "内推"})
    assert not (tmp_path / "text-1.bin.pairs").exists()
    assert _open_files() == before


def test_a_pair_index_the_disk_cannot_hold_is_not_left_half_written(tmp_path, monkeypatch):
    def full_disk(self, posts):
        self.path.write_bytes(b"ZHPAIRS2")  # the start of a header, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pairs_module.PairsWriter, "_write", full_disk)
    with pytest.raises(OSError), TextStoreWriter(tmp_path / "text-0.bin") as store:
        store.add({"body": "内推"})
    assert not (tmp_path / "text-0.bin.pairs").exists()
