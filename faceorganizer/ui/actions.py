"""Every command of the window declared once: text, shortcut, icon, tip; then menus,
toolbar and context menus are assembled from these declarations. What a command does
is bound by the window: a callable per command key."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from faceorganizer import resources_dir
from faceorganizer.ui.widgets.panels import FacesPanel, PeoplePanel

Key = QKeySequence.StandardKey


@dataclass(frozen=True)
class Command:
    key: str
    text: str
    shortcuts: tuple[str | QKeySequence.StandardKey, ...] = ()
    icon: str = ""  # resources/icons/<icon>.svg
    tip: str = ""
    short: str = ""  # toolbar text: the start of ``text`` (one name per command)
    local: bool = False  # shortcut only where the faces grid has focus


# fmt: off
COMMANDS = (
    Command("open", "&Open Folder…", (Key.Open,), "open",
            "Open a photo folder", "Open"),
    Command("rescan", "&Rescan Folder", ("F5",), "rescan",
            "Look for new, changed and removed photos", "Rescan"),
    Command("cancel", "&Cancel Scan", (), "cancel",
            "Stop the scan; the next scan continues where it stopped"),
    Command("forget_missing", "&Forget Missing Photos…", (), "",
            "Remove the photos a scan did not find, and their faces (a backup is made first)",
            "Forget Missing…"),
    Command("export", "&Export People…", ("Ctrl+E",), "export",
            "Write one folder per person", "Export"),
    Command("quit", "&Quit", ("Ctrl+Q",)),
    Command("undo", "&Undo", (Key.Undo,), "undo", short="Undo"),
    # Ctrl+Shift+Z everywhere; also the platform's own key (Ctrl+Y on Windows)
    Command("redo", "&Redo", (Key.Redo, "Ctrl+Shift+Z"), "redo", short="Redo"),
    Command("rename", "Re&name Person", ("F2",), "rename",
            "Give the person a name (F2)", "Rename"),
    Command("merge", "&Merge People", ("Ctrl+M",), "merge",
            "Merge the selected people into one", "Merge"),
    Command("hide", "&Hide / Show Person", ("Ctrl+H",), "hide",
            "Hide people you do not care about"),
    Command("split_auto", "Split &Automatically…", ("Ctrl+Shift+S",),
            "split", "Split a mixed-up person into groups", "Split…"),
    Command("split", "&New Person from Selected Faces", ("Ctrl+N",),
            "new-person", "Make a new person of the selected faces", "New Person"),
    Command("move", "Mo&ve To…", ("Ctrl+Shift+M",), "move-to",
            "Move the selected faces to another person"),
    Command("not_person", "Not &This Person", (Key.Delete,),
            "not-person", "Take the selected faces out of this person for good",
            local=True),
    Command("not_face", "Not a &Face", ("Shift+Del",), "not-face",
            "The selection is not a face: ignore it everywhere", local=True),
    Command("open_photo", "Show &Photo", ("Return",), "photo",
            "Show the photo the face comes from", local=True),
    Command("people_tab", "&People", ("Ctrl+1",)),
    Command("map_tab", "&Map of All Faces", ("Ctrl+2",)),
    Command("show_hidden", "Show &Hidden People", ("Ctrl+Shift+H",)),
    Command("regroup", "&Regroup Faces…", ("Ctrl+G",),
            "regroup", "Choose how strictly faces are grouped", "Regroup…"),
    Command("review", "&Is This Them?…", ("Ctrl+I",), "",
            "Faces that look like someone but were not grouped with them: yes or no"),
    Command("about", "&About faceorganizer"),
)

MENUS = (
    ("&File", ("open", "@recent", "rescan", "cancel", "forget_missing", None, "export", None,
               "quit")),
    ("&Edit", ("undo", "redo", None, "rename", "merge", "split_auto", "hide", None,
               "split", "move", "not_person", "not_face")),
    ("&View", ("people_tab", "map_tab", None, "show_hidden")),
    ("&People", ("regroup", "review")),
    ("&Help", ("about",)),
)
TOOLBAR = ("open", "rescan", None, "undo", "redo", None, "merge", "split_auto", None,
           "regroup", "export")
FACE_BUTTONS = ("split", "move", "not_person", "not_face")
PERSON_BUTTONS = ("rename", "split_auto")
PEOPLE_MENU = ("rename", "merge", "split_auto", "hide")
FACES_MENU = ("open_photo", "split", "move", "not_person", "not_face")
# fmt: on


def icon(name: str) -> QIcon:
    """An icon drawn for the app (resources/icons), crisp at any scale."""
    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))


def key_sequences(shortcuts: tuple[str | QKeySequence.StandardKey, ...]) -> list[QKeySequence]:
    """The keys of a command, each once: a key listed twice (literally and as the
    platform's standard key, e.g. Redo = Ctrl+Shift+Z on Linux) makes Qt call the
    shortcut ambiguous and do nothing."""
    keys: list[QKeySequence] = []
    for shortcut in shortcuts:
        key = QKeySequence(shortcut)
        if not key.isEmpty() and key not in keys:
            keys.append(key)
    return keys


def build_actions(
    window: QMainWindow, bindings: Mapping[str, Callable[..., object]]
) -> dict[str, QAction]:
    """One QAction per command, triggering ``bindings[command.key]``."""
    missing = {c.key for c in COMMANDS} ^ set(bindings)
    if missing:
        raise ValueError(f"commands without a binding, or bindings without a command: {missing}")
    actions: dict[str, QAction] = {}
    for command in COMMANDS:
        action = QAction(command.text, window)
        if command.icon:
            action.setIcon(icon(command.icon))
        action.setShortcuts(key_sequences(command.shortcuts))
        if command.tip:
            action.setStatusTip(command.tip)
            action.setToolTip(command.tip)
        if command.short:
            action.setIconText(command.short)
        if command.local:
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        else:
            window.addAction(action)  # shortcuts work wherever the focus is
        action.triggered.connect(bindings[command.key])
        actions[command.key] = action
    actions["show_hidden"].setCheckable(True)
    return actions


def build_menus(
    window: QMainWindow, act: dict[str, QAction], people: PeoplePanel, faces: FacesPanel
) -> QMenu:
    """Menu bar, toolbar, the faces panel's buttons and the context menus; returns the
    Open Recent menu (filled when it opens)."""
    recent = QMenu("Open &Recent", window)
    for title, keys in MENUS:
        menu = window.menuBar().addMenu(title)
        for key in keys:
            if key is None:
                menu.addSeparator()
            elif key == "@recent":
                menu.addMenu(recent)
            else:
                menu.addAction(act[key])
    tools = QToolBar("Main", window)
    tools.setObjectName("mainToolbar")
    tools.setMovable(False)
    tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for key in TOOLBAR:
        tools.addSeparator() if key is None else tools.addAction(act[key])
    window.addToolBar(tools)
    for key in FACE_BUTTONS:
        faces.add_button(act[key])
    for key in PERSON_BUTTONS:
        faces.add_person_button(act[key])
    people.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    for key in PEOPLE_MENU:
        people.view.addAction(act[key])
    faces.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    for key in FACES_MENU:
        faces.view.addAction(act[key])
    return recent
