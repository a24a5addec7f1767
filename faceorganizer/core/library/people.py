"""Turning cluster labels into people while keeping every decision the user made.

Re-clustering is where other photo managers lose their users' work. Here locked faces
are anchors (they stay where the user put them), rejections ("not this person") and
same-photo pairs are cannot-links, and clusters without anchors inherit the person id
they overlap most, so names and ids stay stable from one run to the next.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, replace

import numpy as np

from faceorganizer.config import ALGORITHMS, DEFAULT_THRESHOLD, TURNED_YAW, Settings
from faceorganizer.core.grouping.cluster import (
    MERGE_GAP_V2,
    Rules,
    cluster,
    context_region,
    restrict_neighbors,
)
from faceorganizer.core.grouping.constraints import Constraints
from faceorganizer.core.library.edits import Change, Editor
from faceorganizer.core.library.neighbors import neighbors_for
from faceorganizer.core.store.catalog import Catalog


@dataclass(frozen=True)
class ClusterResult:
    faces: int
    people: int
    unassigned: int


def _constraints(
    catalog: Catalog,
    face_ids: np.ndarray,
    file_ids: np.ndarray,
    free: frozenset[int],
    assignments: dict[int, tuple[int | None, bool]],
) -> Constraints:
    """The user's edits (``assignments``: the catalog's) as constraints; faces in
    ``free`` anchor nowhere (a split's)."""
    anchor = np.full(len(face_ids), -1, np.int64)
    for i, face in enumerate(face_ids.tolist()):
        person, locked = assignments[face]
        if person is not None and locked and face not in free:
            anchor[i] = person
    index = {int(f): i for i, f in enumerate(face_ids)}
    anchored = set(anchor[anchor >= 0].tolist())
    forbidden = [  # a placement is newer than any rejection it contradicts (see edits.py)
        (index[face], person)
        for face, person in catalog.rejections()
        if face in index and person in anchored and anchor[index[face]] != person
    ]
    return Constraints(photo=file_ids, anchor=anchor, forbidden=forbidden)


def _labels_to_persons(
    labels: np.ndarray,
    face_ids: np.ndarray,
    constraints: Constraints,
    previous: dict[int, tuple[int | None, bool]],
    next_id: int,
) -> dict[int, int | None]:
    """Label -> person id: anchors first, then the old person with the largest overlap."""
    assert constraints.anchor is not None
    mapping: dict[int, int | None] = {-1: None}
    overlaps: Counter[tuple[int, int]] = Counter()
    for label, face_id, anchor in zip(labels, face_ids, constraints.anchor, strict=True):
        label, anchor = int(label), int(anchor)
        if label < 0:
            continue
        if anchor >= 0:
            mapping[label] = anchor
            continue
        old_person, locked = previous.get(int(face_id), (None, True))  # None: ignored since
        if old_person is not None and not locked:
            overlaps[(label, old_person)] += 1
    taken = {p for p in mapping.values() if p is not None}
    for (label, person), _count in sorted(overlaps.items(), key=lambda kv: (-kv[1], kv[0])):
        if label not in mapping and person not in taken:
            mapping[label] = person
            taken.add(person)
    for label in sorted(set(labels.tolist()) - set(mapping)):
        mapping[label] = next_id
        next_id += 1
    return mapping


# 1: whispers or DBSCAN alone, every group a person; 2: small groups' faces attach to
# the person they clearly belong to and lone faces go to the Unsorted bin; 3: links
# longer than MUTUAL_FROM only between mutual near neighbours (grouping.knn.mutual_links)
# and Chinese whispers runs closer to the threshold (MERGE_GAP); merges just below the
# threshold must be unambiguous (grouping.merge.MERGE_RATIO); 4: then small groups, and
# groups of turned faces, join whole by average linkage (grouping.attach); 5: a group of
# turned faces joins judged by their descriptors from a wider crop (embed_sface.WIDE_ZOOM).
GROUPING_VERSION = 5
_VERSION_2 = Rules(groups=False, mutual=False, merge_gap=MERGE_GAP_V2, merge_band=0.0)
_VERSION_RULES = {
    1: replace(_VERSION_2, attach=False, min_faces=1),
    2: _VERSION_2,
    3: Rules(groups=False),
    4: Rules(wide=False),
}  # GROUPING_VERSION (and any other): Rules()
GROUPING_KEY = "grouping"  # catalog meta: the grouping version the library was started with


def grouping_version(catalog: Catalog, *, remember: bool = False) -> int:
    """The grouping version this library uses. A library grouped before version 2 keeps
    version 1 (one grouped by version 2 has it stored), so an update never regroups
    someone's photos differently unasked; a new one starts with GROUPING_VERSION.
    ``remember``: store the answer (writable catalogs)."""
    stored = catalog.get_meta(GROUPING_KEY)
    if stored is not None:
        return int(stored)
    # grouped before = some face sits in a person the grouping chose (names read from
    # the photos' metadata are locked, so they do not count)
    grouped = any(p is not None and not locked for p, locked in catalog.assignments().values())
    version = 1 if grouped else GROUPING_VERSION
    if remember:
        catalog.set_meta(GROUPING_KEY, str(version))
    return version


def _cluster_all(
    catalog: Catalog,
    algorithm: str,
    threshold: float | None,
    version: int,
    free: frozenset[int] = frozenset(),
) -> tuple[np.ndarray, Constraints, np.ndarray]:
    """(face ids, constraints, labels): every usable face clustered under the user's edits
    (those of the faces in ``free`` aside), on the catalog's cached kNN graph, as grouping
    ``version`` does it. With ``free`` (a split's faces), only they and the faces that
    decide how they group (cluster.context_region) are clustered and returned."""
    face_ids, file_ids, vectors = catalog.embeddings()
    assignments = catalog.assignments()
    if len(face_ids) == 0:
        constraints = _constraints(catalog, face_ids, file_ids, free, assignments)
        return face_ids, constraints, np.empty(0, np.int64)
    neighbors = neighbors_for(catalog.path, face_ids, vectors)
    within = None
    if free:
        people = [assignments[f][0] if f not in free else None for f in face_ids.tolist()]
        groups = np.array([-1 if p is None else p for p in people], np.int64)
        start = np.isin(face_ids, np.fromiter(free, np.int64, len(free)))
        t = DEFAULT_THRESHOLD[algorithm] if threshold is None else threshold
        region = context_region(*neighbors, start, groups, t)
        within = (np.flatnonzero(region), region.size)
        neighbors = restrict_neighbors(*neighbors, region)
        face_ids, file_ids, vectors = face_ids[region], file_ids[region], vectors[region]
    constraints = _constraints(catalog, face_ids, file_ids, free, assignments)
    rules = _VERSION_RULES.get(version, Rules())
    turned = np.abs(catalog.yaws(face_ids)) > TURNED_YAW if rules.groups else None
    # a face scanned before schema 7 has no wide descriptor: its own stands in
    wide = catalog.wide_embeddings(face_ids, vectors) if rules.groups and rules.wide else None
    labels = cluster(
        vectors,
        algorithm,
        threshold,
        constraints,
        neighbors=neighbors,
        rules=rules,
        turned=turned,
        turned_vectors=wide,
        within=within,
    )
    return face_ids, constraints, labels


def recluster(
    catalog: Catalog,
    algorithm: str | None = None,
    threshold: float | None = None,
    *,
    undoable: bool = False,
) -> ClusterResult:
    """Cluster every usable face and store the result as people, honouring user edits.

    ``algorithm`` and ``threshold`` None = the library's own (a new algorithm alone gets
    its default threshold); what is used is recorded as the library's grouping, in the
    same edit as the people, so undoing a regroup puts both back. ``undoable`` marks a
    regroup the user asked for: the catalog is backed up first when it holds their work."""
    if undoable and catalog.has_user_edits():
        catalog.backup("before-regroup")
    settings = catalog.settings().changed(algorithm=algorithm, threshold=threshold)
    algorithm = settings.algorithm
    version = grouping_version(catalog, remember=True)
    face_ids, constraints, labels = _cluster_all(catalog, algorithm, settings.threshold, version)
    if len(face_ids) == 0:
        catalog.save_settings(settings)
        return ClusterResult(0, 0, 0)
    # Read the state and write the result under one write lock: an edit the user made
    # while the faces were being clustered is seen here and wins.
    with catalog.transaction():
        previous = catalog.assignments()
        editor = Editor(catalog)
        next_id = editor.next_person_id()
        mapping = _labels_to_persons(labels, face_ids, constraints, previous, next_id)

        rejected: dict[int, set[int]] = defaultdict(set)
        for face, person in catalog.rejections():
            rejected[face].add(person)
        change = Change(settings=settings.record())
        fresh = max([next_id - 1, *(p for p in mapping.values() if p is not None)]) + 1
        for face_id, label in zip(face_ids.tolist(), labels.tolist(), strict=True):
            person = mapping[label]
            if face_id not in previous or previous[face_id][1]:
                continue  # the user put it there (or said it is no face): only they move it
            old_person = previous[face_id][0]
            if person is not None and person in rejected[face_id]:
                person, fresh = fresh, fresh + 1  # "not this person" beats the clustering
            if person != old_person:
                change.faces[face_id] = (person, 0, 0)
        used = {state[0] for state in change.faces.values()} | {
            p for f, (p, _) in previous.items() if f not in change.faces
        }
        for person in used - {None}:
            if person >= next_id:
                change.persons[person] = (None, 0)
        for person in catalog.unnamed_persons():
            if person not in used:
                change.persons[person] = None  # unnamed person left empty: drop it
        editor.apply(regroup_label(settings), change, undoable=undoable)
    stats = catalog.stats()
    return ClusterResult(stats["faces"], stats["people"], stats["unassigned"])


def regroup_label(settings: Settings) -> str:
    """The undo log's name of a regroup, in the words of the Regroup Faces dialog."""
    threshold = settings.threshold or DEFAULT_THRESHOLD[settings.algorithm]
    return f"Regroup faces ({ALGORITHMS[settings.algorithm]}, {threshold:.2f})"


def preview_people(catalog: Catalog, algorithm: str, threshold: float | None) -> int:
    """How many people a re-cluster with these settings would give (for a live preview)."""
    labels = _cluster_all(catalog, algorithm, threshold, grouping_version(catalog))[2]
    return len(set(labels.tolist()) - {-1})


def split_proposal(catalog: Catalog, person_id: int, threshold: float) -> list[list[int]]:
    """The groups one person's faces would split into, largest first (a preview; apply it
    with ``Editor.split_groups``): the library's own grouping, by its version's rules, with
    this person's faces set free, at ``threshold``. Not the person alone: the grouping's
    ratio tests weigh each group against the other people (alone, Madonna merged with
    Katy Perry split into 3 at 0.525, Madonna in 2); but only the people around it
    (cluster.context_region), not the whole library (at 10^5 faces most of the time
    went into attaching other people's small groups)."""
    members = frozenset(catalog.faces_of_person(person_id))
    if len(members) < 2:
        return [sorted(members)]
    version = grouping_version(catalog)
    face_ids, _, labels = _cluster_all(catalog, "chinese-whispers", threshold, version, members)
    groups: dict[int, list[int]] = defaultdict(list)
    for face_id, label in zip(face_ids.tolist(), labels.tolist(), strict=True):
        if face_id in members:  # a face the grouping leaves unsorted is a group of its own
            groups[label if label >= 0 else -1 - face_id].append(face_id)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))
