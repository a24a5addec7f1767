"""faceorganizer: group the faces in a photo folder by person, offline."""

import sys
from pathlib import Path

__version__ = "0.1.0"


def resources_dir() -> Path:
    """Icons, style sheet and sample photo: inside a frozen bundle, an installed wheel
    (faceorganizer/resources), or the source tree (resources/ beside the package)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    package = Path(__file__).resolve().parent
    installed = package / "resources"
    return installed if installed.is_dir() else package.parent / "resources"
