"""The bar across the top of the window that says photos are missing.

Missing photos (an unplugged drive, a folder moved away) keep their faces and names; the
banner says so and offers the two ways on as buttons of the window's own commands
(enabled when they are): rescan once the drive is back, or forget the photos for good.
It is hidden whenever nothing is missing."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from faceorganizer.wording import missing_photos

KEPT = "Their faces and names are kept and shown greyed."


class MissingBanner(QFrame):
    """'N photos are missing — is the drive connected?' and a button per action."""

    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("missingBanner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 6, 10, 6)
        layout.setSpacing(8)
        self.label = QLabel()
        self.label.setObjectName("missingText")
        layout.addWidget(self.label)
        detail = QLabel(KEPT)
        detail.setObjectName("missingDetail")
        layout.addWidget(detail, 1)
        self.buttons: list[QToolButton] = []
        for action in actions:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            layout.addWidget(button)
            self.buttons.append(button)
        self.missing = 0
        self.hide()

    def show_missing(self, photos: int) -> None:
        """Show the number of missing photos, or hide when there are none."""
        self.missing = photos
        if photos:
            self.label.setText(missing_photos(photos))
        self.setVisible(bool(photos))
