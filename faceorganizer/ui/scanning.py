"""Scanning as the status bar shows it: progress with ETA and Cancel while a scan runs,
its outcome, and the "N files skipped — why?" report."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QWidget

from faceorganizer.ui import jobs
from faceorganizer.ui.controller import LibraryController, ScanStage
from faceorganizer.ui.dialogs.common import SkippedFilesDialog
from faceorganizer.ui.widgets.panels import ScanStatus
from faceorganizer.wording import count


class ScanPresenter(QObject):
    """Shows the controller's scan in the status bar widgets."""

    def __init__(
        self,
        controller: LibraryController,
        status: ScanStatus,
        skipped_label: QLabel,
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self.controller, self.status, self.skipped_label = controller, status, skipped_label
        self.window = window
        self.errors: list[tuple[str, str]] = []
        status.cancel_clicked.connect(self.cancel)
        skipped_label.linkActivated.connect(lambda _: self.show_skipped())
        controller.busy_changed.connect(self._busy_changed)
        controller.scan_progress.connect(self._progress)
        controller.scan_finished.connect(self._finished)
        controller.snapshot_ready.connect(self._snapshot)

    def cancel(self) -> None:
        if self.controller.is_scanning():
            self.controller.cancel_scan()
            self.status.stage("Stopping…")
            self.status.cancel.setEnabled(False)

    def _busy_changed(self) -> None:
        scanning = self.controller.is_scanning()
        if scanning and not self.status.isVisible():
            self.status.stage("Looking for new and changed photos…")
            self.status.cancel.setEnabled(True)
            self.status.show()
        elif not scanning:
            self.status.hide()

    def _progress(self, event: object) -> None:
        if self.controller.scan_cancelled():
            return
        stage = ScanStage.of(event)
        if stage is ScanStage.FACES:
            self.status.files(event.done, event.total)  # type: ignore[attr-defined]
            if getattr(event, "error", ""):
                self.controller.refresh()  # the skipped file shows up in the report
        elif stage is ScanStage.NAMES:
            self.status.stage("Reading names from photo metadata…")
        elif stage is ScanStage.CLUSTER:
            self.status.stage("Grouping faces by person…")

    def _finished(self, summary: object) -> None:
        if isinstance(summary, BaseException):
            return
        if summary.sync.refused:  # type: ignore[attr-defined]
            self._say("Scan stopped: nothing was changed (see the message)", 10000)
        elif getattr(summary, "cancelled", False):
            self.controller.read(
                lambda library: library.catalog.pending_count(), self._stopped_message
            )
        else:
            text = f"Scan complete: {summary.outcome()}"  # type: ignore[attr-defined]
            sync = summary.sync  # type: ignore[attr-defined]
            if sync.missing:
                text += f"; {count(sync.missing, 'photo')} not found (kept, shown greyed)"
            if sync.returned or sync.moved:
                text += f"; {count(sync.returned + sync.moved, 'photo')} back"
            names = getattr(summary, "metadata", None)
            if names is not None and names.named:
                text += f"; {count(names.named, 'face')} named from photo metadata"
            if names is not None and names.unmatched:
                text += (
                    f"; {count(len(names.unmatched), 'name tag')} without a face (see the report)"
                )
            self._say(text, 10000)

    def _stopped_message(self, pending: int) -> None:
        photos = count(pending, "photo")
        self._say(f"Scan stopped: {photos} left. Rescan (F5) continues from there.", 10000)

    def _say(self, text: str, ms: int) -> None:
        self.controller.message.emit(text, ms)

    def _snapshot(self, snapshot: jobs.Snapshot) -> None:
        self.errors = snapshot.errors
        problems = self.skipped_files()
        notes = len(self.name_notes())
        skipped = len(problems) - notes
        parts = [f"{count(skipped, 'file')} skipped"] if skipped else []
        if notes:
            parts.append(count(notes, "name note"))
        if problems:
            self.skipped_label.setText(f"<a href='#'>{', '.join(parts)} — why?</a>")
        self.skipped_label.setVisible(bool(problems))

    def skipped_files(self) -> list[tuple[str, str]]:
        """Files the catalog marked as errors, plus unreadable ones the last sync met."""
        problems = dict(self.errors)
        summary = self.controller.last_summary
        for path, why in getattr(getattr(summary, "sync", None), "unreadable", []):
            problems.setdefault(path, why)
        return sorted(problems.items()) + self.name_notes()

    def name_notes(self) -> list[tuple[str, str]]:
        """What the last scan could not use of the photos' own names: tags that match no
        detected face, unreadable or refused XMP (the photos themselves were scanned)."""
        names = getattr(self.controller.last_summary, "metadata", None)
        if names is None:
            return []
        notes = [
            (path, f"name tag “{name}” matches no face found") for path, name in names.unmatched
        ]
        return notes + [(path, f"names not read: {why}") for path, why in names.warnings]

    def show_skipped(self) -> None:
        dialog = SkippedFilesDialog(self.skipped_files(), self.window)
        dialog.exec()
        dialog.deleteLater()
