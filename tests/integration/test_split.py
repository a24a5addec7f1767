"""Split… clusters only the faces around the person (cluster.context_region), not the whole
library: its proposals must be the groups a whole-library clustering gives those faces."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np
import pytest

from faceorganizer.config import TURNED_YAW
from faceorganizer.core.grouping.cluster import Rules, cluster, context_region
from faceorganizer.core.grouping.constraints import Constraints
from faceorganizer.core.grouping.knn import knn
from faceorganizer.core.library.edits import Editor
from faceorganizer.core.library.people import GROUPING_VERSION, grouping_version, split_proposal
from faceorganizer.core.store.catalog import Catalog

PEOPLE = 16  # of cfp-dev's 48: 224 photos, profiles among them
THRESHOLDS = (0.45, 0.525, 0.6)


@pytest.fixture(scope="module")
def cfp_catalog(scan_cfp_people: Callable[[int], Catalog]) -> Catalog:
    catalog = scan_cfp_people(PEOPLE)
    assert grouping_version(catalog) == GROUPING_VERSION
    return catalog


def whole_library_groups(catalog: Catalog, person: int, threshold: float) -> list[list[int]]:
    """What Split… showed before: every face clustered, the person's faces set free (this
    library has no other edits, so only photos constrain), the person's faces grouped."""
    members = set(catalog.faces_of_person(person))
    assignments = catalog.assignments()
    assert not any(locked for f, (_, locked) in assignments.items() if f not in members)
    face_ids, file_ids, vectors = catalog.embeddings()
    labels = cluster(
        vectors,
        "chinese-whispers",
        threshold,
        Constraints(photo=file_ids),
        neighbors=knn(vectors),
        rules=Rules(),
        turned=np.abs(catalog.yaws(face_ids)) > TURNED_YAW,
        turned_vectors=catalog.wide_embeddings(face_ids, vectors),
    )
    groups: dict[int, list[int]] = defaultdict(list)
    for face, label in zip(face_ids.tolist(), labels.tolist(), strict=True):
        if face in members:
            groups[label if label >= 0 else -1 - face].append(face)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def test_split_groups_as_the_whole_library_would(cfp_catalog: Catalog) -> None:
    """Each person alone and merged with the person nearest to it (the wrong merge a user
    splits), at three thresholds: the same proposals as clustering every face, from a
    region that is most often a part of the library."""
    face_ids, _, vectors = cfp_catalog.embeddings()
    members = defaultdict(list)
    for face, (person, _) in cfp_catalog.assignments().items():
        if person is not None:
            members[person].append(face)
    people = sorted(p for p, faces in members.items() if len(faces) >= 2)
    position = {int(f): i for i, f in enumerate(face_ids)}
    centre = np.array([vectors[[position[f] for f in members[p]]].mean(axis=0) for p in people])
    idx, dist = knn(vectors)
    split, smaller = 0, 0
    for person, centre_of in zip(people, centre, strict=True):
        gaps = np.linalg.norm(centre - centre_of, axis=1)
        gaps[people.index(person)] = np.inf
        nearest = people[int(np.argmin(gaps))]
        for merged in (False, True):
            editor = Editor(cfp_catalog)
            if merged:
                editor.merge([person, nearest])
            start = np.isin(face_ids, cfp_catalog.faces_of_person(person))
            for threshold in THRESHOLDS:
                proposal = split_proposal(cfp_catalog, person, threshold)
                assert proposal == whole_library_groups(cfp_catalog, person, threshold)
                split += len(proposal) > 1
                groups = np.full(len(face_ids), -1, np.int64)  # the other people, as they are
                for p in people:
                    if p != person and (p != nearest or not merged):
                        groups[np.isin(face_ids, members[p])] = p
                region = context_region(idx, dist, start, groups, threshold)
                smaller += int(region.sum()) < len(face_ids)
            if merged:
                editor.undo()
    cases = 2 * len(people) * len(THRESHOLDS)
    assert cases == 96
    assert split >= 55  # measured: 61 proposals of more than one group
    assert smaller >= 90  # measured: all 96 regions smaller than the library
