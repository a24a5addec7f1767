"""Scanning of the window: a background scan with progress, ETA, cancel and live
results, and the "N files skipped — why?" report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from faceorganizer.ui import jobs
from faceorganizer.ui.dialogs.common import SkippedFilesDialog
from faceorganizer.ui.dialogs.regroup import library_settings
from faceorganizer.ui.workers import is_running, run_task

if TYPE_CHECKING:
    from faceorganizer.ui.main_window import MainWindow


class ScanCommands:
    """Mixed into MainWindow; ``self`` is the window."""

    def is_scanning(self: MainWindow) -> bool:
        return is_running(self.scan_task)

    def grouping_busy(self: MainWindow) -> bool:
        regrouping = is_running(self.recluster_task)
        return regrouping or (self.is_scanning() and self.scan_stage in ("cluster", "done"))

    def start_scan(self: MainWindow) -> None:
        if self.catalog_path is None or self.root is None or self.is_scanning():
            return
        if is_running(self.recluster_task):
            return
        if not self.root.is_dir():
            QMessageBox.warning(self, "Folder missing", f"{self.root} cannot be found.")
            return
        # The library's own detector, max side and grouping, however it was made (CLI or app).
        settings = library_settings(self.catalog, self.settings) if self.catalog else None
        self.scan_stage = "sync"
        self.scan_status.stage("Looking for new and changed photos…")
        self.scan_status.cancel.setEnabled(True)
        self.scan_status.show()
        self.scan_task = run_task(
            jobs.scan_job(self.catalog_path, self.root, settings),
            self,
            on_progress=self._scan_progress,
            on_result=self._scan_result,
            on_error=self._scan_error,
        )
        self.scan_task.done.connect(self._scan_done)
        self._live.start()
        self.update_actions()

    def cancel_scan(self: MainWindow) -> None:
        if self.is_scanning():
            assert self.scan_task is not None
            self.scan_task.cancel()
            self.scan_status.stage("Stopping…")
            self.scan_status.cancel.setEnabled(False)

    def _scan_progress(self: MainWindow, event: object) -> None:
        stage = getattr(event, "stage", "")
        if stage != self.scan_stage:
            self.scan_stage = stage
            self.update_actions()
        if self.scan_task is not None and self.scan_task.is_cancelled():
            return
        if stage == "faces":
            self.scan_status.files(event.done, event.total)  # type: ignore[attr-defined]
            if getattr(event, "error", ""):
                self._update_skipped()
        elif stage == "cluster":
            self.scan_status.stage("Grouping faces by person…")

    def _scan_result(self: MainWindow, summary: object) -> None:
        self.last_summary = summary
        if getattr(summary, "cancelled", False):
            pending = self.catalog.pending_count() if self.catalog is not None else 0
            photos = f"{pending} photo{'s' if pending != 1 else ''}"
            self.statusBar().showMessage(
                f"Scan stopped: {photos} left. Rescan (F5) continues from there.", 10000
            )
        else:
            processed = getattr(summary, "processed", 0)
            self.statusBar().showMessage(
                f"Scan complete: {processed} new or changed photo(s) processed", 8000
            )
            self.layout_dirty = True
        self.scan_finished.emit(summary)

    def _scan_error(self: MainWindow, exc: BaseException) -> None:
        QMessageBox.critical(self, "Scan failed", f"The scan stopped with an error:\n{exc}")
        self.scan_finished.emit(exc)

    def _scan_done(self: MainWindow) -> None:
        self._live.stop()
        self.scan_stage = ""
        self.scan_status.hide()
        if self._closing:
            return
        self.update_actions()  # Rescan is available again right away
        self.refresh_all()  # also recomputes the map if it is shown and faces changed

    def live_refresh(self: MainWindow) -> None:
        """While scanning: new faces show up in Unknown; people appear after grouping."""
        self.refresh_all()

    def _update_skipped(self: MainWindow, errors: list[tuple[str, str]] | None = None) -> None:
        problems = self.skipped_files(errors)
        if problems:
            self.skipped_label.setText(
                f"<a href='#'>{len(problems)} file{'s' if len(problems) != 1 else ''} "
                "skipped — why?</a>"
            )
        self.skipped_label.setVisible(bool(problems))

    def skipped_files(
        self: MainWindow, errors: list[tuple[str, str]] | None = None
    ) -> list[tuple[str, str]]:
        """Files the catalog marked as errors, plus unreadable ones the last sync met."""
        if self.catalog is None:
            return []
        problems = dict(self.catalog.errors() if errors is None else errors)
        for path, why in getattr(getattr(self.last_summary, "sync", None), "unreadable", []):
            problems.setdefault(path, why)
        return sorted(problems.items())

    def show_skipped(self: MainWindow) -> None:
        dialog = SkippedFilesDialog(self.skipped_files(), self)
        dialog.exec()
        dialog.deleteLater()
