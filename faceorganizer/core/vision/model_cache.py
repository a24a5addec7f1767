"""Model files made once per user from the shipped ones, kept in the cache dir.

dlib's ResNet is converted to ONNX (dlib_onnx), SFace's shipped graph is cleaned up and
dlib's HOG face detector is saved to a file; each only when the cached file is missing,
by the scanning process before its workers start. Workers then just load the file: this
module does not import onnx (1.2 s per process), the converters do, and only when they run.
"""

from __future__ import annotations

from pathlib import Path

import dlib
import platformdirs

from faceorganizer.core.store.files import atomic_path, sha256, write_atomic
from faceorganizer.core.vision import model_files

# Bump when dlib_onnx's generated graph changes, so cached conversions are redone.
CONVERTER_VERSION = 1


def _folder(cache_dir: Path | None) -> Path:
    return (
        Path(cache_dir)
        if cache_dir is not None
        else Path(platformdirs.user_cache_dir("faceorganizer"))
    )


def cached_resnet_onnx(dat_path: Path | None = None, cache_dir: Path | None = None) -> Path:
    """Path to the ONNX version of dlib's ResNet, converting once.

    The file name carries the .dat size and hash and the converter version, so a changed
    model or converter produces a fresh conversion instead of a stale one.
    """
    dat_path = Path(dat_path) if dat_path is not None else model_files.resnet_descriptor()
    key = f"{dat_path.stat().st_size}-{sha256(dat_path)[:16]}-c{CONVERTER_VERSION}"
    onnx_path = _folder(cache_dir) / f"dlib_face_recognition_resnet_v1-{key}.onnx"
    if not onnx_path.is_file():
        from faceorganizer.core.vision.dlib_onnx import convert_resnet

        convert_resnet(dat_path, onnx_path)
    return onnx_path


def cached_sface_onnx(cache_dir: Path | None = None) -> Path:
    """Path to SFace's graph, cleaned once: the shipped file lists 29 unused tensors and
    every weight as graph inputs, which onnxruntime refuses (unused) or cannot fold
    (weights a caller could override); the cleaned graph has one input, the image."""
    source = model_files.sface_recognizer()
    target = (
        _folder(cache_dir) / f"{source.stem}-{source.stat().st_size}-{sha256(source)[:16]}.onnx"
    )
    if target.is_file():
        return target
    import onnx

    model = onnx.load(str(source))
    weights = {init.name for init in model.graph.initializer}
    used = {name for node in model.graph.node for name in node.input}
    keep = [i for i in model.graph.input if i.name in used and i.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(keep)
    write_atomic(target, model.SerializeToString())
    return target


def cached_frontal_detector(cache_dir: Path | None = None) -> Path:
    """Path to dlib's HOG face detector saved to a file, once per dlib version:
    ``dlib.get_frontal_face_detector()`` parses the detector from text built into dlib,
    0.25-0.5 s of CPU in every process that makes one (each scan worker), where loading
    the saved file takes 1 ms. The loaded detector is the same (dlib saves its numbers
    exactly)."""
    folder = _folder(cache_dir)
    target = folder / f"dlib_frontal_face_detector-{dlib.__version__}.svm"
    if not target.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as temp:
            dlib.get_frontal_face_detector().save(str(temp))
    return target


def frontal_face_detector() -> dlib.fhog_object_detector:
    """dlib's HOG face detector (``get_frontal_face_detector``), from the cached file."""
    return dlib.fhog_object_detector(str(cached_frontal_detector()))
