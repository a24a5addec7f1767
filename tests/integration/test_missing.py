"""A library whose photos come and go (an unplugged drive, a deleted folder) loses nothing:
vanished photos are missing, not deleted, and come back as they were."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from faceorganizer.cli import run_cli
from faceorganizer.config import Settings
from faceorganizer.core.library.edits import Editor
from faceorganizer.core.library.export import Options, run_export
from faceorganizer.core.library.scan import ScanSummary, scan
from faceorganizer.core.library.sync import (
    forget_missing,
    going_with_missing,
    names_only_in_missing,
)
from faceorganizer.core.store.backup import restore
from faceorganizer.core.store.catalog import Catalog


def run_scan(catalog: Catalog, root: Path, **options: bool) -> ScanSummary:
    summary = ScanSummary()
    for _ in scan(catalog, root, Settings(workers=1), summary=summary, **options):
        pass
    return summary


def state(catalog: Catalog) -> list[tuple]:
    """Everything the user's work lives in: files, faces with their people, names."""
    files = catalog.db.execute("SELECT id, path FROM files ORDER BY id").fetchall()
    faces = catalog.db.execute(
        "SELECT id, file_id, person_id, locked FROM faces ORDER BY id"
    ).fetchall()
    names = catalog.db.execute("SELECT id, name FROM persons ORDER BY id").fetchall()
    return [tuple(r) for r in files + faces + names]


@pytest.fixture
def library(small_library: Path, tmp_path: Path) -> tuple[Catalog, int]:
    """small_library scanned, its biggest person named "Barack": (catalog, person id)."""
    catalog = Catalog(tmp_path / "lib.sqlite", root=small_library)
    run_scan(catalog, small_library)
    person = catalog.persons()[0].id
    Editor(catalog).rename(person, "Barack")
    yield catalog, person
    catalog.close()


def test_empty_folder_changes_nothing(library: tuple[Catalog, int], small_library: Path) -> None:
    catalog, person = library
    before = state(catalog)
    aside = small_library.parent / "unplugged"
    small_library.rename(aside)
    small_library.mkdir()  # the mount point of a drive that is not plugged in
    summary = run_scan(catalog, small_library)
    assert summary.sync.refused.startswith("the folder is empty — is the drive connected?")
    assert state(catalog) == before
    assert catalog.missing_count() == 0

    small_library.rmdir()
    aside.rename(small_library)
    summary = run_scan(catalog, small_library)
    assert (summary.sync.refused, summary.processed) == ("", 0)
    assert state(catalog) == before
    assert catalog.person(person).name == "Barack"


def test_most_photos_gone_asks_first(library: tuple[Catalog, int], small_library: Path) -> None:
    catalog, _ = library
    before = state(catalog)
    for photo in sorted(small_library.rglob("*.jpg"))[:5]:  # 5 of 7
        photo.unlink()
    summary = run_scan(catalog, small_library)
    assert "5 of the 7 photos are gone — is the drive connected?" in summary.sync.refused
    assert state(catalog) == before
    summary = run_scan(catalog, small_library, accept_missing=True)
    assert (summary.sync.refused, summary.sync.missing) == ("", 5)
    assert state(catalog) == before  # marked missing; every face and name stays


def test_deleted_folder_is_missing_then_back_as_it_was(
    library: tuple[Catalog, int], small_library: Path, tmp_path: Path
) -> None:
    catalog, person = library
    before = state(catalog)
    people_before = catalog.persons()
    biden = small_library / "Joe_Biden"
    shutil.move(biden, tmp_path / "Joe_Biden")
    summary = run_scan(catalog, small_library)
    assert (summary.sync.missing, summary.sync.refused) == (2, "")
    assert catalog.missing_paths() == {"Joe_Biden/frec__biden.jpg", "Joe_Biden/frec__biden2.jpg"}
    assert catalog.stats()["missing"] == 2
    assert state(catalog) == before
    assert catalog.persons() == people_before  # missing photos' faces still count

    report = run_export(catalog, tmp_path / "export", Options(include_unknown=True))
    assert report.missing == catalog.missing_paths()
    assert not report.failed
    exported = {p.name for p in (tmp_path / "export").rglob("*.jpg")}
    assert "frec__biden.jpg" not in exported and "frec__obama.jpg" in exported

    # One photo comes back elsewhere (same content), the other at its own path.
    (tmp_path / "Joe_Biden" / "frec__biden.jpg").rename(small_library / "biden-moved.jpg")
    biden.mkdir()
    (tmp_path / "Joe_Biden" / "frec__biden2.jpg").rename(biden / "frec__biden2.jpg")
    summary = run_scan(catalog, small_library)
    assert (summary.sync.moved, summary.sync.returned, summary.sync.new) == (1, 1, 0)
    assert summary.processed == 0  # nothing detected again
    assert catalog.missing_count() == 0
    after = state(catalog)
    assert [r for r in after if r[1] != "biden-moved.jpg"] == [
        r for r in before if r[1] != "Joe_Biden/frec__biden.jpg"
    ]
    assert len(after) == len(before)  # no duplicates
    assert catalog.person(person).name == "Barack"


def test_forget_missing_backs_up_first_and_restore_undoes_it(
    library: tuple[Catalog, int], small_library: Path, tmp_path: Path
) -> None:
    catalog, _ = library
    before = state(catalog)
    biden_faces = catalog.db.execute(
        "SELECT COUNT(*) FROM faces JOIN files ON files.id = file_id WHERE path LIKE 'Joe_Biden/%'"
    ).fetchone()[0]
    shutil.rmtree(small_library / "Joe_Biden")
    run_scan(catalog, small_library)
    faces = catalog.face_count()

    forgotten = forget_missing(catalog)
    assert (forgotten.files, forgotten.faces) == (2, biden_faces)
    assert catalog.face_count() == faces - biden_faces
    assert catalog.missing_count() == 0
    assert forgotten.backup is not None and forgotten.backup.is_file()
    assert forget_missing(catalog).backup is None  # nothing left to forget

    catalog.close()
    saved = restore(forgotten.backup, catalog.path)
    assert saved is not None and saved.is_file()
    back = Catalog(catalog.path)
    assert state(back) == before
    assert back.missing_count() == 2
    back.close()


def test_forget_missing_names_the_named_people_who_go_with_them(
    library: tuple[Catalog, int], small_library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A person named on faces only in missing photos leaves with them: the question,
    the result and the CLI say so; people who keep other faces are not named."""
    catalog, _ = library
    editor = Editor(catalog)
    face = catalog.db.execute(
        "SELECT faces.id FROM faces JOIN files ON files.id = file_id "
        "WHERE path LIKE 'groups/%' ORDER BY faces.id"
    ).fetchone()[0]
    editor.rename(editor.move([int(face)], None), "Stranger")
    shutil.rmtree(small_library / "groups")
    run_scan(catalog, small_library)
    assert names_only_in_missing(catalog) == ("Stranger",)  # "Barack" has other photos
    going = len(catalog.people_only_in_missing())
    reads: list[str] = []
    catalog.db.set_trace_callback(reads.append)
    assert going_with_missing(catalog) == (("Stranger",), going)  # the window's question
    catalog.db.set_trace_callback(None)
    assert sum("HAVING MIN(files.missing) = 1" in sql for sql in reads) == 1  # one read
    path = catalog.path
    catalog.close()
    assert run_cli(["forget-missing", "--catalog", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Named people with no other faces, gone with them: Stranger" in out
    assert "undo with: faceorganizer restore" in out
