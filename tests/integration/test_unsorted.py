"""Faces that join no one wait in the Unsorted bin instead of making one-face people, and a
library grouped before that rule keeps its grouping (faces-dev scanned for real)."""

from __future__ import annotations

from faceorganizer.core.library.edits import Editor
from faceorganizer.core.library.people import GROUPING_KEY, GROUPING_VERSION, recluster
from faceorganizer.core.store.catalog import Catalog


def lone_people(catalog: Catalog) -> list[int]:
    """People with one face that the user did not place there."""
    locked = catalog.assignments()
    return [
        p.id
        for p in catalog.persons(include_hidden=True)
        if p.faces == 1 and not locked[catalog.faces_of_person(p.id)[0]][1]
    ]


def test_strangers_wait_in_unsorted(catalog: Catalog) -> None:
    """faces-dev: 13 of its 47 people are strangers in group photos."""
    assert catalog.get_meta(GROUPING_KEY) == str(GROUPING_VERSION)
    assert lone_people(catalog) == []
    count, _ = catalog.unknown_faces()
    assert 25 <= count <= 45  # YuNet finds 35: the group photos' strangers


def test_a_lone_face_the_user_placed_stays_a_person(catalog: Catalog) -> None:
    face = catalog.faces_of_person(None)[0]
    person = Editor(catalog).move([face], None, "New person")
    recluster(catalog)
    assert catalog.faces_of_person(person) == [face]


def test_an_older_library_keeps_its_grouping(catalog: Catalog) -> None:
    catalog.set_meta(GROUPING_KEY, "1")  # as a library grouped before the Unsorted bin
    recluster(catalog)
    assert catalog.unknown_faces()[0] == 0
    assert len(lone_people(catalog)) >= 10
    assert catalog.get_meta(GROUPING_KEY) == "1"
