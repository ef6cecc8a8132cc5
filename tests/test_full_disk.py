"""A full disk: a build that runs out of space fails in one clear line, leaves nothing behind, and never costs the
index it was replacing; the next build first removes what a writer that died left.

The full disk is simulated without root: the text store's writer raises OSError(ENOSPC) after a few posts.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from click.testing import CliRunner

import search
from search.cli import main
from search.store import verbatim


def write_posts(corpus: Path, count: int) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (corpus / f"{i}.md").write_text(f"---\ntitle: 第{i}篇\n---\n磁盘写满之前的第{i}篇文章。\n", encoding="utf-8")


@pytest.fixture
def full_disk(monkeypatch):
    """After `after` posts are written to the text store, every write fails as on a full disk."""
    written = {"posts": 0, "after": 3}
    real = verbatim.TextStoreWriter.add_stored

    def add_stored(self, data: bytes) -> tuple[int, int]:
        if written["posts"] >= written["after"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        written["posts"] += 1
        return real(self, data)

    monkeypatch.setattr(verbatim.TextStoreWriter, "add_stored", add_stored)
    return written


def leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("gen-*") if "." in p.name)


def test_first_build_on_a_full_disk_leaves_nothing(tmp_path, full_disk):
    write_posts(tmp_path / "corpus", 10)
    with pytest.raises(OSError) as failure:
        search.build_index(tmp_path / "corpus", tmp_path / "index", workers=1)
    assert failure.value.errno == errno.ENOSPC
    assert leftovers(tmp_path / "index") == []
    with pytest.raises(search.IndexNotFound):
        search.open_index(tmp_path / "index")


def test_rebuild_on_a_full_disk_keeps_the_old_index(tmp_path, full_disk):
    write_posts(tmp_path / "corpus", 2)
    search.build_index(tmp_path / "corpus", tmp_path / "index", workers=1)
    write_posts(tmp_path / "corpus", 10)
    full_disk["posts"] = 0
    result = CliRunner().invoke(main, ["index", str(tmp_path / "corpus"), "--index", str(tmp_path / "index"),
                                       "--rebuild"])
    assert result.exit_code == 2
    assert result.stderr.count("No space left on device") == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert leftovers(tmp_path / "index") == []
    with search.open_index(tmp_path / "index") as ix:
        assert len(ix) == 2 and ix.search("磁盘").total == 2


def test_build_first_removes_what_a_dead_writer_left(tmp_path):
    # A writer killed on a full disk left its unfinished generation; no index was ever committed.
    index_dir = tmp_path / "index"
    dead = index_dir / "gen-000001.tmp-999999"
    dead.mkdir(parents=True)
    (dead / "text-0.bin").write_bytes(b"\0" * 1_000_000)
    write_posts(tmp_path / "corpus", 2)
    search.build_index(tmp_path / "corpus", index_dir, workers=1)
    assert not dead.exists() and leftovers(index_dir) == []
    with search.open_index(index_dir) as ix:
        assert len(ix) == 2


def test_processes_meeting_the_same_full_disk_report_it_once(tmp_path, full_disk):
    # Two build processes (forked: they inherit the full disk) fail alike: one BuildFailed naming the error once.
    write_posts(tmp_path / "corpus", 20)
    full_disk["after"] = 0
    with pytest.raises(search.BuildFailed) as failure:
        search.build_index(tmp_path / "corpus", tmp_path / "index", workers=2)
    assert str(failure.value).count("No space left on device") == 1
    assert leftovers(tmp_path / "index") == []


def test_failure_text_reads_like_the_error():
    from search.build import workers

    assert workers.failure_text(OSError(errno.ENOSPC, "No space left on device", "/i/gen-1/text-0.bin")) == \
        "No space left on device: /i/gen-1/text-0.bin"
    assert workers.failure_text(ValueError("bad")) == "ValueError: bad"
