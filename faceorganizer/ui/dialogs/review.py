"""The "Is this X?" review: one near-miss face at a time, answered with one key.

The grouping keeps faces apart when they are close but not close enough; the review asks
about those (core ``review_suggestions``). Every answer is applied at once as its own
undoable edit, so closing the dialog half-way loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from faceorganizer.core.store.catalog import Catalog
from faceorganizer.ui import jobs
from faceorganizer.ui.dialogs.common import add_intro, face_strip
from faceorganizer.ui.widgets.thumbs import Thumbnails
from faceorganizer.ui.workers import Task, run_task
from faceorganizer.wording import count


class Question(NamedTuple):
    face_id: int
    person_id: int
    score: float


Answer = Callable[[Question, bool], None]  # True: yes, it is them; False: no


class ReviewDialog(QDialog):
    """One question at a time: the face, "Is this X?", and X's faces beside it."""

    def __init__(
        self,
        catalog_path: Path,
        catalog: Catalog,
        thumbs: Thumbnails,
        answer: Answer,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Is this them?")
        self.resize(1000, 330)
        self.catalog, self.thumbs, self.answer = catalog, thumbs, answer
        self.queue: list[Question] = []
        self.faces: list[int] = []  # of the person asked about
        self.position = 0
        layout = QVBoxLayout(self)
        add_intro(
            layout,
            "These faces were not grouped with anyone, but each looks like someone. "
            "Answer with the buttons or the keys Y, N and S; every answer can be undone.",
        )
        self.question = QLabel("Looking for faces to ask about…")
        font = self.question.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.question.setFont(font)
        layout.addWidget(self.question)
        row = QHBoxLayout()
        self.face = QLabel()
        self.face.setFixedSize(160, 160)
        row.addWidget(self.face, 0, Qt.AlignmentFlag.AlignTop)
        right = QVBoxLayout()
        self.caption = QLabel()
        right.addWidget(self.caption)
        self.person = QLabel()
        right.addWidget(self.person)
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
        thumbs.ready.connect(self._draw_faces)
        self._task: Task | None = run_task(
            jobs.review_job(catalog_path), self, on_result=self._loaded, on_error=self._failed
        )

    def _button(self, text: str, key: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setShortcut(key)
        button.clicked.connect(slot)
        return button

    def _enable(self, on: bool) -> None:
        for button in (self.yes, self.no, self.skip):
            button.setEnabled(on)

    def _loaded(self, queue: list[tuple[int, int, float]]) -> None:
        self.queue = [Question(*row) for row in queue]
        self._show()

    def _failed(self, exc: BaseException) -> None:
        self.question.setText(f"Cannot look for suggestions: {exc}")

    def current(self) -> Question | None:
        return self.queue[self.position] if self.position < len(self.queue) else None

    def _show(self) -> None:
        suggestion = self.current()
        self._enable(suggestion is not None)
        if suggestion is None:
            self.face.clear()
            self.person.clear()
            self.caption.clear()
            self.progress.clear()
            done = "No more questions." if self.queue else "Nothing to ask: no near misses."
            self.question.setText(done)
            return
        name = self.catalog.person_names().get(suggestion.person_id, "this person")
        self.question.setText(f"Is this {name}?")
        self.faces = self.catalog.faces_of_person(suggestion.person_id)
        self.caption.setText(f"{name}: {count(len(self.faces), 'face')}")
        self._draw_faces()
        self.progress.setText(f"{self.position + 1} of {len(self.queue)}")

    def _draw_faces(self) -> None:
        """The asked-about face and the person's faces (again when thumbnails arrive)."""
        suggestion = self.current()
        if suggestion is None:
            return
        dpr = self.devicePixelRatioF()
        self.face.setPixmap(self.thumbs.pixmap(suggestion.face_id, 160, dpr, 8))
        self.person.setPixmap(QPixmap(face_strip(self.thumbs, self.faces, 72, dpr)))

    def _answer(self, yes: bool) -> None:
        suggestion = self.current()
        if suggestion is not None:
            self.answer(suggestion, yes)
        self._next()

    def _next(self) -> None:
        self.position += 1
        self._show()
