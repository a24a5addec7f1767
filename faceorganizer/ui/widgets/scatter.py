"""The map: every face as a dot at its 2-D UMAP position, coloured by person.

Built for 50 000 dots: positions live in numpy arrays, dots are drawn with one
``QPainter.drawPoints`` per colour (points sorted by colour once, so each batch is a
contiguous slice copied straight into a QPolygonF's memory), square non-antialiased
points above a few thousand dots (round antialiased points cost 10-30x more), and the
dot layer is cached in a pixmap: hover, rubber band and selection only repaint the
overlay. While panning or zooming the cached layer is moved/scaled and re-rendered once
the gesture pauses. Hover finds the nearest dot through a grid of buckets. Dots of
faces whose photos are missing are grey and faded, as their thumbnails are, and lie
beneath the others.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

import numpy as np
import shiboken6
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
    QWheelEvent,
    qGray,
)
from PySide6.QtWidgets import QWidget

from faceorganizer.ui.widgets.item_models import UNKNOWN_LABEL
from faceorganizer.ui.widgets.thumbs import GREYED_OPACITY

PALETTE = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
    "#ff9da7", "#9c755f", "#86bcb6", "#d37295", "#8cd17d", "#f1ce63", "#a0cbe8",
    "#ffbe7d", "#bab0ac", "#499894", "#d4a6c8", "#79706e", "#b6992d",
]  # fmt: skip
UNKNOWN_COLOUR = "#6b6f78"
BACKGROUND = QColor("#1f2127")
HOVER_RADIUS = 10  # logical pixels
ROUND_LIMIT = 4000  # up to this many dots, draw them round and antialiased


def colour_index(persons: np.ndarray) -> np.ndarray:
    """Palette slot per face: stable per person id (so colours survive edits), -1 = none."""
    persons = np.asarray(persons, dtype=np.int64)
    slots = (persons * 7919) % len(PALETTE)  # a prime stride spreads neighbouring ids
    return np.where(persons < 0, -1, slots)


def greyed_colour(colour: QColor) -> QColor:
    """A missing photo's dot: the colour's grey (its luminance), faded like its thumbnail."""
    grey = qGray(colour.rgb())
    return QColor(grey, grey, grey, round(255 * GREYED_OPACITY))


def dot_size(count: int, dpr: float) -> float:
    """Logical dot diameter: big round dots for small libraries, small squares for huge."""
    if count <= ROUND_LIMIT:
        return 9.0 if count < 500 else 7.0
    return 4.0 if dpr <= 1 else 3.0


def polygon(points: np.ndarray) -> QPolygonF:
    """A QPolygonF filled from an (n, 2) float array by one memory copy."""
    poly = QPolygonF()
    n = len(points)
    if n == 0:
        return poly
    poly.resize(n)
    buffer = shiboken6.VoidPtr(poly.data(), n * 16, writeable=True)
    target = np.frombuffer(buffer, dtype=np.float64)
    target[:] = np.ascontiguousarray(points, dtype=np.float64).ravel()
    return poly


def points_in_polygon(points: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Even-odd rule for many points at once (lasso and rubber band selection)."""
    inside = np.zeros(len(points), dtype=bool)
    if len(vertices) < 3:
        return inside
    x, y = points[:, 0], points[:, 1]
    x0, y0 = vertices[-1]
    for x1, y1 in vertices:
        crosses = (y1 > y) != (y0 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = (x0 - x1) * (y - y1) / (y0 - y1) + x1
        inside ^= crosses & (x < at)
        x0, y0 = x1, y1
    return inside


class PointGrid:
    """Spatial lookup for hover: points bucketed in a fixed grid over their bounds
    (counting sort, O(n) to build), so a query only looks at the cells near the cursor."""

    CELLS = 256

    def __init__(self, xy: np.ndarray) -> None:
        self.xy = xy
        self.low = xy.min(axis=0) if len(xy) else np.zeros(2)
        span = float((xy.max(axis=0) - self.low).max()) if len(xy) else 1.0
        self.cell = max(span, 1e-9) / self.CELLS
        ij = self._cell_of(xy)
        keys = ij[:, 0] * self.CELLS + ij[:, 1]
        self.order = np.argsort(keys, kind="stable")
        self.starts = np.searchsorted(keys[self.order], np.arange(self.CELLS * self.CELLS + 1))

    def _cell_of(self, xy: np.ndarray) -> np.ndarray:
        return np.clip(((xy - self.low) / self.cell).astype(np.int64), 0, self.CELLS - 1)

    def nearest(self, point: np.ndarray, radius: float) -> tuple[float, int]:
        """(distance, row) of the point nearest ``point`` within ``radius``, else (inf, -1)."""
        if not len(self.xy):
            return float("inf"), -1
        (i0, j0), (i1, j1) = self._cell_of(np.array([point - radius, point + radius]))
        if (i1 - i0 + 1) * (j1 - j0 + 1) > 4096:  # zoomed far out: just look at all
            rows = np.arange(len(self.xy))
        else:
            chunks = [
                self.order[self.starts[i * self.CELLS + j0] : self.starts[i * self.CELLS + j1 + 1]]
                for i in range(i0, i1 + 1)
            ]
            rows = np.concatenate(chunks) if chunks else np.zeros(0, np.int64)
        if not len(rows):
            return float("inf"), -1
        distances = np.hypot(*(self.xy[rows] - point).T)
        best = int(np.argmin(distances))
        if distances[best] > radius:
            return float("inf"), -1
        return float(distances[best]), int(rows[best])


class ScatterView(QWidget):
    """Pan (right/middle drag or Space+drag), zoom (wheel), select (drag a rectangle;
    hold Alt for a lasso; Shift adds), click a dot to pick a face, double-click to open."""

    face_clicked = Signal(int)
    face_activated = Signal(int)
    selection_changed = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(200, 200)
        self.thumbnail: Callable[[int, int, float], QPixmap] | None = None
        self.person_name: Callable[[int], str] = lambda p: f"Person {p}"
        self.message = "No map yet"
        self._ids = np.zeros(0, np.int64)
        self._xy = np.zeros((0, 2), np.float64)  # normalised to about [-1, 1]
        self._persons = np.zeros(0, np.int64)
        self._greyed: frozenset[int] = frozenset()  # face ids of missing photos
        self._order = np.zeros(0, np.int64)  # dots sorted by colour
        self._batches: list[tuple[QColor, int, int]] = []  # colour, start, stop in _order
        self._row_of: dict[int, int] = {}
        self._selected = np.zeros(0, np.int64)  # rows
        self._grid: PointGrid | None = None
        self._scale = 1.0  # pixels per data unit
        self._centre = np.zeros(2)
        self._layer: QPixmap | None = None
        self._layer_view: tuple[float, float, float] | None = None  # scale, cx, cy drawn
        self._hover = -1
        self._press: QPointF | None = None
        self._press_button = Qt.MouseButton.NoButton
        self._pan_from: tuple[QPointF, np.ndarray] | None = None
        self._drag: list[QPointF] = []
        self._lasso = False
        self._space = False
        self._settle = QTimer(self, singleShot=True, interval=120)
        self._settle.timeout.connect(self._invalidate)
        self.last_render_ms = 0.0
        self._auto_fit = True  # until the user pans or zooms, resizing refits

    # ---------------------------------------------------------------- data
    def set_points(self, face_ids: np.ndarray, xy: np.ndarray, persons: np.ndarray) -> None:
        """New layout: keeps the view if the same faces are shown, else fits them."""
        same = np.array_equal(np.asarray(face_ids), self._ids)
        self._ids = np.asarray(face_ids, dtype=np.int64)
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        if len(xy):
            low, high = xy.min(axis=0), xy.max(axis=0)
            span = float(max((high - low).max(), 1e-9))
            xy = (xy - (low + high) / 2) * (2.0 / span)
        self._xy = xy
        self._row_of = {int(f): i for i, f in enumerate(self._ids.tolist())}
        self._grid = None
        self._selected = np.zeros(0, np.int64)
        self._hover = -1
        self.set_persons(persons)
        if not same:
            self.fit()

    def set_persons(self, persons: np.ndarray) -> None:
        """Recolour after edits, without a new layout."""
        self._persons = np.asarray(persons, dtype=np.int64).reshape(-1)
        if not len(self._persons):
            self._order, self._batches = np.zeros(0, np.int64), []
            self._invalidate()
            return
        slots = colour_index(self._persons)
        live = ~np.isin(self._ids, np.fromiter(self._greyed, np.int64, len(self._greyed)))
        keys = live * (len(PALETTE) + 1) + slots + 1  # greyed dots first: drawn beneath
        self._order = np.argsort(keys, kind="stable")
        sorted_keys = keys[self._order]
        self._batches = []
        for key in np.unique(sorted_keys):
            start, stop = np.searchsorted(sorted_keys, [key, key + 1])
            slot = int(slots[self._order[start]])
            colour = QColor(UNKNOWN_COLOUR if slot < 0 else PALETTE[slot])
            colour = colour if live[self._order[start]] else greyed_colour(colour)
            self._batches.append((colour, int(start), int(stop)))
        self._invalidate()

    def set_greyed(self, face_ids: Collection[int]) -> None:
        """The faces of missing photos, from now on drawn grey and faded (others as they are)."""
        greyed = frozenset(face_ids)
        if greyed != self._greyed:
            self._greyed = greyed
            self.set_persons(self._persons)

    def is_greyed(self, face_id: int) -> bool:
        return face_id in self._greyed

    def set_selected(self, face_ids: Iterable[int]) -> None:
        """Highlight faces selected elsewhere (the grid); emits nothing."""
        rows = [self._row_of[f] for f in face_ids if f in self._row_of]
        self._selected = np.array(sorted(set(rows)), dtype=np.int64)
        self.update()

    def selected_face_ids(self) -> list[int]:
        return [int(self._ids[r]) for r in self._selected]

    def face_ids(self) -> np.ndarray:
        return self._ids

    def count(self) -> int:
        return len(self._ids)

    def fit(self) -> None:
        """Show every dot with a margin, using the widget's whole width and height."""
        margin = 32
        if len(self._xy):
            low, high = self._xy.min(axis=0), self._xy.max(axis=0)
            span = np.maximum(high - low, 1e-6)
            self._centre = (low + high) / 2
            scale_x = max(1, self.width() - 2 * margin) / span[0]
            scale_y = max(1, self.height() - 2 * margin) / span[1]
            self._scale = float(np.clip(min(scale_x, scale_y), 20.0, 200_000.0))
        else:
            self._centre = np.zeros(2)
            self._scale = max(1, min(self.width(), self.height()) - 2 * margin) / 2.0
        self._auto_fit = True
        self._invalidate()

    # ---------------------------------------------------------------- coordinates
    def to_view(self, xy: np.ndarray) -> np.ndarray:
        half = np.array([self.width() / 2, self.height() / 2])
        return (xy - self._centre) * self._scale + half

    def to_data(self, point: QPointF) -> np.ndarray:
        half = np.array([self.width() / 2, self.height() / 2])
        return (np.array([point.x(), point.y()]) - half) / self._scale + self._centre

    def view_pos_of(self, face_id: int) -> QPointF:
        """Where a face's dot is drawn (for tests and for scrolling to it)."""
        x, y = self.to_view(self._xy[self._row_of[face_id]][None, :])[0]
        return QPointF(float(x), float(y))

    def face_at(self, point: QPointF, radius: float = HOVER_RADIUS) -> int:
        """Row of the dot nearest ``point`` within ``radius`` pixels, or -1."""
        if not len(self._xy):
            return -1
        if self._grid is None:
            self._grid = PointGrid(self._xy)
        _distance, row = self._grid.nearest(self.to_data(point), radius / self._scale)
        return row

    # ---------------------------------------------------------------- painting
    def _invalidate(self) -> None:
        self._layer = None
        self.update()

    def _render_layer(self) -> QPixmap:
        """All dots into a pixmap at device resolution (the expensive part)."""
        import time

        started = time.perf_counter()
        dpr = self.devicePixelRatioF()
        size = QSize(max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr)))
        layer = QPixmap(size)
        layer.fill(BACKGROUND)
        painter = QPainter(layer)
        round_dots = len(self._ids) <= ROUND_LIMIT
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, round_dots)
        pixels = self.to_view(self._xy) * dpr
        if not round_dots:
            pixels = np.floor(pixels) + 0.5  # pixel-aligned squares take the fast path
        sorted_pixels = pixels[self._order]
        pen = QPen()
        pen.setWidthF(dot_size(len(self._ids), dpr) * dpr)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap if round_dots else Qt.PenCapStyle.SquareCap)
        for colour, start, stop in self._batches:
            pen.setColor(colour)
            painter.setPen(pen)
            painter.drawPoints(polygon(sorted_pixels[start:stop]))
        painter.end()
        layer.setDevicePixelRatio(dpr)
        self._layer_view = (self._scale, float(self._centre[0]), float(self._centre[1]))
        self.last_render_ms = (time.perf_counter() - started) * 1000
        return layer

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if not len(self._ids):
            painter.setPen(QColor("#a3a7b0"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            return
        if self._layer is None and not self._settle.isActive():
            self._layer = self._render_layer()
        if self._layer is not None and self._layer_view is not None:
            self._draw_layer(painter)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._draw_selection(painter)
        self._draw_drag(painter)
        self._draw_hover(painter)

    def _draw_layer(self, painter: QPainter) -> None:
        """The cached dots, moved/scaled to the current view if a gesture is running."""
        assert self._layer is not None and self._layer_view is not None
        scale, cx, cy = self._layer_view
        if (scale, cx, cy) == (self._scale, float(self._centre[0]), float(self._centre[1])):
            painter.drawPixmap(0, 0, self._layer)
            return
        factor = self._scale / scale
        half = np.array([self.width() / 2, self.height() / 2])
        # Where the layer's origin lands in the current view.
        origin = (np.array([0.0, 0.0]) - half) / scale + np.array([cx, cy])
        x, y = self.to_view(origin[None, :])[0]
        target = QRectF(x, y, self.width() * factor, self.height() * factor)
        painter.drawPixmap(target, self._layer, QRectF(self._layer.rect()))

    def _draw_selection(self, painter: QPainter) -> None:
        if not len(self._selected):
            return
        points = self.to_view(self._xy[self._selected])
        few = len(points) <= ROUND_LIMIT
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, few)
        if not few:
            points = np.floor(points) + 0.5  # fast square dots, as in the dot layer
        pen = QPen(QColor("white"))
        pen.setWidthF(13.0 if few else 6.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap if few else Qt.PenCapStyle.SquareCap)
        painter.setPen(pen)
        painter.drawPoints(polygon(points))
        pen.setColor(QColor("#ffcc33"))
        pen.setWidthF(pen.widthF() - 3)
        painter.setPen(pen)
        painter.drawPoints(polygon(points))

    def _draw_drag(self, painter: QPainter) -> None:
        if len(self._drag) < 2:
            return
        painter.setPen(QPen(QColor("#ffffff"), 1, Qt.PenStyle.DashLine))
        painter.setBrush(QColor(255, 255, 255, 30))
        painter.drawPolygon(QPolygonF(self._selection_outline()))

    def _draw_hover(self, painter: QPainter) -> None:
        if self._hover < 0 or self.thumbnail is None:
            return
        face_id = int(self._ids[self._hover])
        pos = self.view_pos_of(face_id)
        painter.setPen(QPen(QColor("white"), 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(pos, 7, 7)
        side = 112
        pix = self.thumbnail(face_id, side, self.devicePixelRatioF())
        person = int(self._persons[self._hover])
        label = self.person_name(person) if person >= 0 else UNKNOWN_LABEL
        box = QRect(0, 0, side + 12, side + 34)
        x = (
            pos.x() + 16
            if pos.x() + 16 + box.width() < self.width()
            else pos.x() - 16 - box.width()
        )
        y = min(max(4.0, pos.y() - box.height() / 2), self.height() - box.height() - 4)
        box.moveTo(int(x), int(y))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(20, 21, 25, 235))
        painter.drawRoundedRect(box, 8, 8)
        painter.drawPixmap(box.left() + 6, box.top() + 6, pix)
        painter.setPen(QColor("#f0f0f3"))
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        text_rect = QRect(box.left() + 6, box.top() + side + 8, side, 22)
        text = painter.fontMetrics().elidedText(label, Qt.TextElideMode.ElideRight, side)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, text)

    def _selection_outline(self) -> list[QPointF]:
        if self._lasso:
            return list(self._drag)
        a, b = self._drag[0], self._drag[-1]
        return [a, QPointF(b.x(), a.y()), b, QPointF(a.x(), b.y())]

    # ---------------------------------------------------------------- interaction
    def resizeEvent(self, event: QResizeEvent) -> None:
        old = event.oldSize()
        if self._auto_fit or old.width() <= 0 or old.height() <= 0:
            self.fit()
            return
        ratio = min(event.size().width(), event.size().height()) / max(
            1, min(old.width(), old.height())
        )
        self._scale *= ratio
        self._invalidate()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if not steps:
            return
        factor = 1.25**steps
        anchor = self.to_data(event.position())
        self._scale = float(np.clip(self._scale * factor, 20.0, 200_000.0))
        # Keep the data point under the cursor where it is.
        self._centre = anchor - (self.to_data(event.position()) - self._centre)
        self._gesture()

    def _gesture(self) -> None:
        """Show the moved cached layer now; render the dots again when input pauses."""
        self._auto_fit = False
        self._settle.start()
        self._hover = -1
        self.update()

    def keyPressEvent(self, event: object) -> None:
        key = event.key()  # type: ignore[attr-defined]
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():  # type: ignore[attr-defined]
            self._space = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        elif key in (Qt.Key.Key_Home, Qt.Key.Key_0):
            self.fit()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal, Qt.Key.Key_Minus):
            factor = 1.25 if key != Qt.Key.Key_Minus else 0.8
            self._scale = float(np.clip(self._scale * factor, 20.0, 200_000.0))
            self._gesture()
        elif key == Qt.Key.Key_Escape and len(self._selected):
            self._selected = np.zeros(0, np.int64)
            self.selection_changed.emit([])
            self.update()
        else:
            super().keyPressEvent(event)  # type: ignore[arg-type]

    def keyReleaseEvent(self, event: object) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():  # type: ignore[attr-defined]
            self._space = False
            self.unsetCursor()
        else:
            super().keyReleaseEvent(event)  # type: ignore[arg-type]

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = event.position()
        self._press_button = event.button()
        pan = event.button() in (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton)
        if pan or self._space:
            self._pan_from = (event.position(), self._centre.copy())
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif event.button() == Qt.MouseButton.LeftButton:
            self._lasso = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
            self._drag = [event.position()]

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._pan_from is not None:
            start, centre = self._pan_from
            delta = np.array([pos.x() - start.x(), pos.y() - start.y()]) / self._scale
            self._centre = centre - delta
            self._gesture()
            return
        if self._drag:
            moved = (pos - self._drag[0]).manhattanLength() > 4
            if moved or len(self._drag) > 1:
                if self._lasso or len(self._drag) < 2:
                    self._drag.append(pos)
                else:
                    self._drag[-1] = pos
                self.update()
            return
        hover = self.face_at(pos)
        if hover != self._hover:
            self._hover = hover
            if hover >= 0:
                self.setToolTip("")
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.setCursor(
                Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.ArrowCursor
            )
            self._invalidate()
            return
        if event.button() != Qt.MouseButton.LeftButton or not self._drag:
            return
        additive = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if len(self._drag) > 1:
            self._select_inside(additive)
        else:
            self._click(event.position(), additive)
        self._drag = []
        self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        row = self.face_at(event.position())
        if row >= 0:
            self.face_activated.emit(int(self._ids[row]))
        elif event.button() == Qt.MouseButton.LeftButton:
            self.fit()

    def leaveEvent(self, event: object) -> None:
        if self._hover >= 0:
            self._hover = -1
            self.update()

    def _click(self, pos: QPointF, additive: bool) -> None:
        row = self.face_at(pos)
        if row < 0:
            if not additive and len(self._selected):
                self._selected = np.zeros(0, np.int64)
                self.selection_changed.emit([])
            return
        if additive:
            rows = set(self._selected.tolist()) ^ {row}
            self._selected = np.array(sorted(rows), dtype=np.int64)
            self.selection_changed.emit(self.selected_face_ids())
        else:
            self._selected = np.array([row], dtype=np.int64)
            self.face_clicked.emit(int(self._ids[row]))

    def _select_inside(self, additive: bool) -> None:
        outline = np.array([(p.x(), p.y()) for p in self._selection_outline()])
        inside = np.flatnonzero(points_in_polygon(self.to_view(self._xy), outline))
        if additive:
            inside = np.union1d(self._selected, inside)
        self._selected = inside.astype(np.int64)
        self.selection_changed.emit(self.selected_face_ids())

    def sizeHint(self) -> QSize:
        return QSize(640, 520)
