"""Grouping controls: algorithm and threshold, with a live count of people before applying.

The dialog opens on the library's own grouping (kept in its catalog, whether the CLI or
the app made it). The preview runs in the helper process (debounced, so dragging the
slider starts one computation when the hand stops); applying re-clusters in a worker as
one undoable edit that keeps every face the user placed, and records the new grouping
as the library's.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from faceorganizer.config import ALGORITHMS, DEFAULT_THRESHOLD, Settings
from faceorganizer.ui import jobs
from faceorganizer.ui.dialogs.common import ThresholdSlider, add_intro
from faceorganizer.ui.workers import Task, is_running, run_task
from faceorganizer.wording import noun

THRESHOLD_MIN, THRESHOLD_MAX = 0.30, 0.70


def default_threshold(algorithm: str) -> float:
    return DEFAULT_THRESHOLD[algorithm]


def split_threshold(library: Settings) -> float:
    """Where an automatic split starts: the threshold the library is grouped with, where
    a wrongly merged pair falls apart. Splits use Chinese whispers, so a library grouped
    by DBSCAN (whose threshold means something else) starts at whispers' default."""
    if library.algorithm != "chinese-whispers" or library.threshold is None:
        return default_threshold("chinese-whispers")
    return library.threshold


def legacy_grouping(app_settings: QSettings) -> Settings | None:
    """How the app grouped libraries before each kept its own settings: with the last
    Regroup choice, stored app-wide (QSettings ``cluster/*``, no longer written). It
    still holds for a catalog from then, until a scan or regroup records one."""
    algorithm = str(app_settings.value("cluster/algorithm", "", str))
    if algorithm not in ALGORITHMS:
        return None
    value = app_settings.value("cluster/threshold", None)
    try:
        threshold = float(value) if value not in (None, "") else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        threshold = None
    return Settings(algorithm=algorithm, threshold=threshold)


class ClusterDialog(QDialog):
    """Non-modal: the user can look at the people while trying thresholds."""

    apply_requested = Signal(str, float)

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Regroup Faces")
        self.setMinimumWidth(460)
        self.settings = settings
        self.catalog_path: Path | None = None
        self.loaded = False  # the library's own values are shown
        self.current_people = 0
        self.preview: int | None = None
        self._task: Task | None = None
        self._stale = False

        layout = QVBoxLayout(self)
        add_intro(
            layout,
            "Group all faces again with other settings. Faces you placed, merged or "
            "named stay where you put them. You can undo this.",
        )

        form = QFormLayout()
        self.algorithm = QComboBox()
        for key, title in ALGORITHMS.items():
            self.algorithm.addItem(title, key)
        form.addRow("Method:", self.algorithm)
        self.threshold = ThresholdSlider(THRESHOLD_MIN, THRESHOLD_MAX)
        form.addRow("Threshold:", self.threshold)
        layout.addLayout(form)

        self.preview_label = QLabel()
        self.preview_label.setObjectName("previewCount")
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_label.setMinimumHeight(56)
        layout.addWidget(self.preview_label)

        self.buttons = QDialogButtonBox()
        self.defaults_button = self.buttons.addButton(
            "Defaults", QDialogButtonBox.ButtonRole.ResetRole
        )
        self.apply_button = self.buttons.addButton(
            "Regroup", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.defaults_button.clicked.connect(self._defaults)
        self.apply_button.clicked.connect(self._apply)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self._debounce = QTimer(self, singleShot=True, interval=300)
        self._debounce.timeout.connect(self.start_preview)
        self.threshold.valueChanged.connect(self._changed)
        self.algorithm.currentIndexChanged.connect(self._algorithm_changed)
        self._show_grouping(Settings.algorithm, None)

    # ---------------------------------------------------------------- values
    def values(self) -> tuple[str, float]:
        return str(self.algorithm.currentData()), self.threshold.value()

    def _show_grouping(self, algorithm: str, threshold: float | None) -> None:
        """Show these values without starting a preview for each widget that changes."""
        for widget in (self.algorithm, self.threshold):
            widget.blockSignals(True)
        self.algorithm.setCurrentIndex(max(0, self.algorithm.findData(algorithm)))
        self._set_threshold(threshold if threshold is not None else default_threshold(algorithm))
        for widget in (self.algorithm, self.threshold):
            widget.blockSignals(False)

    def _set_threshold(self, value: float) -> None:
        self.threshold.setValue(value)

    def _defaults(self) -> None:
        self._set_threshold(default_threshold(self.values()[0]))

    def _algorithm_changed(self) -> None:
        self._set_threshold(default_threshold(self.values()[0]))
        self._changed()

    def _changed(self) -> None:
        self.preview = None
        self.preview_label.setText("…")
        self._debounce.start()

    # ---------------------------------------------------------------- preview
    def open_for(self, catalog_path: Path, current_people: int) -> None:
        """Show the dialog on this library's own grouping (read in the background)."""
        self.catalog_path = catalog_path
        self.current_people = current_people
        self.loaded = False
        self.apply_button.setEnabled(False)  # until the library's values are shown
        self.preview_label.setText("…")
        self.show()
        self.raise_()
        self.activateWindow()
        run_task(
            jobs.library_settings_job(catalog_path, legacy_grouping(self.settings)),
            self,
            on_result=lambda settings: self._loaded(catalog_path, settings),
            on_error=lambda exc: self.preview_label.setText(f"Cannot read the library: {exc}"),
        )

    def _loaded(self, catalog_path: Path, settings: Settings) -> None:
        if catalog_path != self.catalog_path or not self.isVisible():
            return  # opened for another library meanwhile, or closed
        self._show_grouping(settings.algorithm, settings.threshold)
        self.loaded = True
        self.apply_button.setEnabled(True)
        self.start_preview()

    def start_preview(self) -> None:
        if self.catalog_path is None:
            return
        if is_running(self._task):
            self._stale = True  # the slider moved while computing: redo when it ends
            return
        self._stale = False
        algorithm, threshold = self.values()
        self.preview_label.setText("Counting people…")
        self._task = run_task(
            jobs.preview_job(self.catalog_path, algorithm, threshold),
            self,
            on_result=self._previewed,
            on_error=lambda exc: self.preview_label.setText(f"Preview failed: {exc}"),
        )
        self._task.done.connect(self._preview_done)

    def _preview_done(self) -> None:
        if self._stale:
            self.start_preview()

    def _previewed(self, count: int) -> None:
        if self._stale:
            return
        self.preview = int(count)
        delta = self.preview - self.current_people
        change = "same as now" if delta == 0 else f"{delta:+d} compared with now"
        self.preview_label.setText(
            f"<span style='font-size:20pt; font-weight:600'>{self.preview:,}</span> "
            f"{noun(self.preview, 'person')}"
            f"<br><span style='color:palette(placeholder-text)'>{change} "
            f"({self.current_people})</span>"
        )

    def _apply(self) -> None:
        self.apply_requested.emit(*self.values())
        self.accept()

    def done(self, result: int) -> None:
        if is_running(self._task):
            self._task.cancel()
        super().done(result)
