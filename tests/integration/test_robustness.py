"""Messy folders, crashes and kills: the scan goes on, nothing is lost or duplicated."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PIL import Image

from faceorganizer.config import Settings
from faceorganizer.core.library.scan import CRASH_MESSAGE, ScanSummary, scan
from faceorganizer.core.store.catalog import Catalog

OBAMA = "Barack_Obama/frec__obama.jpg"


def run_scan(catalog: Catalog, root: Path) -> ScanSummary:
    summary = ScanSummary()
    for _ in scan(catalog, root, Settings(workers=1), summary=summary):
        pass
    return summary


@pytest.fixture
def messy(faces_dev: Path, tmp_path: Path) -> Path:
    """One good photo in every awkward form, plus every kind of bad file."""
    root = tmp_path / "messy 📷"
    root.mkdir()
    face = Image.open(faces_dev / OBAMA)
    face.save(root / "Oma Zoë 👵 2024.jpg")
    face.convert("CMYK").save(root / "cmyk.jpg")
    face.convert("L").save(root / "grey.png")
    face.convert("P").save(root / "palette.png")
    face.convert("RGBA").save(root / "alpha.webp")
    face.convert("L").convert("I;16").save(root / "sixteen-bit.tiff")
    face.save(root / "animated.gif", save_all=True, append_images=[face.rotate(90)])
    face.save(root / ("long" * 60 + ".jpg"))
    data = (faces_dev / OBAMA).read_bytes()
    (root / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.png").write_text("not a picture")
    (root / "movie.jpg").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4000))
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(3000))
    (root / "loop").mkdir()
    (root / "loop" / "back").symlink_to(root, target_is_directory=True)
    (root / "dangling.jpg").symlink_to(root / "does-not-exist.jpg")
    return root


def test_messy_folder_scan_goes_on_with_clear_errors(messy: Path, tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite")
    summary = run_scan(catalog, messy)
    errors = dict(catalog.errors() + summary.sync.unreadable)
    assert set(errors) == {
        "truncated.jpg", "empty.jpg", "notes.png", "movie.jpg", "corrupt.png", "dangling.jpg",
    }  # fmt: skip
    assert "truncated" in errors["truncated.jpg"]
    assert "not an image" in errors["notes.png"]
    assert "cannot read" in errors["dangling.jpg"]
    good = [f.path for f in catalog.files("done")]
    assert len(good) == 8
    faces_per_file = dict(
        catalog.db.execute(
            "SELECT path, COUNT(faces.id) FROM files JOIN faces ON faces.file_id = files.id "
            "GROUP BY files.id"
        ).fetchall()
    )
    assert faces_per_file == {path: 1 for path in good}  # the face is found in every form
    assert catalog.integrity_ok()
    catalog.close()


def test_a_worker_crash_skips_only_the_file_that_crashes(
    small_library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: worker processes import a sitecustomize that kills the process
    (as a native crash would) when it is handed one particular photo."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        textwrap.dedent(
            """
            import os
            from faceorganizer.core.vision import finder
            original = finder.FaceFinder.process
            def process(self, path):
                if path.name == "frec__obama2.jpg":
                    os._exit(139)
                return original(self, path)
            finder.FaceFinder.process = process
            """
        )
    )
    monkeypatch.setenv("PYTHONPATH", f"{hook}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    catalog = Catalog(tmp_path / "c.sqlite")
    summary = ScanSummary()
    for _ in scan(catalog, small_library, Settings(workers=2), summary=summary):
        pass
    assert catalog.errors() == [("Barack_Obama/frec__obama2.jpg", CRASH_MESSAGE)]
    assert len(catalog.files("done")) == 6
    assert summary.processed == 7
    catalog.close()


SCAN_SCRIPT = """
import sys
from pathlib import Path
from faceorganizer.cli import run_cli
sys.exit(run_cli(["scan", sys.argv[1], "--catalog", sys.argv[2], "--workers", "1"]))
"""


def test_sigkill_mid_scan_resumes_without_loss_or_duplicates(
    faces_dev: Path, tmp_path: Path
) -> None:
    library = tmp_path / "photos"
    for name in ("Barack_Obama", "Joe_Biden", "Madonna", "Ben_Affleck", "_group"):
        shutil.copytree(faces_dev / name, library / name)
    path = tmp_path / "c.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-c", SCAN_SCRIPT, str(library), str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    done = 0
    while time.monotonic() < deadline and done < 5:
        time.sleep(0.5)
        if path.exists():
            reader = Catalog(path, readonly=True)
            done = len(reader.files("done"))
            reader.close()
    os.killpg(process.pid, signal.SIGKILL)  # the scan and its worker process
    process.wait()
    assert done >= 5

    catalog = Catalog(path)
    assert catalog.integrity_ok()
    interrupted = len(catalog.files("done"))
    total = len(catalog.files())
    assert total == 26 and interrupted < total
    summary = run_scan(catalog, library)
    assert summary.processed == total - interrupted  # only what was left
    fresh = Catalog(tmp_path / "fresh.sqlite")
    run_scan(fresh, library)
    resumed_faces = catalog.db.execute(
        "SELECT path, x0, y0, x1, y1 FROM faces JOIN files ON files.id = file_id ORDER BY 1, 2"
    ).fetchall()
    fresh_faces = fresh.db.execute(
        "SELECT path, x0, y0, x1, y1 FROM faces JOIN files ON files.id = file_id ORDER BY 1, 2"
    ).fetchall()
    assert [tuple(r) for r in resumed_faces] == [tuple(r) for r in fresh_faces]
    assert catalog.integrity_ok()
    catalog.close()
    fresh.close()


EDIT_SCRIPT = """
import os, signal, sys
from faceorganizer.core.store.catalog import Catalog
from faceorganizer.core.library.edits import Editor
catalog = Catalog(sys.argv[1])
people = catalog.persons()
Editor(catalog).merge([people[0].id, people[1].id])
Editor(catalog).rename(people[0].id, "Grandma")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_edit_survives_a_crash_right_after_it(catalog: Catalog) -> None:
    people = catalog.persons()
    merged = set(catalog.faces_of_person(people[0].id)) | set(catalog.faces_of_person(people[1].id))
    catalog.close()
    result = subprocess.run([sys.executable, "-c", EDIT_SCRIPT, str(catalog.path)])
    assert result.returncode == -signal.SIGKILL
    reopened = Catalog(catalog.path)
    assert reopened.person(people[0].id).name == "Grandma"
    assert set(reopened.faces_of_person(people[0].id)) == merged
    reopened.close()
