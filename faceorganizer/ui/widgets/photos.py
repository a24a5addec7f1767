"""A person's photos, whole and by date taken: the other way to look at a person.

Tiles show each photo fitted into a square with its date under it. Thumbnails are made
from the photo files by one background thread (newest request first, so scrolling
shows what is on screen first) and kept in a small cache; the GUI thread only paints.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections import OrderedDict
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPalette, QPixmap
from PySide6.QtWidgets import (
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from faceorganizer.core.store.catalog import PhotoRow
from faceorganizer.ui.widgets.views import paint_placeholder

PHOTO_ROLE = Qt.ItemDataRole.UserRole + 20  # the PhotoRow
TILE = 180  # logical pixels of a photo's square
CACHE = 240  # thumbnails kept: a few screens' worth, ~0.35 MB each
Index = QModelIndex | QPersistentModelIndex


def date_label(taken: str) -> str:
    """'2008-08-28 22:00:00' as '28 Aug 2008'; unknown dates say so."""
    try:
        when = datetime.strptime(taken, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return "date unknown"
    return f"{when.day} {when:%b %Y}"


class PhotoThumbnails(QObject):
    """Upright photo thumbnails, decoded off the GUI thread."""

    ready = Signal(str)  # a photo's relative path: its thumbnail can be painted now

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.root: Path | None = None
        self._images: OrderedDict[str, QImage] = OrderedDict()
        self._asked: set[str] = set()
        self._queue: queue.LifoQueue[tuple[Path, str] | None] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        # Stop the thread when the window deletes this object; the slot holds no
        # reference to it (it runs while the object is being destroyed).
        self.destroyed.connect(functools.partial(_stop, self._lock, self._closed, self._queue))
        self._thread = threading.Thread(target=self._run, name="photo-thumbnails", daemon=True)
        self._thread.start()

    def set_root(self, root: Path | None) -> None:
        """Another library: forget the old one's thumbnails."""
        self.root = root
        with self._lock:
            self._images.clear()
            self._asked.clear()

    def image(self, path: str) -> QImage | None:
        """The thumbnail if it is ready; else it is asked for and ``ready`` follows."""
        with self._lock:
            found = self._images.get(path)
            if found is not None:
                self._images.move_to_end(path)
                return found
            if path in self._asked or self.root is None:
                return None
            self._asked.add(path)
        self._queue.put((self.root / path, path))
        return None

    def close(self) -> None:
        _stop(self._lock, self._closed, self._queue)

    def _run(self) -> None:
        from faceorganizer.core.vision.images import ImageError, photo_thumbnail

        while (item := self._queue.get()) is not None:
            source, path = item
            try:
                data = photo_thumbnail(source, 2 * TILE)  # sharp at 200 %
            except (ImageError, OSError):
                data = b""
            image = QImage()
            image.loadFromData(data)
            with self._lock:  # held by _stop too: no emit once this object is going
                if self._closed.is_set():
                    return
                self._images[path] = image
                while len(self._images) > CACHE:
                    evicted, _ = self._images.popitem(last=False)
                    self._asked.discard(evicted)
                self.ready.emit(path)


def _stop(lock: threading.Lock, closed: threading.Event, requests: queue.LifoQueue) -> None:
    """End the decoding thread after its photo in flight, whose result is dropped: it
    must not signal an object that is deleted (Qt: "Signal source has been deleted")."""
    with lock:
        closed.set()
    requests.put(None)  # a LIFO queue: taken before the requests still waiting


class PhotosModel(QAbstractListModel):
    """Photos by date: one row per PhotoRow."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.photos: list[PhotoRow] = []
        self._rows: dict[str, int] = {}

    def set_photos(self, photos: list[PhotoRow]) -> None:
        self.beginResetModel()
        self.photos = list(photos)
        self._rows = {p.path: i for i, p in enumerate(self.photos)}
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.photos)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        photo = self.photos[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return date_label(photo.taken)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{photo.path}\n{photo.taken or 'date unknown'}"
        if role == PHOTO_ROLE:
            return photo
        return None

    def changed(self, path: str) -> None:
        """A thumbnail arrived: repaint its tile."""
        row = self._rows.get(path)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [PHOTO_ROLE])


class PhotoDelegate(QStyledItemDelegate):
    """A photo fitted into a square, its date under it."""

    PAD = 6
    TEXT = 20

    def __init__(self, thumbs: PhotoThumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802
        return QSize(TILE + 2 * self.PAD, TILE + self.TEXT + 2 * self.PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        photo: PhotoRow = index.data(PHOTO_ROLE)
        cell = option.rect
        painter.save()
        if option.state & QStyle.StateFlag.State_Selected:
            colour = QColor(option.palette.color(QPalette.ColorRole.Highlight))
            colour.setAlpha(70)
            painter.fillRect(cell, colour)
        square = QRect(cell.x() + self.PAD, cell.y() + self.PAD, TILE, TILE)
        image = self.thumbs.image(photo.path)
        if image is None or image.isNull():
            painter.fillRect(square, QColor("#d5d8de"))
        else:
            fitted = QPixmap.fromImage(image).scaled(
                square.size() * painter.device().devicePixelRatioF(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            fitted.setDevicePixelRatio(painter.device().devicePixelRatioF())
            size = fitted.deviceIndependentSize().toSize()
            painter.drawPixmap(
                square.x() + (TILE - size.width()) // 2,
                square.y() + (TILE - size.height()) // 2,
                fitted,
            )
        painter.setPen(option.palette.color(QPalette.ColorRole.Text))
        text = QRect(square.x(), square.bottom() + 2, TILE, self.TEXT)
        painter.drawText(text, Qt.AlignmentFlag.AlignCenter, index.data())
        painter.restore()


class PhotosView(QListView):
    """The grid of photos; double-click opens one (``open_requested`` with a face id)."""

    open_requested = Signal(int)

    def __init__(self, thumbs: PhotoThumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.setItemDelegate(PhotoDelegate(thumbs, self))
        self.model_ = PhotosModel(self)
        self.setModel(self.model_)
        self.placeholder = ""  # why it is empty, when it is
        thumbs.ready.connect(self.model_.changed)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        paint_placeholder(self, self.placeholder)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        index = self.indexAt(event.position().toPoint())
        if index.isValid():
            self.open_requested.emit(index.data(PHOTO_ROLE).face_id)
        else:
            super().mouseDoubleClickEvent(event)
