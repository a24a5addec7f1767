"""One rule for edits, on a real scanned catalog: a face the user placed stays there until
the user moves it, a "not this person" holds until the user places the face there again,
and no named person loses its name, through undo, redo, re-cluster, rescan and reopen."""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from faceorganizer.config import Settings
from faceorganizer.core.library import people
from faceorganizer.core.library.edits import Editor
from faceorganizer.core.library.people import recluster
from faceorganizer.core.library.scan import scan
from faceorganizer.core.store.backup import copy_database
from faceorganizer.core.store.catalog import Catalog

NAMES = ("Grandma", "  Ana ", "Ζωή", "")
EXAMPLES, STEPS = 40, 12


@dataclass(frozen=True)
class Model:
    """What the user decided, written down independently of the catalog's undo log."""

    placed: dict[int, int] = field(default_factory=dict)  # face -> person the user put it in
    rejected: frozenset[tuple[int, int]] = frozenset()  # (face, person): "not this person"
    names: dict[int, str | None] = field(default_factory=dict)

    def place(self, faces: dict[int, int]) -> Model:
        return replace(
            self,
            placed={**self.placed, **faces},
            rejected=self.rejected - set(faces.items()),
        )


class EditSequences(RuleBasedStateMachine):
    """Random edits as a user makes them in the app, checked after every step."""

    source: Path
    root: Path

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        path = Path(self.folder.name) / "catalog.sqlite"
        source = sqlite3.connect(self.source)
        copy_database(source, path)
        source.close()
        self.catalog = Catalog(path)
        self.catalog.clear_undo_log()  # the scan's own step (names from XMP) is not the user's
        self.editor = Editor(self.catalog)
        named = self.catalog.persons(include_hidden=True)  # XMP names the scan read
        self.model = Model(names={p.id: p.name for p in named if p.name})
        self.undo_stack: list[Model] = []
        self.redo_stack: list[Model] = []
        self.recent: list[int] = []  # people the user touched, the last one first

    def teardown(self) -> None:
        self.catalog.close()
        self.folder.cleanup()

    # ---------------------------------------------------------------- helpers
    def edited(self, model: Model) -> None:
        self.undo_stack.append(self.model)
        self.redo_stack.clear()
        self.model = model

    def person_of(self, face: int) -> int | None:
        return self.catalog.face_state([face])[face][0]

    def touch(self, *people: int | None) -> None:
        self.recent = [p for p in people if p is not None] + self.recent

    def pick_person(self, data: st.DataObject, back_for: list[int] = ()) -> int:
        """A person with faces; often one these faces were taken out of or the one the user
        worked on last (a user fixes a few people back and forth, not fifty at random)."""
        people = [p.id for p in self.catalog.persons(include_hidden=True)]
        back = sorted({p for f, p in self.model.rejected if f in back_for} & set(people))
        recent = [p for p in dict.fromkeys(self.recent) if p in people]
        choices = [st.sampled_from(some) for some in (back, recent) if some]
        return data.draw(st.one_of(*choices, st.sampled_from(people)))

    def pick_faces(self, data: st.DataObject, person: int | None) -> list[int]:
        faces = self.catalog.faces_of_person(person)
        return data.draw(st.lists(st.sampled_from(faces), min_size=1, max_size=3, unique=True))

    # ---------------------------------------------------------------- user steps
    @rule(data=st.data())
    def new_person(self, data: st.DataObject) -> None:
        """Select faces of a person and choose "New Person" (split them off)."""
        old = self.pick_person(data)
        faces = self.pick_faces(data, old)
        new = self.editor.split(faces)
        self.touch(new, old)
        left = {f: old for f in self.catalog.faces_of_person(old)}
        model = self.model.place(left | {f: new for f in faces})
        self.edited(replace(model, rejected=model.rejected | {(f, old) for f in faces}))

    @rule(data=st.data(), into_new=st.booleans())
    def move(self, data: st.DataObject, into_new: bool) -> None:
        """Select faces (of a person or Unknown) and choose "Move To…"."""
        source = data.draw(st.sampled_from([self.pick_person(data), None]))
        if not self.catalog.faces_of_person(source):
            return
        faces = self.pick_faces(data, source)
        target = None if into_new else self.pick_person(data, back_for=faces)
        target = self.editor.move(faces, target)
        self.touch(target, source)
        self.edited(self.model.place(dict.fromkeys(faces, target)))

    @rule(data=st.data())
    def move_back(self, data: st.DataObject) -> None:
        """Change one's mind: "Move To…" the person faces were taken out of."""
        people = {p.id for p in self.catalog.persons(include_hidden=True)}
        taken_out = sorted((f, p) for f, p in self.model.rejected if p in people)
        if not taken_out:
            return
        face, person = data.draw(st.sampled_from(taken_out))
        self.editor.move([face], person)
        self.touch(person)
        self.edited(self.model.place({face: person}))

    @rule(data=st.data())
    def merge(self, data: st.DataObject) -> None:
        people = [p.id for p in self.catalog.persons(include_hidden=True)]
        chosen = data.draw(st.lists(st.sampled_from(people), min_size=2, max_size=3, unique=True))
        faces = {f: chosen[0] for p in chosen for f in self.catalog.faces_of_person(p)}
        name = next((self.model.names[p] for p in chosen if self.model.names.get(p)), None)
        self.editor.merge(chosen)
        self.touch(chosen[0])
        model = self.model.place(faces)
        self.edited(replace(model, names={**model.names, chosen[0]: name}))

    @rule(data=st.data())
    def not_this_person(self, data: st.DataObject) -> None:
        person = self.pick_person(data)
        faces = self.pick_faces(data, person)
        self.editor.not_this_person(faces)
        self.touch(person)
        placed = {f: p for f, p in self.model.placed.items() if f not in faces}
        rejected = self.model.rejected | {(f, person) for f in faces}
        self.edited(replace(self.model, placed=placed, rejected=rejected))

    @rule(data=st.data(), hidden=st.booleans())
    def hide(self, data: st.DataObject, hidden: bool) -> None:
        self.editor.set_hidden(self.pick_person(data), hidden)
        self.edited(self.model)

    @rule(data=st.data(), name=st.sampled_from(NAMES))
    def rename(self, data: st.DataObject, name: str) -> None:
        person = self.pick_person(data)
        faces = dict.fromkeys(self.catalog.faces_of_person(person), person)
        self.editor.rename(person, name)
        self.touch(person)
        model = self.model.place(faces)
        self.edited(replace(model, names={**model.names, person: name.strip() or None}))

    @rule()
    def undo(self) -> None:
        self.step(self.editor.undo(), self.undo_stack, self.redo_stack)

    @rule()
    def redo(self) -> None:
        self.step(self.editor.redo(), self.redo_stack, self.undo_stack)

    def step(self, label: str | None, back: list[Model], forth: list[Model]) -> None:
        """Undo (or redo) in the model: the state before the edit, from its own stack."""
        assert (label is None) == (not back)
        if back:
            forth.append(self.model)
            self.model = back.pop()

    # ---------------------------------------------------------------- the app's own steps
    @rule(algorithm=st.sampled_from(["chinese-whispers", "dbscan"]))
    def regroup(self, algorithm: str) -> None:
        """Regroup Faces… (one undoable step that must keep every decision)."""
        recluster(self.catalog, algorithm, undoable=True)
        self.edited(self.model)

    @rule()
    def rescan_and_reopen(self) -> None:
        """Quit, relaunch: the open-time scan re-clusters with the default settings."""
        path = self.catalog.path
        self.catalog.close()
        self.catalog = Catalog(path)
        self.editor = Editor(self.catalog)
        for _ in scan(self.catalog, self.root, Settings(workers=1)):
            pass

    # ---------------------------------------------------------------- the rule
    @invariant()
    def faces_stay_where_the_user_put_them(self) -> None:
        state = self.catalog.face_state(self.model.placed)
        wrong = {f: (p, state[f]) for f, p in self.model.placed.items() if state[f] != (p, 1, 0)}
        assert not wrong, f"placed faces moved: face -> (placed in, now): {wrong}"

    @invariant()
    def rejections_hold(self) -> None:
        """Every rejection is in the catalog, unless its person is gone (a person left
        without faces is dropped, and with it what was said about it)."""
        kept = {(f, p) for f, p in self.model.rejected if self.catalog.person_state(p)}
        assert set(self.catalog.rejections()) == kept
        broken = [(f, p) for f, p in self.model.rejected if self.person_of(f) == p]
        assert not broken, f"faces back in a person they are not: {broken}"

    @invariant()
    def names_stay(self) -> None:
        for person, name in self.model.names.items():
            state = self.catalog.person_state(person)
            assert (state[0] if state else None) == name, f"person {person}: {state} != {name!r}"


def test_random_edit_sequences_keep_every_decision(
    scanned: tuple[Path, object], faces_dev: Path
) -> None:
    EditSequences.source, EditSequences.root = scanned[0], faces_dev
    run_state_machine_as_test(
        EditSequences,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
            derandomize=True,
        ),
    )


def test_new_person_then_move_back_then_relaunch(catalog: Catalog, faces_dev: Path) -> None:
    """The sequence a user tried: "New Person" on two faces, "Move To…" back, quit and
    relaunch. The faces used to come back as two one-face people."""
    editor = Editor(catalog)
    person = catalog.persons()[0].id
    faces = catalog.faces_of_person(person)[:2]
    editor.split(faces)
    editor.move(faces, person)
    assert catalog.rejections() == []
    path = catalog.path
    catalog.close()
    reopened = Catalog(path)
    for _ in scan(reopened, faces_dev, Settings(workers=1)):
        pass
    assert set(faces) <= set(reopened.faces_of_person(person))
    reopened.close()


def test_edits_made_while_the_scan_groups_are_kept(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app edits through its own connection while the scan's re-cluster runs: a face
    moved and a face marked "not a face" meanwhile stay as the user left them."""
    first, second = (p.id for p in catalog.persons()[:2])
    moved, not_a_face = catalog.faces_of_person(first)[:2]
    clustering = people.cluster

    def cluster_while_the_user_edits(*args: object, **kwargs: object) -> object:
        labels = clustering(*args, **kwargs)
        app = Catalog(catalog.path)
        Editor(app).move([moved], second)
        Editor(app).not_a_face([not_a_face])
        app.close()
        return labels

    monkeypatch.setattr(people, "cluster", cluster_while_the_user_edits)
    recluster(catalog)
    assert catalog.face_state([moved, not_a_face]) == {
        moved: (second, 1, 0),
        not_a_face: (None, 0, 1),
    }
