"""How many review answers a user needs: a simulated user answers every question truthfully.

    python bench/review_effort.py LABELED_FOLDER [--catalog SCANNED.sqlite] [--max-answers N]

Scans LABELED_FOLDER (``<identity>/<image>``) with default settings into a temporary
catalog, or starts from a copy of an already scanned catalog (the copy takes the
answers; the given file is never written). Then it asks the review's questions
(:func:`review.review_queue`, closest first, as the dialog does) and answers them as a
user who knows every labeled face would: a face carries its folder's label when it is
the largest face of a labeled photo; a person is who most of their labeled faces are.

* "Is this X?": yes moves the face into X (``Editor.move``), no rejects it.
* "Are these the same person?": yes merges the two, no keeps them apart
  (``Editor.keep_apart``).
* A question about a face or a person without a label is skipped; it still counts as an
  answer, as the user had to look at it.

When a pass over the queue ends, the queue is asked for again (answers change it) until
it has nothing new. Prints the end-to-end BCubed F (a labeled photo with no face, or
whose face is in no person, is a cluster of its own) before any answer and after every
10, and the number of answers that reached 0.99 (the goal: at most 5 % of the photos).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceorganizer.config import Settings  # noqa: E402
from faceorganizer.core.library.edits import Editor  # noqa: E402
from faceorganizer.core.library.review import (  # noqa: E402
    PairSuggestion,
    Suggestion,
    review_queue,
)
from faceorganizer.core.library.scan import scan  # noqa: E402
from faceorganizer.core.store.catalog import Catalog  # noqa: E402
from faceorganizer.eval.evaluation import labeled_photos, score_photos  # noqa: E402

GOAL = 0.99


class Truth:
    """What the simulated user knows: the label of the largest face of each labeled photo."""

    def __init__(self, catalog: Catalog) -> None:
        largest: dict[str, tuple[float, int]] = {}
        for face_id in catalog.embeddings()[0].tolist():
            info = catalog.face_info(face_id)
            path = str(info["path"])
            area = (info["x1"] - info["x0"]) * (info["y1"] - info["y0"])
            if "/" in path and not path.startswith("_") and area > largest.get(path, (-1, 0))[0]:
                largest[path] = (area, face_id)
        self.face_of = {path: face for path, (_, face) in largest.items()}
        self.label = {face: path.split("/")[0] for path, face in self.face_of.items()}
        self.photos = len(labeled_photos(catalog))

    @staticmethod
    def e2e_bcubed(catalog: Catalog) -> float:
        """As ``faceorganizer eval`` scores it."""
        return float(score_photos(labeled_photos(catalog))["e2e_bcubed_f"])

    def who(self, catalog: Catalog, person_id: int) -> str | None:
        labels = [self.label[f] for f in catalog.faces_of_person(person_id) if f in self.label]
        return Counter(labels).most_common(1)[0][0] if labels else None


def answer(catalog: Catalog, editor: Editor, truth: Truth, q: Suggestion | PairSuggestion) -> str:
    """Apply the truthful answer; 'yes', 'no', 'skip' or 'stale' (the question no longer
    applies after earlier answers: not counted)."""
    persons = {p.id for p in catalog.persons()}
    if isinstance(q, Suggestion):
        person, locked = catalog.assignments()[q.face_id]
        if locked or person == q.person_id or q.person_id not in persons:
            return "stale"
        face_label, target = truth.label.get(q.face_id), truth.who(catalog, q.person_id)
        if face_label is None or target is None:
            return "skip"
        if face_label == target:
            editor.move([q.face_id], q.person_id, "Yes, this is them")
            return "yes"
        editor.reject(q.face_id, q.person_id)
        return "no"
    if q.person_id not in persons or q.other_id not in persons:
        return "stale"
    a, b = truth.who(catalog, q.person_id), truth.who(catalog, q.other_id)
    if a is None or b is None:
        return "skip"
    if a == b:
        editor.merge([q.person_id, q.other_id])
        return "yes"
    editor.keep_apart([q.person_id, q.other_id])
    return "no"


def simulate(catalog: Catalog, max_answers: int) -> None:
    truth = Truth(catalog)
    editor = Editor(catalog)
    f = truth.e2e_bcubed(catalog)
    print(f"# {truth.photos} labeled photos; goal {GOAL} within {truth.photos // 20}")
    print(f"answers {0:4d}  e2e BCubed F {f:.4f}")
    answers, reached, seen = 0, 0 if f >= GOAL else None, set()
    tally: Counter[tuple[str, str]] = Counter()
    bands: Counter[tuple[str, float, str]] = Counter()
    while answers < max_answers:
        fresh = [q for q in review_queue(catalog) if q not in seen]
        if not fresh:
            break
        for q in fresh:
            seen.add(q)
            result = answer(catalog, editor, truth, q)
            if result == "stale":
                continue
            kind = "face" if isinstance(q, Suggestion) else "pair"
            tally[(kind, result)] += 1
            bands[(kind, min(int(q.distance * 40), 40) / 40, result)] += 1
            answers += 1
            f = truth.e2e_bcubed(catalog)
            if reached is None and f >= GOAL:
                reached = answers
            if answers % 10 == 0:
                print(f"answers {answers:4d}  e2e BCubed F {f:.4f}")
            if answers >= max_answers:
                break
    print(f"answers {answers:4d}  e2e BCubed F {f:.4f}  (no more questions)")
    print("answers by kind:", ", ".join(f"{k} {r}: {n}" for (k, r), n in sorted(tally.items())))
    print("yes / no / skip by the question's distance:")
    for kind, low in sorted({(k, d) for k, d, _ in bands}):
        counts = " / ".join(str(bands[(kind, low, r)]) for r in ("yes", "no", "skip"))
        print(f"  {kind} {low:.3f}-{low + 0.025:.3f}: {counts}")
    share = f" = {100 * reached / truth.photos:.1f} % of the photos" if reached else ""
    print(f"answers to reach {GOAL}: {reached if reached is not None else 'not reached'}{share}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, metavar="LABELED_FOLDER")
    parser.add_argument("--catalog", type=Path, help="start from a copy of this scanned catalog")
    parser.add_argument("--max-answers", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="review-effort-") as temp:
        path = Path(temp) / "catalog.sqlite"
        if args.catalog:
            source = Catalog(args.catalog, readonly=True)
            source.backup_to(path)
            source.close()
        catalog = Catalog(path, root=args.folder)
        if not args.catalog:
            for _ in scan(catalog, args.folder, Settings()):
                pass
        try:
            simulate(catalog, args.max_answers)
        finally:
            catalog.close()


if __name__ == "__main__":
    main()
