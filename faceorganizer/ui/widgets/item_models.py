"""Item models over the catalog: one row per person, one row per face.

The models hold only ids and counts (a few bytes per row); names come from the person
summary and thumbnails are fetched from the catalog only for rows being painted, so a
library with 50 000 faces costs one small query per refresh and nothing per face.
Drops on a person are turned into signals; the main window decides which edit they mean.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from typing import NamedTuple

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from faceorganizer.core.store.catalog import Catalog, default_person_name
from faceorganizer.ui.widgets.thumbs import Thumbnails
from faceorganizer.wording import count

FACE_MIME = "application/x-faceorganizer-faces"
PERSON_MIME = "application/x-faceorganizer-persons"

PERSON_ID_ROLE = Qt.ItemDataRole.UserRole + 1  # int, or None for the Unknown entry
FACE_ID_ROLE = Qt.ItemDataRole.UserRole + 2  # cover face (people) / the face (faces)
COUNT_ROLE = Qt.ItemDataRole.UserRole + 3
HIDDEN_ROLE = Qt.ItemDataRole.UserRole + 4
NAMED_ROLE = Qt.ItemDataRole.UserRole + 5
UNKNOWN_LABEL = "Unsorted faces"  # faces that joined no person (and new ones mid-scan)

Index = QModelIndex | QPersistentModelIndex


class Row(NamedTuple):
    """One person tile; ``person_id`` None is the Unknown (unassigned faces) entry. A
    tuple: thousands are made per snapshot and compared on the GUI thread, in C."""

    person_id: int | None
    title: str
    named: bool
    hidden: bool
    faces: int
    cover_face: int | None


def encode_ids(ids: Sequence[int]) -> QByteArray:
    return QByteArray(json.dumps([int(i) for i in ids]).encode())


def decode_ids(data: QByteArray | bytes) -> list[int]:
    return [int(i) for i in json.loads(bytes(data).decode() or "[]")]


def load_people(catalog: Catalog, show_hidden: bool) -> list[Row]:
    """People largest first, then Unknown (faces without a person: new faces during a
    scan, faces taken out). Runs in a worker thread on big libraries."""
    return _person_tiles(catalog, show_hidden) + _unknown_tile(catalog)


def update_people(
    rows: list[Row], catalog: Catalog, show_hidden: bool, touched: set[int]
) -> list[Row]:
    """:func:`load_people` after edits that changed only the people ``touched``: theirs
    are read again and put in place, the others kept from ``rows`` (that read). Reading
    all 7,000 people of a 10⁵-face library after every edit held the worker on the GIL
    the window needs for 26 ms."""
    kept = [r for r in rows if r.person_id is not None and r.person_id not in touched]
    for row in _person_tiles(catalog, show_hidden, touched):
        bisect.insort(kept, row, key=_tile_order)
    return kept + _unknown_tile(catalog)


def _person_tiles(catalog: Catalog, show_hidden: bool, only: set[int] | None = None) -> list[Row]:
    return [
        Row(person, name or default_person_name(person), bool(name), bool(hidden), n, cover)
        for person, name, hidden, n, cover in catalog.person_rows(show_hidden, only)
    ]


def _unknown_tile(catalog: Catalog) -> list[Row]:
    count, cover = catalog.unknown_faces()
    return [] if cover is None else [Row(None, UNKNOWN_LABEL, False, False, count, cover)]


def _tile_order(row: Row) -> tuple[int, int]:
    """Largest first, then by id: the order :meth:`Catalog.person_rows` gives."""
    return -row.faces, row.person_id or 0


class PeopleModel(QAbstractListModel):
    """People, largest first, plus an Unknown entry when faces are unassigned."""

    faces_dropped = Signal(list, object)  # face ids, target person id (None = Unknown)
    persons_dropped = Signal(list, int)  # person ids, target person id
    rename_requested = Signal(int, str)

    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []
        self._row_of: dict[int | None, int] | None = None
        self.icons: Thumbnails | None = None  # small icons for plain list views
        self.icon_side = 32

    # ---------------------------------------------------------------- loading
    def set_rows(self, rows: list[Row]) -> None:
        """New content; keeps the rows (and selection) when only counts or names
        changed, resets when people appeared, vanished or changed order."""
        if [r.person_id for r in rows] == [r.person_id for r in self._rows]:
            changed = [i for i, (a, b) in enumerate(zip(rows, self._rows, strict=True)) if a != b]
            self._rows = rows
            if changed:
                self.dataChanged.emit(self.index(min(changed)), self.index(max(changed)))
            return
        self.beginResetModel()
        self._rows = rows
        self._row_of = None
        self.endResetModel()

    def rows(self) -> list[Row]:
        return list(self._rows)

    # ---------------------------------------------------------------- lookup
    def row_of(self, person_id: int | None) -> int:
        if self._row_of is None:
            self._row_of = {r.person_id: i for i, r in enumerate(self._rows)}
        return self._row_of.get(person_id, -1)

    def entry(self, row: int) -> Row:
        return self._rows[row]

    def person_ids(self) -> list[int | None]:
        return [r.person_id for r in self._rows]

    # ---------------------------------------------------------------- Qt API
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return row.title
        if role == PERSON_ID_ROLE:
            return row.person_id
        if role == FACE_ID_ROLE:
            return row.cover_face
        if role == Qt.ItemDataRole.DecorationRole and self.icons is not None:
            return self.icons.pixmap(row.cover_face or -1, self.icon_side, 2.0, 4)
        if role == COUNT_ROLE:
            return row.faces
        if role == HIDDEN_ROLE:
            return row.hidden
        if role == NAMED_ROLE:
            return row.named
        if role == Qt.ItemDataRole.ToolTipRole:
            faces = count(row.faces, "face")
            if row.person_id is None:
                return f"{faces} not assigned to anyone"
            return f"{row.title} — {faces}" + (" (hidden)" if row.hidden else "")
        return None

    def setData(self, index: Index, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        person_id = self._rows[index.row()].person_id
        if person_id is None:
            return False
        self.rename_requested.emit(person_id, str(value))
        return True  # the main window applies the edit and refreshes

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if not index.isValid():
            return base
        flags = base | Qt.ItemFlag.ItemIsDropEnabled
        if self._rows[index.row()].person_id is not None:
            flags |= Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsEditable
        return flags

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [FACE_MIME, PERSON_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        ids = [self._rows[i.row()].person_id for i in indexes if i.isValid()]
        mime = QMimeData()
        mime.setData(PERSON_MIME, encode_ids([i for i in ids if i is not None]))
        return mime

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        if not parent.isValid():
            return False  # only drops onto a tile mean something
        target = self._rows[parent.row()].person_id
        if data.hasFormat(FACE_MIME):
            return True
        if data.hasFormat(PERSON_MIME) and target is not None:
            return any(p != target for p in decode_ids(data.data(PERSON_MIME)))
        return False

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        target = self._rows[parent.row()].person_id
        if data.hasFormat(FACE_MIME):
            self.faces_dropped.emit(decode_ids(data.data(FACE_MIME)), target)
        else:
            assert target is not None
            sources = [p for p in decode_ids(data.data(PERSON_MIME)) if p != target]
            self.persons_dropped.emit(sources, target)
        return False  # never let the view remove the dragged rows itself


class FacesModel(QAbstractListModel):
    """The faces of one person (or of Unknown, or of a selection made in the map)."""

    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)
        self._catalog: Catalog | None = None
        self._faces: list[int] = []
        self._rows: dict[int, int] | None = None  # face id -> row, built on first lookup
        self._tips: dict[int, str] = {}

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog
        self.set_faces([])

    def set_faces(self, face_ids: Sequence[int]) -> None:
        faces = [int(f) for f in face_ids]
        if faces == self._faces:
            return
        self.beginResetModel()
        self._faces = faces
        self._rows = None
        self._tips.clear()
        self.endResetModel()

    def face_ids(self) -> list[int]:
        return list(self._faces)

    def faces_at(self, rows: list[int]) -> list[int]:
        return [self._faces[r] for r in rows if 0 <= r < len(self._faces)]

    def row_of(self, face_id: int) -> int:
        if self._rows is None:
            self._rows = {f: r for r, f in enumerate(self._faces)}
        return self._rows.get(face_id, -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._faces)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._faces):
            return None
        face_id = self._faces[index.row()]
        if role == FACE_ID_ROLE:
            return face_id
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(face_id)
        return None

    def _tooltip(self, face_id: int) -> str:
        """The source photo, looked up only when the user hovers (one indexed query)."""
        if face_id not in self._tips and self._catalog is not None:
            try:
                info = self._catalog.face_info(face_id)
            except KeyError:
                return ""
            self._tips[face_id] = f"{info['path']}\nDouble-click to see the photo"
        return self._tips.get(face_id, "")

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        return flags | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else flags

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [FACE_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        mime = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        mime.setData(FACE_MIME, encode_ids([self._faces[r] for r in rows]))
        return mime
