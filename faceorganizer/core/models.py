"""Where model files come from: installed packages only, never the network."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


class ModelError(Exception):
    """A model file is missing: the installation is incomplete."""


def _model(name: str) -> Path:
    """A file of the face-recognition-models package, found without importing it: its
    __init__ needs pkg_resources, which new Python environments no longer have."""
    bundle = getattr(sys, "_MEIPASS", None)  # PyInstaller copies the files, not the module
    spec = None if bundle else importlib.util.find_spec("face_recognition_models")
    folders = [Path(bundle) / "face_recognition_models"] if bundle else []
    folders += list(spec.submodule_search_locations or []) if spec else []
    if not folders:
        raise ModelError("the face-recognition-models package is not installed")
    model = Path(folders[0]) / "models" / name
    if not model.is_file():
        raise ModelError(
            f"model file {model} is missing; reinstall faceorganizer "
            "(pip install --force-reinstall face-recognition-models)"
        )
    return model


def shape_predictor_5() -> Path:
    """dlib's 5-point landmark model (9 MB; free to redistribute, unlike the 68-point one)."""
    return _model("shape_predictor_5_face_landmarks.dat")


def resnet_descriptor() -> Path:
    """dlib's ResNet-29 metric network: 128-D face descriptors, 99.38 % on LFW."""
    return _model("dlib_face_recognition_resnet_model_v1.dat")


def mmod_detector() -> Path:
    """dlib's MMOD CNN face detector."""
    return _model("mmod_human_face_detector.dat")
