"""The faces panel's "Photos by Date": a person's whole photos, or the photos that show
all of the selected people, oldest first, exportable as one folder."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from faceorganizer.ui import jobs
from faceorganizer.ui.browser import Browser
from faceorganizer.ui.controller import LibraryController
from faceorganizer.ui.widgets.panels import FacesPanel
from faceorganizer.wording import count

NO_PERSON = "Select a person to see their photos (Ctrl+click several: the photos they are all in)"


class PhotosPresenter(QObject):
    """Keeps the photos page in step with the people selection and the library."""

    def __init__(
        self,
        controller: LibraryController,
        browser: Browser,
        faces: FacesPanel,
        export_together: Callable[[tuple[int, ...], str], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller, self.browser, self.faces = controller, browser, faces
        self.shown: tuple[int, ...] = ()
        controller.opened.connect(lambda: faces.photo_thumbs.set_root(controller.root))
        controller.closed.connect(lambda: faces.photo_thumbs.set_root(None))
        faces.show_photos.toggled.connect(self._toggled)
        browser.faces_shown.connect(self.refresh)  # after every grid read: edits, scans
        selection = browser.people.view.selectionModel()
        selection.selectionChanged.connect(lambda *_: self.refresh())
        faces.export_together.clicked.connect(
            lambda: export_together(self.shown, self.label(self.shown))
        )

    def person_ids(self) -> tuple[int, ...]:
        """Several selected people: all of them; else the person being shown."""
        selected = self.browser.selected_person_ids()
        if len(selected) > 1:
            return tuple(selected)
        current = self.browser.current_person_id()
        return () if current is None else (current,)

    def label(self, ids: tuple[int, ...]) -> str:
        return " & ".join(self.browser.person_name(p) for p in ids)

    def _toggled(self, photos: bool) -> None:
        """Photos: read them; faces again: their own heading (it kept "Photos of …")."""
        if photos:
            self.refresh()
        else:
            self.browser.show_heading()

    def refresh(self) -> None:
        if not self.faces.show_photos.isChecked():
            return
        ids = self.person_ids()
        self.shown = ids
        self.faces.export_together.setEnabled(False)
        if not ids:
            self._show(ids, [])
            return

        def read(library: jobs.Library) -> list:
            return library.catalog.photos_with_all(ids)

        self.controller.read(read, lambda photos: self._show(ids, photos))

    def _show(self, ids: tuple[int, ...], photos: list) -> None:
        if ids != self.shown or not self.faces.show_photos.isChecked():
            return  # the selection moved on; a newer read follows
        model = self.faces.photos.model_
        if photos != model.photos:  # a refresh with nothing new keeps the scroll position
            model.set_photos(photos)
        if not ids:
            title = "Photos"
        else:
            title = f"Photos {'with' if len(ids) > 1 else 'of'} {self.label(ids)}"
        self.faces.title.setText(title)
        self.faces.count.setText(count(len(photos), "photo") if ids else "")
        # Unsorted faces (or nothing) chosen: say what to pick instead of "0 photos"
        self.faces.photos.placeholder = "" if ids else NO_PERSON
        self.faces.photos.viewport().update()
        self.faces.export_together.setEnabled(bool(photos))
