"""Small dialogs: skipped files, photo viewer, automatic split preview, move to person."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QRectF, QSize, QSortFilterProxyModel, Qt, QTimer, QUrl
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
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from faceorganizer.ui import jobs
from faceorganizer.ui.widgets.item_models import PERSON_ID_ROLE, PeopleModel, Row
from faceorganizer.ui.widgets.thumbs import Thumbnails
from faceorganizer.ui.workers import Task, is_running, run_task


class SkippedFilesDialog(QDialog):
    """Why some files were not used: unreadable, corrupt, not an image…"""

    def __init__(self, problems: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Skipped files")
        self.resize(760, 420)
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''}: photos that were "
            "skipped, and face names in photo metadata (XMP) that could not be used. Fix or "
            "remove them and scan again (F5); everything else is already sorted."
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
    """The photo scaled to fit, with the chosen face boxed and the others outlined."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.scale = 1.0  # image pixels per original pixel
        self.boxes: list[tuple[tuple[float, float, float, float], str, bool]] = []
        self.message = "Loading…"
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#1f2127"))
        if self.image.isNull():
            painter.setPen(QColor("#a3a7b0"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
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
        self.open_button.setEnabled(True)
        self.canvas.update()

    def _show(self, picture: jobs.Picture) -> None:
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
        super().done(result)


# ---------------------------------------------------------------------- split preview


def add_intro(layout: QVBoxLayout, text: str) -> None:
    """The short explanation at the top of a dialog, styled by the .qss."""
    intro = QLabel(text)
    intro.setWordWrap(True)
    intro.setObjectName("dialogIntro")
    layout.addWidget(intro)


def face_strip(thumbs: Thumbnails, face_ids: list[int], side: int, dpr: float) -> QPixmap:
    """A row of up to 10 thumbnails: what a group looks like at a glance."""
    shown = face_ids[:10]
    strip = QPixmap(round((side + 4) * len(shown) * dpr), round(side * dpr))
    strip.fill(Qt.GlobalColor.transparent)
    strip.setDevicePixelRatio(dpr)
    painter = QPainter(strip)
    for i, face in enumerate(shown):
        painter.drawPixmap(i * (side + 4), 0, thumbs.pixmap(face, side, dpr, 6))
    painter.end()
    return strip


class SplitDialog(QDialog):
    """Preview an automatic split of one person at a tighter threshold, then apply it.
    The largest group stays with the person (keeps the name); the others become new
    people."""

    def __init__(
        self,
        catalog_path: Path,
        person_id: int,
        person_name: str,
        thumbs: Thumbnails,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Split {person_name} automatically")
        self.resize(820, 520)
        self.catalog_path, self.person_id, self.name = catalog_path, person_id, person_name
        self.thumbs = thumbs
        self.groups: list[list[int]] = []
        self._task: Task | None = None
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Strictness (face distance):"))
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.20, 0.60)
        self.threshold.setSingleStep(0.02)
        self.threshold.setDecimals(2)
        self.threshold.setValue(0.40)
        self.threshold.setToolTip("Lower values split into more, tighter groups")
        top.addWidget(self.threshold)
        top.addStretch(1)
        self.status = QLabel()
        top.addWidget(self.status)
        layout.addLayout(top)
        self.list = QListWidget()
        self.list.setIconSize(QSize(10 * 68, 64))
        self.list.setSpacing(4)
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
        dpr = self.devicePixelRatioF()
        for number, group in enumerate(groups, start=1):
            note = f"stays {self.name}" if number == 1 else "new person"
            item = QListWidgetItem(
                QPixmap(face_strip(self.thumbs, group, 64, dpr)),
                f"Group {number}: {len(group)} face{'s' if len(group) != 1 else ''} — {note}",
            )
            self.list.addItem(item)
        if len(groups) > 1:
            self.status.setText(f"{len(groups)} groups")
        else:
            self.status.setText("These faces look like one person; try a lower value")
        self.apply_button.setEnabled(len(groups) > 1)

    def _redraw_strips(self) -> None:
        """Thumbnails arrived: draw the groups' strips with them."""
        dpr = self.devicePixelRatioF()
        for row, group in enumerate(self.groups[: self.list.count()]):
            self.list.item(row).setIcon(QPixmap(face_strip(self.thumbs, group, 64, dpr)))

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"Cannot split: {exc}")

    def new_groups(self) -> list[list[int]]:
        """The groups that become new people (all but the largest)."""
        return self.groups[1:]


# ---------------------------------------------------------------------- move to


class MoveToDialog(QDialog):
    """Pick a person to move faces to; type to filter; or make a new person."""

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
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setUniformItemSizes(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.doubleClicked.connect(self._pick)
        self.view.setIconSize(QSize(32, 32))
        thumbs.ready.connect(self.view.viewport().update)
        layout.addWidget(self.view, 1)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        new = buttons.addButton("New Person", QDialogButtonBox.ButtonRole.ActionRole)
        new.clicked.connect(self._new_person)
        buttons.accepted.connect(lambda: self._pick(self.view.currentIndex()))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.filter.returnPressed.connect(lambda: self._pick(self.proxy.index(0, 0)))
        if self.proxy.rowCount():
            self.view.setCurrentIndex(self.proxy.index(0, 0))

    def _pick(self, index: QModelIndex) -> None:
        if index.isValid():
            self.choice = int(index.data(PERSON_ID_ROLE))
            self.accept()

    def _new_person(self) -> None:
        self.choice = self.NEW_PERSON
        self.accept()
