"""The main window: open a library, scan it in the background, show people, faces and
the map, and offer the edits (see :mod:`faceorganizer.ui.editing`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import (
    QEventLoop,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QIcon,
)
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
)

from faceorganizer import __version__
from faceorganizer.core.library.edits import Editor
from faceorganizer.core.store.catalog import Catalog, CatalogError, default_catalog_path
from faceorganizer.ui import compute, jobs
from faceorganizer.ui.actions import build_actions, build_menus
from faceorganizer.ui.dialogs.common import PhotoViewer
from faceorganizer.ui.dialogs.export import ExportDialog
from faceorganizer.ui.dialogs.regroup import ClusterDialog
from faceorganizer.ui.editing import EditCommands
from faceorganizer.ui.mapping import MapCommands
from faceorganizer.ui.scanning import ScanCommands
from faceorganizer.ui.widgets.item_models import PERSON_ID_ROLE, UNKNOWN_LABEL
from faceorganizer.ui.widgets.panels import EmptyPage, FacesPanel, MapPanel, PeoplePanel, ScanStatus
from faceorganizer.ui.widgets.thumbs import Thumbnails
from faceorganizer.ui.workers import Task, is_running, run_task

MAX_RECENT = 8
LIVE_REFRESH_MS = 1500


def folder_from_mime(mime: object) -> Path | None:
    """The first local folder in a drag (a dropped photo means its folder)."""
    if not mime.hasUrls():  # type: ignore[attr-defined]
        return None
    for url in mime.urls():  # type: ignore[attr-defined]
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            if path.is_dir():
                return path
            if path.is_file():
                return path.parent
    return None


class MainWindow(EditCommands, ScanCommands, MapCommands, QMainWindow):
    """One library at a time; everything slow runs in workers."""

    library_opened = Signal()
    scan_finished = Signal(object)  # ScanSummary, or the exception
    layout_ready = Signal()
    refreshed = Signal()

    def __init__(
        self,
        settings: QSettings | None = None,
        catalog_override: Path | None = None,
        icon: QIcon | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.catalog_override = catalog_override
        self.app_icon = icon or QIcon()
        self.thumbs = Thumbnails()
        self.catalog: Catalog | None = None
        self.editor: Editor | None = None
        self.catalog_path: Path | None = None
        self.root: Path | None = None
        self.scan_task: Task | None = None
        self.scan_stage = ""
        self.layout_task: Task | None = None
        self.recluster_task: Task | None = None
        self.last_summary: object | None = None
        self.face_source: tuple = ("none",)
        self.layout_dirty = True
        self.split_dialog: object | None = None
        self.review_dialog: object | None = None
        self.export_dialog: ExportDialog | None = None
        self.cluster_dialog: ClusterDialog | None = None
        self.snapshot_task: Task | None = None
        self.names: dict[int, str] = {}
        self._refresh_wanted = False
        self._pending_tile: int | None = None
        self._serial = 0  # of the latest library read; older results are dropped
        self._closing = False

        self.setWindowTitle("faceorganizer")
        self.setWindowIcon(self.app_icon)
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        self.act = build_actions(self)
        self._build_ui()
        self.recent_menu = build_menus(self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._build_status()
        self._live = QTimer(self, interval=LIVE_REFRESH_MS)
        self._live.timeout.connect(self.live_refresh)
        self._restore_state()
        self.update_actions()

    # ================================================================ construction
    def _build_ui(self) -> None:
        self.stack = QStackedWidget()
        self.empty = EmptyPage(self.app_icon)
        self.empty.open_clicked.connect(self.choose_folder)
        self.empty.recent_clicked.connect(lambda f: self.open_folder(Path(f)))
        self.stack.addWidget(self.empty)

        self.people = PeoplePanel(self.thumbs)
        self.faces = FacesPanel(self.thumbs)
        self.map = MapPanel()
        self.map.scatter.thumbnail = lambda f, side, dpr: self.thumbs.pixmap(f, side, dpr, 6)
        self.map.scatter.person_name = self._person_name
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.people, "People")
        self.tabs.addTab(self.map, "Map")
        self.tabs.currentChanged.connect(self._tab_changed)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.faces)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.stack.addWidget(self.splitter)
        self.setCentralWidget(self.stack)

        model = self.people.model
        model.faces_dropped.connect(self.move_faces)
        model.persons_dropped.connect(lambda ids, target: self.merge_people([*ids, target], target))
        model.rename_requested.connect(self.rename_person)
        view = self.people.view
        view.selectionModel().currentChanged.connect(self._person_current_changed)
        view.selectionModel().selectionChanged.connect(lambda *_: self.update_actions())
        view.open_requested.connect(self._open_person_index)
        self.people.show_hidden.toggled.connect(self.act["show_hidden"].setChecked)
        self.act["show_hidden"].toggled.connect(self.people.show_hidden.setChecked)
        self.faces.view.selectionModel().selectionChanged.connect(self._faces_selection_changed)
        self.faces.view.open_face.connect(self.open_photo)
        scatter = self.map.scatter
        scatter.face_clicked.connect(self.reveal_face)
        scatter.selection_changed.connect(self.show_selection)
        scatter.face_activated.connect(self.open_photo)

    def _build_status(self) -> None:
        status = self.statusBar()
        self.scan_status = ScanStatus()
        self.scan_status.cancel_clicked.connect(self.cancel_scan)
        self.scan_status.hide()
        status.addPermanentWidget(self.scan_status)
        self.skipped_label = QLabel()
        self.skipped_label.setTextFormat(Qt.TextFormat.RichText)
        self.skipped_label.linkActivated.connect(lambda _: self.show_skipped())
        self.skipped_label.setToolTip("Click to see which files and why")
        self.skipped_label.hide()
        status.addPermanentWidget(self.skipped_label)
        self.counts_label = QLabel()
        status.addPermanentWidget(self.counts_label)

    # ================================================================ settings
    def _restore_state(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = s.value("window/state")
        if state is not None:
            self.restoreState(state)
        splitter = s.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        else:
            self.splitter.setSizes([720, 560])
        self.act["show_hidden"].setChecked(s.value("view/show_hidden", False, bool))
        self.faces.view.set_side(int(s.value("view/face_size", 104, int)))

    def _save_state(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("view/show_hidden", self.act["show_hidden"].isChecked())
        s.setValue("view/face_size", self.faces.view.face_delegate.side)
        s.sync()

    def recent_folders(self) -> list[str]:
        value = self.settings.value("recent/folders", [])
        folders = [value] if isinstance(value, str) else list(value or [])
        return [f for f in folders if f]

    def _remember(self, folder: Path) -> None:
        folders = [str(folder)] + [f for f in self.recent_folders() if f != str(folder)]
        self.settings.setValue("recent/folders", folders[:MAX_RECENT])
        self.empty.set_recent(self.recent_folders())

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        folders = self.recent_folders()
        for folder in folders:
            action = self.recent_menu.addAction(folder)
            action.triggered.connect(lambda _=False, f=folder: self.open_folder(Path(f)))
        if not folders:
            self.recent_menu.addAction("No recent folders").setEnabled(False)

    # ================================================================ opening
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if folder_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
            self.empty.set_dragging(True)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.empty.set_dragging(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self.empty.set_dragging(False)
        folder = folder_from_mime(event.mimeData())
        if folder is not None:
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.open_folder(folder))  # let the drag end first

    def choose_folder(self) -> None:
        start = self.recent_folders()[0] if self.recent_folders() else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a photo folder", start)
        if folder:
            self.open_folder(Path(folder))

    def open_folder(self, folder: Path, scan: bool = True) -> bool:
        """Show the folder's library at once from its catalog, then scan for changes."""
        folder = Path(folder).expanduser().resolve()
        if not folder.is_dir():
            QMessageBox.warning(self, "Not a folder", f"{folder} is not a folder.")
            return False
        path = self.catalog_override or default_catalog_path(folder)
        if not self._open_catalog(path, folder):
            return False
        self._remember(folder)
        if scan:
            self.start_scan()
        return True

    def open_catalog(self, path: Path) -> bool:
        """Open an existing catalog (``--catalog``) without scanning."""
        return self._open_catalog(Path(path), None)

    def _open_catalog(self, path: Path, root: Path | None) -> bool:
        self._serial += 1  # results of reads still under way are for the old library
        if not self._stop_tasks():
            return False
        try:
            catalog = Catalog(path, root=root)
        except (CatalogError, OSError) as exc:
            QMessageBox.critical(self, "Cannot open the library", str(exc))
            return False
        if self.catalog is not None:
            self.catalog.close()
        self.statusBar().clearMessage()
        self.catalog, self.catalog_path = catalog, path
        self.root = catalog.root
        self.editor = Editor(catalog)
        self.thumbs.set_source(catalog.thumbnail)
        self.last_summary = None
        self.layout_dirty = True
        self.names = {}
        self.map.scatter.set_points(np.zeros(0), np.zeros((0, 2)), np.zeros(0))
        self.map.scatter.message = "Computing the map…"
        self.faces.model.set_catalog(catalog)
        self.face_source = ("none",)
        self.people.model.set_rows([])
        name = self.root.name if self.root else path.stem
        self.setWindowTitle(f"{name} — faceorganizer")
        self.stack.setCurrentIndex(1)
        self.refresh_all()
        if self.tabs.currentIndex() == 1:
            self.ensure_layout()
        self.library_opened.emit()
        return True

    # ================================================================ refreshing
    def refresh_all(self) -> None:
        """After an edit, a scan or an undo: every view shows the catalog again.

        The people list and per-face colours are read in a worker (at 50 000 faces the
        queries take a few hundred ms); requests arriving meanwhile are merged into one
        more read. ``refreshed`` fires when the views show the new state."""
        if self.catalog_path is None:
            return
        self._refresh_wanted = True
        self.update_actions()
        if not is_running(self.snapshot_task):
            self._start_snapshot()

    def _start_snapshot(self) -> None:
        assert self.catalog_path is not None
        self._refresh_wanted = False
        scatter = self.map.scatter
        self._serial += 1
        self.snapshot_task = run_task(
            jobs.snapshot_job(
                self._serial,
                self.catalog_path,
                self.act["show_hidden"].isChecked(),
                scatter.face_ids() if scatter.count() else None,
            ),
            self,
            on_result=self._apply_snapshot,
            on_error=lambda exc: self.statusBar().showMessage(f"Cannot read the library: {exc}"),
        )
        self.snapshot_task.done.connect(self._snapshot_done)

    def _snapshot_done(self) -> None:
        if self._refresh_wanted and not self._closing:
            self._start_snapshot()

    def _apply_snapshot(self, snapshot: jobs.Snapshot) -> None:
        stale = snapshot.serial != self._serial or snapshot.catalog_path != self.catalog_path
        if stale or self._refresh_wanted:
            return  # read before the library changed or was reopened: a newer read follows
        selected = self.selected_person_ids()
        current = self.people.view.currentIndex().data(PERSON_ID_ROLE)
        self.names = snapshot.names
        self.people.model.set_rows(snapshot.rows)
        if self._pending_tile is not None:
            selected, current = [self._pending_tile], self._pending_tile
            self._pending_tile = None
        self._reselect(selected, current)
        if self.face_source == ("none",) and self.people.proxy.rowCount():
            self.people.view.setCurrentIndex(self.people.proxy.index(0, 0))
        self._load_faces()
        scatter = self.map.scatter
        if snapshot.map_persons is not None and np.array_equal(
            snapshot.map_ids, scatter.face_ids()
        ):
            scatter.set_persons(snapshot.map_persons)
        people = sum(1 for r in snapshot.rows if r.person_id is not None)
        self.counts_label.setText(f"{snapshot.faces:,} faces · {people:,} people")
        if people:
            self.people.count.setText(f"{people:,} {'person' if people == 1 else 'people'}")
        else:
            self.people.count.setText("No people yet")
        waiting = self.is_scanning() and not people
        self.people.hint.setVisible(waiting)
        self._update_skipped(snapshot.errors)
        self.update_actions()
        if self.tabs.currentIndex() == 1 and self.layout_dirty:
            self.ensure_layout()
        self.refreshed.emit()

    def _reselect(self, person_ids: list[int], current: int | None) -> None:
        view = self.people.view
        selection = view.selectionModel()
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

    def person_index(self, person_id: int | None) -> QModelIndex | None:
        row = self.people.model.row_of(person_id)
        if row < 0:
            return None
        index = self.people.proxy.mapFromSource(self.people.model.index(row, 0))
        return index if index.isValid() else None

    def update_actions(self) -> None:
        has_library = self.catalog is not None
        allowed = self.edits_allowed()
        people = self.selected_person_ids()
        person = self.current_person_id()
        self.act["rescan"].setEnabled(
            has_library and self.root is not None and not self.is_scanning()
        )
        self.act["cancel"].setEnabled(self.is_scanning())
        self.act["export"].setEnabled(has_library)
        self.act["regroup"].setEnabled(has_library and allowed)
        self.act["merge"].setEnabled(allowed and len(people) >= 2)
        for key in ("rename", "hide", "split_auto"):
            self.act[key].setEnabled(allowed and person is not None)
        faces = self.faces.view.selectionModel().hasSelection()
        for key in ("split", "move", "not_person", "not_face", "open_photo"):
            self.act[key].setEnabled((allowed or key == "open_photo") and faces)
        self.act["map_tab"].setEnabled(has_library)
        self.update_undo_actions()

    # ================================================================ people & faces
    def _person_name(self, person_id: int) -> str:
        if person_id not in self.names and self.catalog is not None:
            self.names = self.catalog.person_names()
        return self.names.get(person_id, f"Person {person_id}")

    def _person_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        person = current.data(PERSON_ID_ROLE)
        self.face_source = ("unknown",) if person is None else ("person", int(person))
        self._load_faces(reset_scroll=True)
        self.update_actions()

    def _open_person_index(self, index: QModelIndex) -> None:
        self._person_current_changed(index, QModelIndex())
        self.faces.view.setFocus()

    def show_person(self, person_id: int | None, select_tile: bool = False) -> None:
        self.face_source = ("unknown",) if person_id is None else ("person", int(person_id))
        if select_tile:
            index = self.person_index(person_id)
            if index is not None:
                self.people.view.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                )
                self.people.view.scrollTo(index)
            else:
                self._pending_tile = person_id  # a new person: select it once listed
        self._load_faces(reset_scroll=True)
        self.update_actions()

    def show_people_tab(self) -> None:
        self.tabs.setCurrentIndex(0)

    def show_map_tab(self) -> None:
        self.tabs.setCurrentIndex(1)

    def _load_faces(self, reset_scroll: bool = False) -> None:
        """Fill the face grid from the current source, keeping the selected faces."""
        if self.catalog is None:
            return
        kind = self.face_source[0]
        if kind == "person":
            person = int(self.face_source[1])
            faces = self.catalog.faces_of_person(person)
            title = self._person_name(person)
        elif kind == "unknown":
            faces = self.catalog.faces_of_person(None)
            title = UNKNOWN_LABEL
        elif kind == "selection":
            faces = list(self.face_source[1])
            if not self.face_source[2]:  # after edits: drop faces marked "not a face"
                state = self.catalog.face_state(faces)
                faces = [f for f in faces if f in state and not state[f][2]]
            self.face_source = ("selection", faces, False)
            title = "Selected on the map"
        else:
            faces, title = [], "Faces"
        kept = set(self.selected_face_ids())
        self.faces.model.set_faces(faces)
        self.faces.title.setText(title)
        self.faces.count.setText(f"{len(faces):,} face{'s' if len(faces) != 1 else ''}")
        self._select_faces([f for f in faces if f in kept])
        if reset_scroll:
            self.faces.view.scrollToTop()
        self._faces_selection_changed()

    def _select_faces(self, face_ids: list[int]) -> None:
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

    def _faces_selection_changed(self, *_args: object) -> None:
        ranges = self.faces.view.selectionModel().selection()
        self.faces.set_selected(sum(part.height() for part in ranges))
        if self.map.scatter.count():
            self.map.scatter.set_selected(self.selected_face_ids())
        self.update_actions()

    def open_selected_photo(self) -> None:
        faces = self.selected_face_ids()
        if faces:
            self.open_photo(faces[0])

    def open_photo(self, face_id: int) -> None:
        if self.catalog is None:
            return
        viewer = PhotoViewer(self.catalog, face_id, self)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.photo_viewer = viewer
        viewer.show()

    # ================================================================ dialogs
    def set_show_hidden(self, show: bool) -> None:
        self.refresh_all()

    def show_export(self) -> None:
        if self.catalog_path is None:
            return
        if self.export_dialog is None or self.export_dialog.catalog_path != self.catalog_path:
            self.export_dialog = ExportDialog(self.catalog_path, self.settings, self)
        self.export_dialog.show()
        self.export_dialog.raise_()

    def show_cluster_controls(self) -> None:
        if self.catalog_path is None:
            return
        if self.cluster_dialog is None:
            self.cluster_dialog = ClusterDialog(self.settings, self)
            self.cluster_dialog.apply_requested.connect(self.regroup)
        people = sum(1 for p in self.people.model.person_ids() if p is not None)
        self.cluster_dialog.open_for(self.catalog_path, people)

    def regroup(self, algorithm: str, threshold: float) -> None:
        """Re-cluster everything in a worker as one undoable edit."""
        if self.catalog_path is None or not self.edits_allowed() or self.is_scanning():
            self.statusBar().showMessage("Wait for the scan to finish, then regroup", 5000)
            return
        self.statusBar().showMessage("Regrouping faces…")
        self.recluster_task = run_task(
            jobs.recluster_job(self.catalog_path, algorithm, threshold),
            self,
            on_result=lambda r: self.statusBar().showMessage(
                f"Regrouped: {r.people} people, {r.unassigned} faces unassigned", 8000
            ),
            on_error=lambda e: QMessageBox.warning(self, "Regrouping failed", str(e)),
        )
        self.recluster_task.done.connect(self.refresh_all)
        self.update_actions()

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About faceorganizer",
            f"<h3>faceorganizer {__version__}</h3><p>Groups the faces in your photos by "
            "person, offline. Your photos never leave this computer and are never "
            "changed.</p>",
        )

    # ================================================================ shutdown
    def _tasks(self) -> list[Task]:
        return [t for t in self.findChildren(Task) if t.running]

    def _stop_tasks(self, timeout_ms: int = 120_000) -> bool:
        """Cancel all work and wait for it (a scan stops after the photos in flight)."""
        tasks = self._tasks()
        if not tasks:
            return True
        for task in tasks:
            task.cancel()
        loop = QEventLoop()
        timer = QTimer(singleShot=True, interval=timeout_ms)
        timer.timeout.connect(loop.quit)
        check = QTimer(interval=50)
        check.timeout.connect(lambda: loop.quit() if not self._tasks() else None)
        check.start()
        timer.start()
        loop.exec()
        check.stop()
        return not self._tasks()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing:  # closed already (e.g. again when the application quits)
            event.accept()
            return
        self._closing = True
        self._save_state()
        if self._tasks():
            self.hide()  # the window goes at once; work in flight ends in the background
            self._stop_tasks()
        compute.shutdown_helper()
        for task in self.findChildren(Task):
            task.wait(5000)
        if self.catalog is not None:
            self.catalog.close()
            self.catalog = None
        for dialog in self.findChildren(QDialog):
            dialog.close()
        event.accept()
