"""PySide6 desktop GUI: a thin shell over faceorganizer.core (no core logic here)."""
