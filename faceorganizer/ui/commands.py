"""What the user's edit commands do: merge, split, move, rename, hide, reject, undo.

Each command reads the selection from the :class:`Browser`, asks a dialog where one is
needed, and hands one edit to the controller, which writes it (with its undo record)
in its worker thread after every earlier edit. The views refresh when it is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QWidget

from faceorganizer.core.library.edits import Editor
from faceorganizer.ui.browser import Browser, Expected
from faceorganizer.ui.controller import Activity, LibraryController
from faceorganizer.ui.dialogs.common import MoveToDialog, SplitDialog
from faceorganizer.ui.dialogs.regroup import split_threshold
from faceorganizer.ui.dialogs.review import Question, ReviewDialog
from faceorganizer.ui.widgets.thumbs import Thumbnails
from faceorganizer.wording import count

Say = Callable[[str, int], None]


class Commands:
    """The edit commands of one window."""

    def __init__(
        self,
        controller: LibraryController,
        browser: Browser,
        thumbs: Thumbnails,
        window: QWidget,
        say: Say,
    ) -> None:
        self.controller, self.browser, self.thumbs = controller, browser, thumbs
        self.window, self.say = window, say
        self.split_dialog: SplitDialog | None = None  # reachable for tests
        self.review_dialog: ReviewDialog | None = None
        self.showing_hidden: Callable[[], bool] = lambda: False

    # ---------------------------------------------------------------- people
    def merge_selected(self) -> None:
        ids = self.browser.selected_person_ids()
        if len(ids) < 2:
            self.say("Select two or more people to merge (Ctrl+click)", 4000)
            return
        self.merge_people(ids)

    def merge_people(self, ids: list[int], into: int | None = None) -> None:
        """Merge into ``into``, else into a named person if there is one, else the
        largest, so the name and id the user knows survive."""
        if into is None:
            named = {r.person_id for r in self.browser.people.model.rows() if r.named}
            into = next((p for p in ids if p in named), ids[0])
        target = into
        if self.controller.edit(lambda editor: editor.merge(ids, target)):
            sizes = {r.person_id: r.faces for r in self.browser.people.model.rows()}
            others = set(ids) - {target}
            gained = sum(sizes.get(p, 0) for p in others)
            self.browser.expect(Expected(counts={target: gained}, gone=others))
            self.browser.show_person(target, select_tile=True)

    def rename_current(self) -> None:
        """F2: edit the name in place on the tile."""
        person = self.browser.current_person_id()
        if person is None:
            return
        index = self.browser.person_index(person)
        if index is not None:
            view = self.browser.people.view
            view.setCurrentIndex(index)
            view.scrollTo(index)
            view.edit(index)

    def rename_person(self, person_id: int, name: str) -> None:
        if self.controller.edit(lambda editor: editor.rename(person_id, name)):
            self.browser.expect(Expected(names={person_id: name}))

    def toggle_hidden(self) -> None:
        current = self.browser.current_person_id()
        ids = self.browser.selected_person_ids() or ([current] if current is not None else [])
        if not ids:
            return
        hidden = {r.person_id for r in self.browser.people.model.rows() if r.hidden}
        hide = not all(p in hidden for p in ids)

        def change(editor: Editor) -> None:
            for person in ids:
                editor.set_hidden(person, hide)

        if not self.controller.edit(change) or not hide:
            return
        self.browser.expect(Expected(hidden=set(ids)))
        if not self.showing_hidden():
            self.say(
                f"Hidden: {count(len(ids), 'person')}. View ▸ Show Hidden People brings them back",
                5000,
            )

    def split_automatically(self) -> None:
        person = self.browser.current_person_id()
        path = self.controller.catalog_path
        if person is None or path is None:
            self.say("Select a person to split", 4000)
            return
        name = self.browser.person_name(person)
        threshold = split_threshold(self.controller.library_settings())
        dialog = SplitDialog(path, person, name, self.thumbs, self.window, threshold)
        self.split_dialog = dialog
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.new_groups():
            groups = dialog.new_groups()
            self.controller.edit(lambda editor: editor.split_groups(groups))
        dialog.deleteLater()

    def review_suggestions(self) -> None:
        """Ask about the grouping's near misses ("Is this X?", "Are these the same
        person?"); each answer is one edit."""
        path = self.controller.catalog_path
        if path is None:
            self.say("Open a photo folder first", 4000)
            return

        def answer(q: Question, chosen: int | None) -> None:
            face, other, offered = q.face_id, q.other_id, q.choices
            if other is not None:
                if chosen is not None:  # into the group chosen, the larger one
                    self.controller.edit(lambda e: e.merge([chosen, other]))
                else:
                    self.controller.edit(lambda e: e.none_of(other, offered))
            elif chosen is not None:
                self.controller.edit(lambda e: e.move([face], chosen, "Yes, this is them"))
            else:
                self.controller.edit(lambda e: e.reject(face, *offered))

        dialog = ReviewDialog(path, self.controller.read, self.thumbs, answer, self.window)
        self.review_dialog = dialog
        dialog.exec()
        dialog.deleteLater()

    # ---------------------------------------------------------------- faces
    def _faces_or_hint(self) -> list[int]:
        faces = self.browser.selected_face_ids()
        if not faces:
            self.say("Select faces first (click, Ctrl+click, drag)", 4000)
        return faces

    def _leaving_grid(self, faces: list[int], to: int | None | bool) -> Expected:
        """Faces leave the grid's person; ``to``: the tile they join (False: none)."""
        source = self.browser.grid_person()
        shown = set(self.browser.faces.model.face_ids()) & set(faces)
        if source is False or source == to or not shown:
            return Expected()
        counts = {source: -len(shown)}
        if to is not False:
            counts[to] = counts.get(to, 0) + len(shown)
        return Expected(counts=counts, faces_out=shown)

    def _edit_faces(
        self,
        faces: list[int],
        change: Callable[[Editor], Any],
        to: int | None | bool = False,
        on_done: Callable[[Any], None] | None = None,
        faces_changed: bool = False,
    ) -> None:
        """Queue an edit of these faces and take them out of the grid at once."""
        if self.controller.edit(change, on_done, faces_changed=faces_changed):
            self.browser.expect(self._leaving_grid(faces, to))

    def _show_new_person(self, person_id: int) -> None:
        self.browser.show_person(person_id, select_tile=True)

    def split_selected_faces(self) -> None:
        faces = self._faces_or_hint()
        if faces:
            self._edit_faces(faces, lambda e: e.split(faces), on_done=self._show_new_person)

    def move_faces(self, faces: list[int], person_id: int | None) -> None:
        """Dropping on a tile moves faces there; dropping on Unknown takes them out."""
        if not faces:
            return
        if person_id is None:
            self.not_these(faces)
        else:
            self._edit_faces(faces, lambda e: e.move(faces, person_id), to=person_id)

    def not_these(self, faces: list[int]) -> None:
        """Take faces out of their person for good (they go to Unknown)."""
        self._edit_faces(faces, lambda e: e.not_this_person(faces), to=None)

    def move_to_dialog(self) -> None:
        faces = self._faces_or_hint()
        if not faces:
            return
        shown = self.browser.grid_person()  # moving faces where they are means nothing
        rows = [r for r in self.browser.people.model.rows() if r.person_id != shown]
        dialog = MoveToDialog(rows, self.thumbs, self.window)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.choice is not None:
            if dialog.choice == MoveToDialog.NEW_PERSON:
                new = self._show_new_person
                self._edit_faces(faces, lambda e: e.move(faces, None), on_done=new)
            else:
                self.move_faces(faces, dialog.choice)
        dialog.deleteLater()

    def not_this_person(self) -> None:
        faces = self._faces_or_hint()
        if faces:
            self.not_these(faces)

    def not_a_face(self) -> None:
        faces = self._faces_or_hint()
        if faces:
            self._edit_faces(faces, lambda e: e.not_a_face(faces), faces_changed=True)

    # ---------------------------------------------------------------- undo
    def undo(self) -> None:
        self.controller.edit(lambda editor: editor.undo(), self._said("Undone"), faces_changed=True)

    def redo(self) -> None:
        self.controller.edit(lambda editor: editor.redo(), self._said("Redone"), faces_changed=True)

    def _said(self, what: str) -> Callable[[str | None], None]:
        return lambda label: self.say(f"{what}: {label}", 4000) if label else None

    # ---------------------------------------------------------------- availability
    def update_actions(self, act: dict[str, QAction]) -> None:
        """Enable what applies to the library, the selection and what is running."""
        controller = self.controller
        has_library = controller.has_library()
        allowed = controller.allows(Activity.EDIT)
        people = self.browser.selected_person_ids()
        person = self.browser.current_person_id()
        scanning = controller.is_scanning()
        act["rescan"].setEnabled(has_library and controller.root is not None and not scanning)
        act["cancel"].setEnabled(scanning)
        act["export"].setEnabled(has_library)
        act["regroup"].setEnabled(controller.allows(Activity.REGROUP))
        act["merge"].setEnabled(allowed and len(people) >= 2)
        for key in ("rename", "hide", "split_auto"):
            act[key].setEnabled(allowed and person is not None)
        faces = self.browser.faces.view.selectionModel().hasSelection()
        for key in ("split", "move", "not_person", "not_face", "open_photo"):
            act[key].setEnabled((allowed or key == "open_photo") and faces)
        act["map_tab"].setEnabled(has_library)
        snapshot = controller.snapshot
        undo = snapshot.undo if snapshot else None
        redo = snapshot.redo if snapshot else None
        act["undo"].setEnabled(bool(undo) and allowed)
        act["redo"].setEnabled(bool(redo) and allowed)
        missing = bool(snapshot and snapshot.missing)
        act["forget_missing"].setEnabled(missing and allowed and not scanning)
        act["undo"].setText(f"&Undo {_short(undo)}" if undo else "&Undo")
        act["redo"].setText(f"&Redo {_short(redo)}" if redo else "&Redo")
        act["undo"].setToolTip(f"Undo {undo} (Ctrl+Z)" if undo else "Nothing to undo")
        act["redo"].setToolTip(f"Redo {redo} (Ctrl+Shift+Z)" if redo else "Nothing to redo")


def _short(label: str | None, limit: int = 48) -> str:
    text = label or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
