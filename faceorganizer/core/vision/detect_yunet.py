"""YuNet (OpenCV Zoo, MIT): one small network that finds frontal, turned and small faces.

YuNet reports five landmarks of its own (eye centres, nose tip, mouth corners, the
ArcFace convention), also on profiles, where dlib's 5-point predictor, trained on frontal
HOG boxes, misplaces its points. On frontal faces, though, SFace groups better from
dlib's points on HOG's box (cfp-dev frontal photos: pairwise F 0.963 against 0.940 from
YuNet's points). So each YuNet face is checked by HOG, as the cascade checks MTCNN's: a
face HOG confirms gets HOG's box and dlib's points, exactly as before; any other face
(turned, small, blurred) keeps YuNet's box and points.

The pipeline carries dlib's point convention (eye corners, nose base), so YuNet's points
are turned into where dlib's points fall on a face aligned by YuNet's: SFace then sees
the crop OpenCV's own ``alignCrop`` would cut from YuNet's points.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceorganizer.core.vision import model_files
from faceorganizer.core.vision.align import similarity_transform
from faceorganizer.core.vision.detect import Detection
from faceorganizer.core.vision.detect_cascade import HogCheck, distinct, shrunk
from faceorganizer.core.vision.detect_mtcnn import hog_like_rect
from faceorganizer.core.vision.embed_sface import TEMPLATE

# OpenCV's FaceRecognizerSF.alignCrop: where YuNet's five points go in SFace's 112 px crop
ARCFACE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
     [70.7299, 92.2041]]
)  # fmt: skip
# dlib-HOG-like box from a YuNet box, as detect_mtcnn.HOG_BOX (median over the faces-dev
# faces both find at 1024 px: 170)
YUNET_HOG_BOX = (0.0, 0.055, 0.947)


def yaw_of(yunet_points: np.ndarray) -> float:
    """How far a face is turned, from YuNet's five points: the nose tip's offset from the
    eyes' midline (along the line through the eyes) over the height from the eyes to the
    mouth. 0 is frontal; the sign says which way. On cfp-dev, 95 % of the frontal faces
    are within 0.09 and 95 % of the profiles beyond 0.21 (the points of a profile's hidden
    eye are guessed, so it never reaches 1)."""
    eye_r, eye_l, nose, mouth_r, mouth_l = np.asarray(yunet_points, np.float64).reshape(5, 2)
    eyes = (eye_r + eye_l) / 2
    axis = eye_l - eye_r
    across = float(np.dot(nose - eyes, axis)) / max(float(np.linalg.norm(axis)), 1e-6)
    height = float(np.linalg.norm((mouth_r + mouth_l) / 2 - eyes))
    return across / max(height, 1e-6)


def dlib_points(yunet_points: np.ndarray) -> np.ndarray:
    """(5, 2) points in dlib's convention for a face whose YuNet points are given: the
    crop aligned by YuNet's points, with SFace's dlib template mapped back into the photo."""
    m, t = similarity_transform(ARCFACE, np.asarray(yunet_points, np.float64).reshape(5, 2))
    return (TEMPLATE @ m.T + t).astype(np.float32)


class YunetDetector:
    """YuNet on a copy of the photo at most ``side`` px long; HOG checks each face.

    ``threshold`` is YuNet's face score: OpenCV Zoo's 0.9 misses a third of cfp-dev's
    profiles; at 0.6, on a 640 px copy, it misses 2 of cfp-dev's 672 photos (4 on an
    800 px copy, which also costs a fifth more) and none of faces-dev's or fiw-dev's
    labeled faces, and reports nothing on faces-dev's no-face photos; the one hand it
    took for a face in a group photo scored 0.53 (bench/detectors.py). Faces narrower
    than ``min_face`` px in the original are dropped: a face of a crowd 11-19 px wide is
    too small for its descriptor, or the user, to tell who it is, and its descriptor
    costs as much as a portrait's.
    """

    name = "yunet"

    def __init__(self, side: int = 640, threshold: float = 0.6, min_face: float = 20) -> None:
        self.side = side
        self.min_face = min_face
        path = str(model_files.yunet_detector())
        self._net = cv2.FaceDetectorYN.create(path, "", (320, 320), threshold, 0.3, 5000)
        self._hog = HogCheck()

    def detect(self, rgb: np.ndarray, scale: float = 1.0) -> list[Detection]:
        faces = self.yunet_faces(rgb, scale)
        boxes = [face.box for face in faces]
        confirmed = [False] * len(faces)
        for i, face in enumerate(faces):
            hog = self._hog.confirm(rgb, hog_like_rect(face.box, YUNET_HOG_BOX), scale)
            if hog is not None:
                boxes[i], confirmed[i] = hog[0], True
        return [
            Detection(
                boxes[i],
                faces[i].score,
                self._hog.landmarks(rgb, boxes[i]) if confirmed[i] else faces[i].landmarks,
                faces[i].yaw,
            )
            for i in distinct(boxes, [face.score for face in faces])
        ]

    def yunet_faces(self, rgb: np.ndarray, scale: float = 1.0) -> list[Detection]:
        """YuNet's own boxes, points (in dlib's convention) and yaw, no HOG check."""
        small, factor = shrunk(rgb, self.side)
        self._net.setInputSize((small.shape[1], small.shape[0]))
        _, faces = self._net.detect(cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
        found = []
        for face in [] if faces is None else faces:
            x, y, w, h = (float(v) / factor for v in face[:4])  # rows: box, 5 points, score
            if w >= self.min_face * scale:
                points = face[4:14] / factor
                box = (x, y, x + w, y + h)
                found.append(Detection(box, float(face[14]), dlib_points(points), yaw_of(points)))
        return found
