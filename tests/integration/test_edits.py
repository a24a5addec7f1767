"""User edits on a real scanned catalog: they change the catalog, undo/redo, survive
re-clustering and restarts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from faceorganizer.config import DEFAULT_THRESHOLD
from faceorganizer.core.library.edits import Editor
from faceorganizer.core.library.people import recluster, split_proposal
from faceorganizer.core.store.catalog import Catalog


def biggest_two(catalog: Catalog) -> tuple[int, int]:
    people = catalog.persons()
    return people[0].id, people[1].id


def snapshot(catalog: Catalog) -> list[tuple]:
    return catalog.db.execute(
        "SELECT id, person_id, locked, ignored FROM faces ORDER BY id"
    ).fetchall()


def test_merge_then_undo_redo(catalog: Catalog) -> None:
    editor = Editor(catalog)
    a, b = biggest_two(catalog)
    faces = set(catalog.faces_of_person(a)) | set(catalog.faces_of_person(b))
    before = [tuple(r) for r in snapshot(catalog)]

    editor.merge([a, b])
    assert set(catalog.faces_of_person(a)) == faces
    assert catalog.faces_of_person(b) == []
    assert editor.undo_label().startswith("Merge")

    assert editor.undo().startswith("Merge")
    assert [tuple(r) for r in snapshot(catalog)] == before
    editor.redo()
    assert set(catalog.faces_of_person(a)) == faces


def test_a_commit_from_elsewhere_during_an_edit_makes_the_next_read_full(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window reads again only the people its edits touched, unless someone else
    wrote. A scan that commits while an edit waits for the write lock is someone else
    too: the edit cannot say which people the scan changed, so everyone is read."""
    editor, elsewhere = Editor(catalog), Editor(Catalog(catalog.path))
    a, b = biggest_two(catalog)
    editor.take_touched()  # the first read is of everyone
    editor.rename(a, "Grandma")
    assert editor.take_touched() == {a}
    own = catalog.transaction

    @contextmanager
    def after_a_commit_elsewhere() -> Iterator[object]:
        elsewhere.rename(b, "Grandpa")  # commits just before this write gets the lock
        with own() as db:
            yield db

    monkeypatch.setattr(catalog, "transaction", after_a_commit_elsewhere)
    editor.rename(a, "Gran")
    assert editor.take_touched() is None
    monkeypatch.undo()
    editor.rename(a, "Granny")
    assert editor.take_touched() == {a}
    elsewhere.catalog.close()


def test_merge_survives_recluster_and_restart(catalog: Catalog) -> None:
    a, b = biggest_two(catalog)
    Editor(catalog).merge([a, b])
    merged = set(catalog.faces_of_person(a))
    recluster(catalog)
    assert set(catalog.faces_of_person(a)) >= merged
    catalog.close()
    reopened = Catalog(catalog.path)
    assert set(reopened.faces_of_person(a)) >= merged
    assert Editor(reopened).undo_label().startswith("Merge")  # undo log survives restarts
    reopened.close()


def test_split_and_not_this_person_are_never_undone_by_recluster(catalog: Catalog) -> None:
    editor = Editor(catalog)
    a, _ = biggest_two(catalog)
    faces = catalog.faces_of_person(a)
    picked, rejected = faces[:1], faces[1:2]
    new_person = editor.split(picked)
    editor.not_this_person(rejected)
    assert catalog.faces_of_person(new_person) == picked
    recluster(catalog)
    recluster(catalog, "dbscan")
    assert catalog.faces_of_person(new_person) == picked
    assert rejected[0] not in catalog.faces_of_person(a)
    assert picked[0] not in catalog.faces_of_person(a)


def test_move_rename_hide_not_a_face(catalog: Catalog) -> None:
    editor = Editor(catalog)
    a, b = biggest_two(catalog)
    face = catalog.faces_of_person(a)[0]
    editor.move([face], b)
    editor.rename(b, "  Grandma ")
    assert catalog.person(b).name == "Grandma"
    assert face in catalog.faces_of_person(b)
    editor.set_hidden(b, True)
    assert b not in {p.id for p in catalog.persons()}
    editor.not_a_face([catalog.faces_of_person(a)[0]])
    count = catalog.stats()["faces"]
    recluster(catalog)
    assert catalog.stats()["faces"] == count
    assert catalog.person(b).name == "Grandma"
    for _ in range(4):
        editor.undo()
    assert face in catalog.faces_of_person(a)
    assert catalog.person(b).name is None


def test_new_edit_clears_redo(catalog: Catalog) -> None:
    editor = Editor(catalog)
    a, b = biggest_two(catalog)
    editor.rename(a, "X")
    editor.undo()
    assert editor.redo_label() is not None
    editor.rename(b, "Y")
    assert editor.redo_label() is None


def test_undoing_a_regroup_puts_back_its_settings_and_people(catalog: Catalog) -> None:
    """A regroup records its grouping as the library's: undo brings back the grouping
    the people were made with, redo the new one, so the next scan groups like the people
    on screen (and a restart changes nothing)."""
    editor = Editor(catalog)
    grouped, people = catalog.settings(), snapshot(catalog)
    recluster(catalog, "dbscan", 0.4, undoable=True)
    regrouped = catalog.settings()
    assert (regrouped.algorithm, regrouped.threshold) == ("dbscan", 0.4)
    assert regrouped.detector == grouped.detector
    assert snapshot(catalog) != people
    assert editor.undo() == "Regroup faces (DBSCAN, 0.40)"
    assert catalog.settings() == grouped and snapshot(catalog) == people
    assert editor.redo() == "Regroup faces (DBSCAN, 0.40)"
    catalog.close()
    reopened = Catalog(catalog.path)
    assert reopened.settings() == regrouped
    assert Editor(reopened).undo() == "Regroup faces (DBSCAN, 0.40)"
    assert reopened.settings() == grouped
    reopened.close()


def test_recluster_keeps_person_ids_stable(catalog: Catalog) -> None:
    before = {p.id: set(catalog.faces_of_person(p.id)) for p in catalog.persons()}
    recluster(catalog)
    after = {p.id: set(catalog.faces_of_person(p.id)) for p in catalog.persons()}
    assert after == before


def test_split_proposal_and_split_groups(catalog: Catalog) -> None:
    editor = Editor(catalog)
    a, b = biggest_two(catalog)
    editor.merge([a, b])
    groups = split_proposal(catalog, a, threshold=0.45)
    assert len(groups) >= 2
    assert sorted(f for g in groups for f in g) == sorted(catalog.faces_of_person(a))
    new_ids = editor.split_groups(groups)
    assert [len(catalog.faces_of_person(p)) for p in new_ids] == [len(g) for g in groups]
    editor.undo()
    assert sorted(catalog.faces_of_person(a)) == sorted(f for g in groups for f in g)


def test_split_proposes_the_two_people_a_merge_poured_together(catalog: Catalog) -> None:
    """Katy Perry (faces-dev's two deepface group photos) merged into Madonna: Split at
    the library's threshold (and at the 0.52 its slider shows) proposes exactly the two
    people, as the library's grouping keeps them. Clustering the merged faces alone with
    plain rules proposed 4 groups at 0.52, Madonna in three."""
    rows = catalog.db.execute(
        "SELECT faces.id, files.path FROM faces JOIN files ON file_id = files.id"
    )
    path = {int(face): name for face, name in rows}
    people = {p.id: set(catalog.faces_of_person(p.id)) for p in catalog.persons()}
    katy_photos = {"_group/deepface__couple.jpg", "_group/deepface__selfie-many-people.jpg"}
    katy = next(p for p, faces in people.items() if {path[f] for f in faces} == katy_photos)
    madonna = next(p for p, faces in people.items() if path[min(faces)].startswith("Madonna/"))
    assert len(people[katy]) == 2 and len(people[madonna]) == 6
    assert {path[f].split("/")[0] for f in people[madonna]} == {"Madonna"}
    library = catalog.settings().threshold or DEFAULT_THRESHOLD["chinese-whispers"]
    Editor(catalog).merge([madonna, katy])
    assert set(catalog.faces_of_person(madonna)) == people[madonna] | people[katy]
    for threshold in (library, 0.52):
        groups = [set(g) for g in split_proposal(catalog, madonna, threshold)]
        assert groups == [people[madonna], people[katy]], threshold


def test_catalog_refuses_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    Catalog(path).close()
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    import pytest

    from faceorganizer.core.store.catalog import CatalogError

    with pytest.raises(CatalogError, match="newer faceorganizer"):
        Catalog(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 99  # untouched
    db.close()


def test_a_face_moved_into_a_person_keeps_the_person_whole_through_a_regroup(
    catalog: Catalog,
) -> None:
    """A user took a stranger's face out of a person (Not This Person), then moved an
    unsorted face there (Move To…); a rescan regroups. The person must stay one group
    with its faces, the moved one among them, and the stranger must stay out: placing a
    face confirms the person it joins, as a merge does. (A walk through the app found
    the person split: the moved face alone kept its id, the rest came back under a new
    one, with the stranger in it again, for its "not this person" named the old id.)"""
    editor = Editor(catalog)
    person, _ = biggest_two(catalog)
    faces = catalog.faces_of_person(person)
    stranger, kept = faces[-1], faces[:-1]
    unsorted = catalog.faces_of_person(None)
    assert unsorted
    # the unsorted face farthest from the person: it cannot pull the person's faces along
    ids, _, vectors = catalog.embeddings()
    vector = dict(zip(ids.tolist(), vectors, strict=True))
    centre = sum(vector[f] for f in kept) / len(kept)
    moved = max(unsorted, key=lambda f: float(((vector[f] - centre) ** 2).sum()))
    editor.not_this_person([stranger])
    editor.move([moved], person)
    recluster(catalog)
    assert set(catalog.faces_of_person(person)) == {*kept, moved}
    now = catalog.assignments()[stranger][0]
    assert now is None or not set(catalog.faces_of_person(now)) & set(kept)
