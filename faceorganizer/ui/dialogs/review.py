"""The review: one near-miss question at a time, answered with one key.

The grouping keeps faces apart when they are close but not close enough; the review asks
about those (core ``review.review_queue``): "Is this X?" about a face left alone, "Who is
this?" when it looks like several people (one numbered button each, N for none of them),
"Are these the same person?" about two groups the merge kept apart. The face a question means
is shown boxed on a wider crop of its photo, so a photo of two people side by side is
never ambiguous. Every answer is applied at once as its own undoable edit, so closing
the dialog half-way loses nothing. The dialog reads the library only through the
controller's serial worker, after the answers queued before, so it never asks what an
earlier answer settled and the GUI thread runs no SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from faceorganizer.ui import jobs
from faceorganizer.ui.dialogs.common import PhotoCanvas, add_intro, face_strip
from faceorganizer.ui.widgets.thumbs import Thumbnails
from faceorganizer.ui.workers import Task, is_running, run_task
from faceorganizer.wording import count

CONTEXT = 1.5  # the crop reaches this many face widths beyond the face on each side
PHOTO_SIDE = 1600  # decoded photo's long side: a crop of it fills the question's canvas
CHOICES = 6  # people a question offers at most: core review.CHOICES
STRIP = 56  # face side in a group's row: seven rows fit a 768-px screen
CAPTION = 210  # width of a row's name and count (or its button)


class Question(NamedTuple):
    """``face_id`` set: "Is this face person_id?", or with ``others`` "Who is this?"
    (person_id or one of others); ``other_id`` set: "Are person_id and other_id the same
    person?" (person_id is the larger group)."""

    person_id: int
    face_id: int | None
    other_id: int | None
    distance: float
    others: tuple[int, ...] = ()

    @property
    def choices(self) -> tuple[int, ...]:
        """The people a face question offers (a pair question: its larger group)."""
        return (self.person_id, *self.others)


# The answer: who the question's face (or a pair's other group) is, one of the question's
# choices (the dialog passes the question as shown: the people still there); None: none
Answer = Callable[[Question, int | None], None]
# LibraryController.read: call(library) in its worker, then a callback on the GUI thread
Read = Callable[
    [Callable[[jobs.Library], Any], Callable[[Any], None], Callable[[BaseException], None]], None
]


class ReviewDialog(QDialog):
    """One question at a time: the face boxed in its photo, the question, the groups."""

    def __init__(
        self,
        catalog_path: Path,
        read: Read,
        thumbs: Thumbnails,
        answer: Answer,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Is this them?")
        self.resize(1100, 560)
        self.read, self.thumbs, self.answer = read, thumbs, answer
        self.queue: list[Question] = []
        self.position = 0
        self.answers: list[bool] = []  # yes and no so far: whether to look further
        self.reach: float | None = None  # how far past the threshold the questions reach
        self.loading = True  # a question is being read: nothing to answer yet
        self._closed = False
        layout = QVBoxLayout(self)
        add_intro(
            layout,
            "The grouping kept these apart, but each looks like someone. "
            "Answer with the buttons or their keys: 1 to 6 picks a person, Y is yes, "
            "N is no (or none of them), S skips. Every answer can be undone.",
        )
        self.question = QLabel("Looking for questions to ask…")
        font = self.question.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.question.setFont(font)
        layout.addWidget(self.question)
        self.now = QLabel()  # a face question: the group the face would leave
        layout.addWidget(self.now)
        row = QHBoxLayout()
        self.photo = PhotoCanvas(self)
        self.photo.setFixedSize(260, 260)
        self.photo.message = ""
        row.addWidget(self.photo, 0, Qt.AlignmentFlag.AlignTop)
        right = QVBoxLayout()
        self.rows = [_Row(self) for _ in range(CHOICES + 1)]  # + a pair's other
        for k, group in enumerate(self.rows):
            group.pick.clicked.connect(lambda _=False, k=k: self._pick(k))
            right.addLayout(group.line)
        right.addStretch(1)
        row.addLayout(right, 1)
        layout.addLayout(row, 1)
        buttons = QHBoxLayout()
        self.progress = QLabel()
        buttons.addWidget(self.progress)
        buttons.addStretch(1)
        self.yes = self._button("&Yes", "Y", lambda: self._answer(True))
        self.no = self._button("&No", "N", lambda: self._answer(False))
        self.skip = self._button("&Skip", "S", self._next)
        for button in (self.yes, self.no, self.skip):
            buttons.addWidget(button)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self._enable(False)
        self._photo_tasks: list[Task] = []  # the current one last; older ones cancelled
        self.catalog_path = catalog_path
        self._asked: int | None = None  # the face whose photo is shown
        self._boxes: list[tuple[tuple[float, ...], bool]] = []  # its photo's faces: box, asked
        self._strips: list[list[int]] = []  # faces of the groups shown, row by row
        self.shown: Question | None = None  # the current question as shown: who is still there
        thumbs.ready.connect(self._draw_strips)
        self._task: Task | None = run_task(
            jobs.review_job(catalog_path), self, on_result=self._loaded, on_error=self._failed
        )

    def _button(self, text: str, key: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setShortcut(key)
        button.clicked.connect(slot)
        return button

    def _enable(self, on: bool) -> None:
        for button in (self.yes, self.no, self.skip, *(r.pick for r in self.rows)):
            button.setEnabled(on)

    def _loaded(self, found: tuple[float | None, list[jobs.ReviewRow]]) -> None:
        if self._closed:
            return
        self.reach, rows = found
        self.queue += [Question(*row) for row in rows]
        self._show()

    def _ask_for_more(self) -> None:
        """At the end of the queue: the questions the answers opened, or further ones
        while the answers are mostly yes (core ``review.next_questions``)."""
        self.question.setText("Looking for more questions…")
        asked = [(q.person_id, q.face_id, q.other_id) for q in self.queue]
        self._task = run_task(
            jobs.review_job(self.catalog_path, asked, self.answers, self.reach),
            self,
            on_result=self._loaded,
            on_error=self._failed,
        )

    def _failed(self, exc: BaseException) -> None:
        if not self._closed:
            self.question.setText(f"Cannot look for suggestions: {exc}")

    def current(self) -> Question | None:
        return self.queue[self.position] if self.position < len(self.queue) else None

    def _show(self) -> None:
        """Read the next open question from ``position`` on in the controller's worker;
        until it arrives the buttons wait (a second key press cannot answer twice)."""
        self.loading = True
        self._enable(False)
        self.progress.setText("Loading…")
        start, queue = self.position, tuple(self.queue)
        self.read(
            lambda library: jobs.read_review_step(library, queue, start),
            lambda step: self._arrived(start, step),
            self._failed,
        )

    def _arrived(self, start: int, step: jobs.ReviewStep) -> None:
        if self._closed or start != self.position:
            return
        self.position, self.loading = step.position, False
        q = self.current()
        self._enable(q is not None)
        self.progress.clear()
        self.shown = None
        self.now.setText(step.now)
        if (q is None or step.asked is None) and self.reach is not None:
            self._show_rows(q, step)
            self._ask_for_more()
            return
        if q is None or step.asked is None:
            self._show_rows(q, step)
            self.photo.image = QImage()
            self.photo.update()
            done = "No more questions." if self.queue else "Nothing to ask: no near misses."
            self.question.setText(done)
            return
        offered = step.people if q.other_id is None else step.people[:-1]
        self.shown = q._replace(person_id=offered[0], others=offered[1:])  # those still there
        choose = self._show_rows(q, step)
        if q.other_id is None:
            self.question.setText("Who is this?" if choose else f"Is this {step.names[0]}?")
        elif choose:
            self.question.setText(f"Who is {step.names[-1]}?")
        else:
            self.question.setText(f"Are {step.names[0]} and {step.names[1]} the same person?")
        self._draw_strips()
        self._show_photo(step.asked)
        self.progress.setText(f"{self.position + 1} of {len(self.queue)}")

    def _show_rows(self, q: Question | None, step: jobs.ReviewStep) -> bool:
        """One row per group shown: its name, face count and faces; numbered buttons
        when the face (or a pair's other group, shown first) may be one of several
        people (True), else Yes and No answer."""
        offered = len(step.people) - (q is not None and q.other_id is not None)
        choose = offered > 1
        order = list(range(len(step.people)))
        if choose and offered < len(order):  # "Who is X?": X above the groups offered
            order = [order[-1], *order[:-1]]
        self._strips = [step.faces[i] for i in order]
        for k, group in enumerate(self.rows):
            group.strip.clear()
            i = order[k] if k < len(order) else None
            text = "" if i is None else f"{step.names[i]}: {count(len(step.faces[i]), 'face')}"
            group.person = step.people[i] if choose and i is not None and i < offered else None
            group.pick.setText(f"{i + 1}: {text}" if group.person is not None else "")
            group.pick.setShortcut(str(i + 1) if group.person is not None else "")
            group.caption.setText("" if group.person is not None else text)
            group.pick.setVisible(group.person is not None)
            group.caption.setVisible(i is not None and group.person is None)
        self.yes.setVisible(not choose)
        self.no.setText("&None of them" if choose else "&No")
        self.no.setShortcut("N")
        return choose

    def _draw_strips(self) -> None:
        """The groups' faces (again when thumbnails arrive: they load in the background)."""
        dpr = self.devicePixelRatioF()
        for group, faces in zip(self.rows, self._strips, strict=False):
            group.strip.setPixmap(QPixmap(face_strip(self.thumbs, faces, STRIP, dpr)))

    def _show_photo(self, face_id: int) -> None:
        """The asked face boxed on a crop of its photo ``CONTEXT`` face widths wider; the
        photo's faces arrive first, then the decoded photo (both from a worker)."""
        self._asked = face_id
        self._boxes = []
        self.photo.image = QImage()
        self.photo.message = "Loading…"
        self.photo.update()
        for task in self._photo_tasks:
            if is_running(task):
                task.cancel()
        self._photo_tasks = [t for t in self._photo_tasks if is_running(t)]
        self._photo_tasks.append(
            run_task(
                jobs.photo_job(self.catalog_path, face_id, PHOTO_SIDE),
                self,
                on_progress=lambda faces: self._faces_arrived(face_id, faces),
                on_result=lambda picture: self._crop(face_id, picture),
                on_error=lambda exc: self._no_photo(face_id, exc),
            )
        )

    def _faces_arrived(self, face_id: int, faces: jobs.PhotoFaces) -> None:
        if face_id == self._asked:
            self._boxes = [(box, chosen) for box, _name, chosen in faces.boxes]

    def _crop(self, face_id: int, picture: jobs.Picture) -> None:
        chosen = [box for box, is_asked in self._boxes if is_asked]
        if face_id != self._asked or not chosen:
            return  # an answer moved on while the photo loaded
        x0, y0, x1, y1 = chosen[0]
        margin = CONTEXT * max(x1 - x0, y1 - y0)
        s = picture.scale
        height, width = picture.rgb.shape[:2]
        left, top = max(0, int((x0 - margin) * s)), max(0, int((y0 - margin) * s))
        right = min(width, int((x1 + margin) * s) + 1)
        bottom = min(height, int((y1 + margin) * s) + 1)
        crop = picture.rgb[top:bottom, left:right].copy()
        self.photo.image = QImage(
            crop.data, crop.shape[1], crop.shape[0], crop.strides[0], QImage.Format.Format_RGB888
        ).copy()
        self.photo.scale = s
        ox, oy = left / s, top / s
        # the asked face boxed, the photo's other faces outlined: which one is meant
        self.photo.boxes = [
            ((bx0 - ox, by0 - oy, bx1 - ox, by1 - oy), "", is_asked)
            for (bx0, by0, bx1, by1), is_asked in self._boxes
        ]
        self.photo.update()

    def _no_photo(self, face_id: int, exc: BaseException) -> None:
        """The photo is gone (a drive unplugged): show the thumbnail instead."""
        self.photo.image = self.thumbs.pixmap(face_id, 260).toImage()
        self.photo.scale = 1.0
        self.photo.boxes = []
        self.photo.message = f"Photo not available: {exc}"
        self.photo.update()

    def _answer(self, yes: bool) -> None:
        """Yes: the face is the person asked about (the pair is one person); No: none."""
        if self.shown is not None:
            self._give(self.shown.person_id if yes else None)

    def _pick(self, row: int) -> None:
        """A numbered button: the face (or group) is the person of that row."""
        person = self.rows[row].person
        if self.shown is not None and person is not None:
            self._give(person)

    def _give(self, person: int | None) -> None:
        q = self.shown
        if q is not None and not self.loading:
            self.answer(q, person)
            self.answers.append(person is not None)
            self._next()

    def _next(self) -> None:
        if not self.loading:
            self.position += 1
            self._show()

    def done(self, result: int) -> None:
        self._closed = True  # a question still being read is dropped
        for task in (self._task, *self._photo_tasks):
            if is_running(task):
                task.cancel()
                task.wait()  # a thread must not outlive the dialog that owns it
        super().done(result)


class _Row:
    """One group a question shows, on one line: its caption (a numbered button when the
    face may be one of several people), then a strip of its faces."""

    def __init__(self, parent: QWidget) -> None:
        self.person: int | None = None  # whom its button answers
        self.line = QHBoxLayout()
        self.pick = QPushButton(parent)
        self.pick.setVisible(False)
        self.caption = QLabel(parent)
        for label in (self.pick, self.caption):
            label.setFixedWidth(CAPTION)  # the strips line up
            self.line.addWidget(label, 0, Qt.AlignmentFlag.AlignVCenter)
        self.strip = _strip_label()
        self.strip.setFixedHeight(STRIP)
        self.line.addWidget(self.strip, 1)


def _strip_label() -> QLabel:
    """A row of a group's faces that never widens the dialog: a large group's strip is
    cut at the edge instead (the dialog grew between questions)."""
    label = QLabel()
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label
