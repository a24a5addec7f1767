"""The people grid and the face grid: what they show, what is selected, in step.

:class:`Browser` turns the controller's snapshots into tiles, loads the face grid for
the current :data:`FaceSource` through the controller's queue (so a grid read after an
edit shows it), and keeps the selection across refreshes. It issues no edits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QObject, Signal

from faceorganizer.core.store.catalog import default_person_name
from faceorganizer.ui import jobs
from faceorganizer.ui.controller import LibraryController
from faceorganizer.ui.widgets.item_models import PERSON_ID_ROLE, UNKNOWN_LABEL, Row
from faceorganizer.ui.widgets.panels import NO_FACES_TITLE, FacesPanel, PeoplePanel
from faceorganizer.wording import count


# ---------------------------------------------------------------------- what the grid shows
@dataclass(frozen=True)
class NoFaces:
    """Nothing chosen yet."""

    def read(self, library: jobs.Library) -> list[int]:
        return []


@dataclass(frozen=True)
class PersonFaces:
    person_id: int

    def read(self, library: jobs.Library) -> list[int]:
        return library.catalog.faces_of_person(self.person_id)


@dataclass(frozen=True)
class UnknownFaces:
    """Faces without a person."""

    def read(self, library: jobs.Library) -> list[int]:
        return library.catalog.faces_of_person(None)


@dataclass(frozen=True)
class MapSelection:
    """Faces picked on the map; after an edit, those still faces (not marked otherwise)."""

    face_ids: tuple[int, ...]

    def read(self, library: jobs.Library) -> list[int]:
        state = library.catalog.face_state(self.face_ids)
        return [f for f in self.face_ids if f in state and not state[f][2]]


FaceSource = NoFaces | PersonFaces | UnknownFaces | MapSelection


def source_for(person_id: int | None) -> FaceSource:
    return UnknownFaces() if person_id is None else PersonFaces(int(person_id))


@dataclass
class Expected:
    """How the tiles and the grid will look once a queued edit is written: shown at
    once, so a click answers within a frame; the snapshot after the write confirms it."""

    counts: dict[int | None, int] = field(default_factory=dict)  # tile: faces gained/lost
    gone: set[int] = field(default_factory=set)  # tiles that disappear
    names: dict[int, str] = field(default_factory=dict)  # renamed tiles
    hidden: set[int] = field(default_factory=set)  # tiles hidden (gone unless shown)
    faces_out: set[int] = field(default_factory=set)  # faces leaving the grid

    def rows(self, rows: list[Row], show_hidden: bool) -> list[Row]:
        out = []
        for row in rows:
            person = row.person_id
            if person in self.gone or (person in self.hidden and not show_hidden):
                continue
            if person in self.names:
                name = self.names[person].strip()
                row = row._replace(title=name or row.title, named=bool(name))
            if person in self.hidden:
                row = row._replace(hidden=True)
            if person in self.counts:
                row = row._replace(faces=max(0, row.faces + self.counts[person]))
                if row.faces == 0:
                    continue  # emptied: the next read will not list it either
            out.append(row)
        return out


class Browser(QObject):
    """People tiles and the face grid of one library (see the module docstring)."""

    selection_changed = Signal()  # people or faces selection: actions re-enable
    faces_selected = Signal(list)  # face ids selected in the grid (for the map)
    faces_shown = Signal()  # the grid shows its source's faces
    refreshed = Signal()  # the views show the latest snapshot, grid included

    def __init__(
        self,
        controller: LibraryController,
        people: PeoplePanel,
        faces: FacesPanel,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller, self.people, self.faces = controller, people, faces
        self.face_source: FaceSource = NoFaces()
        self.names: dict[int, str] = {}
        self._pending_tile: int | None = None
        self._chosen = False  # a grid was shown: no more picking the first tile for it
        controller.snapshot_ready.connect(self.apply_snapshot)
        view = people.view
        view.selectionModel().currentChanged.connect(self._current_changed)
        view.selectionModel().selectionChanged.connect(lambda *_: self.selection_changed.emit())
        view.open_requested.connect(self._open_index)
        faces.view.selectionModel().selectionChanged.connect(self._faces_selection_changed)

    def clear(self) -> None:
        """A library closes or opens: show nothing of the old one."""
        self.names = {}
        self.face_source = NoFaces()
        self._chosen = False
        self.people.model.set_rows([])
        self.faces.model.set_faces([])
        self._heading(NoFaces(), 0)

    # ---------------------------------------------------------------- selection
    def selected_person_ids(self) -> list[int]:
        """Selected people in tile order (largest first); Unknown is not a person."""
        rows = sorted(self.people.view.selectionModel().selectedIndexes(), key=lambda i: i.row())
        ids = [i.data(PERSON_ID_ROLE) for i in rows]
        return [int(p) for p in ids if p is not None]

    def current_person_id(self) -> int | None:
        """The person whose faces are shown, else the first selected tile."""
        if isinstance(self.face_source, PersonFaces):
            return self.face_source.person_id
        selected = self.selected_person_ids()
        return selected[0] if selected else None

    def selected_face_ids(self) -> list[int]:
        """In grid order; read from the selection's ranges, so 50 000 selected faces
        do not mean 50 000 index objects."""
        ranges = self.faces.view.selectionModel().selection()
        rows = sorted({r for part in ranges for r in range(part.top(), part.bottom() + 1)})
        return self.faces.model.faces_at(rows)

    def person_name(self, person_id: int) -> str:
        return self.names.get(person_id) or default_person_name(person_id)

    def person_index(self, person_id: int | None) -> QModelIndex | None:
        row = self.people.model.row_of(person_id)
        if row < 0:
            return None
        index = self.people.proxy.mapFromSource(self.people.model.index(row, 0))
        return index if index.isValid() else None

    def select_faces(self, face_ids: list[int]) -> None:
        """Select faces in the grid with one range per run of rows (fast for 50 000)."""
        selection = self.faces.view.selectionModel()
        wanted = set(face_ids)
        if wanted == set(self.selected_face_ids()):
            return
        model = self.faces.model
        rows = sorted(r for r in (model.row_of(f) for f in wanted) if r >= 0)
        ranges = QItemSelection()
        start = previous = None
        for row in [*rows, None]:
            if row is not None and previous is not None and row == previous + 1:
                previous = row
                continue
            if start is not None:
                ranges.select(model.index(start, 0), model.index(previous, 0))
            start = previous = row
        selection.select(ranges, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _reselect(self, person_ids: list[int], current: int | None) -> None:
        selection = self.people.view.selectionModel()
        indexes = [self.person_index(p) for p in person_ids]
        wanted = {i.row() for i in indexes if i is not None}
        have = {i.row() for i in selection.selectedIndexes()}
        if wanted == have:
            return
        selection.clearSelection()
        for index in indexes:
            if index is not None:
                selection.select(index, QItemSelectionModel.SelectionFlag.Select)
        current_index = self.person_index(current) if current is not None else None
        if current_index is not None:
            selection.setCurrentIndex(current_index, QItemSelectionModel.SelectionFlag.NoUpdate)

    def _faces_selection_changed(self, *_args: object) -> None:
        ranges = self.faces.view.selectionModel().selection()
        self.faces.set_selected(sum(part.height() for part in ranges))
        self.faces_selected.emit(self.selected_face_ids())
        self.selection_changed.emit()

    # ---------------------------------------------------------------- choosing faces
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.show_source(source_for(current.data(PERSON_ID_ROLE)))

    def _open_index(self, index: QModelIndex) -> None:
        self._current_changed(index, QModelIndex())
        self.faces.view.setFocus()

    def show_person(self, person_id: int | None, select_tile: bool = False) -> None:
        """Show a person's faces; ``select_tile``: also select (and scroll to) the tile,
        once it is listed if the person is new."""
        if select_tile:
            index = self.person_index(person_id)
            if index is not None:
                self.people.view.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                )
                self.people.view.scrollTo(index)
            else:
                self._pending_tile = person_id
        self.show_source(source_for(person_id))

    def show_selection(self, face_ids: list[int]) -> None:
        """Faces chosen on the map: those faces in the grid, all selected."""
        if face_ids:
            self.show_source(MapSelection(tuple(face_ids)), select=list(face_ids))

    def show_source(self, source: FaceSource, select: list[int] | None = None) -> None:
        """Show these faces (read again even if shown: an edit may be under way)."""
        changed = source != self.face_source
        self.face_source = source
        self._chosen = self._chosen or not isinstance(source, NoFaces)
        self.load_faces(reset_scroll=changed, select=select)
        self.selection_changed.emit()

    def load_faces(
        self,
        reset_scroll: bool = False,
        select: list[int] | None = None,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Fill the grid from the current source (read after every queued edit), keeping
        the selected faces, or selecting ``select``."""
        source = self.face_source

        def arrived(faces: list[int]) -> None:
            if source != self.face_source:
                return  # the user moved on meanwhile; a newer read follows
            kept = set(self.selected_face_ids() if select is None else select)
            self.faces.model.set_faces(faces)
            self._heading(source, len(faces))
            self.select_faces([f for f in faces if f in kept])
            if reset_scroll:
                self.faces.view.scrollToTop()
            self._faces_selection_changed()
            self.faces_shown.emit()
            if then is not None:
                then()

        self.controller.read(source.read, arrived)

    def show_heading(self) -> None:
        """The grid's own title and count again (Photos by Date had put its own there)."""
        self._heading(self.face_source, len(self.faces.model.face_ids()))

    def _heading(self, source: FaceSource, faces: int) -> None:
        """Title and count of the grid; Rename and Split… only for a person."""
        shown = None if isinstance(source, NoFaces) else faces
        self.faces.set_heading(self._title(source), shown, isinstance(source, PersonFaces))

    def _title(self, source: FaceSource) -> str:
        if isinstance(source, PersonFaces):
            return self.person_name(source.person_id)
        if isinstance(source, UnknownFaces):
            return UNKNOWN_LABEL
        if isinstance(source, MapSelection):
            return "Selected on the map"
        return NO_FACES_TITLE

    # ---------------------------------------------------------------- refreshing
    def expect(self, expected: Expected) -> None:
        """Show a queued edit's result now (see :class:`Expected`)."""
        self._show_rows(expected.rows(self.people.model.rows(), self.controller.show_hidden))
        if expected.faces_out:
            kept = [f for f in self.faces.model.face_ids() if f not in expected.faces_out]
            selected = set(self.selected_face_ids()) - expected.faces_out
            self.faces.model.set_faces(kept)
            self._heading(self.face_source, len(kept))
            self.select_faces(sorted(selected))
            self._faces_selection_changed()
        self.selection_changed.emit()

    def grid_person(self) -> int | None | bool:
        """The person whose faces the grid shows (None: Unknown), False for other grids."""
        source = self.face_source
        if isinstance(source, PersonFaces):
            return source.person_id
        return None if isinstance(source, UnknownFaces) else False

    def _show_rows(self, rows: list[Row]) -> None:
        """New tiles, keeping the selected and current ones."""
        selected = self.selected_person_ids()
        current = self.people.view.currentIndex().data(PERSON_ID_ROLE)
        self.people.model.set_rows(rows)
        if self._pending_tile is not None and self.people.model.row_of(self._pending_tile) >= 0:
            selected, current = [self._pending_tile], self._pending_tile
            self._pending_tile = None
        self._reselect(selected, current)
        self._close_gone_person()

    def _close_gone_person(self) -> None:
        """A person (or Unknown) whose tile went (merged away, emptied, hidden) is not
        left open with buttons that no longer apply: the grid shows nothing instead."""
        person = self.grid_person()
        if person is False or person == self._pending_tile:
            return
        if self.people.model.row_of(person) < 0:  # type: ignore[arg-type]
            self.face_source = NoFaces()
            self.faces.model.set_faces([])
            self._heading(NoFaces(), 0)
            self._faces_selection_changed()

    def apply_snapshot(self, snapshot: jobs.Snapshot) -> None:
        """Show a fresh read of the library, keeping what the user had selected."""
        self.names = snapshot.names
        self._show_rows(snapshot.rows)
        if not self._chosen and self.people.proxy.rowCount():  # a library opens
            self.people.view.setCurrentIndex(self.people.proxy.index(0, 0))
        people = sum(1 for r in snapshot.rows if r.person_id is not None)
        if people:
            self.people.count.setText(count(people, "person"))
        else:
            self.people.count.setText("No people yet")
        self.people.hint.setVisible(self.controller.is_scanning() and not people)
        self.load_faces(then=self._shown_latest)

    def _shown_latest(self) -> None:
        """``refreshed`` only for the newest read: an older one may finish after a newer
        request (say, Show Hidden) or after an edit was queued, and must not pass for
        their answer."""
        if not self.controller.refreshing():
            self.refreshed.emit()
