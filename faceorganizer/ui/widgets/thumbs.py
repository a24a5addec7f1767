"""Face thumbnails for the views: read and decoded in a thread, only when painted, cached.

The catalog holds one small JPEG per face. With 100 000 faces decoding all of them up
front would take seconds and hundreds of MB, so a view asks for a pixmap only when it
paints that item. A miss returns a blank tile at once and queues the face for the
loader thread, which reads the JPEG from its own read-only connection and scales and
rounds it into a QImage; the GUI thread only turns those into pixmaps (kept in
:class:`QPixmapCache`, an LRU bounded in KB) and ``ready`` asks the views to repaint.
The newest requests are served first, so the tiles on screen after a fast scroll come
before the ones scrolled past. Pixmaps are made at the screen's device pixel ratio so
they stay sharp at 200 %. Faces of missing photos (an unplugged drive) come greyed and
faded wherever they are drawn: grids, people tiles, the map, dialogs.
"""

from __future__ import annotations

import functools
import io
import threading
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRectF, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPixmap, QPixmapCache

from faceorganizer.core.store.catalog import Catalog

CACHE_KB = 96 * 1024  # enough for several thousand grid thumbnails at 200 %
MAX_WAITING = 600  # requests beyond this (scrolled past long ago) are dropped
BATCH = 24  # thumbnails handed to the GUI thread at a time
LOADING = QColor("#dfe1e6")
MISSING = QColor("#c9ccd3")
GREYED_OPACITY = 0.45  # a missing photo's face: still there, clearly not at hand

Request = tuple[int, int, float, float, bool]  # face id, side, dpr, radius, greyed


def _key(generation: int, request: Request) -> str:
    face_id, side, dpr, radius, greyed = request
    return f"fo{generation}:{face_id}:{side}:{dpr:.2f}:{radius:.0f}:{greyed:d}"


def _canvas(side: int, dpr: float, radius: float) -> tuple[QImage, QPainter, int]:
    pixels = max(1, round(side * dpr))
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    if radius > 0:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, pixels, pixels), radius * dpr, radius * dpr)
        painter.setClipPath(path)
    return image, painter, pixels


def render(data: bytes | None, request: Request) -> QImage | None:
    """The thumbnail as a square image ``side * dpr`` pixels wide, rounded; None when
    there is no readable JPEG. Safe in any thread.

    Pillow decodes and scales: it lets go of the GIL while it works, where QImage's
    decoding and smooth scaling hold it from Python, and the loader thread held the
    window up for 40-60 ms whenever a screen of thumbnails came in."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    _face, side, dpr, radius, greyed = request
    pixels = max(1, round(side * dpr))
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as source:
            source.draft("RGB", (pixels, pixels))  # JPEG: decode at the nearest larger scale
            # Fill the square (centre crop): thumbnails are square already, but the crop
            # near a photo border can be narrower.
            picture = ImageOps.fit(
                source.convert("L" if greyed else "RGB"),
                (pixels, pixels),
                Image.Resampling.BICUBIC,
            )
    except (OSError, ValueError, UnidentifiedImageError):
        return None
    tile = picture.convert("RGBA")
    tile.putalpha(_alpha(pixels, round(radius * dpr), greyed))
    raw = tile.convert("RGBa").tobytes()  # premultiplied, as Qt paints fastest
    image = QImage(raw, pixels, pixels, 4 * pixels, QImage.Format.Format_RGBA8888_Premultiplied)
    return image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)  # owns its pixels


@functools.lru_cache(maxsize=32)
def _alpha(pixels: int, radius: int, greyed: bool) -> object:
    """A tile's alpha: rounded corners (drawn at 4x and scaled down, so they are smooth),
    faded for a missing photo's face."""
    from PIL import Image, ImageDraw

    big = Image.new("L", (4 * pixels, 4 * pixels), 0)
    opacity = round(255 * (GREYED_OPACITY if greyed else 1.0))
    box = (0, 0, 4 * pixels - 1, 4 * pixels - 1)
    ImageDraw.Draw(big).rounded_rectangle(box, radius=4 * radius, fill=opacity)
    return big.resize((pixels, pixels), Image.Resampling.BOX)


def _plain(request: Request, colour: QColor, mark: str = "") -> QPixmap:
    _face, side, dpr, radius, _greyed = request
    image, painter, pixels = _canvas(side, dpr, radius)
    painter.fillRect(0, 0, pixels, pixels, colour)
    if mark:
        painter.setPen(QColor("#8a8f99"))
        painter.drawText(image.rect(), Qt.AlignmentFlag.AlignCenter, mark)
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(dpr)
    return pixmap


class _Loader(QThread):
    """Reads and renders requested thumbnails, newest request first."""

    loaded = Signal(int, list)  # generation, [(request, QImage | None)]

    def __init__(self, path: Path, generation: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path, self.generation = path, generation
        self._lock = threading.Condition()
        self._waiting: OrderedDict[Request, None] = OrderedDict()
        self._in_flight: set[Request] = set()
        self._stopping = False

    def request(self, request: Request) -> None:
        """Queue a thumbnail, or move it to the front if queued (it is still on screen)."""
        with self._lock:
            if request in self._in_flight:
                return
            self._waiting[request] = None
            self._waiting.move_to_end(request)
            while len(self._waiting) > MAX_WAITING:
                self._waiting.popitem(last=False)  # asked for again if painted again
            self._lock.notify()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify()
        self.wait()

    def _next(self, done: list[Request]) -> list[Request]:
        with self._lock:
            self._in_flight.difference_update(done)
            while not self._waiting and not self._stopping:
                self._lock.wait()
            if self._stopping:
                return []
            count = min(BATCH, len(self._waiting))
            batch = [self._waiting.popitem(last=True)[0] for _ in range(count)]
            self._in_flight.update(batch)
            return batch

    def run(self) -> None:  # noqa: D401 - Qt override
        try:
            catalog = Catalog(self.path, readonly=True)
        except Exception:  # no thumbnails then; the views show blank tiles
            return
        batch: list[Request] = []
        try:
            while batch := self._next(batch):
                self.loaded.emit(
                    self.generation, [(r, render(catalog.thumbnail(r[0]), r)) for r in batch]
                )
        finally:
            catalog.close()


class Thumbnails(QObject):
    """Pixmaps of face thumbnails of one catalog, keyed by face id and size."""

    ready = Signal()  # thumbnails arrived: views showing faces repaint
    arrived = Signal(object)  # the same, with the face ids (None: any face may look new)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        QPixmapCache.setCacheLimit(max(QPixmapCache.cacheLimit(), CACHE_KB))
        self._loader: _Loader | None = None
        self._generation = 0
        self._greyed: frozenset[int] = frozenset()
        self._blank: dict[tuple[str, int, float, float], QPixmap] = {}
        self._loading: set[int] = set()  # cache keys of the blank tiles shown while loading
        self._new: set[int] = set()  # faces arrived since the last repaint
        self._repaint = QTimer(self, singleShot=True, interval=15)  # one repaint per batch
        self._repaint.timeout.connect(self._announce)

    def set_source(self, catalog_path: Path | None) -> None:
        """Switch catalogs: face ids of another catalog must never hit old entries."""
        if self._loader is not None:
            self._loader.stop()
            self._loader.deleteLater()
            self._loader = None
        self._generation += 1
        self._greyed = frozenset()
        if catalog_path is not None:
            self._loader = _Loader(Path(catalog_path), self._generation, self)
            self._loader.loaded.connect(self._arrived)
            self._loader.start()

    def set_greyed(self, face_ids: frozenset[int]) -> None:
        """The faces of missing photos, from now on drawn greyed (others as they are)."""
        if face_ids != self._greyed:
            self._greyed = face_ids
            self.arrived.emit(None)
            self.ready.emit()

    def is_greyed(self, face_id: int) -> bool:
        return face_id in self._greyed

    def pixmap(self, face_id: int, side: int, dpr: float = 1.0, radius: float = 0.0) -> QPixmap:
        """A square thumbnail ``side`` logical pixels wide, rounded by ``radius``: from
        the cache, else a blank tile now and the thumbnail after ``ready``."""
        greyed = face_id in self._greyed
        request: Request = (int(face_id), int(side), round(float(dpr), 2), float(radius), greyed)
        found = QPixmapCache.find(_key(self._generation, request))
        if found is not None and not found.isNull():
            return found
        if self._loader is not None and face_id >= 0:
            self._loader.request(request)
            return self._blank_tile(request, LOADING)
        return self._blank_tile(request, MISSING, "?")

    def is_loading(self, pixmap: QPixmap) -> bool:
        """Is this the blank tile :meth:`pixmap` gives until the thumbnail arrives?"""
        return pixmap.cacheKey() in self._loading

    def _blank_tile(self, request: Request, colour: QColor, mark: str = "") -> QPixmap:
        key = (colour.name() + mark, request[1], request[2], request[3])
        if key not in self._blank:
            self._blank[key] = _plain(request, colour, mark)
            if colour == LOADING:
                self._loading.add(self._blank[key].cacheKey())
        return self._blank[key]

    def _arrived(self, generation: int, images: list[tuple[Request, QImage | None]]) -> None:
        if generation != self._generation:
            return
        for request, image in images:
            if image is None:
                pixmap = _plain(request, MISSING, "?")
            else:
                pixmap = QPixmap.fromImage(image)
                pixmap.setDevicePixelRatio(request[2])
            QPixmapCache.insert(_key(generation, request), pixmap)
            self._new.add(request[0])
        if not self._repaint.isActive():
            self._repaint.start()

    def _announce(self) -> None:
        new, self._new = frozenset(self._new), set()
        self.arrived.emit(new)
        self.ready.emit()
