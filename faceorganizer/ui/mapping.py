"""The map tab of the window: layout in the background (cached in the catalog),
colours by person, and selection shared with the face grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel

from faceorganizer.ui import jobs
from faceorganizer.ui.workers import is_running, run_task

if TYPE_CHECKING:
    from faceorganizer.ui.main_window import MainWindow


class MapCommands:
    """Mixed into MainWindow; ``self`` is the window."""

    def _tab_changed(self: MainWindow, index: int) -> None:
        if index == 1:
            self.ensure_layout()

    def ensure_layout(self: MainWindow) -> None:
        """Positions for the map: from the catalog's cache, or computed in the
        background when the faces changed."""
        if self.catalog_path is None or (is_running(self.layout_task)):
            return
        if not self.layout_dirty and self.map.scatter.count():
            return
        self.layout_dirty = False
        if not self.map.scatter.count():
            self.map.scatter.message = "Computing the map…"
            self.map.scatter.update()
        self.map.status.setText("Loading the map…")
        self.layout_task = run_task(
            jobs.layout_job(self.catalog_path),
            self,
            on_progress=self._layout_arrived,
            on_result=self._layout_arrived,
            on_error=self._layout_failed,
        )

    def _layout_arrived(self: MainWindow, layout: jobs.Layout) -> None:
        self.map.scatter.set_points(layout.face_ids, layout.xy, layout.persons)
        self.map.scatter.set_selected(self.selected_face_ids())
        if not len(layout.face_ids):
            self.map.scatter.message = "No faces yet"
        self.map.status.setText(
            f"{len(layout.face_ids):,} faces"
            if layout.final
            else "Quick preview — computing the UMAP layout…"
        )
        if layout.final:
            self.layout_ready.emit()

    def _layout_failed(self: MainWindow, exc: BaseException) -> None:
        self.map.status.setText(f"Map failed: {exc}")
        self.map.scatter.message = "The map could not be computed"
        self.map.scatter.update()

    def reveal_face(self: MainWindow, face_id: int) -> None:
        """A click on the map: show that face among its person's faces, selected."""
        if self.catalog is None:
            return
        state = self.catalog.face_state([face_id]).get(face_id)
        if state is None:
            return
        self.show_person(state[0], select_tile=True)
        row = self.faces.model.row_of(face_id)
        if row >= 0:
            index = self.faces.model.index(row, 0)
            self.faces.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.faces.view.scrollTo(index)

    def show_selection(self: MainWindow, face_ids: list[int]) -> None:
        """A rubber band or lasso on the map: those faces in the grid, all selected."""
        if not face_ids:
            return
        self.face_source = ("selection", list(face_ids), True)  # True: all valid faces
        self._load_faces(reset_scroll=True)
        self._select_faces(list(face_ids))
        self.update_actions()
