"""The CLI as scripts use it: real processes, real models, exit codes and output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(home), "XDG_DATA_HOME": str(home / "data"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "faceorganizer", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_scan_then_export_with_default_catalog(small_library: Path, tmp_path: Path) -> None:
    scanned = cli("scan", str(small_library), "--workers", "1", home=tmp_path)
    assert scanned.returncode == 0, scanned.stderr
    faces = int(scanned.stdout.split("Faces: ")[1].split()[0])
    assert faces >= 7  # one per portrait, more in the group photo
    assert (tmp_path / "data" / "faceorganizer" / "libraries").is_dir()
    assert not list(small_library.rglob("*.sqlite"))  # nothing written into the photos

    again = cli("scan", str(small_library), home=tmp_path)
    assert "0 processed" in again.stdout

    out = tmp_path / "export"
    exported = cli("export", str(out), "--include-unknown", home=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert (out / "manifest.csv").is_file()
    assert len([p for p in out.iterdir() if p.is_dir()]) >= 2

    info = cli("info", home=tmp_path)
    assert "People:" in info.stdout


def test_eval_json_has_the_documented_keys(faces_dev: Path, tmp_path: Path) -> None:
    folder = tmp_path / "labeled"
    for name in ("Barack_Obama", "Joe_Biden", "_noface"):
        (folder / name).mkdir(parents=True)
        for photo in sorted((faces_dev / name).iterdir())[:2]:
            (folder / name / photo.name).write_bytes(photo.read_bytes())
    result = cli("eval", str(folder), "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    keys = "nmi ari pairwise_precision pairwise_recall pairwise_f bcubed_precision "
    keys += "bcubed_recall bcubed_f clusters faces images images_without_face seconds "
    keys += "e2e_pairwise_precision e2e_pairwise_recall e2e_pairwise_f e2e_bcubed_f missed"
    assert set(keys.split()) <= set(report)
    assert report["images"] == 4
    assert report["pairwise_f"] == pytest.approx(1.0)
    assert report["missed"] == 0
    assert report["e2e_bcubed_f"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "args",
    [
        ("scan", "/no/such/folder"),
        ("export", "/proc/forbidden-export", "--catalog", "/no/such.sqlite"),
        ("cluster", "--catalog", "/no/such.sqlite"),
    ],
)
def test_bad_arguments_give_a_message_and_non_zero_exit(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    result = cli(*args, home=tmp_path)
    assert result.returncode != 0
    assert "error" in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_export_destination(scanned: tuple[Path, object], tmp_path: Path) -> None:
    catalog = tmp_path / "c.sqlite"
    shutil.copy(scanned[0], catalog)
    result = cli("export", "/proc/not-writable", "--catalog", str(catalog), home=tmp_path)
    assert result.returncode == 1
    assert "cannot write" in result.stderr


def settings_line(home: Path) -> str:
    info = cli("info", home=home)
    assert info.returncode == 0, info.stderr
    return next(line for line in info.stdout.splitlines() if line.startswith("Settings:"))


def test_library_keeps_its_settings_until_a_flag_changes_one(
    faces_dev: Path, tmp_path: Path
) -> None:
    library = tmp_path / "photos"
    shutil.copytree(faces_dev / "Joe_Biden", library / "Joe_Biden")
    flags = ["--detector", "mtcnn", "--max-side", "800", "--algorithm", "dbscan"]
    made = cli("scan", str(library), *flags, "--threshold", "0.4", "--workers", "1", home=tmp_path)
    assert made.returncode == 0, made.stderr
    recorded = "Settings: detector mtcnn, max side 800, embedder sface, dbscan (threshold 0.4)"
    assert settings_line(tmp_path) == recorded
    shutil.copy2(faces_dev / "Barack_Obama" / "frec__obama1.jpg", library / "new.jpg")
    again = cli("scan", str(library), "--workers", "1", home=tmp_path)  # no flags
    assert again.returncode == 0 and "1 processed" in again.stdout
    assert settings_line(tmp_path) == recorded
    assert cli("cluster", "--threshold", "0.45", home=tmp_path).returncode == 0
    assert settings_line(tmp_path) == recorded.replace("0.4)", "0.45)")
    assert cli("cluster", "--algorithm", "chinese-whispers", home=tmp_path).returncode == 0
    assert settings_line(tmp_path).endswith("chinese-whispers (threshold default)")


def test_people_rename_info_json(scanned: tuple[Path, object], tmp_path: Path) -> None:
    catalog = tmp_path / "c.sqlite"
    shutil.copy(scanned[0], catalog)
    listed = cli("people", "--catalog", str(catalog), "--json", home=tmp_path)
    assert listed.returncode == 0, listed.stderr
    people = json.loads(listed.stdout)
    assert people and set(people[0]) == {"id", "name", "faces", "hidden"}
    assert all(isinstance(p["hidden"], bool) for p in people)  # JSON true/false, not 0/1
    top = people[0]
    renamed = cli("rename", str(top["id"]), "Grandma Ζωή", "--catalog", str(catalog), home=tmp_path)
    assert renamed.returncode == 0, renamed.stderr
    again = json.loads(cli("people", "--catalog", str(catalog), "--json", home=tmp_path).stdout)
    assert {**top, "name": "Grandma Ζωή"} in again
    info = json.loads(cli("info", "--catalog", str(catalog), "--json", home=tmp_path).stdout)
    assert {"files", "faces", "people", "missing"} <= set(info)
    assert info["missing"] == 0
    assert info["faces"] == sum(p["faces"] for p in people) + info["unassigned"]

    for args, code in [
        (("rename", "999999", "X", "--catalog", str(catalog)), 1),  # no such person
        (("rename", "one", "X", "--catalog", str(catalog)), 2),  # not an id
        (("people", "--catalog", str(catalog), "--library", str(tmp_path)), 2),
    ]:
        result = cli(*args, home=tmp_path)
        assert result.returncode == code, (args, result.stderr)
        assert "error" in result.stderr and "Traceback" not in result.stderr


def test_a_reader_that_stops_early_gets_no_traceback(
    scanned: tuple[Path, object], tmp_path: Path
) -> None:
    """`faceorganizer people --json | head -c 1`: the pipe closes before the list is out."""
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "faceorganizer", "people", "--json", "--catalog"]
    listing = subprocess.Popen(
        [*command, str(scanned[0])], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert listing.stdout is not None and listing.stderr is not None
    listing.stdout.close()  # before the child has written anything
    errors = listing.stderr.read().decode()
    assert listing.wait(timeout=120) == 141
    assert errors == ""


def test_unknown_command_is_an_error_not_the_app(tmp_path: Path) -> None:
    result = cli("peple", home=tmp_path)  # no display: the app would abort in Qt
    assert result.returncode == 2
    assert "invalid choice: 'peple'" in result.stderr


def test_damaged_catalog_is_refused_naming_the_newest_good_backup(
    scanned: tuple[Path, object], tmp_path: Path
) -> None:
    from faceorganizer.core.store.catalog import Catalog

    path = tmp_path / "c.sqlite"
    shutil.copy(scanned[0], path)
    catalog = Catalog(path)
    older = catalog.backup("test")
    newest = catalog.backup("test")
    catalog.close()
    with path.open("r+b") as stream:  # a bad sector in the middle of the file
        stream.seek(path.stat().st_size // 2 // 4096 * 4096)
        stream.write(b"\x5a" * 4096)
    result = cli("info", "--catalog", str(path), home=tmp_path)
    assert result.returncode == 1
    assert "is damaged" in result.stderr and str(newest) in result.stderr
    assert str(older) not in result.stderr and "Traceback" not in result.stderr

    restored = cli("restore", str(newest), home=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert (tmp_path / "c.sqlite.damaged").is_file()  # the damaged one is kept aside
    info = cli("info", "--catalog", str(path), "--json", home=tmp_path)
    assert info.returncode == 0 and json.loads(info.stdout)["faces"] > 0
