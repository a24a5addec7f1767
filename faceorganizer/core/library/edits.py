"""User edits (merge, split, move, rename, hide, reject) with a durable undo log.

Every edit is stored as the state of the rows it touches before and after, so undo and
redo are the same operation (write a state back) and survive restarts. One rule: a face
the user places is *locked* and stays there until the user moves it (re-clustering never
does), and placing it clears any earlier "not this person" between that face and that
person. "Not this person" is otherwise a rejection that re-clustering honours.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from faceorganizer.core.store.catalog import Catalog
from faceorganizer.wording import count

FaceState = tuple[int | None, int, int]  # person_id, locked, ignored
PersonState = tuple[str | None, int] | None  # name, hidden; None = the row does not exist


@dataclass
class Change:
    """Target state of the rows one edit touches."""

    faces: dict[int, FaceState] = field(default_factory=dict)
    persons: dict[int, PersonState] = field(default_factory=dict)
    rejections: dict[tuple[int, int], bool] = field(default_factory=dict)
    settings: dict[str, object] | None = None  # the library's settings record; None: untouched


def _read_state(catalog: Catalog, change: Change) -> Change:
    """The current state of exactly the rows ``change`` touches."""
    present = catalog.rejected_pairs(change.rejections)
    return Change(
        faces=catalog.face_state(change.faces),
        persons={p: catalog.person_state(p) for p in change.persons},
        rejections={pair: pair in present for pair in change.rejections},
        settings=None if change.settings is None else catalog.settings_record(),
    )


def _write_state(catalog: Catalog, state: Change) -> None:
    """Write a state inside the caller's transaction: persons first so faces can refer
    to them, deletions of persons last so no face still points at them."""
    catalog.write_persons({p: row for p, row in state.persons.items() if row is not None})
    catalog.ensure_persons(p for p, _lock, _ign in state.faces.values() if p is not None)
    catalog.write_face_states(state.faces)
    catalog.write_rejections(state.rejections)
    catalog.delete_persons(p for p, row in state.persons.items() if row is None)
    if state.settings is not None:
        catalog.write_settings_record(state.settings)


def _gone_faces(catalog: Catalog, state: Change) -> int:
    """How many faces a logged state names that were deleted since (their photos
    forgotten, or changed and detected again): writing it skips them, as face ids are
    never given to another face (the catalog's issued_ids)."""
    named = set(state.faces) | {face for face, _person in state.rejections}
    return len(named) - len(catalog.face_state(named))


def _clear_rejections_of_placements(catalog: Catalog, change: Change) -> None:
    """The one rule for edits: a face the user puts into a person is that person, so an
    earlier "not this person" between the two goes (one undo step brings it back)."""
    placed = {
        (face, person)
        for face, (person, locked, _ignored) in change.faces.items()
        if locked and person is not None and (face, person) not in change.rejections
    }
    for pair in catalog.rejected_pairs(placed):
        change.rejections[pair] = False


def _clear_rejections_of_deleted_persons(catalog: Catalog, change: Change) -> None:
    """A deleted person takes its rejections along; logging them lets undo bring both back."""
    gone = {person for person, row in change.persons.items() if row is None}
    for face, person in catalog.rejections():
        if person in gone:
            change.rejections.setdefault((face, person), False)


def _encode(state: Change) -> str:
    return json.dumps(
        {
            "faces": {str(k): list(v) for k, v in state.faces.items()},
            "persons": {str(k): (None if v is None else list(v)) for k, v in state.persons.items()},
            "rejections": [[f, p, v] for (f, p), v in state.rejections.items()],
        }
        | ({} if state.settings is None else {"settings": state.settings})
    )


def _decode(text: str) -> Change:
    raw = json.loads(text)
    return Change(
        faces={int(k): (v[0], v[1], v[2]) for k, v in raw["faces"].items()},
        persons={int(k): (None if v is None else (v[0], v[1])) for k, v in raw["persons"].items()},
        rejections={(f, p): bool(v) for f, p, v in raw["rejections"]},
        settings=raw.get("settings"),  # edits logged before regroups recorded it: none
    )


def _people_in(*states: Change) -> set[int]:
    """The people whose rows or faces these states set: what their writes change."""
    people: set[int] = set()
    for state in states:
        people.update(state.persons)
        people.update(person for person, _, _ in state.faces.values() if person is not None)
    return people


class Editor:
    """Applies edits to a catalog and keeps the undo/redo log in it.

    It also notes which people its writes changed, so a view of all people can read
    just those again (:meth:`take_touched`) instead of thousands of them per edit."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._mark: tuple[int, int] | None = None  # catalog's change mark after the last note
        self._touched: set[int] = set()

    def take_touched(self) -> set[int] | None:
        """The people this editor's writes changed since the last call, or None when
        anything else wrote the catalog meanwhile (another connection, or this one
        outside an edit), or on the first call: then every person may have changed."""
        mark = self.catalog.change_mark()
        touched = self._touched if mark == self._mark else None
        self._mark, self._touched = mark, set()
        return touched

    @contextmanager
    def _noting(self) -> Iterator[set[int]]:
        """Around one write: the caller adds the people it changes to the set yielded;
        they are noted as long as nothing but this editor wrote since the last note."""
        before = self.catalog.change_mark()
        chained = self._mark is not None and before == self._mark
        people: set[int] = set()
        yield people
        after = self.catalog.change_mark()
        if chained and after[0] == before[0]:  # and no one else committed meanwhile (a
            self._touched |= people  # scan's commit while this write waited for the lock)
            self._mark = after

    # ------------------------------------------------------------------ core
    def apply(self, label: str, change: Change, *, undoable: bool = True) -> int | None:
        """Write ``change`` and log it in one transaction; returns the edit id."""
        with self._noting() as people, self.catalog.transaction():
            _clear_rejections_of_placements(self.catalog, change)
            _clear_rejections_of_deleted_persons(self.catalog, change)
            before = _read_state(self.catalog, change)
            people |= _people_in(before, change)
            _write_state(self.catalog, change)
            if not undoable:
                return None
            return self.catalog.log_edit(label, _encode(before), _encode(change))

    def undo_label(self) -> str | None:
        last = self.catalog.last_edit(undone=False)
        return None if last is None else last[1]

    def redo_label(self) -> str | None:
        last = self.catalog.last_edit(undone=True)
        return None if last is None else last[1]

    def undo(self) -> str | None:
        """Put back the state before the newest edit; returns its label."""
        return self._step(undone=False)

    def redo(self) -> str | None:
        return self._step(undone=True)

    def _step(self, undone: bool) -> str | None:
        last = self.catalog.last_edit(undone)
        if last is None:
            return None
        edit_id, label, before, after = last
        new = _decode(after if undone else before)
        with self._noting() as people, self.catalog.transaction():
            # where the faces are now, not where the log says: a scan may have moved some
            people |= self.catalog.persons_of_faces(new.faces) | _people_in(new)
            gone = _gone_faces(self.catalog, new)
            _write_state(self.catalog, new)
            self.catalog.mark_edit(edit_id, not undone)
        return f"{label} ({count(gone, 'face')} no longer in the library)" if gone else label

    # ------------------------------------------------------------------ edits
    def next_person_id(self) -> int:
        return self.catalog.next_person_id()

    def merge(self, person_ids: list[int], into: int | None = None) -> int:
        """Merge people into one (the first, or ``into``); all their faces get locked."""
        if not person_ids:
            raise ValueError("nothing to merge")
        target = into if into is not None else person_ids[0]
        names = self.catalog.person_names()
        name = self._stored_name(target) or next(
            (self._stored_name(p) for p in person_ids if self._stored_name(p)), None
        )
        change = Change(persons={target: (name, 0)})
        for person_id in {target, *person_ids}:
            for face_id in self.catalog.faces_of_person(person_id):
                change.faces[face_id] = (target, 1, 0)
        label = "Merge " + ", ".join(names.get(p, str(p)) for p in person_ids)
        self.apply(label, change)
        return target

    def move(self, face_ids: list[int], person_id: int | None, label: str = "") -> int:
        """Put faces into a person (a new one when ``person_id`` is None) and lock them.

        Placing faces in a person confirms the person, as a merge does: its own faces are
        locked too, so a regroup keeps it one group with them. Were they free, a moved face
        far from them would hold the person's id alone, the rest came back under a new id,
        and a "not this person" of that id no longer kept its stranger out."""
        change = Change()
        if person_id is None:
            person_id = self.next_person_id()
            change.persons[person_id] = (None, 0)
        placed = (person_id, 1, 0)
        own = self.catalog.face_state(self.catalog.faces_of_person(person_id))
        # Faces already locked here are left out: one "Yes" into a person of thousands
        # rewrote and logged every one of them again.
        change.faces = {face: placed for face, state in own.items() if state != placed}
        for face_id in face_ids:
            change.faces[face_id] = placed
        self.apply(label or f"Move {count(len(face_ids), 'face')}", change)
        return person_id

    def split(self, face_ids: list[int]) -> int:
        """Pick faces out of their person into a new one; they never go back.

        The faces left behind are locked too: the user has looked at both groups and
        said they differ, so a re-cluster must not pour one into the other."""
        state = self.catalog.face_state(face_ids)
        new_id = self.next_person_id()
        change = Change(persons={new_id: (None, 0)})
        for old_person in {person for person, _, _ in state.values() if person is not None}:
            for face_id in self.catalog.faces_of_person(old_person):
                change.faces[face_id] = (old_person, 1, 0)
        for face_id, (old_person, _locked, _ignored) in state.items():
            change.faces[face_id] = (new_id, 1, 0)
            if old_person is not None:
                change.rejections[(face_id, old_person)] = True
        self.apply(f"New person from {count(len(face_ids), 'face')}", change)
        return new_id

    def split_groups(self, groups: list[list[int]]) -> list[int]:
        """Split one person into several groups at once (automatic split, one undo step):
        each group becomes a new person, the person keeps the rest."""
        change = Change()
        new_ids: list[int] = []
        next_id = self.next_person_id()
        for group in groups:
            person_id = next_id + len(new_ids)
            new_ids.append(person_id)
            change.persons[person_id] = (None, 0)
            for face_id in group:
                change.faces[face_id] = (person_id, 1, 0)
        self.apply(f"Split into {count(len(groups) + 1, 'person')}", change)
        return new_ids

    def none_of(self, person_id: int, others: Sequence[int]) -> None:
        """ "This group is none of these people": each of its faces is rejected from each
        of them and each of their faces from it (never offered or grouped together again),
        and its faces are locked, so a regroup keeps the group whole and no face of theirs
        joins it (a rejection holds a face out of a group the user confirmed). The others
        are not locked: the answer says nothing about them, so they stay free to join one
        another."""
        faces = self.catalog.faces_of_person(person_id)
        theirs = [face for other in others for face in self.catalog.faces_of_person(other)]
        change = Change(
            faces={face: (person_id, 1, 0) for face in faces},
            rejections={(face, other): True for face in faces for other in others}
            | {(face, person_id): True for face in theirs},
        )
        self.apply("Not the same person" if len(others) == 1 else "None of these people", change)

    def rename(self, person_id: int, name: str) -> None:
        """Name a person. Naming confirms the group, so its faces get locked."""
        name = name.strip()
        hidden = self._hidden(person_id)
        change = Change(persons={person_id: (name or None, hidden)})
        for face_id in self.catalog.faces_of_person(person_id):
            change.faces[face_id] = (person_id, 1, 0)
        self.apply(f"Rename to {name!r}", change)

    def set_hidden(self, person_id: int, hidden: bool) -> None:
        change = Change(persons={person_id: (self._stored_name(person_id), int(hidden))})
        self.apply("Hide person" if hidden else "Show person", change)

    def not_a_face(self, face_ids: list[int]) -> None:
        change = Change(faces={f: (None, 0, 1) for f in face_ids})
        self.apply(f"Not a face ({count(len(face_ids), 'face')})", change)

    def not_this_person(self, face_ids: list[int]) -> None:
        """Take faces out of their person for good: no re-cluster puts them back."""
        change = Change()
        for face_id, (person_id, _locked, _ignored) in self.catalog.face_state(face_ids).items():
            change.faces[face_id] = (None, 0, 0)
            if person_id is not None:
                change.rejections[(face_id, person_id)] = True
        self.apply(f"Not this person ({count(len(face_ids), 'face')})", change)

    def reject(self, face_id: int, *person_ids: int) -> None:
        """Record that a face is none of these people (it stays where it is); never offered
        again and never grouped with them by a re-cluster. One edit, whatever the count."""
        label = "Not this person" if len(person_ids) == 1 else "None of these people"
        self.apply(label, Change(rejections={(face_id, p): True for p in person_ids}))

    def _stored_name(self, person_id: int) -> str | None:
        state = self.catalog.person_state(person_id)
        return None if state is None else state[0]

    def _hidden(self, person_id: int) -> int:
        state = self.catalog.person_state(person_id)
        return 0 if state is None else state[1]
