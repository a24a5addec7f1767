"""What a walkthrough of the real app tripped on, each checked on the real window, the
real faces-dev library and real Qt events (offscreen, or Xvfb where the platform matters).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QCursor, QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel

from faceorganizer.core.store.catalog import Catalog, default_catalog_path
from faceorganizer.ui.actions import COMMANDS
from faceorganizer.ui.app import reopen_last_library
from faceorganizer.ui.dialogs.common import MoveToDialog
from faceorganizer.ui.main_window import MainWindow
from faceorganizer.ui.widgets.item_models import PERSON_ID_ROLE, load_people

STRICTER, LOOSER = "← more people (stricter)", "fewer people (looser) →"


def wait_refreshed(qtbot, win: MainWindow, action) -> None:  # noqa: ANN001 - a callable
    with qtbot.waitSignal(win.browser.refreshed, timeout=30_000):
        action()


# ---------------------------------------------------------------------- 1. Redo's key


REDO_SCRIPT = """
import sys
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from faceorganizer.ui.app import create_application
from faceorganizer.ui.main_window import MainWindow

app = create_application([])
win = MainWindow(QSettings(sys.argv[1], QSettings.Format.IniFormat))
win.show()
QTest.qWaitForWindowExposed(win)
win.activateWindow()
QTest.qWait(200)
fired = []
win.act["redo"].setEnabled(True)
win.act["redo"].triggered.connect(lambda: fired.append(1))
keys = [s.toString() for a in win.act.values() for s in a.shortcuts()]
QTest.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
               | Qt.KeyboardModifier.ShiftModifier)
print("platform", app.platformName())
print("shared", sorted({k for k in keys if keys.count(k) > 1}))
print("redo fired", len(fired))
"""


def test_redo_key_works_on_x11_and_no_key_is_listed_twice(tmp_path: Path) -> None:
    """On X11 the platform's Redo key is Ctrl+Shift+Z itself: listing both made Qt call
    the shortcut ambiguous and Ctrl+Shift+Z did nothing."""
    if shutil.which("xvfb-run") is None:
        pytest.skip("xvfb-run not installed")
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    env.pop("DISPLAY", None)
    result = subprocess.run(
        ["xvfb-run", "-a", sys.executable, "-c", REDO_SCRIPT, str(tmp_path / "s.ini")],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "platform xcb" in output
    assert "Ambiguous shortcut" not in output
    assert "shared []" in output, output
    assert "redo fired 1" in output, output


# ---------------------------------------------------------------------- 7. one name each


def test_toolbar_buttons_and_menus_name_each_command_alike(window: MainWindow) -> None:
    """A button shows the start of the menu's name for the same command ("New Person"
    for "New Person from Selected Faces"), never another name ("Not Them")."""
    names = set()
    for command in COMMANDS:
        action = window.act[command.key]
        menu_name = action.text().replace("&", "").rstrip("…")
        button_name = action.iconText().rstrip("…")
        assert menu_name.startswith(button_name), (menu_name, button_name)
        names.add(menu_name)
    assert len(names) == len(COMMANDS)


# ---------------------------------------------------------------------- 3. Split…


def test_split_opens_at_the_grouping_threshold_and_undoes_a_wrong_merge(
    qtbot, library: MainWindow, catalog: Catalog
) -> None:
    """Two people merged by mistake: Split… opens at the threshold the library is grouped
    with, where they fall apart again into exactly the two people, and its slider says
    which way gives more people, like the Regroup dialog's."""
    win = library
    first, second = catalog.persons()[:2]
    before = {p: set(catalog.faces_of_person(p)) for p in (first.id, second.id)}
    wait_refreshed(qtbot, win, lambda: win.commands.merge_people([first.id, second.id]))
    assert len(catalog.faces_of_person(first.id)) == first.faces + second.faces
    win.browser.show_person(first.id, select_tile=True)
    seen: dict[str, object] = {}

    def drive() -> None:
        dialog = win.commands.split_dialog
        busy = dialog is None or not dialog.isVisible() or not dialog.groups
        if busy or (dialog._task is not None and dialog._task.running):
            QTimer.singleShot(50, drive)
            return
        seen["threshold"] = dialog.threshold.value()
        seen["labels"] = [label.text() for label in dialog.findChildren(QLabel)]
        seen["groups"] = [set(g) for g in dialog.groups]
        dialog.apply_button.click()

    QTimer.singleShot(0, drive)
    wait_refreshed(qtbot, win, win.act["split_auto"].trigger)
    assert seen["threshold"] == pytest.approx(0.52)
    assert STRICTER in seen["labels"] and LOOSER in seen["labels"]
    assert not any("Strictness" in text for text in seen["labels"])
    assert sorted(seen["groups"], key=len) == sorted(before.values(), key=len)
    assert win.act["undo"].text() == "&Undo Split into 2 people"


# ---------------------------------------------------------------------- 4. Move To…


def test_move_to_chooses_nobody_until_the_user_does(
    qtbot, library: MainWindow, catalog: Catalog
) -> None:
    rows = load_people(catalog, show_hidden=False)
    dialog = MoveToDialog(rows, library.thumbs, library)  # goes with the window
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.view.selectionModel().selectedIndexes() == []
    assert not dialog.ok_button.isEnabled()
    QTest.keyClick(dialog.filter, Qt.Key.Key_Return)  # Enter at once: nothing happens
    QTest.keyClick(dialog.view, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.choice is None

    # Typing filters and takes the first match; Enter moves there.
    target = rows[1]
    QTest.keyClicks(dialog.filter, target.title.lower())
    assert dialog.proxy.rowCount() >= 1
    assert dialog.chosen().data(PERSON_ID_ROLE) == target.person_id
    QTest.keyClick(dialog.filter, Qt.Key.Key_Return)
    assert dialog.choice == target.person_id and not dialog.isVisible()
    dialog.deleteLater()  # as the window does: before the library's catalog closes
    qtbot.wait(10)


# ---------------------------------------------------------------------- 2. face drags


def test_face_drag_highlights_the_tile_it_lands_on_and_never_scrolls(
    qtbot, library: MainWindow, catalog: Catalog
) -> None:
    """Resting on a tile at the bottom edge of the people list: the list stays put (it
    used to scroll other people under the cursor) and the drop lands on the tile that
    was highlighted."""
    win = library
    source = catalog.persons()[0]
    with qtbot.waitSignal(win.browser.faces_shown, timeout=10_000):
        win.browser.show_person(source.id, select_tile=True)
    face = win.faces.model.face_ids()[0]
    mime = win.faces.model.mimeData([win.faces.model.index(0, 0)])
    view = win.people.view
    bar = view.verticalScrollBar()
    assert bar.maximum() > 0, "the people list must be scrollable for this test"
    bar.setValue(bar.maximum() // 2)
    QApplication.processEvents()
    bottom = view.viewport().height() - 4  # inside Qt's 16 px autoscroll margin
    pos = QPoint(view.viewport().width() // 3, bottom)
    index = view.indexAt(pos)
    assert index.isValid() and index.data(PERSON_ID_ROLE) not in (None, source.id)
    target = int(index.data(PERSON_ID_ROLE))
    QCursor.setPos(view.viewport().mapToGlobal(pos))  # where autoscroll looks
    unlit = view.viewport().grab().toImage()

    move, left = Qt.DropAction.MoveAction, Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, move, mime, left, none)
    QApplication.sendEvent(view.viewport(), enter)
    scrolled_from = bar.value()
    for _ in range(6):  # the cursor rests there a while
        drag = QDragMoveEvent(pos, move, mime, left, none)
        QApplication.sendEvent(view.viewport(), drag)
        assert drag.isAccepted()
        qtbot.wait(100)
    assert bar.value() == scrolled_from
    assert view.drop_target is not None and view.drop_target.data(PERSON_ID_ROLE) == target
    assert view.viewport().grab().toImage() != unlit  # the tile is lit up

    with qtbot.waitSignal(win.browser.refreshed, timeout=30_000):
        QApplication.sendEvent(view.viewport(), QDropEvent(QPointF(pos), move, mime, left, none))
    assert catalog.face_state([face])[face][0] == target
    assert view.drop_target is None

    # Leaving the list puts the highlight out.
    QApplication.sendEvent(view.viewport(), QDragEnterEvent(pos, move, mime, left, none))
    QApplication.sendEvent(view.viewport(), QDragMoveEvent(pos, move, mime, left, none))
    assert view.drop_target is not None
    QApplication.sendEvent(view.viewport(), QDragLeaveEvent())
    assert view.drop_target is None


# ---------------------------------------------------------------------- 9. export


def test_open_folder_without_a_file_manager_says_where_the_folder_is(
    qtbot, library: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = library
    win.act["export"].trigger()
    dialog = win.export_dialog
    destination = tmp_path / "people"
    dialog.destination.setText(str(destination))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=60_000)
    assert str(destination) in dialog.result.text()

    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))  # no xdg-open to call
    dialog.open_button.click()
    box = dialog.folder_message
    qtbot.waitUntil(box.isVisible)
    assert box.informativeText() == str(destination)
    copy = next(b for b in box.buttons() if b.text() == "Copy Path")
    copy.click()
    assert QApplication.clipboard().text() == str(destination)


# ---------------------------------------------------------------------- 8. relaunch


def _install_library(catalog: Catalog, folder: Path) -> Path:
    """The scanned catalog where the app keeps the catalog of ``folder``."""
    path = default_catalog_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.backup_to(path)
    return path


def test_a_relaunch_reopens_the_last_library(
    qtbot, window: MainWindow, catalog: Catalog, faces_dev: Path, tmp_path: Path
) -> None:
    _install_library(catalog, faces_dev)
    window.settings.setValue("recent/folders", [str(faces_dev)])
    relaunched = MainWindow(window.settings)  # what the next launch starts with
    qtbot.addWidget(relaunched)
    with qtbot.waitSignal(relaunched.browser.refreshed, timeout=30_000):
        assert reopen_last_library(relaunched)
    assert relaunched.stack.currentIndex() == 1
    assert relaunched.controller.root == faces_dev
    shown = [r.person_id for r in relaunched.people.model.rows() if r.person_id is not None]
    assert shown == [p.id for p in catalog.persons()]
    # it looks for new photos, too
    qtbot.waitUntil(lambda: not relaunched.controller.is_scanning(), timeout=120_000)

    # The folder's drive is not plugged in: the library opens from its catalog anyway.
    gone = tmp_path / "unplugged"
    _install_library(catalog, gone)
    window.settings.setValue("recent/folders", [str(gone)])
    again = MainWindow(window.settings)
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.browser.refreshed, timeout=30_000):
        assert reopen_last_library(again)
    assert "is not there" in again.statusBar().currentMessage()
    assert again.people.model.rowCount() >= len(shown)

    # A first launch (nothing recent) stays on the drop page.
    window.settings.setValue("recent/folders", [])
    fresh = MainWindow(window.settings)
    qtbot.addWidget(fresh)
    assert not reopen_last_library(fresh)
    assert fresh.stack.currentWidget() is fresh.empty


# ---------------------------------------------------------------------- 200 %


def test_thumbnails_are_stored_big_enough_for_200_percent(
    library: MainWindow, catalog: Catalog
) -> None:
    """Person tiles are 120 px: at 200 % they need 240 device pixels, which a new scan's
    thumbnails have wherever the photo allows (they were 160 px, upscaled and soft)."""
    sides = []
    for (face,) in catalog.db.execute("SELECT id FROM faces").fetchall():
        sides.append(Image.open(io.BytesIO(catalog.thumbnail(face))).width)
    # faces-dev: 47 % of them are sharper than 240 px (small faces give smaller crops);
    # with 160 px thumbnails none was
    assert np.mean(np.array(sides) > 240) >= 0.42
    tile = library.thumbs.pixmap(catalog.persons()[0].cover_face, 120, 2.0, 12)
    assert (tile.width(), tile.devicePixelRatio()) == (240, 2.0)


# ---------------------------------------------------------------------- 5. panels


def heading(win: MainWindow) -> tuple[str, str, bool]:
    faces = win.faces
    return faces.title.text(), faces.count.text(), faces.person_bar.isVisibleTo(win)


def test_the_faces_panel_shows_only_what_is_there(
    qtbot, window: MainWindow, catalog: Catalog
) -> None:
    """No "Unknown — 0 faces" before a choice, no person left open once gone (emptied,
    hidden), and Rename / Split… only beside a person's faces."""
    win = window
    assert heading(win) == ("Faces", "", False)
    with qtbot.waitSignal(win.browser.refreshed, timeout=10_000):
        win.open_catalog(catalog.path)
    first, second, third = catalog.persons()[:3]
    with qtbot.waitSignal(win.browser.faces_shown, timeout=10_000):
        win.browser.show_person(second.id, select_tile=True)
    assert heading(win) == (win.browser.person_name(second.id), f"{second.faces} faces", True)

    # Every face taken out: the person is gone, and so is the open grid.
    unsorted = catalog.unknown_faces()[0]  # strangers the grouping left unsorted
    win.browser.select_faces(win.faces.model.face_ids())
    wait_refreshed(qtbot, win, win.act["not_person"].trigger)
    assert catalog.faces_of_person(second.id) == []
    assert heading(win) == ("Faces", "", False)
    assert win.faces.model.rowCount() == 0 and not win.act["rename"].isEnabled()

    # Unknown (now holding those faces) is no person: nothing to rename or split.
    with qtbot.waitSignal(win.browser.faces_shown, timeout=10_000):
        win.browser.show_person(None, select_tile=True)
    assert heading(win) == ("Unsorted faces", f"{second.faces + unsorted} faces", False)

    # Hidden (and hidden people not shown): closed too.
    with qtbot.waitSignal(win.browser.faces_shown, timeout=10_000):
        win.browser.show_person(third.id, select_tile=True)
    wait_refreshed(qtbot, win, win.act["hide"].trigger)
    assert heading(win) == ("Faces", "", False)

    # A map selection: faces of several people, so no person's buttons.
    picked = catalog.faces_of_person(first.id)[:2] + catalog.faces_of_person(None)[:1]
    with qtbot.waitSignal(win.browser.faces_shown, timeout=10_000):
        win.browser.show_selection(picked)
    assert heading(win) == ("Selected on the map", "3 faces", False)


# ---------------------------------------------------------------------- 6. map tab width


def test_the_map_tab_never_widens_the_window(qtbot, library: MainWindow, catalog: Catalog):
    """The map's help line gives way (it pushed the window from 1280 to 1335 px and ran
    into the layout status)."""
    win = library
    win.resize(1280, 820)
    win.tabs.setCurrentIndex(1)
    win.map.status.setText("Quick preview — computing the UMAP layout…")
    picked = [f for p in catalog.persons()[:5] for f in catalog.faces_of_person(p.id)]
    with qtbot.waitSignal(win.browser.faces_shown, timeout=10_000):
        win.browser.show_selection(picked)  # the selection bar shows all its buttons
    qtbot.wait(100)
    assert win.width() == 1280
    assert win.minimumSizeHint().width() <= 1280
    help_line, status = win.map.help, win.map.status
    assert help_line.geometry().right() < status.geometry().left()
    assert status.width() >= status.sizeHint().width()  # the status is never cut
