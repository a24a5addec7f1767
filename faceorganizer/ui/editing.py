"""The edit commands of the main window (merge, split, move, rename, hide, reject, undo).

Every command goes through :class:`faceorganizer.core.library.edits.Editor`, which saves it in
the catalog at once together with its undo record; the window then refreshes its models.
Kept apart from the window's layout code so each file stays readable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QDialog, QMessageBox

from faceorganizer.ui.dialogs.common import MoveToDialog, SplitDialog
from faceorganizer.ui.dialogs.review import Question, ReviewDialog
from faceorganizer.ui.widgets.item_models import PERSON_ID_ROLE

if TYPE_CHECKING:
    from faceorganizer.ui.main_window import MainWindow


class EditCommands:
    """Mixed into MainWindow; ``self`` is the window."""

    # ---------------------------------------------------------------- selection
    def selected_person_ids(self: MainWindow) -> list[int]:
        """Selected people in tile order (largest first); Unknown is not a person."""
        rows = sorted(self.people.view.selectionModel().selectedIndexes(), key=lambda i: i.row())
        ids = [i.data(PERSON_ID_ROLE) for i in rows]
        return [int(p) for p in ids if p is not None]

    def current_person_id(self: MainWindow) -> int | None:
        """The person whose faces are shown, else the first selected tile."""
        if self.face_source[0] == "person":
            return int(self.face_source[1])
        selected = self.selected_person_ids()
        return selected[0] if selected else None

    def selected_face_ids(self: MainWindow) -> list[int]:
        """In grid order; read from the selection's ranges, so 50 000 selected faces
        do not mean 50 000 index objects."""
        ranges = self.faces.view.selectionModel().selection()
        rows = sorted({r for part in ranges for r in range(part.top(), part.bottom() + 1)})
        return self.faces.model.faces_at(rows)

    # ---------------------------------------------------------------- plumbing
    def edits_allowed(self: MainWindow) -> bool:
        """No edits while people are being regrouped: the regrouping would overwrite them."""
        if self.catalog is None or self.editor is None:
            return False
        return not self.grouping_busy()

    def apply_edit(self: MainWindow, edit: Callable[[], Any]) -> Any:
        """Run one edit, report problems, refresh everything that shows people."""
        if not self.edits_allowed():
            self.statusBar().showMessage("Please wait until the faces are grouped", 4000)
            return None
        try:
            result = edit()
        except Exception as exc:  # an edit must never take the window down
            QMessageBox.warning(self, "Cannot do that", str(exc))
            return None
        self.refresh_all()
        return result

    # ---------------------------------------------------------------- people
    def merge_selected(self: MainWindow) -> None:
        ids = self.selected_person_ids()
        if len(ids) < 2:
            self.statusBar().showMessage("Select two or more people to merge (Ctrl+click)", 4000)
            return
        self.merge_people(ids)

    def merge_people(self: MainWindow, ids: list[int], into: int | None = None) -> None:
        """Merge into ``into``, else into a named person if there is one, else the
        largest, so the name and id the user knows survive."""
        if into is None:
            named = {r.person_id for r in self.people.model.rows() if r.named}
            into = next((p for p in ids if p in named), ids[0])
        target = self.apply_edit(lambda: self.editor.merge(ids, into))
        if target is not None:
            self.show_person(target, select_tile=True)

    def rename_current(self: MainWindow) -> None:
        """F2: edit the name in place on the tile."""
        person = self.current_person_id()
        if person is None:
            return
        self.show_people_tab()
        index = self.person_index(person)
        if index is not None:
            self.people.view.setCurrentIndex(index)
            self.people.view.scrollTo(index)
            self.people.view.edit(index)

    def rename_person(self: MainWindow, person_id: int, name: str) -> None:
        self.apply_edit(lambda: self.editor.rename(person_id, name))

    def toggle_hidden(self: MainWindow) -> None:
        ids = self.selected_person_ids() or (
            [self.current_person_id()] if self.current_person_id() is not None else []
        )
        if not ids:
            return
        hidden = {r.person_id for r in self.people.model.rows() if r.hidden}
        hide = not all(p in hidden for p in ids)

        def edit() -> None:
            for person in ids:
                self.editor.set_hidden(person, hide)

        self.apply_edit(edit)
        if hide and not self.act["show_hidden"].isChecked():
            self.statusBar().showMessage(
                f"Hidden {len(ids)} person(s): View ▸ Show Hidden People brings them back", 5000
            )

    def split_automatically(self: MainWindow) -> None:
        person = self.current_person_id()
        if person is None or self.catalog_path is None or self.catalog is None:
            self.statusBar().showMessage("Select a person to split", 4000)
            return
        name = self.catalog.person_names().get(person, str(person))
        dialog = SplitDialog(self.catalog_path, person, name, self.thumbs, self)
        self.split_dialog = dialog  # reachable for tests
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.new_groups():
            groups = dialog.new_groups()
            self.apply_edit(lambda: self.editor.split_groups(groups))
        dialog.deleteLater()

    def review_suggestions(self: MainWindow) -> None:
        """Ask about the grouping's near misses ("Is this X?", "Are these the same
        person?"); each answer is one edit."""
        if self.catalog is None or self.catalog_path is None:
            self.statusBar().showMessage("Open a photo folder first", 4000)
            return

        def answer(q: Question, yes: bool) -> None:
            if q.other_id is not None:
                pair = [q.person_id, q.other_id]
                self.apply_edit(
                    lambda: self.editor.merge(pair) if yes else self.editor.keep_apart(pair)
                )
            elif yes:
                self.apply_edit(
                    lambda: self.editor.move([q.face_id], q.person_id, "Yes, this is them")
                )
            else:
                self.apply_edit(lambda: self.editor.reject(q.face_id, q.person_id))

        dialog = ReviewDialog(self.catalog_path, self.catalog, self.thumbs, answer, self)
        self.review_dialog = dialog  # reachable for tests
        dialog.exec()
        dialog.deleteLater()

    # ---------------------------------------------------------------- faces
    def _faces_or_hint(self: MainWindow) -> list[int]:
        faces = self.selected_face_ids()
        if not faces:
            self.statusBar().showMessage("Select faces first (click, Ctrl+click, drag)", 4000)
        return faces

    def split_selected_faces(self: MainWindow) -> None:
        faces = self._faces_or_hint()
        if faces:
            new_id = self.apply_edit(lambda: self.editor.split(faces))
            if new_id is not None:
                self.show_person(new_id, select_tile=True)

    def move_faces(self: MainWindow, faces: list[int], person_id: int | None) -> None:
        """Dropping on a tile moves faces there; dropping on Unknown takes them out."""
        if not faces:
            return
        if person_id is None:
            self.apply_edit(lambda: self.editor.not_this_person(faces))
        else:
            self.apply_edit(lambda: self.editor.move(faces, person_id))

    def move_to_dialog(self: MainWindow) -> None:
        faces = self._faces_or_hint()
        if not faces or self.catalog is None:
            return
        dialog = MoveToDialog(self.people.model.rows(), self.thumbs, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.choice is not None:
            if dialog.choice == MoveToDialog.NEW_PERSON:
                new_id = self.apply_edit(lambda: self.editor.move(faces, None))
                if new_id is not None:
                    self.show_person(new_id, select_tile=True)
            else:
                self.move_faces(faces, dialog.choice)
        dialog.deleteLater()

    def not_this_person(self: MainWindow) -> None:
        faces = self._faces_or_hint()
        if faces:
            self.apply_edit(lambda: self.editor.not_this_person(faces))

    def not_a_face(self: MainWindow) -> None:
        faces = self._faces_or_hint()
        if faces:
            self.apply_edit(lambda: self.editor.not_a_face(faces))
            self.layout_dirty = True

    # ---------------------------------------------------------------- undo
    def undo(self: MainWindow) -> None:
        label = self.apply_edit(lambda: self.editor.undo())
        if label:
            self.statusBar().showMessage(f"Undone: {label}", 4000)
            self.layout_dirty = True

    def redo(self: MainWindow) -> None:
        label = self.apply_edit(lambda: self.editor.redo())
        if label:
            self.statusBar().showMessage(f"Redone: {label}", 4000)
            self.layout_dirty = True

    def update_undo_actions(self: MainWindow) -> None:
        undo = self.editor.undo_label() if self.editor else None
        redo = self.editor.redo_label() if self.editor else None
        allowed = self.edits_allowed()
        self.act["undo"].setEnabled(bool(undo) and allowed)
        self.act["redo"].setEnabled(bool(redo) and allowed)
        self.act["undo"].setText(f"&Undo {_short(undo)}" if undo else "&Undo")
        self.act["redo"].setText(f"&Redo {_short(redo)}" if redo else "&Redo")
        self.act["undo"].setToolTip(f"Undo {undo} (Ctrl+Z)" if undo else "Nothing to undo")
        self.act["redo"].setToolTip(f"Redo {redo} (Ctrl+Shift+Z)" if redo else "Nothing to redo")


def _short(label: str | None, limit: int = 48) -> str:
    text = label or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
