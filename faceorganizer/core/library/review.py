"""The review: questions whose answers fix the grouping's near misses, one click each.

Two kinds, in one queue, closest first:

* "Is this X?" (:class:`Suggestion`): a face the grouping left alone or in a pair, and the
  person it most looks like (:func:`review_suggestions`);
* "Are these the same person?" (:class:`PairSuggestion`): two groups that the
  average-linkage merge kept apart by a little (:func:`pair_suggestions`). These catch a
  person split in two, like faces-dev's Madonna (3 colour + 3 black-and-white photos) or
  Elton John (5 + 1), which face questions never reach.

Either kind offers more people when the face or group looks like several ("Who is
this?", ``others``): one click places it whichever of them it is, and "none of them"
rules them all out, so a turned face whose nearest group is someone else still costs one
answer (cfp-dev: 0.917 -> 0.948 after 33 answers).

Both are ranked by the merge's own measure, the root mean square distance over all
cross pairs of faces (a lone face is a group of one), so the queue asks first what the
grouping nearly merged itself. When the queue has run out, :func:`next_questions` asks
on: what the answers opened, then faces farther off while enough answers are yes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from faceorganizer.config import DEFAULT_THRESHOLD
from faceorganizer.core.grouping.arrays import group_stats, rms_linkage
from faceorganizer.core.grouping.suggest import suggest
from faceorganizer.core.library.neighbors import neighbors_for
from faceorganizer.core.store.catalog import Catalog, PersonSummary
from faceorganizer.core.vision.model_files import DLIB_RESNET, SFACE

SMALL_GROUP = 2  # a face alone or in a pair may belong to a bigger person
# How far to look: where a fair share of the answers is "yes". dlib's descriptors: up to
# face_recognition's own tolerance, 0.6 (grouping joins at 0.525; 6 of 7 such questions
# were right on faces-dev). SFace: only within the grouping distance itself, faces the
# average-linkage merge kept apart; beyond it 0-3 % of lfw-dev's questions were right.
REVIEW_DISTANCE = {DLIB_RESNET: 0.6, SFACE: DEFAULT_THRESHOLD["chinese-whispers"]}
# Pair questions: groups whose average-linkage distance is within this much of the
# grouping threshold (measured with bench/review_effort.py, see README).
PAIR_BAND = 0.075
QUESTIONS = 200  # of each kind, at most, per read of the queue
# "Who is this?": a face question offers the nearest person and up to CHOICES - 1 more,
# the next nearest by average linkage within CHOICE_REACH past the threshold.
CHOICES = 6
CHOICE_REACH = 0.175

# When the queue runs out and at least YES_SHARE of the user's last RECENT yes/no answers
# were "yes" (a person picked), the near misses of this library are still often right
# (cfp-dev's profiles: 24 yes to 8 no between 0.60 and 0.65), and the review
# looks REACH_STEP further, up to MAX_REACH past the threshold. Where "yes" is rare
# (lfw-dev, faces-dev) it stops. 0.3 asks the same on the four dev sets.
REACH_STEP = 0.025
MAX_REACH = 0.175
RECENT = 10
YES_SHARE = 0.4


def further(reach: float, answers: Sequence[bool]) -> float | None:
    """The reach to ask again with when the queue has run out, or None to stop:
    ``answers`` are the user's yes (True) and no (False) answers so far, skips left out.
    Fewer than RECENT answers cannot tell: it looks on (a small library with no near
    miss in the band asked nothing: 16 people of cfp-dev stayed at 0.966; looking on,
    0.99 after 8 answers)."""
    recent = answers[-RECENT:]
    if reach + REACH_STEP > MAX_REACH + 1e-9:
        return None
    if len(recent) < RECENT or sum(recent) >= YES_SHARE * len(recent):
        return reach + REACH_STEP
    return None


def min_score(model: str | None) -> float:
    """The lowest suggest() score worth a question for vectors of this model."""
    distance = REVIEW_DISTANCE.get(model or "", DEFAULT_THRESHOLD["chinese-whispers"])
    return 1 - distance / (2 * DEFAULT_THRESHOLD["chinese-whispers"])


@dataclass(frozen=True)
class Suggestion:
    """Is face ``face_id`` person ``person_id``?"""

    face_id: int
    person_id: int
    score: float  # 0..1, see cluster.suggest: above 0.5 = within the grouping threshold
    distance: float = 0.0  # average-linkage distance of the face to the person
    others: tuple[int, ...] = ()  # more people it may be, nearest first: "Who is this?"

    @property
    def choices(self) -> tuple[int, ...]:
        """Every person offered, the likeliest first."""
        return (self.person_id, *self.others)


@dataclass(frozen=True)
class PairSuggestion:
    """Are persons ``person_id`` and ``other_id`` the same person? ``person_id`` is the
    larger group, the one a "yes" merges into. With ``others``: who of these is
    ``other_id``?"""

    person_id: int
    other_id: int
    distance: float  # average-linkage distance between the two groups
    others: tuple[int, ...] = ()  # more groups it may be, nearest first, each larger

    @property
    def choices(self) -> tuple[int, ...]:
        """Every group offered, the likeliest first."""
        return (self.person_id, *self.others)


@dataclass
class _Library:
    """What both kinds of question read: faces, their people and who may be offered."""

    face_ids: np.ndarray
    file_ids: np.ndarray
    vectors: np.ndarray
    person: np.ndarray  # person id per face, -1 none
    locked: np.ndarray
    people: dict[int, PersonSummary]  # people not hidden (hidden ones are not offered)
    rejected: set[tuple[int, int]]


def _library(catalog: Catalog) -> _Library | None:
    face_ids, file_ids, vectors = catalog.embeddings()
    if len(face_ids) == 0:
        return None
    assignments = catalog.assignments()
    person = np.array([assignments[int(f)][0] or -1 for f in face_ids], np.int64)
    locked = np.array([assignments[int(f)][1] for f in face_ids], bool)
    people = {p.id: p for p in catalog.persons()}
    return _Library(face_ids, file_ids, vectors, person, locked, people, set(catalog.rejections()))


def _group_stats(
    vectors: np.ndarray, group: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group ids, centroid, mean squared distance to the centroid) per group id in
    ``group``, ascending: -1 (no group) too when a face has it, for the caller to drop."""
    ids, inverse = np.unique(group, return_inverse=True)
    _, centroid, spread = group_stats(inverse.ravel(), vectors, ids.size)
    return ids, centroid, spread


def review_suggestions(
    catalog: Catalog,
    threshold: float | None = None,
    limit: int = QUESTIONS,
    reach: float = PAIR_BAND,
) -> list[Suggestion]:
    """Faces the grouping left alone or in a pair, each with the person they most look like.

    Clustering is cautious: a look that is close but not close enough stays apart. Asking
    "Is this X?" turns those near misses into one click each. A face is asked about when
    its nearest face of X scores at least :func:`min_score`, or when its average-linkage
    distance to X is below ``threshold + PAIR_BAND``, the band of the pair questions
    (faces-dev's sixth photo of Elton John, 0.54 from his nearest photo, is one). A face
    of a small group is offered people the user named or with more than SMALL_GROUP
    faces; an unsorted face any group, small ones too (lfw-dev: a person whose photos
    came out as a pair and two unsorted faces; 391 -> 50 answers to reach 0.99). Never a
    person the face was rejected from or one already in the same photo. Faces the user
    placed are not asked about. Most confident first."""
    lib = _library(catalog)
    return [] if lib is None else _review_suggestions(catalog, lib, threshold, limit, reach)


def _review_suggestions(
    catalog: Catalog, lib: _Library, threshold: float | None, limit: int, reach: float
) -> list[Suggestion]:
    """:func:`review_suggestions` on a library already read."""
    targets = {pid for pid, p in lib.people.items() if p.name or p.faces > SMALL_GROUP}
    small = np.array([p not in targets for p in lib.person.tolist()], bool)
    grouped = np.isin(lib.person, list(lib.people))
    limit_threshold = threshold or DEFAULT_THRESHOLD["chinese-whispers"]
    band = limit_threshold + reach
    lowest = min_score(catalog.dominant_model())
    # a face in a small group is offered the bigger people; an unsorted one every group
    out = _face_questions(
        lib,
        np.where(np.isin(lib.person, list(targets)), lib.person, -1),
        np.flatnonzero(small & grouped & ~lib.locked),
        lowest,
        band,
        limit_threshold + CHOICE_REACH,
    ) + _face_questions(
        lib,
        np.where(grouped, lib.person, -1),
        np.flatnonzero(~grouped & (lib.person < 0) & ~lib.locked),
        lowest,
        band,
        limit_threshold + CHOICE_REACH,
    )
    out.sort(key=lambda s: (-s.score, s.face_id))
    return out[:limit]


def _face_questions(
    lib: _Library,
    labels: np.ndarray,
    candidates: np.ndarray,
    lowest: float,
    band: float,
    reach: float,
) -> list[Suggestion]:
    """Each candidate face with the nearest group of ``labels`` worth a question, and as
    more choices the next groups by average linkage below ``reach``: of cfp-dev's
    unsorted faces (profiles mostly), 29 % have their person as the nearest group by
    linkage, 61 % among the nearest five."""
    in_photo = set(zip(lib.file_ids.tolist(), labels.tolist(), strict=True))
    ids, centroid, spread = _group_stats(lib.vectors, labels)
    keep = ids >= 0
    ids, centroid, spread = ids[keep], centroid[keep], spread[keep]
    close = _closer_than(lib.vectors[candidates], centroid, spread, max(band, reach))
    out = []
    for i, choices, near_columns in zip(
        candidates.tolist(), suggest(lib.vectors, labels, candidates), close, strict=True
    ):
        face, photo = int(lib.face_ids[i]), int(lib.file_ids[i])
        # the exact linkage, as the merge measures it, of the groups that may be offered:
        # those within reach and the nearest by suggest(), in ascending id order
        columns = np.union1d(near_columns, np.searchsorted(ids, [p for p, _ in choices]))
        gap = centroid[columns] - lib.vectors[i].astype(np.float64)
        distances = np.sqrt((gap * gap).sum(axis=1) + spread[columns]).tolist()
        linkage = dict(zip(ids[columns].tolist(), distances, strict=True))
        allowed = [
            p for p in linkage if (face, p) not in lib.rejected and (photo, p) not in in_photo
        ]
        lead = next(
            (p for p, score in choices if p in allowed and (score >= lowest or linkage[p] < band)),
            None,
        )
        if lead is None:
            continue
        near = sorted((p for p in allowed if p != lead and linkage[p] < reach), key=linkage.get)
        score = dict(choices)[lead]
        out.append(Suggestion(face, lead, score, linkage[lead], tuple(near[: CHOICES - 1])))
    return out


def _closer_than(
    x: np.ndarray, centroid: np.ndarray, spread: np.ndarray, cut: float
) -> list[np.ndarray]:
    """Per row of ``x``, the groups (columns, ascending) whose average-linkage distance
    may be below ``cut``: all groups at once by the dot-product expansion (BLAS), a hair
    wider than ``cut`` so its rounding never drops one, in chunks of about 20 M pairs.
    Only those few get the exact distance (walking every group for every face was faces x
    groups in Python)."""
    if len(centroid) == 0:
        return [np.empty(0, np.int64) for _ in range(len(x))]
    norms = np.einsum("ij,ij->i", centroid, centroid) + spread
    limit = (cut + 1e-6) ** 2
    chunk = max(1, 20_000_000 // len(centroid))
    out: list[np.ndarray] = []
    for lo in range(0, len(x), chunk):
        part = x[lo : lo + chunk].astype(np.float64)
        squared = (
            np.einsum("ij,ij->i", part, part)[:, None] + norms[None, :] - 2 * part @ centroid.T
        )
        rows, columns = np.nonzero(squared < limit)
        out += np.split(columns, np.searchsorted(rows, np.arange(1, len(part))))
    return out


def pair_suggestions(
    catalog: Catalog, threshold: float | None = None, limit: int = QUESTIONS
) -> list[PairSuggestion]:
    """Pairs of people, neighbours in the kNN graph, whose average-linkage distance is
    below ``threshold + PAIR_BAND`` (the grouping merges them below ``threshold``).

    Not offered: hidden people, two people sharing a photo, two people the user has
    both confirmed (every face locked: named, merged, split or kept apart), and pairs a
    face of which was rejected from the other. Closest first."""
    lib = _library(catalog)
    return [] if lib is None else _pair_suggestions(catalog, lib, threshold, limit)


def _pair_suggestions(
    catalog: Catalog, lib: _Library, threshold: float | None, limit: int
) -> list[PairSuggestion]:
    """:func:`pair_suggestions` on a library already read."""
    limit_distance = (threshold or DEFAULT_THRESHOLD["chinese-whispers"]) + PAIR_BAND
    grouped = np.flatnonzero(np.isin(lib.person, list(lib.people)))
    idx, _ = neighbors_for(catalog.path, lib.face_ids, lib.vectors)
    rows = np.repeat(np.arange(len(lib.face_ids)), idx.shape[1])
    cols = idx.ravel()
    pa, pb = lib.person[rows], lib.person[cols]
    cross = (pa != pb) & np.isin(rows, grouped) & np.isin(cols, grouped)
    pairs = np.unique(np.sort(np.stack([pa[cross], pb[cross]], axis=1), axis=1), axis=0)
    if pairs.size == 0:
        return []
    ids, centroid, spread = _group_stats(lib.vectors[grouped], lib.person[grouped])
    column = {int(p): c for c, p in enumerate(ids.tolist())}
    a = np.array([column[int(p)] for p in pairs[:, 0]])
    b = np.array([column[int(p)] for p in pairs[:, 1]])
    distance = rms_linkage(centroid, spread, a, b)
    near = np.flatnonzero(distance < limit_distance)
    photos: dict[int, set[int]] = defaultdict(set)
    confirmed: dict[int, bool] = defaultdict(lambda: True)
    faces_of: dict[int, list[int]] = defaultdict(list)
    for i in grouped.tolist():
        p = int(lib.person[i])
        photos[p].add(int(lib.file_ids[i]))
        confirmed[p] = confirmed[p] and bool(lib.locked[i])
        faces_of[p].append(int(lib.face_ids[i]))
    out = []
    for k in near[np.argsort(distance[near], kind="stable")].tolist():
        p, q = int(pairs[k, 0]), int(pairs[k, 1])
        if confirmed[p] and confirmed[q] or not photos[p].isdisjoint(photos[q]):
            continue
        if any((f, q) in lib.rejected for f in faces_of[p]) or any(
            (f, p) in lib.rejected for f in faces_of[q]
        ):
            continue
        big, other = (p, q) if len(faces_of[p]) >= len(faces_of[q]) else (q, p)
        out.append(PairSuggestion(big, other, float(distance[k])))
        if len(out) >= limit:
            break
    return out


def review_queue(
    catalog: Catalog, threshold: float | None = None, reach: float = PAIR_BAND
) -> list[Suggestion | PairSuggestion]:
    """Every review question, closest first, none that restates another: a pair question
    about a lone face is the face question, and face questions about the faces of a small
    group are one pair question about the group, asked where the first of them would have
    been (faces-dev: two strangers of its group photos, grouped, near the same person,
    were three questions). The library is read once for both kinds."""
    lib = _library(catalog)
    if lib is None:
        return []
    faces = _review_suggestions(catalog, lib, threshold, QUESTIONS, reach)
    asked = {(s.face_id, s.person_id) for s in faces}
    small = {
        p.id: catalog.faces_of_person(p.id) for p in lib.people.values() if p.faces <= SMALL_GROUP
    }
    pairs = [
        s
        for s in _pair_suggestions(catalog, lib, threshold, QUESTIONS)
        if len(small.get(s.other_id, ())) != 1 or (small[s.other_id][0], s.person_id) not in asked
    ]
    distance = {(s.face_id, s.person_id): s.distance for s in faces}
    rank: dict[PairSuggestion, float] = {}
    for s in pairs:  # asked when its first face question would have been
        restated = [distance.pop((f, s.person_id), s.distance) for f in small.get(s.other_id, ())]
        rank[s] = min([s.distance, *restated])
    faces = [s for s in faces if (s.face_id, s.person_id) in distance]
    return sorted([*faces, *_fold(pairs, rank)], key=lambda s: rank.get(s, s.distance))


def _fold(pairs: list[PairSuggestion], rank: dict[PairSuggestion, float]) -> list[PairSuggestion]:
    """The pair questions about one group as one "Who is this?" question of up to CHOICES
    groups, ranked where the closest of them was (fiw-dev: 140 pair questions about 51
    groups; a child's groups from different ages are near several relatives' groups)."""
    about: dict[int, list[PairSuggestion]] = defaultdict(list)
    for s in sorted(pairs, key=rank.__getitem__):
        about[s.other_id].append(s)
    out = []
    for group in about.values():
        for lo in range(0, len(group), CHOICES):
            first, *more = group[lo : lo + CHOICES]
            folded = PairSuggestion(
                first.person_id, first.other_id, first.distance, tuple(s.person_id for s in more)
            )
            rank[folded] = rank[first]
            out.append(folded)
    return out


Key = tuple[int, int | None, int | None]  # (person, face or None, other person or None)


def key_of(q: Suggestion | PairSuggestion) -> Key:
    """What a question is about, whatever its distance is now."""
    if isinstance(q, Suggestion):
        return (q.person_id, q.face_id, None)
    return (q.person_id, None, q.other_id)


def next_questions(
    catalog: Catalog,
    asked: Collection[Key],
    answers: Sequence[bool],
    reach: float,
    threshold: float | None = None,
) -> tuple[float | None, list[Suggestion | PairSuggestion]]:
    """The questions not asked yet, for when the queue has run out: at the same reach
    while the answers opened new ones (a merged person has new near misses), further
    out while :func:`further` says so; (None, []) when the review is done."""
    current: float | None = reach
    while current is not None:
        fresh = [q for q in review_queue(catalog, threshold, current) if key_of(q) not in asked]
        if fresh:
            return current, fresh
        current = further(current, answers)
    return None, []
