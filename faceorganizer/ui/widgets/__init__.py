"""Widgets and Qt item models the main window is built from."""
