"""The review dialog at the end of its queue asks the core for more (core
``review.next_questions``), on the real window and a real scanned faces-dev library."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from faceorganizer.core.library.review import RECENT
from faceorganizer.core.store.catalog import Catalog
from faceorganizer.ui.main_window import MainWindow

LOOKING = "Looking for more questions…"


def test_review_looks_further_after_mostly_yes_then_ends(
    qtbot, library: MainWindow, catalog: Catalog
) -> None:
    """A user whose last answers were yes, skipping on: at the end of the first queue the
    dialog fetches faces a little farther off (faces-dev has some past the band), never a
    question twice, until the core says the review is done."""
    win = library
    seen: dict[str, object] = {}
    deadline = time.monotonic() + 120

    def drive() -> None:
        dialog = win.commands.review_dialog
        busy = dialog is None or not dialog.isVisible() or dialog.loading
        if busy or dialog.question.text() == LOOKING:
            if time.monotonic() < deadline:
                QTimer.singleShot(20, drive)
            elif dialog is not None:
                dialog.reject()
            return
        if "first" not in seen:
            seen["first"] = len(dialog.queue)
            dialog.answers = [True] * RECENT  # as after ten "yes"
        if dialog.current() is None:
            seen.update(text=dialog.question.text(), queue=list(dialog.queue), reach=dialog.reach)
            dialog.accept()
            return
        dialog.skip.click()
        QTimer.singleShot(20, drive)

    QTimer.singleShot(0, drive)
    win.act["review"].trigger()  # modal: returns when the dialog closes
    assert seen.get("text") == "No more questions.", seen
    asked = [(q.person_id, q.face_id, q.other_id) for q in seen["queue"]]
    assert len(asked) > seen["first"] > 0
    assert len(set(asked)) == len(asked)
    assert seen["reach"] is None
