"""What keeps the user's work safe, as the window shows it.

* Missing photos: the banner with their number, their faces greyed everywhere, and
  Forget Missing… (asked first, saying that Undo cannot take it back and naming the
  named people who go; a backup made first; run in the controller's queue).
* A scan that stopped because the folder looks unplugged: said in a message box, with
  the one way on for photos removed on purpose (mark them missing).
* A damaged catalog: refused when the library opens, with the newest good backup named
  and offered; restoring keeps the damaged file beside it.

Message boxes are opened window-modal (``open``, not ``exec``) and kept in ``dialog``
so a test can answer them like a user."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from faceorganizer.core.store.catalog import DamagedCatalog
from faceorganizer.ui import jobs
from faceorganizer.ui.controller import LibraryController
from faceorganizer.ui.widgets.banner import MissingBanner
from faceorganizer.ui.widgets.thumbs import Thumbnails
from faceorganizer.wording import count, noun, verb

if TYPE_CHECKING:  # the sync module walks folders with PIL: not imported at start
    from faceorganizer.core.library.sync import Forgotten

RESTORE_HINT = "faceorganizer restore BACKUP"  # the CLI command that puts a backup back
NAMES_SHOWN = 5  # named people Forget Missing's question lists inline; all under details


class TrustPresenter(QObject):
    """Banner, greyed faces, Forget Missing…, refused scans, damaged catalogs."""

    def __init__(
        self,
        controller: LibraryController,
        banner: MissingBanner,
        thumbs: Thumbnails,
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self.controller, self.banner, self.thumbs = controller, banner, thumbs
        self.window = window
        self.missing_faces = 0
        self.dialog: QMessageBox | None = None  # the last message shown
        controller.snapshot_ready.connect(self._snapshot)
        controller.closed.connect(lambda: self.banner.show_missing(0))
        controller.scan_finished.connect(self._scan_finished)
        controller.damaged.connect(self._damaged)

    def _snapshot(self, snapshot: jobs.Snapshot) -> None:
        self.banner.show_missing(snapshot.missing)
        self.missing_faces = len(snapshot.missing_faces)
        self.thumbs.set_greyed(snapshot.missing_faces)

    def _ask(
        self,
        icon: QMessageBox.Icon,
        title: str,
        text: str,
        detail: str,
        action: tuple[str, QMessageBox.ButtonRole, Callable[[], None]] | None = None,
        *,
        dismiss: QMessageBox.StandardButton = QMessageBox.StandardButton.Cancel,
        details: str = "",
    ) -> QMessageBox:
        """A window-modal message; ``action``: a button (text, role, what it does) beside
        ``dismiss``, the default. Returns at once: the answer runs the action later."""
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.NoButton, self.window)
        box.setInformativeText(detail)
        box.setDetailedText(details)
        if action is None:
            box.addButton(QMessageBox.StandardButton.Close)
        else:
            label, role, run = action
            chosen = box.addButton(label, role)
            box.setDefaultButton(box.addButton(dismiss))

            def answered(button: QAbstractButton) -> None:
                if button is chosen:
                    run()

            box.buttonClicked.connect(answered)
        self.dialog = box
        box.open()
        return box

    # ---------------------------------------------------------------- forget missing
    def forget_missing(self) -> None:
        """Ask first (how many photos and faces, which people go with them), then forget."""
        if not self.banner.missing:
            self.controller.message.emit("No photos are missing: nothing to forget", 5000)
            return

        def going(library: jobs.Library) -> tuple[tuple[str, ...], int]:
            from faceorganizer.core.library.sync import going_with_missing  # PIL: late

            return going_with_missing(library.catalog)

        self.controller.read(going, self._confirm_forget)

    def _confirm_forget(self, going: tuple[tuple[str, ...], int]) -> None:
        """The question says plainly that Undo cannot take it back, and names every named
        person who goes (all of them under Show Details when there are many)."""
        names, people = going
        photos, faces = self.banner.missing, self.missing_faces
        text = (
            f"Forget {count(photos, 'missing photo')} and their {count(faces, 'face')}? "
            "Undo cannot take this back."
        )
        detail = (
            "They leave the library for good: a later scan finds the photos as new, without "
            "the names and corrections made on their faces."
        )
        if names:
            shown = ", ".join(names[:NAMES_SHOWN])
            more = len(names) - NAMES_SHOWN
            shown += f" and {count(more, 'other named person')}" if more > 0 else ""
            detail += (
                f" {shown} {verb(len(names), 'has', 'have')} no other faces and "
                f"{verb(len(names), 'goes', 'go')} too, name and all."
            )
        if people > len(names):
            unnamed = people - len(names)
            detail += f" {count(unnamed, 'unnamed person')} {verb(unnamed, 'goes', 'go')} too."
        detail += (
            "\n\nA backup of the catalog is made first, and only the backup can bring them "
            "back, from a terminal: 'faceorganizer info' lists the backups, "
            f"'{RESTORE_HINT}' puts one back."
        )
        many = len(names) > NAMES_SHOWN
        self._ask(
            QMessageBox.Icon.Warning,
            "Forget Missing Photos",
            text,
            detail,
            (f"Forget {noun(photos, 'Photo')}", QMessageBox.ButtonRole.AcceptRole, self._forget),
            details="Named people who go:\n" + "\n".join(names) if many else "",
        )

    def _forget(self) -> None:
        self.controller.forget_missing(self._forgotten)

    def _forgotten(self, forgotten: Forgotten) -> None:
        if forgotten.backup is None:
            return
        photos, faces = count(forgotten.files, "missing photo"), count(forgotten.faces, "face")
        names = f", and {', '.join(forgotten.names)} with them" if forgotten.names else ""
        self.controller.message.emit(
            f"Forgot {photos} and their {faces}{names}. Backup: {forgotten.backup}", 30000
        )

    # ---------------------------------------------------------------- refused scans
    def _scan_finished(self, summary: object) -> None:
        refused = getattr(getattr(summary, "sync", None), "refused", "")
        if not refused:
            return
        self._ask(
            QMessageBox.Icon.Warning,
            "Nothing Was Changed",
            refused[:1].upper() + refused[1:],
            f"{self.controller.root}\n\nConnect the drive (or wait until the folder has "
            "synced), then rescan.\n\nIf you removed the photos on purpose, mark them "
            "missing: their faces and names stay, shown greyed, until you forget them.",
            ("Mark Them Missing", QMessageBox.ButtonRole.AcceptRole, self._accept_missing),
            dismiss=QMessageBox.StandardButton.Close,
        )

    def _accept_missing(self) -> None:
        self.controller.start_scan(accept_missing=True)

    # ---------------------------------------------------------------- damaged catalogs
    def _damaged(self, error: DamagedCatalog, root: Path | None, scan: bool) -> None:
        text = "This library cannot be opened: its catalog file is damaged."
        where = f"The damaged file: {error.path}\nThe problem: {error.problem}"
        good = error.backup
        if good is None:
            detail = "There is no backup of it. The file is left as it is."
            self._ask(QMessageBox.Icon.Critical, "Damaged Library", text, detail, details=where)
            return
        made = datetime.fromtimestamp(good.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        detail = (
            f"The newest good backup is {good.name}, made {made}.\n\nRestore Backup puts it "
            "back (edits made since then are lost) and keeps the damaged file beside it as "
            f"{error.path.name}.damaged."
        )
        self._ask(
            QMessageBox.Icon.Critical,
            "Damaged Library",
            text,
            detail,
            (
                "Restore Backup",
                QMessageBox.ButtonRole.AcceptRole,
                lambda: self.controller.restore_backup(good, error.path, root, scan),
            ),
            details=f"{where}\nThe backup: {good}",
        )
