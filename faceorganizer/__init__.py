"""faceorganizer: group the faces in a photo folder by person, offline."""

__version__ = "0.1.0"
