"""The review dialog at the end of its queue asks the core for more (core
``review.next_questions``), on the real window and a real scanned faces-dev library."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest

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


@pytest.mark.parametrize("group_key", ["1", "N"])
def test_who_is_this_picks_by_number_and_none_rejects_every_choice(
    qtbot, library: MainWindow, catalog: Catalog, group_key: str
) -> None:
    """faces-dev's first questions include "Who is this?" about a face (a turned or
    unsorted face near several people) and about a group: the face is boxed on its photo,
    under the group it is in now, one numbered button per person offered, Yes hidden and
    No reading "None of them"; the key 2 puts the face into the second person, N rejects
    it from every one offered; on a group 1 merges it into the first one offered, and N
    rejects each of its faces from every group offered, which stay as they were (not
    kept apart from one another)."""
    win = library
    seen: dict[str, object] = {}
    deadline = time.monotonic() + 120

    pressed: list[int] = []  # the position a key was pressed at

    def waiting(dialog) -> bool:
        """Not ready for a key: a key's click still to come (a shortcut's click is
        animated), or, all three asked, a question loading or its photo."""
        if dialog is None or pressed and dialog.position == pressed[-1]:
            return True
        if {"pick", "none", "group"} <= set(seen):
            return False
        if not dialog.isVisible() or dialog.loading or dialog.shown is None:
            return True
        face = dialog.shown.other_id is None
        return dialog.question.text() == LOOKING or face and dialog.photo.image.isNull()

    def drive() -> None:
        dialog = win.commands.review_dialog
        if waiting(dialog):
            if time.monotonic() < deadline:
                QTimer.singleShot(20, drive)
            elif dialog is not None:
                dialog.reject()
            return
        if {"pick", "none", "group"} <= set(seen):
            dialog.accept()
            return
        q = dialog.shown
        if not dialog.isActiveWindow():  # its keys are window shortcuts
            dialog.activateWindow()
            QTimer.singleShot(20, drive)
            return
        if dialog.current() is None or len(q.choices) < 2:
            dialog.skip.click() if dialog.current() is not None else dialog.accept()
            QTimer.singleShot(20, drive)
            return
        kind = "group" if q.other_id is not None else ("pick" if "pick" not in seen else "none")
        if kind in seen:
            dialog.skip.click()
            QTimer.singleShot(20, drive)
            return
        picks = [row.pick for row in dialog.rows if row.pick.isVisible()]
        seen[kind] = {
            "question": q,
            "text": dialog.question.text(),
            "picks": [(b.text(), b.shortcut().toString()) for b in picks],
            "yes": dialog.yes.isVisible(),
            "no": dialog.no.text(),
            "boxes": [box for box, _, chosen in dialog.photo.boxes if chosen],
            "names": catalog.person_names(),
            "now": dialog.now.text(),
            "where": catalog.assignments(),
        }
        group = Qt.Key.Key_1 if group_key == "1" else Qt.Key.Key_N
        key = {"pick": Qt.Key.Key_2, "none": Qt.Key.Key_N, "group": group}[kind]
        pressed.append(dialog.position)
        QTest.keyClick(dialog, key)  # a shortcut's click comes later (animated)
        QTimer.singleShot(20, drive)

    QTimer.singleShot(0, drive)
    win.act["review"].trigger()  # modal: returns when the dialog closes
    assert {"pick", "none", "group"} <= set(seen), seen
    answers = "SELECT COUNT(*) FROM edits WHERE label NOT LIKE 'Names from%'"
    qtbot.waitUntil(lambda: catalog.db.execute(answers).fetchone()[0] == 3, timeout=30_000)
    for kind in ("pick", "none", "group"):
        shown = seen[kind]
        q, names = shown["question"], shown["names"]
        assert not shown["yes"] and shown["no"] == "&None of them"
        assert [key for _, key in shown["picks"]] == [str(k + 1) for k in range(len(q.choices))]
        for (text, _), person in zip(shown["picks"], q.choices, strict=True):
            assert text.startswith(f"{q.choices.index(person) + 1}: {names[person]}: ")
    pick, none, group = seen["pick"], seen["none"], seen["group"]
    assert pick["text"] == none["text"] == "Who is this?"
    assert len(pick["boxes"]) == len(none["boxes"]) == 1  # the face is boxed on its photo
    face = pick["question"].face_id
    assert catalog.assignments()[face] == (pick["question"].choices[1], True)
    rejected = set(catalog.rejections())
    assert {(none["question"].face_id, p) for p in none["question"].choices} <= rejected
    for shown in (pick, none):  # the face's group now, by name and size, or Unsorted
        person = shown["where"][shown["question"].face_id][0]
        size = sum(p == person for p, _ in shown["where"].values())
        where = (
            f"{shown['names'][person]} now ({size} faces)"
            if person is not None
            else "Unsorted faces now"
        )
        assert shown["now"] == f"This face is in {where}."
    q = group["question"]
    assert group["text"] == f"Who is {group['names'][q.other_id]}?" and not group["now"]
    if group_key == "1":
        assert catalog.faces_of_person(q.other_id) == []  # merged into the first one offered
        return
    faces, before, after = (
        catalog.faces_of_person(q.other_id),
        group["where"],
        catalog.assignments(),
    )
    assert faces and {(f, p) for f in faces for p in q.choices} <= set(catalog.rejections())
    offered = [f for f, (p, _) in before.items() if p in q.choices]
    assert all(after[f] == before[f] for f in offered)  # the groups offered: untouched
    assert not all(before[f][1] for f in offered)  # (and so not all locked: not kept apart)
