"""The Split…, Regroup and review dialogs on the real window and a real scanned faces-dev
library: they start from the library's own settings, apply through the controller, and
what they apply undoes like any edit."""

from __future__ import annotations

import sys
import threading
import time

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest

from faceorganizer.config import Settings
from faceorganizer.core.library.people import recluster
from faceorganizer.core.store.catalog import Catalog
from faceorganizer.ui.dialogs.review import Question
from faceorganizer.ui.main_window import MainWindow


def open_library(qtbot, win: MainWindow, catalog: Catalog) -> None:
    with qtbot.waitSignal(win.browser.refreshed, timeout=10_000):
        assert win.open_catalog(catalog.path)


def people(catalog: Catalog) -> list[tuple[int, int]]:
    return [(p.id, p.faces) for p in catalog.persons()]


def settled(win: MainWindow) -> bool:
    """Every queued edit and read is done, the views show the result."""
    controller = win.controller
    return not controller.running() and not controller.pending() and not controller.refreshing()


def do(qtbot, win: MainWindow, key: str) -> None:
    """Trigger a window action and wait until it is written and shown."""
    win.act[key].trigger()
    qtbot.waitUntil(lambda: settled(win), timeout=60_000)


def split_opens_at(qtbot, win: MainWindow, person_id: int) -> float:
    """The threshold Split… shows when it opens on this person (closed at once)."""
    seen: list[float] = []

    def drive() -> None:
        dialog = win.commands.split_dialog
        if dialog is None or not dialog.isVisible():
            QTimer.singleShot(50, drive)
            return
        seen.append(dialog.threshold.value())
        dialog.reject()  # while its preview still computes: nothing may be left running

    win.browser.show_person(person_id, select_tile=True)
    QTimer.singleShot(0, drive)
    win.act["split_auto"].trigger()  # modal: returns when the dialog closes
    return seen[0]


@pytest.mark.parametrize(
    ("grouping", "start"),
    [
        (Settings(threshold=0.47), 0.47),
        # DBSCAN's radius is no whispers threshold: splits start at whispers' default
        (Settings(algorithm="dbscan", threshold=0.40), 0.52),
    ],
)
def test_split_opens_at_the_librarys_grouping_threshold(
    qtbot, window: MainWindow, catalog: Catalog, grouping: Settings, start: float
) -> None:
    catalog.save_settings(grouping)
    window.settings.setValue("cluster/algorithm", "chinese-whispers")  # an old app's choice,
    window.settings.setValue("cluster/threshold", 0.6)  # which a recorded library ignores
    open_library(qtbot, window, catalog)
    assert split_opens_at(qtbot, window, catalog.persons()[0].id) == pytest.approx(start)


def test_split_follows_a_regroup_and_its_undo(qtbot, library: MainWindow, catalog: Catalog):
    """The controller's copy of the library's settings is read again after every edit:
    an undone regroup takes Split… back to the old threshold."""
    win = library
    person = catalog.persons()[0].id
    assert split_opens_at(qtbot, win, person) == pytest.approx(0.52)
    regroup(qtbot, win, catalog, 0.47)
    assert split_opens_at(qtbot, win, person) == pytest.approx(0.47)
    do(qtbot, win, "undo")
    assert split_opens_at(qtbot, win, person) == pytest.approx(0.52)


def regroup(qtbot, win: MainWindow, catalog: Catalog, threshold: float) -> None:
    """Regroup Faces… with Chinese whispers at this threshold, as a user does: wait for
    the library's values and the count of people, set the slider, click Regroup."""
    win.act["regroup"].trigger()
    dialog = win.cluster_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.loaded and dialog.preview is not None, timeout=60_000)
    dialog.threshold.setValue(threshold)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=60_000)
    assert dialog.values() == ("chinese-whispers", pytest.approx(threshold))
    expected = dialog.preview
    dialog.apply_button.click()
    qtbot.waitUntil(lambda: settled(win), timeout=60_000)
    assert not dialog.isVisible()
    assert len(catalog.persons()) == expected  # what the dialog said it would be
    label = f"&Undo Regroup faces (Chinese whispers, {threshold:.2f})"
    assert win.act["undo"].text() == label


def test_regroup_dialog_applies_and_undo_brings_back_settings_and_people(
    qtbot, library: MainWindow, catalog: Catalog
) -> None:
    win = library
    before_settings, before_people = catalog.settings(), people(catalog)
    assert before_settings.threshold is None  # faces-dev was scanned with the defaults
    regroup(qtbot, win, catalog, 0.45)
    after = catalog.settings()
    assert (after.algorithm, after.threshold) == ("chinese-whispers", 0.45)
    assert after.detector == before_settings.detector
    assert people(catalog) != before_people
    do(qtbot, win, "undo")
    assert catalog.settings() == before_settings
    assert people(catalog) == before_people
    do(qtbot, win, "redo")
    assert catalog.settings() == after


GUI_THREAD_CONNECTS: list[str] = []  # catalogs opened on the GUI thread while watched
_watching: list[bool] = []


def _audit(event: str, args: tuple) -> None:
    if (
        event == "sqlite3.connect"
        and _watching
        and threading.current_thread() is threading.main_thread()
    ):
        GUI_THREAD_CONNECTS.append(str(args[0]))


sys.addaudithook(_audit)  # hooks stay for the process; this one only notes while watched


def question_is_open(catalog: Catalog, question: Question) -> bool:
    """No earlier answer settled it (its groups still have faces, its face is not placed)."""
    if not catalog.faces_of_person(question.person_id):
        return False
    if question.other_id is not None:
        return bool(catalog.faces_of_person(question.other_id))
    return catalog.face_info(question.face_id)["locked"] == 0


def test_review_reads_in_the_worker_and_waits_while_it_loads(
    qtbot, library: MainWindow, catalog: Catalog
) -> None:
    """Answer every question with Y (1 for "Who is this?": the first person offered) as
    a user does: after each key the buttons wait for the next question, read after the
    answer is written, so none the answers settled is asked; the GUI thread opens no
    catalog."""
    win = library
    recluster(catalog, threshold=0.5)  # a tighter grouping leaves near misses to ask about
    earlier = len(undo_labels(catalog))
    seen: dict[str, list] = {"asked": [], "open": [], "loading": [], "texts": [], "width": []}
    deadline = time.monotonic() + 120
    pressed: list[Qt.Key] = []  # the key pressed; its click is still to come (animated)

    def after_yes() -> None:  # connected after the dialog's own slot: the state it left
        dialog = win.commands.review_dialog
        seen["loading"].append(
            (dialog.loading, dialog.yes.isEnabled(), dialog.progress.text(), dialog.current())
        )
        key = pressed.pop()
        QTest.keyClick(dialog, key)  # a second press while loading answers nothing

    def drive() -> None:
        dialog = win.commands.review_dialog
        if dialog is None or not dialog.isVisible() or dialog.loading or pressed:
            if time.monotonic() < deadline:
                QTimer.singleShot(20, drive)
            elif dialog is not None:
                dialog.reject()
            return
        question = dialog.shown  # the people still there
        if question is None or len(seen["asked"]) == 6:
            seen["texts"].append(dialog.question.text())
            dialog.accept()
            return
        if not dialog.isActiveWindow():  # its keys are window shortcuts
            dialog.activateWindow()
            QTimer.singleShot(20, drive)
            return
        if not seen["asked"]:
            for button in (dialog.yes, *(row.pick for row in dialog.rows)):
                button.clicked.connect(after_yes)
        seen["asked"].append(question)
        seen["open"].append(question_is_open(catalog, question))
        seen["width"].append(dialog.width())
        pressed.append(Qt.Key.Key_Y if dialog.yes.isVisible() else Qt.Key.Key_1)
        QTest.keyClick(dialog, pressed[-1])
        QTimer.singleShot(20, drive)

    _watching.append(True)
    try:
        QTimer.singleShot(0, drive)
        win.act["review"].trigger()  # modal: returns when the dialog closes
    finally:
        _watching.clear()
    assert GUI_THREAD_CONNECTS == []
    assert len(seen["asked"]) >= 2, seen
    assert all(seen["open"]), seen
    assert len(set(seen["width"])) == 1, seen["width"]  # no question widens the dialog
    for (loading, enabled, progress, current), asked in zip(
        seen["loading"], seen["asked"], strict=True
    ):
        assert loading and not enabled and progress == "Loading…", seen
        assert current != asked
    qtbot.waitUntil(lambda: settled(win), timeout=30_000)
    # one edit per answer, in order, none for the second Y
    expected = ["Yes, this is them" if q.other_id is None else "Merge" for q in seen["asked"]]
    labels = undo_labels(catalog)
    written = [label if label == "Yes, this is them" else label[:5] for label in labels]
    assert len(labels) == earlier + len(expected)
    assert written[: len(expected)] == expected[::-1]


def undo_labels(catalog: Catalog) -> list[str]:
    """The undo log, newest first."""
    return [
        row[0]
        for row in catalog.db.execute("SELECT label FROM edits WHERE undone = 0 ORDER BY id DESC")
    ]


def test_export_dialog_grows_for_its_report_instead_of_squeezing_its_rows(
    qtbot, library: MainWindow, tmp_path
) -> None:
    """A long destination wraps the report onto more lines: the dialog grows to fit
    them (the window's minimum size ignores word wrap, so the rows above overlapped)."""
    win = library
    win.act["export"].trigger()
    dialog = win.export_dialog
    qtbot.waitExposed(dialog)
    dialog.destination.setText(str(tmp_path / ("a folder with a long name " * 3) / "Exported"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=60_000)
    qtbot.wait(100)  # the layout settles
    squeezed = [
        widget.text()
        for widget in (*dialog.modes.buttons(), dialog.only_named, dialog.write_xmp)
        if widget.height() < widget.sizeHint().height()
    ]
    assert squeezed == []
    result = dialog.result
    assert result.height() >= result.heightForWidth(result.width())
    assert result.geometry().bottom() < dialog.open_button.geometry().top()
    assert "already there" not in result.text()  # nothing was: not worth a word
    qtbot.waitUntil(lambda: not dialog.task.running, timeout=30_000)
    written = dialog.report.written
    dialog.report = None
    dialog.export_button.click()  # again, to the same place
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=60_000)
    assert f"0 photos written, {written:,} already there" in result.text()
    qtbot.waitUntil(lambda: not dialog.task.running, timeout=30_000)


def test_closing_the_photo_viewer_while_it_decodes_never_aborts(
    qtbot, library: MainWindow, catalog: Catalog
) -> None:
    """Double-click a face, close the photo at once, several times: the viewer deletes
    itself on close, and a decode thread still running then ("QThread: Destroyed while
    thread is still running") aborted the app; it waits for it instead."""
    win = library
    faces = [person.cover_face for person in catalog.persons()[:3]]
    for face in faces:
        win.open_photo(face)
        win.photo_viewer.close()
    for face in faces:  # and right after its faces arrived, as the decoding starts
        win.open_photo(face)
        viewer = win.photo_viewer
        qtbot.waitUntil(lambda v=viewer: v.path is not None, timeout=30_000)
        viewer.close()
    qtbot.wait(2000)  # the deferred deletes run, every decode ends
    win.open_photo(faces[0])
    viewer = win.photo_viewer
    qtbot.waitUntil(lambda: not viewer.canvas.image.isNull(), timeout=30_000)
    viewer.close()
