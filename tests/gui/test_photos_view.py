"""A person's photos by date: real photo files, thumbnails made in the background."""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt

from faceorganizer.core.store.catalog import PhotoRow
from faceorganizer.ui.widgets.photos import PHOTO_ROLE, PhotosView, PhotoThumbnails, date_label


def test_photos_show_their_dates_and_thumbnails_arrive(qtbot, faces_dev: Path) -> None:
    thumbs = PhotoThumbnails()
    thumbs.set_root(faces_dev)
    view = PhotosView(thumbs)
    qtbot.addWidget(view)
    view.resize(800, 600)
    paths = sorted(p.relative_to(faces_dev).as_posix() for p in faces_dev.glob("Joe_Biden/*"))
    rows = [
        PhotoRow(i, path, f"20{10 + i}-05-0{i + 1} 10:00:00", i) for i, path in enumerate(paths)
    ]
    rows.append(PhotoRow(9, "no/such/photo.jpg", "", 9))
    view.model_.set_photos(rows)
    view.show()
    qtbot.waitUntil(lambda: all(thumbs.image(p) is not None for p in [*paths, rows[-1].path]))
    assert all(not thumbs.image(p).isNull() for p in paths)  # real photos decoded
    assert thumbs.image("no/such/photo.jpg").isNull()  # a missing file: a blank tile
    model = view.model()
    assert [model.index(i).data() for i in range(model.rowCount())] == [
        "1 May 2010", "2 May 2011", "date unknown"
    ]  # fmt: skip
    with qtbot.waitSignal(view.open_requested) as opened:
        centre = view.visualRect(model.index(1)).center()
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert opened.args == [model.index(1).data(PHOTO_ROLE).face_id]
    thumbs.close()
    assert date_label("garbage") == "date unknown"


def test_deleted_thumbnails_stop_their_thread(qtbot, faces_dev: Path, capfd):
    """The window goes, idle or while photos are decoded: the thread ends (after the
    photo in flight, whose result is dropped) instead of waiting forever or signalling
    an object that is deleted."""
    photos = sorted(p.relative_to(faces_dev).as_posix() for p in faces_dev.rglob("*.jpg"))
    for pending in (0, 40):
        thumbs = PhotoThumbnails()
        thumbs.set_root(faces_dev)
        for path in photos[:pending]:
            thumbs.image(path)
        thread = thumbs._thread
        shiboken6.delete(thumbs)
        thread.join(10)
        assert not thread.is_alive()
    qtbot.wait(50)  # anything the threads queued would be delivered now
    assert "deleted" not in capfd.readouterr().err
