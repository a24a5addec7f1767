"""Face embeddings from dlib's ResNet run by onnxruntime: dlib's descriptors, faster.

The model is our own conversion of dlib's .dat file (see :mod:`.dlib_onnx`) and the chips
come from our re-implementation of dlib's alignment (see :mod:`.align`), so the vectors
match dlib's ``compute_face_descriptor`` to float rounding and share its model id: the
catalog can mix embeddings from either backend.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnxruntime as ort

from faceorganizer.core.vision.align import face_chip
from faceorganizer.core.vision.model_cache import cached_resnet_onnx
from faceorganizer.core.vision.model_files import DLIB_RESNET

CHIP_SIZE = 150
CHIP_PADDING = 0.25


def _session_options(threads: int | None) -> ort.SessionOptions:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = threads if threads else (os.cpu_count() or 1)
    opts.inter_op_num_threads = 1  # the graph is a single chain; parallelism is intra-op
    opts.log_severity_level = 3  # errors only: no provider chatter on stderr
    return opts


def _make_session(path: Path, threads: int | None) -> ort.InferenceSession:
    """A CPU session: the onnxruntime wheel the app depends on has no GPU providers."""
    return ort.InferenceSession(
        str(path), _session_options(threads), providers=["CPUExecutionProvider"]
    )


class OnnxEmbedder:
    """128-D face descriptors identical (to ~1e-6) to dlib's face_recognition_model_v1."""

    model_id = DLIB_RESNET  # same vector space as the dlib embedder
    dim = 128

    def __init__(self, threads: int | None = None, model_path: Path | None = None) -> None:
        """threads: onnxruntime intra-op threads (None = all cores).
        model_path: an already converted .onnx file (default: convert once into the cache).
        """
        self.model_path = Path(model_path) if model_path is not None else cached_resnet_onnx()
        self._session = _make_session(self.model_path, threads)
        self._input = self._session.get_inputs()[0].name

    def embed_chips(self, chips: np.ndarray) -> np.ndarray:
        """Descriptors for aligned (n, 150, 150, 3) RGB chips (uint8 or 0..255 floats)."""
        chips = np.asarray(chips)
        if chips.ndim == 3:
            chips = chips[None]
        if chips.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
            raise ValueError(f"expected (n, {CHIP_SIZE}, {CHIP_SIZE}, 3) chips, got {chips.shape}")
        if len(chips) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        batch = np.ascontiguousarray(chips, dtype=np.float32)
        return self._session.run(None, {self._input: batch})[0]

    def embed(self, rgb: np.ndarray, landmarks: list[np.ndarray]) -> np.ndarray:
        """Descriptors (n, 128) float32 for every face of one image, in one batch.

        rgb: (H, W, 3) uint8; landmarks: one (5, 2) array per face from dlib's 5-point
        shape predictor.
        """
        if len(landmarks) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        chips = np.stack([face_chip(rgb, lm, CHIP_SIZE, CHIP_PADDING) for lm in landmarks])
        return self.embed_chips(chips)
