"""A catalog written by an earlier faceorganizer opens, migrates and keeps the user's work.

tests/fixtures/catalog-v2.sqlite was made by the code of 2026-12-01 (commit bd6696d,
schema 2): ``faceorganizer scan`` of six faces-dev photos (three of Barack Obama, two of
Joe Biden, and obama_and_biden.jpg, which also shows a stranger), then with its Editor:
person 1 renamed "Barack Obama", the stranger's face (8) moved to a new person (4), person
2 renamed "Joe Biden" and that rename undone. Every later migration must carry it forward.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from faceorganizer.config import Settings
from faceorganizer.core.library.edits import Editor
from faceorganizer.core.library.scan import scan
from faceorganizer.core.store.catalog import _MIGRATIONS, SCHEMA_VERSION, Catalog, FaceRecord
from faceorganizer.core.vision.model_files import SFACE

FIXTURE = Path(__file__).parents[1] / "fixtures" / "catalog-v2.sqlite"


@pytest.fixture
def old_catalog(tmp_path: Path) -> Catalog:
    copy = tmp_path / "catalog.sqlite"
    shutil.copyfile(FIXTURE, copy)  # the committed file itself is never written
    catalog = Catalog(copy)
    yield catalog
    catalog.close()


def test_old_catalog_is_migrated(old_catalog: Catalog) -> None:
    assert old_catalog.schema_version() == SCHEMA_VERSION
    assert old_catalog.integrity_ok()
    # It never recorded how it was made: the detector of then, the cascade, and the
    # defaults otherwise (the CLI's, and the app's for a catalog whose app-wide grouping
    # is unknown) until a scan or regroup records them.
    assert old_catalog.settings() == Settings(detector="cascade")
    assert not old_catalog.has_grouping()


def test_files_faces_and_people_survive(old_catalog: Catalog) -> None:
    assert [f.path for f in old_catalog.files("done")] == [
        "Barack_Obama/frec__obama.jpg",
        "Barack_Obama/frec__obama1.jpg",
        "Barack_Obama/frec__obama2.jpg",
        "Joe_Biden/frec__biden.jpg",
        "Joe_Biden/frec__biden2.jpg",
        "_group/frec__obama_and_biden.jpg",
    ]
    face_ids, _, vectors = old_catalog.embeddings()
    assert face_ids.tolist() == list(range(1, 9)) and vectors.shape == (8, 128)
    assert np.isnan(old_catalog.yaws(face_ids)).all()  # found before faces had a yaw: unknown
    # and before turned faces had a wider crop's descriptor: grouping reads their own
    assert (old_catalog.wide_embeddings(face_ids, vectors) == vectors).all()
    assert old_catalog.dominant_model() == SFACE
    assert all(old_catalog.thumbnail(int(f)) for f in face_ids)
    assert old_catalog.person_names()[1] == "Barack Obama"
    assert old_catalog.person(2).name is None  # its rename was undone
    assert old_catalog.faces_of_person(4) == [8]
    assert old_catalog.face_state([1, 2, 3, 6, 8]) == {f: (1, 1, 0) for f in (1, 2, 3, 6)} | {
        8: (4, 1, 0)
    }


def test_undo_log_survives_and_still_works(old_catalog: Catalog) -> None:
    editor = Editor(old_catalog)
    assert editor.undo_label() == "Move 1 face(s)"
    assert editor.redo_label() == "Rename to 'Joe Biden'"
    assert editor.undo() == "Move 1 face(s)"
    assert old_catalog.face_state([8]) == {8: (3, 0, 0)}  # back with the stranger's person
    assert editor.undo() == "Rename to 'Barack Obama'"
    assert old_catalog.person(1).name is None
    assert editor.redo() == "Rename to 'Barack Obama'"
    assert old_catalog.person_names()[1] == "Barack Obama"


def test_old_library_keeps_the_detector_it_was_scanned_with(
    old_catalog: Catalog, tmp_path: Path
) -> None:
    """Its faces came from the cascade, the default then: new photos of it are found the
    same way, not with today's default; the settings record, the one place that says
    so, says it. A new library gets the default and records it."""
    from faceorganizer.core.library.scan import detector_for

    assert Settings().detector == "yunet"
    assert detector_for(old_catalog, Settings()).detector == "cascade"
    assert old_catalog.get_meta("detector") is None  # no second record
    new = Catalog(tmp_path / "new.sqlite")
    assert detector_for(new, Settings()).detector == "yunet"
    new.save_settings(Settings(detector="hog"))  # what a scan records
    assert detector_for(new, Settings()).detector == "hog"
    new.close()


def _as_schema_4(tmp_path: Path, meta: dict[str, str], faces: bool) -> Path:
    """A copy of the fixture brought to schema 4 with these meta rows (and its faces or
    none), as versions between 079d0e1 and the detector migration left catalogs."""
    path = tmp_path / f"v4-{len(meta)}-{faces}.sqlite"
    shutil.copyfile(FIXTURE, path)
    db = sqlite3.connect(path)
    db.executescript(f"BEGIN; {''.join(_MIGRATIONS[2:4])}; PRAGMA user_version = 4; COMMIT;")
    with db:
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
        if not faces:
            db.execute("DELETE FROM faces")
    db.close()
    return path


@pytest.mark.parametrize(
    ("meta", "faces", "detector", "grouping"),
    [
        ({"detector": "mtcnn"}, True, "mtcnn", False),  # scanned with YuNet's version
        # scanned then regrouped, which recorded the default detector: the scan's row wins
        ({"detector": "hog", "settings": '{"detector": "yunet", "algorithm": "dbscan"}'},
         True, "hog", True),
        # scanned before YuNet, regrouped since: no detector row, the cascade's faces
        ({"settings": '{"detector": "yunet", "algorithm": "dbscan"}'}, True, "cascade", True),
        ({"settings": "{not json"}, True, "cascade", False),
        ({}, False, "yunet", False),  # nothing scanned yet: nothing to keep
    ],
)  # fmt: skip
def test_the_detector_row_moves_into_the_settings_record(
    tmp_path: Path, meta: dict[str, str], faces: bool, detector: str, grouping: bool
) -> None:
    migrated = Catalog(_as_schema_4(tmp_path, meta, faces))
    assert migrated.schema_version() == SCHEMA_VERSION
    assert migrated.get_meta("detector") is None
    assert migrated.settings().detector == detector
    assert migrated.has_grouping() == grouping
    migrated.close()


def _schema_2_copy(tmp_path: Path, change: str) -> Path:
    """A copy of the fixture, still at schema 2, with ``change`` (SQL) made by hand as
    that version's code would have."""
    path = tmp_path / "v2.sqlite"
    shutil.copyfile(FIXTURE, path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys = ON")
    with db:
        db.executescript(change)
    db.close()
    return path


FACE_BLOBS = ("thumb", "embedding", "wide_embedding")  # face row columns before schema 9


def _users_work(path: Path) -> list[tuple[str, dict[str, object]]]:
    """Every row a user's work lives in (meta aside: it holds the catalog's bookkeeping),
    as (table, {column: value}); a face's blobs are :func:`_face_blobs`'."""
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    tables = ("files", "faces", "persons", "rejections", "edits", "layout")
    rows = [
        (t, {k: v for k, v in dict(r).items() if k not in FACE_BLOBS})
        for t in tables
        for r in db.execute(f"SELECT * FROM {t} ORDER BY 1, 2")
    ]
    db.close()
    return rows


def _face_blobs(path: Path) -> dict[int, tuple[bytes | None, ...]]:
    """face id -> (thumbnail, descriptor, wide crop's descriptor), read where the
    catalog's schema keeps them: in the face rows before schema 9, in tables since."""
    db = sqlite3.connect(path)
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'face_thumbs'").fetchone():
        sql = (
            "SELECT id, t.jpeg, e.vector, w.vector FROM faces "
            "LEFT JOIN face_thumbs t ON t.face_id = id "
            "LEFT JOIN face_embeddings e ON e.face_id = id "
            "LEFT JOIN face_wide_embeddings w ON w.face_id = id"
        )
    else:
        columns = {r[1] for r in db.execute("PRAGMA table_info(faces)")}
        wide = "wide_embedding" if "wide_embedding" in columns else "NULL"  # schema 7's
        sql = f"SELECT id, thumb, embedding, {wide} FROM faces"
    blobs = {int(r[0]): tuple(r[1:]) for r in db.execute(sql)}
    db.close()
    return blobs


def test_the_id_migration_keeps_every_row_and_backs_up_first(tmp_path: Path) -> None:
    path = _schema_2_copy(tmp_path, "INSERT INTO rejections VALUES (7, 1);")
    before, blobs = _users_work(path), _face_blobs(path)
    Catalog(path).close()
    after = _users_work(path)  # later schemas added columns
    assert [
        (t, {k: row[k] for k in old}) for (t, row), (_, old) in zip(after, before, strict=True)
    ] == before
    assert _face_blobs(path) == blobs
    (backup,) = (tmp_path / "backups" / path.name).glob("*.sqlite")
    assert backup.name.endswith(f"-before-schema-{SCHEMA_VERSION}.sqlite")
    assert _users_work(backup) == before
    assert _face_blobs(backup) == blobs


def test_ids_the_old_undo_log_names_are_never_given_again(tmp_path: Path) -> None:
    """The group photo (faces 6, 7, 8, which the undo log names) forgotten by a version
    that let SQLite hand its ids out again: after the upgrade a new face gets 9, not 6,
    and undoing the move of face 8 says it is gone instead of moving the new face."""
    path = _schema_2_copy(tmp_path, "DELETE FROM files WHERE id = 6;")
    catalog = Catalog(path)
    row = catalog.db.execute("SELECT * FROM faces WHERE id = 1").fetchone()
    face = FaceRecord(
        (row["x0"], row["y0"], row["x1"], row["y1"]),
        row["score"],
        np.frombuffer(row["landmarks"], np.float32),
        catalog.thumbnail(1) or b"",
        catalog.embeddings()[2][0],  # face 1's: the first id
        row["model"],
    )
    new_file = catalog.add_file("new.jpg", 1, 1, None)
    (new_face,) = catalog.record_faces(new_file, [face], None)
    assert new_face == 9
    assert Editor(catalog).undo() == "Move 1 face(s) (1 face no longer in the library)"
    assert catalog.face_state([new_face]) == {new_face: (None, 0, 0)}
    assert catalog.new_person() == 5
    catalog.close()


def _as_schema_8(source: Path, path: Path) -> None:
    """The catalog ``source`` as schema 8's code wrote it: each face's thumbnail and
    descriptors in its row."""
    db = sqlite3.connect(path)
    db.executescript(f"BEGIN; {''.join(_MIGRATIONS[:8])}; PRAGMA user_version = 8; COMMIT;")
    db.execute("ATTACH ? AS new", (str(source),))
    columns = "file_id, x0, y0, x1, y1, score, landmarks, model, person_id, locked, ignored, "
    columns += "xmp_name, xmp_applied, yaw"
    with db:
        for table in ("meta", "files", "persons"):
            db.execute(f"INSERT OR REPLACE INTO {table} SELECT * FROM new.{table}")
        db.execute(
            f"INSERT INTO faces(id, {columns}, thumb, embedding, wide_embedding) "
            f"SELECT id, {columns}, t.jpeg, e.vector, w.vector FROM new.faces "
            "LEFT JOIN new.face_thumbs t ON t.face_id = id "
            "LEFT JOIN new.face_embeddings e ON e.face_id = id "
            "LEFT JOIN new.face_wide_embeddings w ON w.face_id = id"
        )
        for table in ("rejections", "edits", "layout"):
            db.execute(f"INSERT INTO {table} SELECT * FROM new.{table}")
    db.close()


def test_thumbnails_and_descriptors_leave_the_face_rows_byte_for_byte(
    small_library: Path, tmp_path: Path
) -> None:
    """Schema 9 keeps a face row small (an edit rewrites it whole): a scanned library
    upgraded keeps every face's thumbnail and descriptors as they were, and a photo's
    faces deleted (detected again, forgotten) take theirs along."""
    scanned = Catalog(tmp_path / "scanned.sqlite", root=small_library)
    for _ in scan(scanned, small_library, Settings()):
        pass
    scanned.close()
    path = tmp_path / "v8.sqlite"
    _as_schema_8(scanned.path, path)
    blobs = _face_blobs(path)
    assert all(thumb and vector for thumb, vector, _ in blobs.values())
    assert any(wide for _, _, wide in blobs.values())  # turned faces: a wider crop's too

    catalog = Catalog(path)
    assert catalog.schema_version() == SCHEMA_VERSION
    # the moved blobs' old pages given back (a third of this file), the WAL emptied
    assert catalog.db.execute("PRAGMA freelist_count").fetchone()[0] == 0
    assert Path(f"{path}-wal").stat().st_size == 0
    columns = {r[1] for r in catalog.db.execute("PRAGMA table_info(faces)")}
    assert not columns & set(FACE_BLOBS)
    assert _face_blobs(path) == blobs
    face_ids, _, vectors = catalog.embeddings()
    assert sorted(face_ids.tolist()) == sorted(blobs)
    assert [catalog.thumbnail(int(f)) for f in face_ids] == [blobs[f][0] for f in face_ids]
    assert [v.tobytes() for v in vectors] == [blobs[f][1] for f in face_ids]
    wide = catalog.wide_embeddings(face_ids, vectors)
    assert [v.tobytes() for v in wide] == [blobs[f][2] or blobs[f][1] for f in face_ids]

    files = {f.path: f.id for f in catalog.files()}
    catalog.reset_file(files["groups/frec__obama_and_biden.jpg"], 1, 1, None)  # changed
    catalog.mark_missing([files["Joe_Biden/frec__biden2.jpg"]])
    catalog.forget_missing()
    kept = {int(r[0]) for r in catalog.db.execute("SELECT id FROM faces")}
    assert len(kept) < len(blobs)
    assert _face_blobs(path) == {f: b for f, b in blobs.items() if f in kept}
    for table in ("face_thumbs", "face_embeddings", "face_wide_embeddings"):
        stored = {int(r[0]) for r in catalog.db.execute(f"SELECT face_id FROM {table}")}
        assert stored <= kept
    catalog.close()
