"""Issue 15 in the window, on real photos, models and SQLite: missing photos greyed under
a banner and back as they were, Forget Missing… with its backup, a refused scan said in a
message box, a damaged catalog refused with its newest good backup offered."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QMessageBox
from test_gui import wait_scan  # the GUI tests' own helper, same folder

from faceorganizer.core.library import layout, runtime
from faceorganizer.core.library.edits import Editor
from faceorganizer.core.store import backup
from faceorganizer.core.store.catalog import Catalog
from faceorganizer.ui import jobs
from faceorganizer.ui.main_window import MainWindow
from faceorganizer.ui.widgets.scatter import BACKGROUND, PALETTE, colour_index
from faceorganizer.ui.widgets.thumbs import GREYED_OPACITY


def counts(win: MainWindow) -> dict[str, int]:
    """What `faceorganizer info --json` would say of the window's library."""
    catalog = Catalog(win.controller.catalog_path, readonly=True)
    try:
        stats = catalog.stats()
    finally:
        catalog.close()
    return {key: stats[key] for key in ("files", "faces", "people", "missing")}


def faces_of(win: MainWindow, folder: str) -> set[int]:
    catalog = Catalog(win.controller.catalog_path, readonly=True)
    try:
        rows = catalog.db.execute(
            "SELECT faces.id FROM faces JOIN files ON files.id = faces.file_id "
            "WHERE files.path LIKE ?",
            (f"{folder}/%",),
        )
        return {int(r[0]) for r in rows}
    finally:
        catalog.close()


def person_of(win: MainWindow, face: int) -> int | None:
    catalog = Catalog(win.controller.catalog_path, readonly=True)
    try:
        return catalog.face_info(face)["person_id"]  # type: ignore[return-value]
    finally:
        catalog.close()


def rescan(qtbot, win: MainWindow) -> None:
    win.act["rescan"].trigger()
    wait_scan(qtbot, win)


def answer(qtbot, win: MainWindow, button: str) -> QMessageBox:
    """Click ``button`` in the message the window shows, as a user would."""
    qtbot.waitUntil(lambda: win.trust.dialog is not None and win.trust.dialog.isVisible())
    box = win.trust.dialog
    assert box is not None
    chosen = next(b for b in box.buttons() if b.text() == button)
    chosen.click()
    return box


def tile(qtbot, win: MainWindow, face: int) -> QImage:
    """The face's grid thumbnail once it has arrived from the loader thread."""
    thumbs = win.thumbs
    thumbs.pixmap(face, 104, 1.0, 8)  # asks for it
    image: list[QImage] = []

    def arrived() -> bool:
        pixmap = thumbs.pixmap(face, 104, 1.0, 8).toImage()
        centre = pixmap.pixelColor(pixmap.width() // 2, pixmap.height() // 2)
        image[:] = [pixmap]
        return centre.name() != "#dfe1e6"  # no longer the loading tile

    qtbot.waitUntil(arrived, timeout=10_000)
    return image[0]


def greyed(image: QImage) -> bool:
    """Grey and faded: every pixel has equal channels and lets the background through."""
    step = max(1, image.width() // 12)
    pixels = [
        image.pixelColor(x, y)
        for x in range(step, image.width() - step, step)
        for y in range(step, image.height() - step, step)
    ]
    grey = all(abs(p.red() - p.green()) <= 2 and abs(p.green() - p.blue()) <= 2 for p in pixels)
    return grey and all(p.alpha() < 200 for p in pixels)


@pytest.fixture
def scanned_window(qtbot, window: MainWindow, small_library: Path) -> MainWindow:
    """The window after its first scan of small_library (7 photos, 2 people + a group)."""
    window.open_folder(small_library)
    wait_scan(qtbot, window)
    assert not window.banner.isVisible()
    return window


def test_missing_folder_is_greyed_under_a_banner_then_back_as_it_was(
    qtbot, scanned_window: MainWindow, small_library: Path, tmp_path: Path
) -> None:
    win = scanned_window
    before = counts(win)
    biden_faces = faces_of(win, "Joe_Biden")
    other = min(faces_of(win, "Barack_Obama"))
    assert before["missing"] == 0 and biden_faces
    shutil.move(small_library / "Joe_Biden", tmp_path / "away")

    rescan(qtbot, win)
    assert counts(win) == before | {"missing": 2}
    assert "2 photos not found (kept, shown greyed)" in win.statusBar().currentMessage()
    assert win.banner.isVisible()
    assert win.banner.label.text() == "2 photos are missing — is the drive connected?"
    assert win.act["forget_missing"].isEnabled()
    assert all(win.thumbs.is_greyed(f) for f in biden_faces)
    assert greyed(tile(qtbot, win, min(biden_faces))) and not greyed(tile(qtbot, win, other))

    # Still the user's: a missing photo's face can be moved, and the move undone.
    face = min(biden_faces)
    person = person_of(win, face)
    assert person is not None
    win.commands.move_faces([face], None)
    qtbot.waitUntil(lambda: person_of(win, face) is None, timeout=30_000)
    qtbot.waitUntil(lambda: "Not this person" in win.act["undo"].text(), timeout=30_000)
    win.act["undo"].trigger()
    qtbot.waitUntil(lambda: person_of(win, face) == person, timeout=30_000)

    # The viewer says the photo is missing and shows its face greyed; nothing to open.
    win.open_photo(face)
    viewer = win.photo_viewer
    qtbot.waitUntil(lambda: not viewer.canvas.face.isNull(), timeout=10_000)
    assert "missing" in viewer.canvas.message and not viewer.open_button.isEnabled()
    viewer.close()

    # Export skips them and says so.
    win.act["export"].trigger()
    dialog = win.export_dialog
    dialog.destination.setText(str(tmp_path / "export"))
    dialog.include_unknown.setChecked(True)
    dialog.only_named.setChecked(False)
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.report is not None or dialog.error is not None, timeout=60_000)
    assert dialog.error is None and len(dialog.report.missing) == 2
    assert "2 missing photos skipped — is the drive connected?" in dialog.result.text()
    dialog.close()

    # The drive is back: the banner goes, the counts are those of before, no duplicates.
    shutil.move(tmp_path / "away", small_library / "Joe_Biden")
    rescan(qtbot, win)
    assert counts(win) == before
    assert "2 photos back" in win.statusBar().currentMessage()
    assert faces_of(win, "Joe_Biden") == biden_faces
    assert not win.banner.isVisible() and not win.act["forget_missing"].isEnabled()
    assert not any(win.thumbs.is_greyed(f) for f in biden_faces)


def dot(win: MainWindow, face: int) -> QColor:
    """The colour the map paints at the centre of a face's dot."""
    scatter = win.map.scatter
    image = scatter.grab().toImage()
    point = scatter.view_pos_of(face) * image.devicePixelRatio()
    return image.pixelColor(point.toPoint())


def near(colour: QColor, red: float, green: float, blue: float) -> bool:
    channels = (colour.red(), colour.green(), colour.blue())
    return all(abs(c - e) <= 3 for c, e in zip(channels, (red, green, blue), strict=True))


def test_missing_photos_dots_on_the_map_are_greyed_then_back(
    qtbot, scanned_window: MainWindow, small_library: Path, tmp_path: Path, monkeypatch
) -> None:
    """As their thumbnails: the luminance of their person's colour, faded onto the map."""
    monkeypatch.setattr(runtime, "in_helper", lambda fn, *args, cancelled: fn(*args))
    monkeypatch.setattr(layout, "umap_layout", layout.pca_layout)  # UMAP is slow to compile
    win = scanned_window
    biden = min(faces_of(win, "Joe_Biden"))
    other = min(faces_of(win, "Barack_Obama"))
    shutil.move(small_library / "Joe_Biden", tmp_path / "away")
    rescan(qtbot, win)
    with qtbot.waitSignal(win.mapping.layout_ready, timeout=60_000):
        win.tabs.setCurrentIndex(1)
    scatter = win.map.scatter
    qtbot.waitUntil(lambda: scatter.is_greyed(biden))
    assert not scatter.is_greyed(other)

    def colour_of(face: int) -> QColor:
        person = person_of(win, face)
        return QColor(PALETTE[int(colour_index([-1 if person is None else person])[0])])

    grey = colour_of(biden)
    grey = 0.299 * grey.red() + 0.587 * grey.green() + 0.114 * grey.blue()
    bg = BACKGROUND
    faded = [GREYED_OPACITY * grey + (1 - GREYED_OPACITY) * c for c in bg.getRgb()[:3]]
    assert near(dot(win, biden), *faded)
    live = colour_of(other)
    assert near(dot(win, other), live.red(), live.green(), live.blue())

    shutil.move(tmp_path / "away", small_library / "Joe_Biden")
    rescan(qtbot, win)
    qtbot.waitUntil(lambda: not scatter.is_greyed(biden))
    qtbot.waitUntil(lambda: not near(dot(win, biden), *faded))
    bright = colour_of(biden)
    assert near(dot(win, biden), bright.red(), bright.green(), bright.blue())


def test_forget_missing_asks_backs_up_and_removes_their_faces(
    qtbot, scanned_window: MainWindow, small_library: Path
) -> None:
    win = scanned_window
    before = counts(win)
    gone = faces_of(win, "Joe_Biden") | faces_of(win, "groups")
    # Biden, named, is in these photos alone: the name goes too, said before and after
    biden = person_of(win, min(faces_of(win, "Joe_Biden")))
    win.controller.edit(lambda editor: editor.rename(biden, "Joe"))
    qtbot.waitUntil(lambda: "Joe" in win.controller.snapshot.names.values(), timeout=30_000)
    shutil.rmtree(small_library / "Joe_Biden")
    shutil.rmtree(small_library / "groups")
    rescan(qtbot, win)
    assert win.banner.isVisible()

    win.banner.buttons[1].click()  # Forget Missing Photos…, as on the banner
    qtbot.waitUntil(lambda: win.trust.dialog is not None and win.trust.dialog.isVisible())
    box = win.trust.dialog
    assert box.text() == (
        f"Forget 3 missing photos and their {len(gone)} faces? Undo cannot take this back."
    )
    assert "Joe has no other faces and goes too, name and all." in box.informativeText()
    assert "backup of the catalog is made first" in box.informativeText()
    assert "faceorganizer restore" in box.informativeText()
    answer(qtbot, win, "Forget Photos")
    qtbot.waitUntil(lambda: not win.banner.isVisible(), timeout=30_000)  # after the snapshot
    after = counts(win)
    assert (after["files"], after["faces"], after["missing"]) == (
        before["files"] - 3,
        before["faces"] - len(gone),
        0,
    )
    assert not faces_of(win, "Joe_Biden") and not faces_of(win, "groups")
    saved = backup.backups(win.controller.catalog_path)
    assert saved and saved[0].name.endswith("-before-forget-missing.sqlite")
    assert ", and Joe with them. Backup: " in win.statusBar().currentMessage()


def test_an_empty_folder_is_refused_in_a_message_and_changes_nothing(
    qtbot, scanned_window: MainWindow, small_library: Path, tmp_path: Path
) -> None:
    win = scanned_window
    before = counts(win)
    small_library.rename(tmp_path / "unplugged")
    small_library.mkdir()  # an unmounted drive's mount point
    rescan(qtbot, win)
    box = answer(qtbot, win, "Close")
    assert box.text() == "The folder is empty — is the drive connected? Nothing was changed."
    assert str(small_library) in box.informativeText()
    assert counts(win) == before
    assert not win.banner.isVisible()

    # Removed on purpose: the user says so, and the photos are missing (kept, greyed).
    rescan(qtbot, win)
    answer(qtbot, win, "Mark Them Missing")
    wait_scan(qtbot, win)
    assert counts(win) == before | {"missing": before["files"]}
    assert win.banner.label.text().startswith(f"{before['files']} photos are missing")


def test_a_damaged_catalog_is_refused_naming_its_backup_and_restored(
    qtbot, window: MainWindow, catalog: Catalog
) -> None:
    path = catalog.path
    catalog.backup("test")
    newest = catalog.backup("test")
    catalog.close()
    with path.open("r+b") as stream:  # a bad sector in the middle of the file
        stream.seek(path.stat().st_size // 2 // 4096 * 4096)
        stream.write(b"\x5a" * 4096)
    damaged = path.read_bytes()

    window.open_catalog(path)
    qtbot.waitUntil(lambda: window.trust.dialog is not None and window.trust.dialog.isVisible())
    box = window.trust.dialog
    assert "catalog file is damaged" in box.text()
    assert f"The newest good backup is {newest.name}" in box.informativeText()
    assert window.stack.currentWidget() is window.empty  # nothing of it is shown
    assert path.read_bytes() == damaged  # untouched

    with qtbot.waitSignal(window.browser.refreshed, timeout=30_000):
        answer(qtbot, window, "Restore Backup")
    assert window.people.model.rowCount() > 0
    assert path.with_name(path.name + ".damaged").read_bytes() == damaged


def test_a_vanished_folder_is_said_and_changes_nothing(
    qtbot, scanned_window: MainWindow, small_library: Path, tmp_path: Path, monkeypatch
) -> None:
    """The mount point itself is gone (a drive of a removable disk, a share's folder)."""
    win = scanned_window
    before = counts(win)
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: said.append(text))
    small_library.rename(tmp_path / "unplugged")
    win.act["rescan"].trigger()
    assert said == [
        f"{small_library} cannot be found — is the drive connected? The library is shown as "
        "it was; nothing was changed."
    ]
    assert not win.controller.is_scanning() and counts(win) == before


def test_a_snapshot_reads_missing_faces_again_only_when_the_files_changed(
    catalog: Catalog,
) -> None:
    """Every edit's snapshot asks which photos are missing; their faces (a join over
    every face) are read only when that answer changed."""
    library = jobs.Library(catalog, Editor(catalog))
    assert jobs.read_snapshot(library, False, None).missing_faces == frozenset()
    files = [row.id for row in catalog.files()][:2]
    faces = {
        f: {int(r[0]) for r in catalog.db.execute("SELECT id FROM faces WHERE file_id = ?", (f,))}
        for f in files
    }
    catalog.mark_missing(files)
    gone = jobs.read_snapshot(library, False, None)
    assert gone.missing == 2 and gone.missing_faces == faces[files[0]] | faces[files[1]]

    library.editor.rename(catalog.persons()[0].id, "Someone")  # an edit: the same files
    assert jobs.read_snapshot(library, False, None).missing_faces is gone.missing_faces

    back = catalog.files(include_missing=True)
    row = next(r for r in back if r.id == files[0])
    catalog.touch_file(row.id, row.size, row.mtime_ns)  # found again
    again = jobs.read_snapshot(library, False, None)
    assert again.missing == 1 and again.missing_faces == faces[files[1]]
