"""The catalog's intention-named reads that the views, evaluation and benches use
(they ran their own SQL before): checked against a small hand-made catalog."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from faceorganizer.core.store.catalog import Catalog, FaceRecord


def _face(x0: float, size: float, score: float) -> FaceRecord:
    return FaceRecord(
        box=(x0, 0.0, x0 + size, size),
        score=score,
        landmarks=np.zeros((5, 2), np.float32),
        thumb=b"jpeg",
        embedding=np.ones(4, np.float32),
        model="m",
    )


@pytest.fixture
def library(tmp_path: Path) -> tuple[Catalog, dict[str, list[int]]]:
    """Two photos of a person 'Ann', one group photo with an unassigned face, one photo
    without faces and one still pending."""
    catalog = Catalog(tmp_path / "c.sqlite", root=tmp_path)
    ids: dict[str, list[int]] = {}
    for name, faces in {
        "ann/1.jpg": [_face(0, 50, 0.9)],
        "ann/2.jpg": [_face(0, 40, 0.8)],
        "group.jpg": [_face(0, 30, 0.7), _face(100, 60, 0.95)],
        "empty.jpg": [],
    }.items():
        ids[name] = catalog.record_faces(catalog.add_file(name, 1, 1, None), faces, (200, 200))
    catalog.add_file("later.jpg", 1, 1, None)
    ann = catalog.new_person("Ann")
    catalog.new_person()  # unnamed and empty
    assigned = [*ids["ann/1.jpg"], *ids["ann/2.jpg"], ids["group.jpg"][0]]
    with catalog.transaction() as db:
        db.executemany("UPDATE faces SET person_id = ? WHERE id = ?", [(ann, f) for f in assigned])
    return catalog, ids


def test_counts_and_unknown_faces(library: tuple[Catalog, dict[str, list[int]]]) -> None:
    catalog, ids = library
    assert catalog.pending_count() == 1
    assert catalog.usable_face_count() == 4
    assert catalog.unknown_faces() == (1, ids["group.jpg"][1])
    with catalog.transaction() as db:
        db.execute("UPDATE faces SET ignored = 1 WHERE id = ?", (ids["group.jpg"][1],))
    assert catalog.usable_face_count() == 3
    assert catalog.unknown_faces() == (0, None)
    assert catalog.stats()["unassigned"] == 0 and catalog.stats()["pending"] == 1


def test_person_ids_follow_the_given_order(library: tuple[Catalog, dict[str, list[int]]]) -> None:
    catalog, ids = library
    ann = catalog.persons()[0].id
    group = ids["group.jpg"]
    asked = np.array([group[1], ids["ann/2.jpg"][0], 999, group[0]])
    assert catalog.person_ids(asked).tolist() == [-1, ann, -1, ann]
    assert catalog.person_ids(np.zeros(0, np.int64)).shape == (0,)


def test_photo_faces_boxes_and_largest(library: tuple[Catalog, dict[str, list[int]]]) -> None:
    catalog, ids = library
    ann = catalog.persons()[0].id
    small, large = ids["group.jpg"]
    assert catalog.faces_in_photo_of(large) == [
        (small, (0.0, 0.0, 30.0, 30.0), ann),
        (large, (100.0, 0.0, 160.0, 60.0), None),
    ]
    assert [path for path, _ in catalog.face_boxes()] == ["ann/1.jpg", "ann/2.jpg"] + [
        "group.jpg"
    ] * 2
    assert catalog.largest_faces() == {
        "ann/1.jpg": (True, ann),
        "ann/2.jpg": (True, ann),
        "empty.jpg": (False, None),
        "group.jpg": (True, None),  # the larger face has no person
    }


def test_unnamed_persons_undo_log_and_backup(
    library: tuple[Catalog, dict[str, list[int]]], tmp_path: Path
) -> None:
    catalog, _ = library
    ann = catalog.persons()[0].id
    assert ann not in catalog.unnamed_persons() and len(catalog.unnamed_persons()) == 1
    with catalog.transaction() as db:
        db.execute("INSERT INTO edits(label, before, after) VALUES ('x', '{}', '{}')")
    catalog.clear_undo_log()
    assert catalog.db.execute("SELECT COUNT(*) FROM edits").fetchone()[0] == 0
    catalog.backup_to(tmp_path / "copy.sqlite")
    copy = Catalog(tmp_path / "copy.sqlite", readonly=True)
    assert copy.person_names() == catalog.person_names()
    assert copy.stats() == catalog.stats()
    copy.close()


def test_yaws_follow_the_faces_asked_for(tmp_path: Path) -> None:
    """The detector's yaw of each face, NaN where it said none (or the face is gone)."""
    catalog = Catalog(tmp_path / "c.sqlite", root=tmp_path)
    faces = [replace(_face(0, 50, 0.9), yaw=0.3), _face(60, 50, 0.9)]
    ids = catalog.record_faces(catalog.add_file("a.jpg", 1, 1, None), faces, (200, 200))
    yaws = catalog.yaws(np.array([ids[1], ids[0], 999]))
    assert np.isnan(yaws[0]) and yaws[1] == pytest.approx(0.3) and np.isnan(yaws[2])
    catalog.close()
