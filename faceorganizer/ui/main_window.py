"""The main window: builds the widgets and wires them to the library controller.

Behaviour lives elsewhere: :mod:`controller` (the library, its queue and what may run
together), :mod:`browser` (people and face grids), :mod:`mapping` (the map tab),
:mod:`scanning` (scan progress), :mod:`commands` (edits), :mod:`trust` (missing photos,
refused scans, damaged catalogs). This module only composes
them, and keeps the window's own state (geometry, recent folders, drops).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
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
    QVBoxLayout,
    QWidget,
)

from faceorganizer import __version__
from faceorganizer.core.store.catalog import default_catalog_path
from faceorganizer.ui.actions import build_actions, build_menus
from faceorganizer.ui.browser import Browser
from faceorganizer.ui.commands import Commands
from faceorganizer.ui.controller import LibraryController
from faceorganizer.ui.dialogs.common import PhotoViewer
from faceorganizer.ui.dialogs.export import ExportDialog
from faceorganizer.ui.dialogs.regroup import ClusterDialog
from faceorganizer.ui.mapping import MapPresenter
from faceorganizer.ui.photos import PhotosPresenter
from faceorganizer.ui.scanning import ScanPresenter
from faceorganizer.ui.trust import TrustPresenter
from faceorganizer.ui.widgets.banner import MissingBanner
from faceorganizer.ui.widgets.panels import EmptyPage, FacesPanel, MapPanel, PeoplePanel, ScanStatus
from faceorganizer.ui.widgets.thumbs import Thumbnails
from faceorganizer.wording import count

MAX_RECENT = 8
MAP_TAB = 1


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


class MainWindow(QMainWindow):
    """One library at a time; everything slow runs off the GUI thread."""

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
        self.thumbs = Thumbnails(self)
        self.export_dialog: ExportDialog | None = None
        self.cluster_dialog: ClusterDialog | None = None
        self._closing = False

        self.setWindowTitle("faceorganizer")
        self.setWindowIcon(self.app_icon)
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        self._build_ui()
        self.controller = LibraryController(self.settings, self)
        self.browser = Browser(self.controller, self.people, self.faces, self)
        self.photos = PhotosPresenter(
            self.controller, self.browser, self.faces, self.show_export_together, self
        )
        self.mapping = MapPresenter(
            self.controller, self.browser, self.map, lambda: self.tabs.currentIndex() == MAP_TAB
        )
        self._build_status()
        self.scanning = ScanPresenter(self.controller, self.scan_status, self.skipped_label, self)
        self.commands = Commands(
            self.controller, self.browser, self.thumbs, self, self.statusBar().showMessage
        )
        self.act = build_actions(self, self._bindings())
        self.banner = MissingBanner([self.act["rescan"], self.act["forget_missing"]])
        self.library_page.layout().insertWidget(0, self.banner)
        self.trust = TrustPresenter(self.controller, self.banner, self.thumbs, self)
        self.commands.showing_hidden = self.act["show_hidden"].isChecked
        self.recent_menu = build_menus(self, self.act, self.people, self.faces)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._connect()
        self._restore_state()
        self.update_actions()

    # ================================================================ construction
    def _bindings(self) -> dict[str, object]:
        """What each command of :mod:`actions` does."""
        c, commands = self.controller, self.commands
        return {
            "open": self.choose_folder,
            "rescan": c.start_scan,
            "cancel": self.scanning.cancel,
            "forget_missing": lambda: self.trust.forget_missing(),
            "export": self.show_export,
            "quit": self.close,
            "undo": commands.undo,
            "redo": commands.redo,
            "rename": self._rename_current,
            "merge": commands.merge_selected,
            "hide": commands.toggle_hidden,
            "split_auto": commands.split_automatically,
            "split": commands.split_selected_faces,
            "move": commands.move_to_dialog,
            "not_person": commands.not_this_person,
            "not_face": commands.not_a_face,
            "open_photo": self.open_selected_photo,
            "people_tab": lambda: self.tabs.setCurrentIndex(0),
            "map_tab": lambda: self.tabs.setCurrentIndex(MAP_TAB),
            "show_hidden": self._set_show_hidden,
            "regroup": self.show_cluster_controls,
            "review": commands.review_suggestions,
            "about": self.about,
        }

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
        self.thumbs.ready.connect(self.map.scatter.update)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.people, "People")
        self.tabs.addTab(self.map, "Map")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.faces)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.library_page = QWidget()  # the missing-photos banner goes above the splitter
        page = QVBoxLayout(self.library_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.setSpacing(0)
        page.addWidget(self.splitter, 1)
        self.stack.addWidget(self.library_page)
        self.setCentralWidget(self.stack)

    def _build_status(self) -> None:
        status = self.statusBar()
        self.scan_status = ScanStatus()
        self.scan_status.hide()
        status.addPermanentWidget(self.scan_status)
        self.skipped_label = QLabel()
        self.skipped_label.setTextFormat(Qt.TextFormat.RichText)
        self.skipped_label.setToolTip("Click to see which files and why")
        self.skipped_label.hide()
        status.addPermanentWidget(self.skipped_label)
        self.counts_label = QLabel()
        status.addPermanentWidget(self.counts_label)

    def _connect(self) -> None:
        c, commands = self.controller, self.commands
        c.opened.connect(self._library_opened)
        c.closed.connect(self._library_closed)
        c.busy_changed.connect(self.update_actions)
        c.snapshot_ready.connect(self._show_counts)
        c.message.connect(self.statusBar().showMessage)
        c.problem.connect(lambda title, text: QMessageBox.warning(self, title, text))
        self.browser.selection_changed.connect(self.update_actions)
        model = self.people.model
        model.faces_dropped.connect(commands.move_faces)
        model.persons_dropped.connect(lambda ids, to: commands.merge_people([*ids, to], to))
        model.rename_requested.connect(commands.rename_person)
        self.people.show_hidden.toggled.connect(self.act["show_hidden"].setChecked)
        self.act["show_hidden"].toggled.connect(self.people.show_hidden.setChecked)
        self.faces.view.open_face.connect(self.open_photo)
        self.faces.photos.open_requested.connect(self.open_photo)
        self.map.scatter.face_activated.connect(self.open_photo)
        self.tabs.currentChanged.connect(
            lambda index: self.mapping.show() if index == MAP_TAB else None
        )

    def update_actions(self) -> None:
        self.commands.update_actions(self.act)

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
        self.controller.show_hidden = self.act["show_hidden"].isChecked()
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
        if not self._open(path, folder, scan):
            return False
        self._remember(folder)
        return True

    def open_catalog(self, path: Path) -> bool:
        """Open an existing catalog (``--catalog``) without scanning."""
        return self._open(Path(path), None)

    def _open(self, path: Path, root: Path | None, scan: bool = False) -> bool:
        self.thumbs.set_source(None)
        self.browser.clear()
        self.mapping.clear()
        if not self.controller.open(path, root, scan):
            return False
        self.statusBar().clearMessage()
        name = root.name if root else path.stem
        self.setWindowTitle(f"{name} — faceorganizer")
        self.stack.setCurrentIndex(1)
        return True

    def _library_opened(self) -> None:
        path = self.controller.catalog_path
        assert path is not None
        self.thumbs.set_source(path)
        if self.controller.root is not None:
            self.setWindowTitle(f"{self.controller.root.name} — faceorganizer")
        if self.tabs.currentIndex() == MAP_TAB:
            self.mapping.show()
        self.update_actions()

    def _library_closed(self) -> None:
        if not self.controller.has_library():
            self.stack.setCurrentIndex(0)
            self.setWindowTitle("faceorganizer")
            self.counts_label.clear()  # not the closed library's counts on the empty page
        self.update_actions()

    def _show_counts(self, snapshot: object) -> None:
        people = sum(1 for r in snapshot.rows if r.person_id is not None)  # type: ignore[attr-defined]
        self.counts_label.setText(f"{count(snapshot.faces, 'face')} · {count(people, 'person')}")  # type: ignore[attr-defined]

    # ================================================================ commands of the window
    def _rename_current(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.commands.rename_current()

    def _set_show_hidden(self, show: bool) -> None:
        self.controller.show_hidden = show
        self.controller.refresh()

    def open_selected_photo(self) -> None:
        faces = self.browser.selected_face_ids()
        if faces:
            self.open_photo(faces[0])

    def open_photo(self, face_id: int) -> None:
        path = self.controller.catalog_path
        if path is None:
            return
        viewer = PhotoViewer(path, face_id, self)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.photo_viewer = viewer
        viewer.show()

    def show_export(self) -> None:
        path = self.controller.catalog_path
        if path is None:
            return
        if self.export_dialog is None or self.export_dialog.catalog_path != path:
            self.export_dialog = ExportDialog(path, self.settings, self)
        self.export_dialog.show()
        self.export_dialog.raise_()

    def show_export_together(self, person_ids: tuple[int, ...], names: str) -> None:
        """Export the photos that show all of these people into one folder."""
        path = self.controller.catalog_path
        if path is None or not person_ids:
            return
        dialog = ExportDialog(path, self.settings, self, together=person_ids, names=names)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.together_dialog = dialog
        dialog.show()

    def show_cluster_controls(self) -> None:
        path = self.controller.catalog_path
        if path is None:
            return
        if self.cluster_dialog is None:
            self.cluster_dialog = ClusterDialog(self.settings, self)
            self.cluster_dialog.apply_requested.connect(self.controller.regroup)
        people = sum(1 for p in self.people.model.person_ids() if p is not None)
        self.cluster_dialog.open_for(path, people)

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About faceorganizer",
            f"<h3>faceorganizer {__version__}</h3><p>Groups the faces in your photos by "
            "person, offline. Your photos never leave this computer and are never "
            "changed.</p>",
        )

    # ================================================================ shutdown
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing:  # closed already (e.g. again when the application quits)
            event.accept()
            return
        self._closing = True
        self._save_state()
        self.hide()  # the window goes at once; queued edits and work in flight end first
        self.controller.shutdown()
        self.thumbs.set_source(None)
        for dialog in self.findChildren(QDialog):
            dialog.close()
        event.accept()
