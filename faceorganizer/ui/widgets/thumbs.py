"""Face thumbnails for the views: decoded lazily, only when painted, and cached.

The catalog holds one small JPEG per face. With 50 000 faces decoding all of them up
front would take seconds and hundreds of MB, so a view asks for a pixmap only when it
paints that item; the result stays in :class:`QPixmapCache` (an LRU bounded in KB).
Pixmaps are made at the screen's device pixel ratio so they stay sharp at 200 %.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPixmap, QPixmapCache

CACHE_KB = 96 * 1024  # enough for several thousand grid thumbnails at 200 %


class Thumbnails:
    """Pixmaps of face thumbnails of one catalog, keyed by face id and size."""

    def __init__(self) -> None:
        QPixmapCache.setCacheLimit(max(QPixmapCache.cacheLimit(), CACHE_KB))
        self._read: Callable[[int], bytes | None] | None = None
        self._generation = 0

    def set_source(self, read: Callable[[int], bytes | None] | None) -> None:
        """Switch catalogs: face ids of another catalog must never hit old entries."""
        self._read = read
        self._generation += 1

    def pixmap(self, face_id: int, side: int, dpr: float = 1.0, radius: float = 0.0) -> QPixmap:
        """A square thumbnail ``side`` logical pixels wide, rounded by ``radius``."""
        key = f"fo{self._generation}:{face_id}:{side}:{dpr:.2f}:{radius:.0f}"
        found = QPixmapCache.find(key)
        if found is not None and not found.isNull():
            return found
        pixmap = self._render(face_id, side, dpr, radius)
        QPixmapCache.insert(key, pixmap)
        return pixmap

    def _render(self, face_id: int, side: int, dpr: float, radius: float) -> QPixmap:
        data = self._read(face_id) if self._read is not None else None
        image = QImage()
        if data:
            image.loadFromData(data)
        pixels = max(1, round(side * dpr))
        out = QPixmap(pixels, pixels)
        out.fill(Qt.GlobalColor.transparent)
        painter = QPainter(out)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if radius > 0:
            path = QPainterPath()
            path.addRoundedRect(QRectF(0, 0, pixels, pixels), radius * dpr, radius * dpr)
            painter.setClipPath(path)
        if image.isNull():
            painter.fillRect(0, 0, pixels, pixels, QColor("#c9ccd3"))
            painter.setPen(QColor("#8a8f99"))
            painter.drawText(out.rect(), Qt.AlignmentFlag.AlignCenter, "?")
        else:
            # Fill the square (centre crop): thumbnails are square already, but the
            # crop near a photo border can be narrower.
            scaled = image.scaled(
                pixels,
                pixels,
                Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                Qt.TransformationMode.SmoothTransformation,
            )
            x = (scaled.width() - pixels) // 2
            y = (scaled.height() - pixels) // 2
            painter.drawImage(0, 0, scaled, x, y, pixels, pixels)
        painter.end()
        out.setDevicePixelRatio(dpr)
        return out
