"""SFace face descriptors (OpenCV Zoo, Apache-2.0): the default embedder.

Measured against dlib's ResNet on the same faces (bench/quality.py --embedder sface):
Chinese whispers pairwise F 0.98 vs 0.88 on lfw-dev and 0.98 vs 0.94 on faces-dev at the
default threshold. It costs about 20 ms a face on one core, against 12 ms for our ONNX
dlib.

The network wants a 112 x 112 crop aligned to the ArcFace 5-point template (eye centres,
nose tip, mouth corners). The pipeline has dlib's 5 points instead (eye corners, nose
base), so faces are aligned to where those points fall in such crops: TEMPLATE, the median
over the faces-dev and lfw-dev faces of dlib's points in chips aligned by OpenCV's YuNet
landmarks (which match FaceRecognizerSF.alignCrop). Grouping was the same either way.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceorganizer.core.vision.align import similarity_transform
from faceorganizer.core.vision.model_cache import cached_sface_onnx
from faceorganizer.core.vision.model_files import SFACE

CHIP = 112
# dlib's 5 points (right eye outer, inner; left eye outer, inner; nose base; image
# coordinates, so "right eye" is on the image's left) in SFace's aligned 112 x 112 crop
TEMPLATE = np.array(
    [[79.51, 53.25], [65.70, 53.80], [30.28, 53.88], [44.30, 54.10], [55.35, 80.52]]
)
# Unit vectors are halved, so the clustering thresholds tuned in dlib's units hold: the
# default 0.525 then means 1.05 on the unit sphere, where SFace separates people best
# (lfw-dev pairwise F 0.98 from 1.03 to 1.06, faces-dev 0.97-0.99 from 1.03 to 1.12).
SCALE = 0.5
# A turned face is also described from a wider crop: the face shrunk to WIDE_ZOOM about the
# crop's centre. Aligned by five points of which one eye is hidden and guessed, a profile
# fills the crop badly; with more of the head in view, cfp-dev's profiles find their own
# person's frontal faces nearest (average linkage) 160 (zoom 0.9) or 166 (0.8) of 182 times
# instead of 147. Groups of turned faces join their person judged by these (grouping
# version 5, grouping.attach.attach_groups): cfp-dev e2e BCubed F 0.912 -> 0.935 / 0.940 /
# 0.939 / 0.945 / 0.931 at zoom 0.9 / 0.85 / 0.8 / 0.75 / 0.7, pairwise precision 0.996 /
# 0.996 / 0.993 / 0.990 / 0.989 (0.996 before); the other sets within 0.001.
WIDE_ZOOM = 0.85


def sface_chip(rgb: np.ndarray, landmarks5: np.ndarray, zoom: float = 1.0) -> np.ndarray:
    """Aligned 112 x 112 RGB crop, the face shrunk to ``zoom`` about the crop's centre (see
    WIDE_ZOOM); a face larger than the crop is shrunk by area averaging first, as bilinear
    warping alone would alias it."""
    template = (TEMPLATE - CHIP / 2) * zoom + CHIP / 2
    m, t = similarity_transform(np.asarray(landmarks5, np.float64), template)
    warp = np.hstack([m, t[:, None]])
    scale = float(np.sqrt(abs(np.linalg.det(m))))
    if scale < 0.8:
        inverse = cv2.invertAffineTransform(warp)
        corners = np.array([[0, 0], [CHIP, 0], [0, CHIP], [CHIP, CHIP]]) @ inverse[:, :2].T
        corners += inverse[:, 2]
        x0, y0 = np.maximum(np.floor(corners.min(axis=0)) - 2, 0).astype(int)
        x1, y1 = np.ceil(corners.max(axis=0) + 2).astype(int)
        crop = rgb[y0:y1, x0:x1]
        if crop.size:
            size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
            rgb = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
            fx, fy = size[0] / crop.shape[1], size[1] / crop.shape[0]
            warp = warp @ np.array([[1 / fx, 0, x0], [0, 1 / fy, y0], [0, 0, 1]])
    return cv2.warpAffine(np.ascontiguousarray(rgb), warp, (CHIP, CHIP), flags=cv2.INTER_LINEAR)


class SfaceEmbedder:
    """128-D SFace descriptors, unit length times SCALE.

    Run by OpenCV's DNN module, as OpenCV's own FaceRecognizerSF does: 20 ms a face on one
    core against onnxruntime's 37 ms (it fuses each convolution with its batch norm and
    PReLU), with the same output (cosine 1.0000).
    """

    model_id = SFACE
    dim = 128

    def __init__(self, threads: int | None = None) -> None:
        """threads: OpenCV's threads for this process (None: leave OpenCV's default)."""
        if threads:
            cv2.setNumThreads(threads)
        self._net = cv2.dnn.readNetFromONNX(str(cached_sface_onnx()))

    def embed(self, rgb: np.ndarray, landmarks: list[np.ndarray], zoom: float = 1.0) -> np.ndarray:
        """Descriptors (n, 128) float32 for the faces of one RGB image (dlib 5 points each),
        from crops at ``zoom`` (:func:`sface_chip`)."""
        out = np.zeros((len(landmarks), self.dim), np.float32)
        for i, points in enumerate(landmarks):  # the graph takes one face at a time
            chip = sface_chip(rgb, points, zoom)
            self._net.setInput(chip.astype(np.float32).transpose(2, 0, 1)[None])
            vector = self._net.forward()[0]
            out[i] = SCALE * vector / max(float(np.linalg.norm(vector)), 1e-12)
        return out
