"""How long the window freezes: the longest event-loop stall of each step a user takes.

    python bench/gui_latency.py [--faces 100000] [--json] [--workdir DIR]
    python bench/gui_latency.py --scan [--json]      # stall during a GUI scan of faces-dev

Builds a library of ``--faces`` faces through the Catalog API (synthetic SFace-like
embeddings, Zipf-sized identities grouped by the real ``recluster``, thumbnails cycled
from faces-dev's real faces, a cached map layout) and drives the real window (offscreen)
through: open; scroll the people grid end to end; open the largest person and scroll its
faces; merge the two largest, undo, redo; move 1,000 faces; rename and hide; open the
map; a regroup preview; open the export dialog; the Split… preview of the largest person
(it clusters the whole library in the helper process; how long it takes to show is
``seconds.split_preview``). A 5 ms timer notes how late it fires: its worst lateness
during a step is that step's stall. Prints one JSON object,
``{"max_stall_ms": ..., "steps": {name: ms}, "seconds": {...}}`` (``--json``), or a table.

The built library is kept in ``--workdir`` (keyed by size and seed); each run works on a
fresh copy of it. A library (or faces-dev scan) cached by an older schema is upgraded in
place when next used, as the app upgrades it, so runs before and after a schema change
work on the same faces. Wall-clock figures; the machine's other load shows up in them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from scale import zipf_sizes  # noqa: E402  (bench/ is on sys.path)

from faceorganizer.config import Settings  # noqa: E402
from faceorganizer.core.library.people import recluster  # noqa: E402
from faceorganizer.core.library.scan import ScanSummary, scan  # noqa: E402
from faceorganizer.core.store.catalog import Catalog, FaceRecord  # noqa: E402

FACES_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces-dev"
DIM = 128
FACES_PER_PHOTO = 3
NOISE = 0.05  # per-dimension noise around an identity centre: within-person distance ~0.4
MOVED = 1000
FRAME_S = 0.016  # one scroll position per display frame
MAX_SCROLL_FRAMES = 400
SETTLE_S = 0.3  # after a step's result shows: late work (refreshes) still counts
TIMEOUT_S = 600.0


# ---------------------------------------------------------------------- the library


def real_faces(workdir: Path, folder: Path) -> tuple[list[bytes], str]:
    """Thumbnails and model name of faces-dev's faces, from one real scan (cached)."""
    path = workdir / "faces-dev.sqlite"
    if not path.is_file():
        partial = path.with_suffix(".partial")
        for stale in workdir.glob(partial.name + "*"):
            stale.unlink()
        catalog = Catalog(partial, root=folder)
        for _ in scan(catalog, folder, Settings(), summary=ScanSummary()):
            pass
        catalog.close()
        partial.rename(path)
    catalog = Catalog(path)  # not read-only: upgrades a scan cached by an older schema
    try:
        face_ids, _, _ = catalog.embeddings()
        thumbs = [catalog.thumbnail(int(f)) for f in face_ids]
        model = catalog.dominant_model()
    finally:
        catalog.close()
    if not thumbs or model is None:
        raise SystemExit(f"no faces found in {folder}")
    return [t for t in thumbs if t], model


def synthetic_embeddings(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors halved (as SFace's are stored) around Zipf-sized identity centres."""
    sizes = zipf_sizes(n, rng)
    centres = rng.standard_normal((sizes.size, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    truth = np.repeat(np.arange(sizes.size), sizes)[rng.permutation(n)]
    x = centres[truth] + NOISE * rng.standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return (x / 2).astype(np.float32)


def build_library(path: Path, faces: int, seed: int, workdir: Path, folder: Path) -> None:
    """The library the steps run on, written through the Catalog API."""
    thumbs, model = real_faces(workdir, folder)
    rng = np.random.default_rng(seed)
    vectors = synthetic_embeddings(faces, rng)
    root = workdir / "photos"  # never read: the steps do not open photos
    root.mkdir(exist_ok=True)
    partial = path.with_suffix(".partial")
    for stale in workdir.glob(partial.name + "*"):
        stale.unlink()
    catalog = Catalog(partial, root=root)
    landmarks = np.zeros((5, 2), np.float32)
    started = time.perf_counter()
    for first in range(0, faces, FACES_PER_PHOTO):
        photo = first // FACES_PER_PHOTO
        file_id = catalog.add_file(f"{photo // 1000:03d}/photo{photo:06d}.jpg", 1, 1, None)
        records = [
            FaceRecord(
                (10.0 + 100 * k, 10.0, 90.0 + 100 * k, 90.0),
                float(rng.uniform(0.8, 1.0)),
                landmarks,
                thumbs[i % len(thumbs)],
                vectors[i],
                model,
            )
            for k, i in enumerate(range(first, min(first + FACES_PER_PHOTO, faces)))
        ]
        catalog.record_faces(file_id, records, (400, 300))
    print(f"  {faces:,} faces written in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    result = recluster(catalog)
    face_ids, _, stored = catalog.embeddings()
    centred = stored - stored.mean(axis=0)
    axes = np.linalg.svd(centred[:: max(1, len(centred) // 20_000)], full_matrices=False)[2]
    catalog.set_layout(face_ids, (centred @ axes[:2].T).astype(np.float32))
    catalog.close()
    print(f"  {result.people:,} people, {result.unassigned:,} unassigned", file=sys.stderr)
    for suffix in ("", "-wal", "-shm", ".knn.npz"):
        source = Path(str(partial) + suffix)
        if source.exists():
            source.rename(Path(str(path) + suffix))


def fresh_copy(source: Path, target: Path) -> None:
    for stale in target.parent.glob(target.name + "*"):
        stale.unlink()
    original = Catalog(source)  # not read-only: upgrades a library cached by an older schema
    original.backup_to(target)
    original.close()
    knn = Path(str(source) + ".knn.npz")
    if knn.exists():
        shutil.copy2(knn, str(target) + ".knn.npz")


# ---------------------------------------------------------------------- measuring


class StallMeter:
    """A 5 ms timer that notes how late each tick comes: the GUI thread's longest freeze."""

    INTERVAL_S = 0.005

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.longest = 0.0
        self._last = time.perf_counter()
        self.timer = QTimer(interval=int(self.INTERVAL_S * 1000))
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self._last - self.INTERVAL_S)
        self._last = now

    def reset(self) -> None:
        self.longest = 0.0
        self._last = time.perf_counter()


def spin(seconds: float) -> None:
    """Let the event loop run (timers, paints, queued results) for a while."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(max(0, int(seconds * 1000)), loop.quit)
    loop.exec()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT_S) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        spin(0.01)


def scroll_through(view: object) -> None:
    """Scroll a grid from top to bottom, one position per frame (at most 400 frames)."""
    bar = view.verticalScrollBar()  # type: ignore[attr-defined]
    bar.setValue(0)
    spin(FRAME_S)
    step = max(bar.pageStep(), bar.maximum() // MAX_SCROLL_FRAMES, 1)
    value = 0
    while value < bar.maximum():
        value = min(bar.maximum(), value + step)
        bar.setValue(value)
        spin(FRAME_S)


# ---------------------------------------------------------------------- the steps


def make_window(workdir: Path, catalog: Path | None = None) -> object:
    from PySide6.QtCore import QSettings

    from faceorganizer.ui.app import create_application
    from faceorganizer.ui.main_window import MainWindow

    create_application([])
    settings_file = workdir / "settings.ini"
    settings_file.unlink(missing_ok=True)
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    window = MainWindow(settings, catalog)
    window.resize(1280, 820)
    window.show()
    spin(0.2)
    return window


def tile_faces(window: object, person_id: int) -> int:
    model = window.people.model  # type: ignore[attr-defined]
    row = model.row_of(person_id)
    return -1 if row < 0 else model.entry(row).faces


def select_tiles(window: object, person_ids: list[int]) -> None:
    view = window.people.view  # type: ignore[attr-defined]
    selection = view.selectionModel()
    selection.clearSelection()
    for person in person_ids:
        selection.select(window.browser.person_index(person), selection.SelectionFlag.Select)  # type: ignore[attr-defined]


def run_steps(
    window: object, library: Path, meter: StallMeter
) -> tuple[dict[str, float], dict[str, float]]:
    """Each step as a user does it; returns its longest stall in ms, and how long the
    split preview took to show its groups (s)."""
    win = window  # untyped: the bench reads the window's public parts only
    stalls: dict[str, float] = {}
    seconds: dict[str, float] = {}
    reader = Catalog(library, readonly=True)

    def step(name: str, action: Callable[[], None]) -> None:
        spin(SETTLE_S)  # the previous step's tail is not this step's stall
        meter.reset()
        started = time.perf_counter()
        action()
        wait_until(lambda: win.controller.pending() == 0, "the queued edits and reads")
        spin(SETTLE_S)
        stalls[name] = round(meter.longest * 1000, 1)
        print(
            f"  {name:<22} {stalls[name]:7.1f} ms  ({time.perf_counter() - started:.1f} s)",
            file=sys.stderr,
        )

    people = reader.persons()
    largest, second = people[0], people[1]

    def open_library() -> None:
        win.open_catalog(library)
        wait_until(lambda: tile_faces(win, largest.id) == largest.faces, "the people tiles")

    def scroll_people() -> None:
        scroll_through(win.people.view)

    def open_largest() -> None:
        index = win.browser.person_index(largest.id)
        win.people.view.setCurrentIndex(index)
        wait_until(lambda: win.faces.model.rowCount() == largest.faces, "the largest's faces")
        scroll_through(win.faces.view)

    def merge_undo_redo() -> None:
        both = largest.faces + second.faces
        select_tiles(win, [largest.id, second.id])
        win.act["merge"].trigger()
        wait_until(lambda: tile_faces(win, largest.id) == both, "the merge")
        wait_until(lambda: win.act["undo"].isEnabled(), "undo")
        win.act["undo"].trigger()
        wait_until(lambda: tile_faces(win, second.id) == second.faces, "the undo")
        wait_until(lambda: win.act["redo"].isEnabled(), "redo")
        win.act["redo"].trigger()
        wait_until(lambda: tile_faces(win, largest.id) == both, "the redo")

    target = next(p for p in people[2:] if p.faces < 50)

    def move_faces() -> None:
        faces = reader.faces_of_person(largest.id)[:MOVED]
        before = tile_faces(win, target.id)
        win.people.model.faces_dropped.emit(faces, target.id)  # what a drop on a tile sends
        wait_until(lambda: tile_faces(win, target.id) == before + len(faces), "the move")

    def rename_and_hide() -> None:
        model = win.people.model
        model.rename_requested.emit(target.id, "Benchmark Person")  # an in-place rename
        wait_until(
            lambda: model.entry(model.row_of(target.id)).title == "Benchmark Person", "rename"
        )
        select_tiles(win, [target.id])
        win.act["hide"].trigger()
        wait_until(lambda: model.row_of(target.id) < 0, "hide")

    def open_map() -> None:
        faces = reader.face_count()
        win.act["map_tab"].trigger()
        wait_until(lambda: win.map.scatter.count() == faces, "the map")
        spin(0.5)
        win.act["people_tab"].trigger()

    def regroup_preview() -> None:
        win.act["regroup"].trigger()
        dialog = win.cluster_dialog
        wait_until(lambda: dialog.preview is not None, "the regroup preview")
        dialog.reject()

    def export_dialog() -> None:
        win.act["export"].trigger()
        wait_until(lambda: win.export_dialog is not None and win.export_dialog.isVisible(), "")
        spin(0.3)
        win.export_dialog.reject()

    def split_preview() -> None:
        from faceorganizer.ui.dialogs.common import SplitDialog
        from faceorganizer.ui.dialogs.regroup import split_threshold

        person = reader.persons()[0]
        threshold = split_threshold(win.controller.library_settings())
        started = time.perf_counter()
        dialog = SplitDialog(library, person.id, "the largest", win.thumbs, win, threshold)
        dialog.show()
        wait_until(lambda: dialog.status.text() != "Computing…", "the split preview")
        seconds["split_preview"] = round(time.perf_counter() - started, 2)
        spin(0.3)
        dialog.reject()

    for name, action in (
        ("open", open_library),
        ("scroll_people", scroll_people),
        ("open_largest_person", open_largest),
        ("merge_undo_redo", merge_undo_redo),
        ("move_1000_faces", move_faces),
        ("rename_and_hide", rename_and_hide),
        ("open_map", open_map),
        ("regroup_preview", regroup_preview),
        ("export_dialog", export_dialog),
        ("split_preview", split_preview),
    ):
        step(name, action)
    reader.close()
    print(f"  split preview shown after {seconds['split_preview']:.1f} s", file=sys.stderr)
    return stalls, seconds


def run_scan(workdir: Path, folder: Path) -> dict[str, float]:
    """Open faces-dev as a new library in the window; the stall while it is scanned."""
    catalog = workdir / "scan.sqlite"
    for stale in workdir.glob(catalog.name + "*"):
        stale.unlink()
    window = make_window(workdir, catalog)
    meter = StallMeter()
    started = time.perf_counter()
    if not window.open_folder(folder):  # type: ignore[attr-defined]
        raise SystemExit(f"cannot open {folder}")
    wait_until(lambda: window.controller.is_scanning(), "the scan to start", 30)  # type: ignore[attr-defined]
    wait_until(lambda: not window.controller.is_scanning(), "the scan")  # type: ignore[attr-defined]
    spin(1.0)
    stall = round(meter.longest * 1000, 1)
    print(f"  scan {stall:.1f} ms ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    window.close()  # type: ignore[attr-defined]
    return {"scan_faces_dev": stall}


def library_options(description: str) -> argparse.ArgumentParser:
    """The options that name the cached library (catalog_writes.py takes them too)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--faces", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/faceorganizer-gui-latency"))
    parser.add_argument("--folder", type=Path, default=FACES_DEV, help="faces-dev")
    return parser


def cached_library(args: argparse.Namespace) -> Path:
    """The library of these options in their workdir, built first if it is not there."""
    built = args.workdir.resolve() / f"library-{args.faces}-{args.seed}.sqlite"
    if not built.is_file():
        print(f"building a {args.faces:,}-face library in {built}", file=sys.stderr)
        build_library(built, args.faces, args.seed, built.parent, args.folder.resolve())
    return built


def main(argv: list[str] | None = None) -> None:
    parser = library_options(__doc__.split("\n")[0])
    parser.add_argument("--scan", action="store_true", help="stall during a scan of faces-dev")
    args = parser.parse_args(argv)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("XDG_DATA_HOME", str(workdir / "xdg"))

    seconds: dict[str, float] = {}
    if args.scan:
        steps = run_scan(workdir, args.folder.resolve())
    else:
        built = cached_library(args)
        library = workdir / "run.sqlite"
        fresh_copy(built, library)
        window = make_window(workdir)
        meter = StallMeter()
        steps, seconds = run_steps(window, library, meter)
        window.close()  # type: ignore[attr-defined]
    load = os.getloadavg()[0]  # other work on the machine stretches every stall
    result = {"max_stall_ms": max(steps.values()), "steps": steps, "load_average": load}
    if seconds:
        result["seconds"] = seconds
    if args.json:
        print(json.dumps(result))
    else:
        width = max(map(len, steps))
        for name, ms in steps.items():
            print(f"{name:<{width}}  {ms:8.1f} ms")
        print(f"{'max':<{width}}  {result['max_stall_ms']:8.1f} ms")
        print(f"(load average {load:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
