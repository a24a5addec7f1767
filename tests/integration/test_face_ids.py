"""An id names one face (photo, person) for good: edits stored by id in the undo log
must never land on a face detected after the one they were made on was deleted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from faceorganizer.config import Settings
from faceorganizer.core.library.edits import Editor
from faceorganizer.core.library.scan import scan
from faceorganizer.core.library.sync import forget_missing
from faceorganizer.core.store.catalog import Catalog


def run_scan(catalog: Catalog, root: Path) -> None:
    for _ in scan(catalog, root, Settings(workers=1)):
        pass


def newest_photo(catalog: Catalog) -> tuple[Path, list[int]]:
    """The photo holding the highest face id, and its faces: deleting them leaves ids
    that SQLite's own max(id) + 1 would hand out again."""
    file_id = catalog.db.execute("SELECT file_id FROM faces ORDER BY id DESC LIMIT 1").fetchone()[0]
    faces = [f for f, _box in catalog.file_faces(file_id)]
    return catalog.file_path(file_id), faces


def what_user_edits(catalog: Catalog, faces: list[int]) -> list[tuple]:
    """These faces' person, lock and "not a face", and their "not this person"s."""
    state = sorted(catalog.face_state(faces).items())
    rejected = [pair for pair in sorted(catalog.rejections()) if pair[0] in faces]
    return [*state, *rejected]


@pytest.fixture
def library(small_library: Path, tmp_path: Path) -> Catalog:
    catalog = Catalog(tmp_path / "lib.sqlite", root=small_library)
    run_scan(catalog, small_library)
    yield catalog
    catalog.close()


def edit_newest_photo(catalog: Catalog) -> tuple[Path, list[int]]:
    """Put the newest photo's faces in a person of their own, named, and say one of them
    is not the largest person: a lock, a name and a rejection, all stored by face id."""
    photo, faces = newest_photo(catalog)
    editor = Editor(catalog)
    largest = catalog.persons()[0].id
    editor.rename(editor.move(faces, None), "Stranger")
    editor.reject(faces[0], largest)
    return photo, faces


def undo_redo_everything(catalog: Catalog) -> list[str]:
    """What undoing every edit and redoing them all says, step by step."""
    editor = Editor(catalog)
    said = list(iter(editor.undo, None))
    return said + list(iter(editor.redo, None))


def test_forgotten_faces_ids_are_not_reused(
    library: Catalog, small_library: Path, faces_dev: Path
) -> None:
    catalog = library
    photo, old_faces = edit_newest_photo(catalog)
    photo.unlink()
    run_scan(catalog, small_library)
    forget_missing(catalog)
    shutil.copy2(faces_dev / "Ben_Affleck" / "opencvcourse__val_1.jpg", small_library / "new.jpg")
    run_scan(catalog, small_library)
    _, new_faces = newest_photo(catalog)
    assert catalog.face_info(new_faces[0])["path"] == "new.jpg"
    assert min(new_faces) > max(old_faces)  # SQLite alone gave the first one max(old)
    before = what_user_edits(catalog, new_faces)
    said = undo_redo_everything(catalog)
    assert what_user_edits(catalog, new_faces) == before  # no old edit lands on them
    assert said[0] == "Not this person (1 face no longer in the library)"
    assert said[-1] == "Not this person (1 face no longer in the library)"


def test_changed_photo_gets_new_face_ids(
    library: Catalog, small_library: Path, faces_dev: Path
) -> None:
    """A photo whose content changed has its faces detected again: new ids, so the old
    faces' edits skip them instead of landing on them."""
    catalog = library
    photo, old_faces = edit_newest_photo(catalog)
    shutil.copy2(faces_dev / "Ben_Affleck" / "opencvcourse__val_1.jpg", photo)
    run_scan(catalog, small_library)
    _, new_faces = newest_photo(catalog)
    assert new_faces and min(new_faces) > max(old_faces)
    before = what_user_edits(catalog, new_faces)
    said = undo_redo_everything(catalog)
    assert what_user_edits(catalog, new_faces) == before
    assert said[1] == "Rename to 'Stranger' (3 faces no longer in the library)"
