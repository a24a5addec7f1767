"""The map tab: positions from the controller (cached in the catalog), colours by
person and missing photos' faces greyed from its snapshots, and selection shared with
the face grid."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QItemSelectionModel, QObject, Signal

from faceorganizer.ui import jobs
from faceorganizer.ui.browser import Browser
from faceorganizer.ui.controller import LibraryController
from faceorganizer.ui.widgets.panels import MapPanel
from faceorganizer.wording import count


class MapPresenter(QObject):
    """Keeps the scatter in step with the library and the face grid."""

    layout_ready = Signal()  # the final (UMAP or cached) positions are shown

    def __init__(
        self,
        controller: LibraryController,
        browser: Browser,
        panel: MapPanel,
        is_shown: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller, self.browser, self.panel = controller, browser, panel
        self.is_shown = is_shown
        scatter = panel.scatter
        scatter.person_name = browser.person_name
        controller.map_ids = lambda: scatter.face_ids() if scatter.count() else None
        controller.layout_arrived.connect(self._arrived)
        controller.layout_failed.connect(self._failed)
        controller.snapshot_ready.connect(self._recolour)
        browser.faces_selected.connect(self._grid_selected)
        scatter.face_clicked.connect(self.reveal_face)
        scatter.selection_changed.connect(browser.show_selection)

    def clear(self) -> None:
        scatter = self.panel.scatter
        scatter.set_points(np.zeros(0), np.zeros((0, 2)), np.zeros(0))
        scatter.message = "Computing the map…"

    def show(self) -> None:
        """The tab became visible (or the faces changed while it is)."""
        if not self.controller.map_layout.stale and self.panel.scatter.count():
            return
        if not self.panel.scatter.count():
            self.panel.scatter.message = "Computing the map…"
            self.panel.scatter.update()
        self.panel.status.setText("Loading the map…")
        self.controller.ensure_layout()

    def _arrived(self, layout: jobs.Layout) -> None:
        scatter = self.panel.scatter
        scatter.set_points(layout.face_ids, layout.xy, layout.persons)
        scatter.set_selected(self.browser.selected_face_ids())
        if not len(layout.face_ids):
            scatter.message = "No faces yet"
        self.panel.status.setText(
            count(len(layout.face_ids), "face")
            if layout.final
            else "Quick preview — computing the UMAP layout…"
        )
        if layout.final:
            self.layout_ready.emit()

    def _failed(self, exc: BaseException) -> None:
        self.panel.status.setText(f"Map failed: {exc}")
        self.panel.scatter.message = "The map could not be computed"
        self.panel.scatter.update()

    def _recolour(self, snapshot: jobs.Snapshot) -> None:
        scatter = self.panel.scatter
        scatter.set_greyed(snapshot.missing_faces)
        if snapshot.map_persons is not None and np.array_equal(
            snapshot.map_ids, scatter.face_ids()
        ):
            scatter.set_persons(snapshot.map_persons)
        if self.is_shown() and self.controller.map_layout.stale:
            self.show()

    def _grid_selected(self, face_ids: list[int]) -> None:
        if self.panel.scatter.count():
            self.panel.scatter.set_selected(face_ids)

    def reveal_face(self, face_id: int) -> None:
        """A click on the map: show that face among its person's faces, selected."""

        def found(state: tuple[int | None, int, int] | None) -> None:
            if state is None:
                return
            self.browser.show_person(state[0], select_tile=True)
            self.controller.read(lambda _library: None, lambda _: self._select_in_grid(face_id))

        def state(library: jobs.Library) -> tuple[int | None, int, int] | None:
            return library.catalog.face_state([face_id]).get(face_id)

        self.controller.read(state, found)

    def _select_in_grid(self, face_id: int) -> None:
        faces = self.browser.faces
        row = faces.model.row_of(face_id)
        if row >= 0:
            index = faces.model.index(row, 0)
            faces.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            faces.view.scrollTo(index)
