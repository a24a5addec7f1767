"""The Split…, Regroup and review dialogs on the real window and a real scanned faces-dev
library: they start from the library's own settings, apply through the controller, and
what they apply undoes like any edit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer

from faceorganizer.config import Settings
from faceorganizer.core.store.catalog import Catalog
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
    assert win.act["undo"].text().startswith("&Undo Re-cluster")


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
