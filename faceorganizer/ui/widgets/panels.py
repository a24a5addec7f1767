"""The window's parts: the empty drop page, the people panel, the faces panel, the map
panel and the scan status bar widgets. Layout only; behaviour lives in the main window."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSize, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QIcon, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from faceorganizer.ui.widgets.item_models import FacesModel, PeopleModel
from faceorganizer.ui.widgets.photos import PhotosView, PhotoThumbnails
from faceorganizer.ui.widgets.scatter import ScatterView
from faceorganizer.ui.widgets.thumbs import Thumbnails
from faceorganizer.ui.widgets.views import FacesView, PeopleView
from faceorganizer.wording import count

NO_FACES_TITLE = "Faces"


class EmptyPage(QWidget):
    """What a first launch shows: where to drop a folder, and recent libraries."""

    open_clicked = Signal()
    recent_clicked = Signal(str)

    def __init__(self, icon: QIcon, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyPage")
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        self.drop_zone = QFrame()
        self.drop_zone.setObjectName("dropZone")
        zone = QVBoxLayout(self.drop_zone)
        zone.setContentsMargins(48, 36, 48, 36)
        zone.setSpacing(10)
        picture = QLabel()
        picture.setPixmap(icon.pixmap(QSize(96, 96)))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        zone.addWidget(picture)
        headline = QLabel("Drop a photo folder here")
        headline.setObjectName("headline")
        headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        zone.addWidget(headline)
        sub = QLabel(
            "faceorganizer finds every face, groups them by person and lets you export a "
            "folder per person. Everything stays on this computer."
        )
        sub.setObjectName("subline")
        sub.setWordWrap(True)
        sub.setAlignment(Qt.AlignmentFlag.AlignCenter)
        zone.addWidget(sub)
        button = QPushButton("Open Folder…")
        button.setObjectName("primary")
        button.clicked.connect(self.open_clicked)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(button)
        row.addStretch(1)
        zone.addSpacing(6)
        zone.addLayout(row)
        centre = QHBoxLayout()
        centre.addStretch(1)
        centre.addWidget(self.drop_zone, 3)
        centre.addStretch(1)
        outer.addLayout(centre)
        self.recent_box = QVBoxLayout()
        self.recent_box.setSpacing(2)
        recent_row = QHBoxLayout()
        recent_row.addStretch(1)
        recent_row.addLayout(self.recent_box)
        recent_row.addStretch(1)
        outer.addSpacing(18)
        outer.addLayout(recent_row)
        outer.addStretch(3)

    def set_recent(self, folders: list[str]) -> None:
        while self.recent_box.count():
            item = self.recent_box.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        if not folders:
            return
        title = QLabel("Recent libraries")
        title.setObjectName("sectionTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.recent_box.addWidget(title)
        for folder in folders[:6]:
            link = QPushButton(f"{Path(folder).name}  —  {folder}")
            link.setObjectName("link")
            link.setFlat(True)
            link.setCursor(Qt.CursorShape.PointingHandCursor)
            link.clicked.connect(lambda _=False, f=folder: self.recent_clicked.emit(f))
            self.recent_box.addWidget(link)

    def set_dragging(self, active: bool) -> None:
        """Highlight the drop zone while a folder is dragged over the window."""
        self.drop_zone.setProperty("active", active)
        self.drop_zone.style().unpolish(self.drop_zone)
        self.drop_zone.style().polish(self.drop_zone)


class ElidedLabel(QLabel):
    """One line of text that gives way: cut with "…" when the space is short (the full
    text in the tooltip) instead of pushing the window wider or running into its
    neighbour."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setToolTip(text)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), text)


def _header(title: str) -> tuple[QHBoxLayout, QLabel, QLabel]:
    row = QHBoxLayout()
    row.setContentsMargins(10, 8, 10, 4)
    label = ElidedLabel(title)  # a long title ("Photos with Ann & Bo") is cut, never
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)  # widens
    label.setObjectName("panelTitle")
    count = QLabel()
    count.setObjectName("panelCount")
    row.addWidget(label)
    row.addWidget(count)
    row.addStretch(1)
    return row, label, count


class PeoplePanel(QWidget):
    """People tiles with a name filter and the 'show hidden' switch."""

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header, self.title, self.count = _header("")
        self.title.hide()
        self.count.setObjectName("panelTitle")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name")
        self.filter.setClearButtonEnabled(True)
        self.filter.setMaximumWidth(220)
        # a narrow window squeezed it to "Fil…": it keeps room for its placeholder
        width = self.filter.fontMetrics().horizontalAdvance(self.filter.placeholderText())
        self.filter.setMinimumWidth(width + 40)  # + the frame and the clear button
        header.addWidget(self.filter)
        self.show_hidden = QCheckBox("Show hidden")
        header.addWidget(self.show_hidden)
        layout.addLayout(header)
        self.hint = QLabel("Faces are grouped into people when the scan ends")
        self.hint.setObjectName("hint")
        self.hint.setContentsMargins(10, 0, 10, 4)
        self.hint.hide()
        layout.addWidget(self.hint)
        self.model = PeopleModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.view = PeopleView(thumbs)
        self.view.setModel(self.proxy)
        layout.addWidget(self.view, 1)


class FacesPanel(QWidget):
    """All faces of the chosen person (or of Unknown, or of a map selection). Actions on
    selected faces appear in place of the hint while faces are selected."""

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header, self.title, self.count = _header(NO_FACES_TITLE)
        self.person_bar = QWidget()  # Rename, Split…: only while a person is shown
        self.person_bar.hide()
        self.person_buttons = QHBoxLayout(self.person_bar)
        self.person_buttons.setContentsMargins(0, 0, 0, 0)
        self.person_buttons.setSpacing(2)
        header.addWidget(self.person_bar)
        self.show_photos = QToolButton()
        self.show_photos.setText("Photos by Date")
        self.show_photos.setCheckable(True)
        self.show_photos.setAutoRaise(True)
        self.show_photos.setToolTip(
            "Whole photos sorted by date taken instead of faces; select several people "
            "to see the photos they are all in"
        )
        header.addWidget(self.show_photos)
        layout.addLayout(header)
        self.bar = QStackedWidget()
        self.bar.setFixedHeight(32)
        self.hint = self._bar_hint(
            "Drag faces onto a person to move them · double-click one to see its photo"
        )
        selection = QWidget()
        selection.setObjectName("selectionBar")
        self.buttons = QHBoxLayout(selection)
        self.buttons.setContentsMargins(10, 0, 6, 0)
        self.buttons.setSpacing(2)
        self.selected = QLabel()
        self.selected.setObjectName("selectedCount")
        self.buttons.addWidget(self.selected)
        self.buttons.addStretch(1)
        self.bar.addWidget(selection)
        layout.addWidget(self.bar)
        self.model = FacesModel(self)
        self.view = FacesView(thumbs)
        self.view.setModel(self.model)
        self.photo_thumbs = PhotoThumbnails(self)
        self.photos = PhotosView(self.photo_thumbs)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.view)
        self.pages.addWidget(self.photos)
        layout.addWidget(self.pages, 1)
        # Export These Photos… sits in the bar under the header, beside the photos' hint:
        # in the header it made the pane wider than the window had given it, and the
        # splitter took the room from the people grid whenever Photos by Date was pressed
        self.export_together = QToolButton()
        self.export_together.setText("Export These Photos…")
        self.export_together.setToolTip("Copy these photos into one folder")
        self.export_together.setAutoRaise(True)
        self.photos_hint = self._bar_hint(
            "Double-click a photo to open it · select several people for the photos they "
            "are all in",
            self.export_together,
        )
        self.show_photos.toggled.connect(self._photos_toggled)

    def _bar_hint(self, text: str, button: QToolButton | None = None) -> ElidedLabel:
        """A page of the bar under the header: a line of what the mouse does there (cut
        short in a narrow pane, never widening it), and a button at its end."""
        hint = ElidedLabel(text)
        hint.setObjectName("hint")
        hint.setContentsMargins(10, 0, 10, 0)
        if button is None:
            self.bar.addWidget(hint)
            return hint
        page = QWidget()
        row = QHBoxLayout(page)
        row.setContentsMargins(0, 0, 6, 0)
        row.addWidget(hint, 1)
        row.addWidget(button)
        self.bar.addWidget(page)
        return hint

    def _photos_toggled(self, photos: bool) -> None:
        """Faces or whole photos; the selection bar belongs to the faces."""
        self.pages.setCurrentIndex(1 if photos else 0)
        self.bar.setCurrentIndex(2 if photos else 0)

    def _button(self, action: object) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(action)  # type: ignore[arg-type]
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setAutoRaise(True)
        return button

    def add_button(self, action: object) -> QToolButton:
        button = self._button(action)
        self.buttons.addWidget(button)
        return button

    def add_person_button(self, action: object) -> QToolButton:
        button = self._button(action)
        self.person_buttons.addWidget(button)
        return button

    def set_selected(self, number: int) -> None:
        self.selected.setText(f"{number:,} selected")
        if not self.show_photos.isChecked():
            self.bar.setCurrentIndex(1 if number else 0)

    def set_heading(self, title: str, faces: int | None, person: bool) -> None:
        """What the grid shows: a person (with the person's own buttons), Unknown or a
        map selection (without them), or nothing yet (``faces`` None)."""
        self.title.setText(title)
        self.count.setText("" if faces is None else count(faces, "face"))
        self.person_bar.setVisible(person)


class MapPanel(QWidget):
    """The scatter of all faces plus a line of help and the layout status."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.scatter = ScatterView()
        layout.addWidget(self.scatter, 1)
        bar = QHBoxLayout()
        bar.setContentsMargins(10, 4, 10, 4)
        self.help = ElidedLabel(
            "Drag: select · Alt+drag: lasso · Shift: add · right-drag: pan · wheel: zoom · "
            "Home: fit"
        )
        self.help.setObjectName("hint")
        bar.addWidget(self.help, 1)
        bar.addSpacing(16)
        self.status = QLabel()
        self.status.setObjectName("hint")
        bar.addWidget(self.status)
        layout.addLayout(bar)


class ScanStatus(QWidget):
    """Status bar part shown while scanning: progress with counts and ETA, Cancel."""

    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        # the label takes the room a longer stage text left (the status bar keeps its
        # width): Cancel grew from 78 to 142 px when "Finding faces" followed
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.label, 1)
        self.bar = QProgressBar()
        self.bar.setFixedWidth(220)
        self.bar.setTextVisible(False)
        layout.addWidget(self.bar)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop the scan; the next scan continues where it stopped")
        self.cancel.clicked.connect(self.cancel_clicked)
        layout.addWidget(self.cancel)
        self._start: tuple[float, int] | None = None

    def stage(self, text: str, busy: bool = True) -> None:
        self.label.setText(text)
        if busy:
            self.bar.setRange(0, 0)
        self._start = None

    def files(self, done: int, total: int) -> None:
        """'Finding faces: 12 / 159 photos · about 1 min left'; the rate is measured
        from the first finished photo on, so model loading does not skew it."""
        now = time.monotonic()
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        text = f"Finding faces: {done:,} / {count(total, 'photo')}"
        if self._start is None and done > 0:
            self._start = (now, done)
        elif self._start is not None and done > self._start[1]:
            rate = (done - self._start[1]) / max(1e-6, now - self._start[0])
            text += f" · {eta_text((total - done) / rate)}"
        self.label.setText(text)


def eta_text(seconds: float) -> str:
    if seconds < 10:
        return "a few seconds left"
    if seconds < 60:
        return f"about {int(round(seconds / 5) * 5)} s left"
    if seconds < 3600:
        return f"about {int(round(seconds / 60))} min left"
    return f"about {seconds / 3600:.1f} h left"
