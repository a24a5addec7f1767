"""Screenshots of the real app on the faces-dev photos, for the docs and for review.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/take.py
    xvfb-run -a -s "-screen 0 3200x2000x24" python docs/screenshots/take.py --scale 2

Scans ../shared/data/faces-dev into a temporary catalog (or uses --catalog, copied so
the original is never changed), names the largest people after their folder (as a user
would), then drives the window through its views and saves PNGs next to this script.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FACES_DEV = REPO.parent / "shared" / "data" / "faces-dev"


def prepare_catalog(source: Path | None, work: Path) -> Path:
    """A private catalog of faces-dev with some people named."""
    sys.path.insert(0, str(REPO))
    from faceorganizer.config import Settings
    from faceorganizer.core.library.edits import Editor
    from faceorganizer.core.library.scan import scan
    from faceorganizer.core.store.catalog import Catalog

    path = work / "catalog.sqlite"
    if source is not None:
        original = Catalog(source, readonly=True)
        original.backup_to(path)
        original.close()
        catalog = Catalog(path)
    else:
        catalog = Catalog(path, root=FACES_DEV)
        for event in scan(catalog, FACES_DEV, Settings()):
            if event.stage == "faces" and event.done % 20 == 0:
                print(f"scanning {event.done}/{event.total}", flush=True)
    editor = Editor(catalog)

    def folder(person_id: int) -> str:
        """The faces-dev folder most of this person's faces come from."""
        folders = Counter(
            str(catalog.face_info(f)["path"]).split("/")[0]
            for f in catalog.faces_of_person(person_id)
        )
        return folders.most_common(1)[0][0]

    # A grouping mistake to fix in the Split screenshot: two people in one (Mindy
    # Kaling poured into the second largest person, whatever the grouping's order).
    people = catalog.persons()
    wrong = next((p for p in people[2:] if folder(p.id) == "Mindy_Kaling"), people[10])
    editor.merge([people[1].id, wrong.id], people[1].id)
    for person in catalog.persons()[:9]:
        name = folder(person.id).replace("_", " ")
        if not name.startswith("_") and "person" not in name:  # anonymised folders
            editor.rename(person.id, name)
    # The rename log is not what the screenshots should offer to undo.
    catalog.clear_undo_log()
    catalog.close()
    return path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", type=Path, help="a scanned faces-dev catalog (copied)")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--scale", type=float, default=1.0, help="2 = a 200 %% screen")
    args = parser.parse_args()
    if args.scale != 1.0:
        os.environ["QT_SCALE_FACTOR"] = str(args.scale)
    suffix = "" if args.scale == 1.0 else f"@{args.scale:g}x"
    work = Path(tempfile.mkdtemp(prefix="fo-shots-"))
    os.environ["XDG_DATA_HOME"] = str(work / "data")
    catalog_path = prepare_catalog(args.catalog, work)
    small = work / "photos"  # a few folders to show a scan under way
    for name in ("Barack_Obama", "Joe_Biden", "Celine_Dion", "Elton_John", "Jerry_Seinfeld"):
        shutil.copytree(FACES_DEV / name, small / name)

    from PySide6.QtCore import QPoint, QSettings, QTimer
    from PySide6.QtTest import QTest

    from faceorganizer.core.store.catalog import Catalog
    from faceorganizer.ui.app import create_application
    from faceorganizer.ui.dialogs.common import SplitDialog
    from faceorganizer.ui.dialogs.review import ReviewDialog
    from faceorganizer.ui.main_window import MainWindow

    app = create_application([])
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("recent/folders", [str(FACES_DEV), str(Path.home() / "Pictures")])
    window = MainWindow(settings)
    window.resize(1360, 860)
    window.show()
    args.out.mkdir(parents=True, exist_ok=True)

    def save(widget: object, name: str) -> None:
        target = args.out / f"{name}{suffix}.png"
        widget.grab().save(str(target))  # type: ignore[attr-defined]
        print("saved", target, flush=True)

    def script() -> Iterator[int | Callable[[], bool]]:
        """The tour; yields a delay in ms, or a condition to wait for."""
        yield 400
        save(window, "empty")

        # A scan under way: progress, ETA, new faces collecting in Unknown.
        window.open_folder(small)
        scanning = window.controller
        yield lambda: scanning.scan_stage.value == "faces" and window.scan_status.bar.value() >= 6
        yield lambda: window.people.model.rowCount() > 0
        yield 300
        save(window, "scan")
        window.act["cancel"].trigger()
        yield lambda: not window.controller.is_scanning()

        with_refresh = []
        window.browser.refreshed.connect(lambda: with_refresh.append(1))
        window.open_catalog(catalog_path)
        yield lambda: bool(with_refresh)
        yield 600
        save(window, "people")

        catalog = Catalog(catalog_path, readonly=True)
        person = catalog.persons()[2]
        window.browser.show_person(person.id, select_tile=True)
        yield lambda: len(window.faces.model.face_ids()) == person.faces
        window.browser.select_faces(window.faces.model.face_ids()[1:3])
        yield 500
        save(window, "person")

        window.open_photo(window.browser.selected_face_ids()[0])
        viewer = window.photo_viewer
        viewer.resize(900, 640)
        yield lambda: not viewer.canvas.image.isNull()
        yield 300
        save(viewer, "photo")
        viewer.close()

        window.act["map_tab"].trigger()  # UMAP runs in the helper process: wait for it
        scatter = window.map.scatter
        yield lambda: scatter.count() > 0 and "preview" not in window.map.status.text()
        ids = scatter.face_ids()
        window.mapping.reveal_face(int(ids[len(ids) // 3]))
        point = scatter.view_pos_of(int(ids[len(ids) // 2])).toPoint()
        QTest.mouseMove(scatter, point + QPoint(2, 2))
        QTest.mouseMove(scatter, point)
        yield 500
        save(window, "map")

        person = catalog.persons()[0]  # the two people merged by mistake
        name = catalog.person_names()[person.id]
        split = SplitDialog(catalog_path, person.id, name, window.thumbs, window)
        split.show()
        yield lambda: len(split.groups) > 1 and not split._debounce.isActive()
        yield 300
        save(split, "split")
        split.close()

        # the first question of each kind: about a face ("Is this X?" / "Who is this?"),
        # about a group ("Are these the same person?" / "Who is X?")
        read = window.controller.read
        review = ReviewDialog(catalog_path, read, window.thumbs, lambda q, who: None, window)
        review.show()
        shots = {False: "review", True: "review-pair"}
        while shots:
            yield (
                lambda: (
                    not review.loading
                    and (review.current() is None or not review.photo.image.isNull())
                )
            )
            question = review.current()
            if question is None:
                break
            name = shots.pop(question.other_id is not None, None)
            if name is not None:
                yield 300
                save(review, name)
            review.skip.click()
        review.close()

        window.act["people_tab"].trigger()
        window.show_cluster_controls()
        dialog = window.cluster_dialog
        yield lambda: dialog.preview is not None
        yield 200
        save(dialog, "cluster")
        dialog.close()

        window.show_export()
        export = window.export_dialog
        export.destination.setText(str(work / "Exported people"))
        export.start()
        yield lambda: export.report is not None
        yield 300
        save(export, "export")
        export.close()

        # A drive not connected: two folders' photos missing, their faces greyed, a banner.
        unplugged = Catalog(catalog_path)
        gone = {"Joe_Biden", "Celine_Dion"}
        unplugged.mark_missing(f.id for f in unplugged.files() if f.path.split("/")[0] in gone)
        biden = Counter(
            unplugged.face_info(f)["person_id"]
            for f in unplugged.missing_face_ids()
            if str(unplugged.face_info(f)["path"]).startswith("Joe_Biden/")
        ).most_common(1)[0][0]
        unplugged.close()
        with_refresh.clear()
        window.open_catalog(catalog_path)
        yield lambda: bool(with_refresh) and window.banner.isVisible()
        window.browser.show_person(int(biden), select_tile=True)
        yield lambda: any(map(window.thumbs.is_greyed, window.faces.model.face_ids()))
        QTest.mouseMove(window.statusBar())  # no tile lit by the pointer left from the map
        yield 800
        save(window, "missing")
        window.close()

    def drive(steps: Iterator[int | Callable[[], bool]]) -> None:
        try:
            step = next(steps)
        except StopIteration:
            app.quit()
            return
        if callable(step):

            def poll() -> None:
                if step():
                    drive(steps)
                else:
                    QTimer.singleShot(200, poll)

            poll()
        else:
            QTimer.singleShot(step, lambda: drive(steps))

    drive(script())
    QTimer.singleShot(600_000, app.quit)  # never hang
    app.exec()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
