"""store.files: a failed write keeps the old file and leaves no temporary behind; the
hashes are the standard ones (a cached conversion's name and a photo's identity use them)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from faceorganizer.core.store import knn_cache
from faceorganizer.core.store.files import atomic_path, content_hash, sha256, write_atomic


def test_write_atomic_creates_folder_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "new" / "model.onnx"
    write_atomic(target, b"first")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["model.onnx"]


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "manifest.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as temp:
        temp.write_text("half")
        assert temp.parent == tmp_path and temp.name.startswith(".manifest.csv.")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.csv"]


def test_hashes(tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"\xff\xd8 some bytes" * 10_000)
    data = photo.read_bytes()
    assert content_hash(photo) == hashlib.blake2b(data, digest_size=16).hexdigest()
    assert sha256(photo) == hashlib.sha256(data).hexdigest()
    assert content_hash(tmp_path / "gone.jpg") is None


def test_knn_cache_round_trip_and_unwritable_folder(tmp_path: Path) -> None:
    catalog = tmp_path / "c.sqlite"
    ids, vectors = np.arange(3), np.eye(3, dtype=np.float32)
    idx, dist = np.zeros((3, 2), np.int32), np.ones((3, 2), np.float32)
    assert knn_cache.load(catalog) is None
    knn_cache.save(catalog, ids, vectors, idx, dist)
    graph = knn_cache.load(catalog)
    assert graph is not None and graph.digest == knn_cache.digest(vectors)
    assert np.array_equal(graph.ids, ids) and np.array_equal(graph.dist, dist)
    knn_cache.save(tmp_path / "missing" / "c.sqlite", ids, vectors, idx, dist)  # no error
    assert knn_cache.load(tmp_path / "missing" / "c.sqlite") is None
