"""Grid views of people and faces: a wrapping QListView with painting delegates.

Delegates paint every tile (no widget per face), item sizes are uniform so the view
lays out 50 000 rows without measuring each, and thumbnails come from the shared cache.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QRegion,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from faceorganizer.ui.widgets.item_models import (
    COUNT_ROLE,
    FACE_ID_ROLE,
    HIDDEN_ROLE,
    NAMED_ROLE,
    PERSON_ID_ROLE,
)
from faceorganizer.ui.widgets.thumbs import Thumbnails
from faceorganizer.wording import count

Index = QModelIndex | QPersistentModelIndex
MAX_WAITING_TILES = 2000  # blank tiles remembered; past that, the next arrival repaints all


def _selection_colour(palette: QPalette, alpha: int) -> QColor:
    colour = QColor(palette.color(QPalette.ColorRole.Highlight))
    colour.setAlpha(alpha)
    return colour


def _focus_ring(
    painter: QPainter, option: QStyleOptionViewItem, rect: QRectF, radius: float
) -> None:
    """A dashed ring round the keyboard's current tile while its grid has the focus: the
    arrow keys and Ctrl+arrows move it, and Tab into a grid showed no sign of where it was."""
    if not option.state & QStyle.StateFlag.State_HasFocus:
        return
    pen = QPen(option.palette.color(QPalette.ColorRole.Highlight), 1.5, Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(rect, radius, radius)


def _thumbnail(
    delegate: PersonDelegate | FaceDelegate, painter: QPainter, face: int, radius: int, index: Index
) -> QPixmap:
    """The face's tile picture; while it loads, the grid repaints this tile when it comes."""
    pix = delegate.thumbs.pixmap(face, delegate.side, painter.device().devicePixelRatioF(), radius)
    view = delegate.parent()
    if isinstance(view, _GridView) and delegate.thumbs.is_loading(pix):
        view.wait_for_thumbnail(face, index)
    return pix


def _fill_cell(delegate: QStyledItemDelegate, natural: QSize) -> QSize:
    """Items as wide as the grid cell, so tiles (and their click area) sit centred in
    the columns that share the view's width."""
    view = delegate.parent()
    grid = view.gridSize() if isinstance(view, QListView) else QSize()
    return QSize(max(natural.width(), grid.width() - 4), natural.height())


class PersonDelegate(QStyledItemDelegate):
    """A person tile: rounded face, name (editable in place), number of faces."""

    PAD = 8
    TEXT_H = 40

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs
        self.side = 120

    def natural_size(self) -> QSize:
        return QSize(self.side + 2 * self.PAD, self.side + self.TEXT_H + 2 * self.PAD)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return _fill_cell(self, self.natural_size())

    def name_rect(self, cell: QRect) -> QRect:
        top = cell.top() + self.PAD + self.side + 4
        return QRect(cell.left() + 4, top, cell.width() - 8, 20)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        cell = option.rect
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        view = self.parent()
        target = isinstance(view, PeopleView) and view.drop_target == index
        if target:  # where dragged faces or people will land: impossible to miss
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 3)
            painter.setPen(pen)
            painter.setBrush(_selection_colour(palette, 110))
            painter.drawRoundedRect(QRectF(cell).adjusted(3.5, 3.5, -3.5, -3.5), 10, 10)
        elif selected or hovered:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(_selection_colour(palette, 70 if selected else 28))
            painter.drawRoundedRect(cell.adjusted(2, 2, -2, -2), 10, 10)
        _focus_ring(painter, option, QRectF(cell).adjusted(1.5, 1.5, -1.5, -1.5), 10)
        if index.data(HIDDEN_ROLE):
            painter.setOpacity(0.45)
        face = index.data(FACE_ID_ROLE)
        pix = _thumbnail(self, painter, int(face) if face is not None else -1, 12, index)
        x = cell.left() + (cell.width() - self.side) // 2
        painter.drawPixmap(x, cell.top() + self.PAD, pix)
        unknown = index.data(PERSON_ID_ROLE) is None
        if unknown:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(30, 30, 40, 110))
            painter.drawRoundedRect(x, cell.top() + self.PAD, self.side, self.side, 12, 12)
            painter.setPen(QColor("white"))
            big = QFont(option.font)
            big.setPointSizeF(big.pointSizeF() * 2.6)
            big.setBold(True)
            painter.setFont(big)
            painter.drawText(
                QRect(x, cell.top() + self.PAD, self.side, self.side),
                Qt.AlignmentFlag.AlignCenter,
                "?",
            )
        name_font = QFont(option.font)
        name_font.setBold(bool(index.data(NAMED_ROLE)) or unknown)
        name_font.setItalic(not index.data(NAMED_ROLE) and not unknown)
        painter.setFont(name_font)
        text = palette.color(QPalette.ColorRole.Text)
        painter.setPen(text if index.data(NAMED_ROLE) or unknown else text.lighter(160))
        rect = self.name_rect(cell)
        name = painter.fontMetrics().elidedText(
            str(index.data(Qt.ItemDataRole.DisplayRole)), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.drawText(rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, name)
        faces = int(index.data(COUNT_ROLE) or 0)
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.88))
        painter.setFont(small)
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(
            rect.translated(0, 18),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
            count(faces, "face") + (" · hidden" if index.data(HIDDEN_ROLE) else ""),
        )
        painter.restore()

    # ---------------------------------------------------------------- renaming in place
    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        editor = QLineEdit(parent)
        editor.setAlignment(Qt.AlignmentFlag.AlignCenter)
        editor.setPlaceholderText(str(index.data(Qt.ItemDataRole.DisplayRole)))
        editor.setFrame(True)
        return editor

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        assert isinstance(editor, QLineEdit)
        named = bool(index.data(NAMED_ROLE))
        editor.setText(str(index.data(Qt.ItemDataRole.EditRole)) if named else "")
        editor.selectAll()

    def setModelData(self, editor: QWidget, model: object, index: Index) -> None:
        assert isinstance(editor, QLineEdit)
        old = str(index.data(Qt.ItemDataRole.EditRole)) if index.data(NAMED_ROLE) else ""
        if editor.text().strip() != old:
            model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)  # type: ignore[attr-defined]

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: Index
    ) -> None:
        editor.setGeometry(self.name_rect(option.rect).adjusted(-2, -3, 2, 3))


class FaceDelegate(QStyledItemDelegate):
    """One face thumbnail with a selection frame; nothing else to read."""

    PAD = 4

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs
        self.side = 104

    def natural_size(self) -> QSize:
        return QSize(self.side + 2 * self.PAD, self.side + 2 * self.PAD)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return _fill_cell(self, self.natural_size())

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        cell = option.rect
        pix = _thumbnail(self, painter, int(index.data(FACE_ID_ROLE)), 8, index)
        target = QPoint(cell.left() + (cell.width() - self.side) // 2, cell.top() + self.PAD)
        painter.drawPixmap(target, pix)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if selected or hovered:
            pen_colour = option.palette.color(QPalette.ColorRole.Highlight)
            if not selected:
                pen_colour.setAlpha(110)
            pen = painter.pen()
            pen.setColor(pen_colour)
            pen.setWidthF(3.5 if selected else 2.0)
            painter.setPen(pen)
            painter.setBrush(_selection_colour(option.palette, 50) if selected else Qt.NoBrush)
            painter.drawRoundedRect(
                QRect(target, QSize(self.side, self.side)).adjusted(1, 1, -1, -1), 8, 8
            )
        _focus_ring(painter, option, QRectF(cell).adjusted(1.5, 1.5, -1.5, -1.5), 10)
        painter.restore()


def paint_placeholder(view: QListView, text: str) -> None:
    """What an empty grid is waiting for, in its middle ("Select a person to see their
    faces"); nothing while it has items or no text."""
    if view.model() is None or view.model().rowCount() or not text:
        return
    painter = QPainter(view.viewport())
    painter.setPen(view.palette().color(QPalette.ColorRole.PlaceholderText))
    painter.drawText(
        view.viewport().rect().adjusted(24, 24, -24, -24),
        Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
        text,
    )


class _GridView(QListView):
    """Shared setup: icon-mode grid with uniform items and a message when empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # List mode flowing left to right and wrapping looks like icon mode, but lays
        # out 30 000 uniform items from a few arrays instead of one object per item
        # (icon mode took 0.7 s after showing a big selection).
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setWrapping(True)
        self.setSpacing(2)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionRectVisible(True)
        self.setMouseTracking(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.placeholder = ""
        self.cell = QSize(100, 100)  # smallest cell; columns share the spare width
        self._waiting: dict[int, QPersistentModelIndex] = {}  # tiles painted blank

    def watch(self, thumbs: Thumbnails) -> None:
        thumbs.arrived.connect(self._thumbnails_arrived)

    def wait_for_thumbnail(self, face_id: int, index: Index) -> None:
        """A tile was painted blank: repaint it (and only it) when its face arrives."""
        if len(self._waiting) < MAX_WAITING_TILES:
            self._waiting[face_id] = QPersistentModelIndex(index)

    def _thumbnails_arrived(self, faces: frozenset[int] | None) -> None:
        """Repaint the tiles whose thumbnails came. A batch lands every few frames while
        scrolling; repainting every tile of both grids for each was most of the GUI
        thread's work then."""
        if faces is None or len(self._waiting) >= MAX_WAITING_TILES:
            self._waiting.clear()
            self.viewport().update()
            return
        region = QRegion()
        for face in faces & self._waiting.keys():
            index = self._waiting.pop(face)
            if index.isValid():
                region = region.united(self.visualRect(QModelIndex(index)))
        if not region.isEmpty():
            self.viewport().update(region)

    def set_cell(self, cell: QSize) -> None:
        self.cell = cell
        self._fit_grid()

    def _fit_grid(self) -> None:
        """Spread the columns over the whole width instead of leaving a gap at the right."""
        # QListView lays out within the viewport minus room for a vertical scroll bar.
        scrollbar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        width = self.maximumViewportSize().width() - scrollbar - 2 * self.spacing() - 1
        columns = max(1, width // max(1, self.cell.width()))
        grid = QSize(max(self.cell.width(), width // columns), self.cell.height())
        if grid != self.gridSize():
            self.setGridSize(grid)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self._fit_grid)  # the viewport has its final size only then

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        """The whole viewport: QListView would measure every selected item (seconds for
        30 000 faces selected on the map); repainting the visible tiles is cheap."""
        return QRegion(self.viewport().rect())

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        paint_placeholder(self, self.placeholder)


class PeopleView(_GridView):
    """Person tiles. Double-click the face to open, the name to rename; drop faces or
    other people onto a tile to move or merge them.

    While something is dragged, the tile it would land on is highlighted and the list
    never scrolls by itself: autoscrolling moved other people under a resting cursor,
    and the faces landed on whoever was there at the drop."""

    open_requested = Signal(QModelIndex)

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tile_delegate = PersonDelegate(thumbs, self)
        self.watch(thumbs)
        self.setItemDelegate(self.tile_delegate)
        self.set_cell(self.tile_delegate.natural_size() + QSize(6, 6))
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)  # static icon mode turned it off
        # QListView in this mode only drops onto items it shows an indicator for;
        # overwrite mode makes anywhere on a tile a drop onto it (not beside it).
        self.setDropIndicatorShown(True)
        self.setDragDropOverwriteMode(True)
        self.setAutoScroll(False)
        self.drop_target: QPersistentModelIndex | None = None
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.placeholder = "No people yet"

    def _set_drop_target(self, index: QModelIndex | None) -> None:
        target = QPersistentModelIndex(index) if index is not None and index.isValid() else None
        if target != self.drop_target:
            self.drop_target = target
            self.viewport().update()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        super().dragMoveEvent(event)
        index = self.indexAt(event.position().toPoint())
        self._set_drop_target(index if event.isAccepted() else None)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        super().dragLeaveEvent(event)
        self._set_drop_target(None)

    def dropEvent(self, event: QDropEvent) -> None:
        """Only onto the highlighted tile: if the list changed under the cursor since
        (a refresh during a scan), nothing happens rather than a surprise."""
        index = self.indexAt(event.position().toPoint())
        target, self.drop_target = self.drop_target, None
        self.viewport().update()
        if target is None or not target.isValid() or target != index:
            event.ignore()
            return
        super().dropEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        index = self.indexAt(event.position().toPoint())
        if not index.isValid():
            return
        on_name = self.tile_delegate.name_rect(self.visualRect(index)).contains(
            event.position().toPoint()
        )
        if on_name and index.flags() & Qt.ItemFlag.ItemIsEditable:
            self.edit(index)
        else:
            self.open_requested.emit(index)


class FacesView(_GridView):
    """Faces of one person; drag them onto a person tile to move them."""

    open_face = Signal(int)

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.face_delegate = FaceDelegate(thumbs, self)
        self.watch(thumbs)
        self.setItemDelegate(self.face_delegate)
        self.set_side(self.face_delegate.side)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDragEnabled(True)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.placeholder = "Select a person to see their faces"

    def set_side(self, side: int) -> None:
        """Zoom the grid (Ctrl+wheel): bigger faces to check, smaller to survey."""
        self.face_delegate.side = max(56, min(200, side))
        cell = self.face_delegate.side + 2 * FaceDelegate.PAD
        self.set_cell(QSize(cell + 4, cell + 4))

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            step = 12 if event.angleDelta().y() > 0 else -12
            self.set_side(self.face_delegate.side + step)
            event.accept()
            return
        super().wheelEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        index = self.indexAt(event.position().toPoint())
        if index.isValid():
            self.open_face.emit(int(index.data(FACE_ID_ROLE)))
