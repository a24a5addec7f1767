"""Small dialogs: skipped files, photo viewer, automatic split preview, move to person."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QRectF,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QImage,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from faceorganizer.config import DEFAULT_THRESHOLD
from faceorganizer.ui import jobs
from faceorganizer.ui.widgets.item_models import PERSON_ID_ROLE, PeopleModel, Row
from faceorganizer.ui.widgets.thumbs import Thumbnails, render
from faceorganizer.ui.workers import Task, is_running, run_task
from faceorganizer.wording import count


class SkippedFilesDialog(QDialog):
    """Why some files were not used: unreadable, corrupt, not an image…"""

    def __init__(self, problems: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Skipped files")
        self.resize(760, 420)
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"{count(len(problems), 'problem')}: photos that were skipped, and face names "
            "in photo metadata (XMP) that could not be used. Fix or remove them and scan "
            "again (F5); everything else is already sorted."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        table = QTableWidget(len(problems), 2, self)
        table.setHorizontalHeaderLabels(["File", "Reason"])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for row, (path, reason) in enumerate(problems):
            table.setItem(row, 0, QTableWidgetItem(path))
            table.setItem(row, 1, QTableWidgetItem(reason))
        layout.addWidget(table)
        self.table = table
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


# ---------------------------------------------------------------------- photo viewer


class PhotoCanvas(QWidget):
    """The photo scaled to fit, with the chosen face boxed and the others outlined; for a
    missing photo, the face greyed above the message."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.scale = 1.0  # image pixels per original pixel
        self.boxes: list[tuple[tuple[float, float, float, float], str, bool]] = []
        self.message = "Loading…"
        self.face = QImage()  # shown with the message when there is no photo
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#1f2127"))
        if self.image.isNull():
            painter.setPen(QColor("#a3a7b0"))
            if self.face.isNull():
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
                return
            side = self.face.width() / self.face.devicePixelRatio()
            top = (self.height() - side) / 2 - 40
            painter.drawImage(QRectF((self.width() - side) / 2, top, side, side), self.face)
            below = QRectF(0, top + side + 16, self.width(), 80)
            painter.drawText(below, Qt.AlignmentFlag.AlignHCenter, self.message)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRectF(
            (self.width() - size.width()) / 2,
            (self.height() - size.height()) / 2,
            size.width(),
            size.height(),
        )
        painter.drawImage(target, self.image)
        fit = target.width() / self.image.width() * self.scale  # view px per original px
        for (x0, y0, x1, y1), label, chosen in self.boxes:
            rect = QRectF(
                target.left() + x0 * fit,
                target.top() + y0 * fit,
                (x1 - x0) * fit,
                (y1 - y0) * fit,
            )
            pen = QPen(QColor("#ffcc33") if chosen else QColor(255, 255, 255, 170))
            pen.setWidthF(3.0 if chosen else 1.5)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect, 4, 4)
            if label:
                font = QFont(self.font())
                font.setBold(chosen)
                painter.setFont(font)
                metrics = painter.fontMetrics()
                box = QRectF(
                    rect.left(), rect.bottom() + 3, metrics.horizontalAdvance(label) + 10, 20
                )
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(20, 21, 25, 200))
                painter.drawRoundedRect(box, 4, 4)
                painter.setPen(QColor("#ffcc33") if chosen else QColor("#f0f0f3"))
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)


class PhotoViewer(QDialog):
    """Shows the photo a face comes from; reading and decoding run in a worker."""

    def __init__(self, catalog_path: Path, face_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path: Path | None = None
        self.setWindowTitle("faceorganizer")
        self.resize(960, 720)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 8)
        self.canvas = PhotoCanvas(self)
        layout.addWidget(self.canvas, 1)
        bar = QHBoxLayout()
        bar.setContentsMargins(12, 0, 12, 0)
        self.caption = QLabel()
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar.addWidget(self.caption, 1)
        self.open_button = QPushButton("Open Photo")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self._open_external)
        bar.addWidget(self.open_button)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        close.setDefault(True)
        bar.addWidget(close)
        layout.addLayout(bar)
        screen = self.screen().availableGeometry() if self.screen() else None
        side = 2048 if screen is None else int(max(screen.width(), screen.height()) * 1.0)
        side = int(side * self.devicePixelRatioF())
        self.task: Task = run_task(
            jobs.photo_job(catalog_path, face_id, max(800, side)),
            self,
            on_progress=self._describe,
            on_result=self._show,
            on_error=self._failed,
        )

    def _describe(self, faces: jobs.PhotoFaces) -> None:
        self.path = faces.path
        self.setWindowTitle(f"{faces.relative} — faceorganizer")
        self.caption.setText(f"<b>{faces.person}</b> &nbsp;·&nbsp; {faces.path}")
        self.canvas.boxes = faces.boxes
        self.open_button.setEnabled(faces.missing is None)
        if faces.missing is not None:
            dpr = self.devicePixelRatioF()
            face = render(faces.missing, (0, 160, dpr, 12, True))
            self.canvas.face = QImage() if face is None else face
            if face is not None:
                face.setDevicePixelRatio(dpr)
            self.canvas.message = (
                "This photo is missing — is the drive connected?\n"
                "Its faces and names are kept; rescan once it is back."
            )
        self.canvas.update()

    def _show(self, picture: jobs.Picture | None) -> None:
        if picture is None:  # a missing photo: nothing to decode
            return
        rgb = picture.rgb
        height, width = rgb.shape[:2]
        self.canvas.image = QImage(
            rgb.data, width, height, rgb.strides[0], QImage.Format.Format_RGB888
        ).copy()
        self.canvas.scale = picture.scale
        self.canvas.update()

    def _failed(self, exc: BaseException) -> None:
        self.canvas.message = f"Cannot show this photo: {exc}"
        self.canvas.update()

    def _open_external(self) -> None:
        if self.path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path)))

    def done(self, result: int) -> None:
        if is_running(self.task):
            self.task.cancel()
            self.task.wait()  # it deletes itself on close: its decode must not outlive it
        super().done(result)


# ---------------------------------------------------------------------- split preview


def add_intro(layout: QVBoxLayout, text: str) -> None:
    """The short explanation at the top of a dialog, styled by the .qss."""
    intro = QLabel(text)
    intro.setWordWrap(True)
    intro.setObjectName("dialogIntro")
    layout.addWidget(intro)


def fit_height(dialog: QWidget) -> None:
    """Grow a dialog to the height its wrapped text needs at its width. A window's
    minimum size ignores word wrap, so a label that gained lines squeezed the rows above
    it into one another instead."""
    layout = dialog.layout()
    layout.activate()
    needed = layout.totalHeightForWidth(dialog.width()) if layout.hasHeightForWidth() else 0
    if needed > dialog.height():
        dialog.resize(dialog.width(), needed)


class ThresholdSlider(QWidget):
    """A grouping threshold (face distance) as a slider, explained the same way in every
    dialog: to the left more people (stricter), to the right fewer (looser)."""

    valueChanged = Signal(float)

    def __init__(self, low: float, high: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(round(low * 100), round(high * 100))
        self.slider.setTickInterval(5)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setPageStep(5)
        row.addWidget(self.slider, 1)
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(40)
        row.addWidget(self.value_label)
        layout.addLayout(row)
        hints = QHBoxLayout()
        for number, text in enumerate(("← more people (stricter)", "fewer people (looser) →")):
            hint = QLabel(text)
            hint.setObjectName("hint")
            if number:
                hints.addStretch(1)
            hints.addWidget(hint)
        layout.addLayout(hints)
        self.slider.valueChanged.connect(self._changed)
        self._changed()

    def value(self) -> float:
        return self.slider.value() / 100.0

    def setValue(self, value: float) -> None:  # noqa: N802 - reads like Qt's own widgets
        """Clamped to the range; 0.525 shows as 0.52."""
        self.slider.setValue(round(value * 100))

    def _changed(self) -> None:
        self.value_label.setText(f"{self.value():.2f}")
        self.valueChanged.emit(self.value())


def face_strip(
    thumbs: Thumbnails, face_ids: list[int], side: int, dpr: float, width: int = 0
) -> QPixmap:
    """A row of up to 10 thumbnails: what a group looks like at a glance; ``width``
    slots wide when given (so strips of different lengths line up on the left)."""
    shown = face_ids[:10]
    slots = max(width, len(shown))
    strip = QPixmap(round((side + 4) * slots * dpr), round(side * dpr))
    strip.fill(Qt.GlobalColor.transparent)
    strip.setDevicePixelRatio(dpr)
    painter = QPainter(strip)
    for i, face in enumerate(shown):
        painter.drawPixmap(i * (side + 4), 0, thumbs.pixmap(face, side, dpr, 6))
    painter.end()
    return strip


class SplitDialog(QDialog):
    """Preview an automatic split of one person, then apply it. It opens at the
    library's grouping threshold (a wrongly merged pair of people falls apart there);
    the largest group stays with the person (keeps the name), the others become new
    people."""

    def __init__(
        self,
        catalog_path: Path,
        person_id: int,
        person_name: str,
        thumbs: Thumbnails,
        parent: QWidget | None = None,
        threshold: float = DEFAULT_THRESHOLD["chinese-whispers"],
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Split {person_name} automatically")
        self.resize(820, 540)
        self.catalog_path, self.person_id, self.name = catalog_path, person_id, person_name
        self.thumbs = thumbs
        self.groups: list[list[int]] = []
        self._task: Task | None = None
        layout = QVBoxLayout(self)
        add_intro(
            layout,
            f"The largest group stays {person_name}; the others become new people. "
            "You can undo this.",
        )
        self.threshold = ThresholdSlider(0.20, 0.70)
        self.threshold.setValue(threshold)
        layout.addWidget(self.threshold)
        self.status = QLabel()
        self.status.setObjectName("previewCount")
        layout.addWidget(self.status)
        self.list = QListWidget()
        # one group a row, its caption under the faces (beside them it ran off the side)
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.TopToBottom)
        self.list.setWrapping(False)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setIconSize(QSize(10 * 68, 64))
        self.list.setSpacing(6)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        layout.addWidget(self.list, 1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.apply_button.setText("Split")
        self.apply_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.compute)
        self.threshold.valueChanged.connect(lambda _v: self._debounce.start())
        thumbs.ready.connect(self._redraw_strips)
        self.compute()

    def compute(self) -> None:
        if is_running(self._task):
            self._debounce.start()  # one at a time; try again shortly
            return
        self.status.setText("Computing…")
        self.apply_button.setEnabled(False)
        job = jobs.split_job(self.catalog_path, self.person_id, self.threshold.value())
        self._task = run_task(job, self, on_result=self._show, on_error=self._failed)

    def _show(self, groups: list[list[int]]) -> None:
        self.groups = groups
        self.list.clear()
        for number, group in enumerate(groups, start=1):
            note = f"stays {self.name}" if number == 1 else "new person"
            item = QListWidgetItem(
                self._strip(group), f"Group {number}: {count(len(group), 'face')} — {note}"
            )
            item.setTextAlignment(Qt.AlignmentFlag.AlignLeft)
            self.list.addItem(item)
        if len(groups) > 1:
            self.status.setText(
                f"{count(len(groups), 'group')}: {self.name} and "
                f"{count(len(groups) - 1, 'new person')}"
            )
        else:
            self.status.setText(
                "These faces look like one person; move the slider left to split more finely"
            )
        self.apply_button.setEnabled(len(groups) > 1)

    def _redraw_strips(self) -> None:
        """Thumbnails arrived: draw the groups' strips with them."""
        for row, group in enumerate(self.groups[: self.list.count()]):
            self.list.item(row).setIcon(self._strip(group))

    def _strip(self, group: list[int]) -> QPixmap:
        """Ten slots wide, so the strips of all groups line up on the left."""
        return face_strip(self.thumbs, group, 64, self.devicePixelRatioF(), width=10)

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"Cannot split: {exc}")

    def new_groups(self) -> list[list[int]]:
        """The groups that become new people (all but the largest)."""
        return self.groups[1:]

    def done(self, result: int) -> None:
        if is_running(self._task):
            self._task.cancel()
            self._task.wait()  # its thread must not outlive the dialog that owns it
        super().done(result)


# ---------------------------------------------------------------------- move to


class MoveToDialog(QDialog):
    """Pick a person to move faces to; type to filter; or make a new person.

    Nothing is chosen until the user clicks a person or types: Enter on an untouched
    dialog must not file the faces under whoever happens to be first."""

    NEW_PERSON = -1

    def __init__(self, rows: list[Row], thumbs: Thumbnails, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Move faces to…")
        self.resize(380, 520)
        self.choice: int | None = None
        layout = QVBoxLayout(self)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Type a name…")
        self.filter.setClearButtonEnabled(True)
        layout.addWidget(self.filter)
        model = PeopleModel(self)
        model.icons = thumbs
        model.set_rows([r for r in rows if r.person_id is not None])
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.doubleClicked.connect(lambda index: self._pick(index))
        self.view.setIconSize(QSize(32, 32))
        thumbs.ready.connect(self.view.viewport().update)
        layout.addWidget(self.view, 1)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Move")
        new = buttons.addButton("New Person", QDialogButtonBox.ButtonRole.ActionRole)
        new.setAutoDefault(False)
        new.clicked.connect(self._new_person)
        buttons.accepted.connect(lambda: self._pick(self.chosen()))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.filter.textChanged.connect(self._filter)
        self.filter.returnPressed.connect(lambda: self._pick(self.chosen()))
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update())
        self._update()

    def chosen(self) -> QModelIndex:
        """The selected person (a current item without selection does not count)."""
        selected = self.view.selectionModel().selectedIndexes()
        return selected[0] if selected else QModelIndex()

    def _filter(self, text: str) -> None:
        """Typing narrows the list and selects the first match, which Enter takes."""
        self.proxy.setFilterFixedString(text)
        selection = self.view.selectionModel()
        if text.strip() and self.proxy.rowCount():
            first = self.proxy.index(0, 0)
            selection.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        else:
            selection.clear()
        self._update()

    def _update(self) -> None:
        self.ok_button.setEnabled(self.chosen().isValid())

    def _pick(self, index: QModelIndex) -> None:
        if index.isValid():
            self.choice = int(index.data(PERSON_ID_ROLE))
            self.accept()

    def _new_person(self) -> None:
        self.choice = self.NEW_PERSON
        self.accept()
