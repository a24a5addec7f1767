"""Export dialog: per-person folders with the same engine as ``faceorganizer export``."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from faceorganizer.core.library.export import ExportError, ExportReport, Mode, Options
from faceorganizer.ui import jobs
from faceorganizer.ui.dialogs.common import add_intro, fit_height
from faceorganizer.ui.widgets.item_models import UNKNOWN_LABEL
from faceorganizer.ui.workers import Task, is_running, run_task
from faceorganizer.wording import count

MODES = (
    (Mode.COPY, "Copy photos", "Independent copies; uses disk space"),
    (Mode.HARDLINK, "Hard links", "No extra space; same disk as the photos only"),
    (Mode.SYMLINK, "Symbolic links", "Tiny shortcuts to the originals"),
)


class ExportDialog(QDialog):
    """Choose where and how, watch the progress, open the result. With ``together``
    (person ids), only the photos that show all of those people, in one folder."""

    def __init__(
        self,
        catalog_path: Path,
        settings: QSettings,
        parent: QWidget | None = None,
        together: tuple[int, ...] = (),
        names: str = "",
    ) -> None:
        super().__init__(parent)
        self.together = together
        self.setWindowTitle("Export Photos Together" if together else "Export People to Folders")
        self.setMinimumWidth(560)
        self.catalog_path = catalog_path
        self.settings = settings
        self.task: Task | None = None
        self.report: ExportReport | None = None
        self.error: str | None = None

        layout = QVBoxLayout(self)
        add_intro(
            layout,
            (
                f"One folder, “{names}”, with every photo that shows all of them. "
                if together
                else "One folder per person, each with every photo that person is in. "
            )
            + "Your original photos are never moved or changed.",
        )

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        row = QHBoxLayout()
        self.destination = QLineEdit(str(settings.value("export/destination", "", str)))
        self.destination.setPlaceholderText("Choose a folder…")
        self.destination.textChanged.connect(self._update_buttons)
        row.addWidget(self.destination, 1)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(browse)
        form.addRow("Destination:", row)

        self.modes = QButtonGroup(self)
        mode_box = QVBoxLayout()
        saved_mode = str(settings.value("export/mode", Mode.COPY.value, str))
        for number, (mode, title, hint) in enumerate(MODES):
            button = QRadioButton(f"{title}  —  {hint}")
            button.setProperty("mode", mode.value)
            button.setChecked(mode.value == saved_mode)
            self.modes.addButton(button, number)
            mode_box.addWidget(button)
        form.addRow("Files:", mode_box)

        # the bin as the people view names it: "unrecognised faces" named nothing the user saw
        self.include_unknown = QCheckBox(
            f"Include an “Unknown” folder with the photos of the {UNKNOWN_LABEL.lower()}"
        )
        self.include_unknown.setChecked(settings.value("export/unknown", False, bool))
        self.only_named = QCheckBox("Only people I have named")
        self.only_named.setChecked(settings.value("export/named", False, bool))
        if not together:
            form.addRow("People:", self.only_named)
            form.addRow("", self.include_unknown)
        self.write_xmp = QCheckBox("Write names for other photo apps (digiKam, Lightroom, …)")
        self.write_xmp.setToolTip(
            "Puts PHOTO.xmp beside every exported photo with its people's names and face "
            "areas; the originals and their folders are never written to"
        )
        self.write_xmp.setChecked(settings.value("export/xmp", False, bool))
        form.addRow("Names:", self.write_xmp)
        layout.addLayout(form)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v / %m photos")
        self.progress.hide()
        layout.addWidget(self.progress)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result.hide()
        layout.addWidget(self.result)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.open_button = QPushButton("Open Folder")
        self.open_button.clicked.connect(self.open_destination)
        self.open_button.hide()
        buttons.addWidget(self.open_button)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        buttons.addWidget(self.close_button)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        buttons.addWidget(self.export_button)
        layout.addLayout(buttons)
        self._update_buttons()

    def options(self) -> Options:
        checked = self.modes.checkedButton()
        mode = Mode(checked.property("mode")) if checked else Mode.COPY
        return Options(
            mode,
            self.include_unknown.isChecked() and not self.together,
            self.only_named.isChecked() and not self.together,
            self.write_xmp.isChecked(),
            self.together,
        )

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Export to", self.destination.text() or str(Path.home())
        )
        if folder:
            self.destination.setText(folder)

    def _update_buttons(self) -> None:
        running = is_running(self.task)
        self.export_button.setEnabled(bool(self.destination.text().strip()) and not running)
        self.close_button.setText("Cancel" if running else "Close")

    def start(self) -> None:
        """Run the export in a worker; the dialog shows progress and stays usable."""
        text = self.destination.text().strip()
        if not text:
            return
        destination = Path(text).expanduser()
        options = self.options()
        self.settings.setValue("export/destination", str(destination))
        self.settings.setValue("export/mode", options.mode.value)
        self.settings.setValue("export/unknown", self.include_unknown.isChecked())
        self.settings.setValue("export/named", self.only_named.isChecked())
        self.settings.setValue("export/xmp", options.write_xmp)
        self.report, self.error = None, None
        self.progress.setRange(0, 0)
        self.progress.show()
        self.result.hide()
        self.open_button.hide()
        self.task = run_task(
            jobs.export_job(self.catalog_path, destination, options),
            self,
            on_progress=self._progress,
            on_result=self._finished,
            on_error=self._failed,
        )
        self.task.done.connect(self._update_buttons)
        self._update_buttons()

    def _progress(self, step: tuple[int, int]) -> None:
        done, total = step
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _finished(self, report: ExportReport | None) -> None:
        cancelled = self.task is not None and self.task.is_cancelled()
        self.report = report or ExportReport()
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
        already = self.report.already_there  # from an earlier export to the same place
        text = (
            f"{'Stopped' if cancelled else 'Done'}: {count(self.report.people, 'folder')}, "
            f"{count(self.report.written, 'photo')} written"
            + (f", {already:,} already there" if already else "")
            + f", in {html.escape(self.folder())}."
        )
        if self.write_xmp.isChecked():
            text += f" {count(self.report.sidecars, 'name file')} (.xmp) written or updated."
        if self.report.missing:
            text += (
                f"<br>{count(len(self.report.missing), 'missing photo')} skipped — is the "
                "drive connected? Rescan and export again once it is."
            )
        if self.report.failed:
            text += f"<br><b>{len(self.report.failed)} failed</b>, e.g. " + ", ".join(
                f"{path} ({why})" for path, why in self.report.failed[:3]
            )
        self.result.setText(text)
        self.result.show()
        self.open_button.show()
        self.open_button.setDefault(True)
        fit_height(self)

    def _failed(self, exc: BaseException) -> None:
        self.progress.hide()
        self.error = str(exc)
        if isinstance(exc, ExportError):
            message = str(exc)
        else:
            message = f"The export stopped because of an unexpected error:\n{exc}"
        QMessageBox.warning(self, "Export failed", message)

    def folder(self) -> str:
        return str(Path(self.destination.text().strip()).expanduser())

    def open_destination(self) -> None:
        """Show the result in the file manager; without one (a bare desktop, no
        xdg-open) say where the folder is, with the path ready to copy."""
        if QDesktopServices.openUrl(QUrl.fromLocalFile(self.folder())):
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle("Open Folder")
        box.setText("No file manager could open the folder. The people's folders are in:")
        box.setInformativeText(self.folder())
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        copy = box.addButton("Copy Path", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Close)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.folder()))
        self.folder_message = box  # reachable for tests
        box.open()

    def reject(self) -> None:
        """Cancel stops a running export first (keeps what was written)."""
        if is_running(self.task):
            self.task.cancel()
            return
        super().reject()
