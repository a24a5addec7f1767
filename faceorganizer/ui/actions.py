"""Every command of the window declared once: text, shortcut, icon, tip; then menus,
toolbar and context menus are assembled from these declarations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from faceorganizer import resources_dir

if TYPE_CHECKING:
    from faceorganizer.ui.main_window import MainWindow

Key = QKeySequence.StandardKey


@dataclass(frozen=True)
class Command:
    key: str
    text: str
    slot: str  # method of the main window
    shortcuts: tuple[str | QKeySequence.StandardKey, ...] = ()
    icon: str = ""  # resources/icons/<icon>.svg
    tip: str = ""
    short: str = ""  # toolbar text: the start of ``text`` (one name per command)
    local: bool = False  # shortcut only where the faces grid has focus


# fmt: off
COMMANDS = (
    Command("open", "&Open Folder…", "choose_folder", (Key.Open,), "open",
            "Open a photo folder", "Open"),
    Command("rescan", "&Rescan Folder", "start_scan", ("F5",), "rescan",
            "Look for new, changed and removed photos", "Rescan"),
    Command("cancel", "&Cancel Scan", "cancel_scan", (), "cancel",
            "Stop the scan; the next scan continues where it stopped"),
    Command("export", "&Export People…", "show_export", ("Ctrl+E",), "export",
            "Write one folder per person", "Export"),
    Command("quit", "&Quit", "close", ("Ctrl+Q",)),
    Command("undo", "&Undo", "undo", (Key.Undo,), "undo", short="Undo"),
    # Ctrl+Shift+Z everywhere; also the platform's own key (Ctrl+Y on Windows)
    Command("redo", "&Redo", "redo", (Key.Redo, "Ctrl+Shift+Z"), "redo", short="Redo"),
    Command("rename", "Re&name Person", "rename_current", ("F2",), "rename",
            "Give the person a name (F2)", "Rename"),
    Command("merge", "&Merge People", "merge_selected", ("Ctrl+M",), "merge",
            "Merge the selected people into one", "Merge"),
    Command("hide", "&Hide / Show Person", "toggle_hidden", ("Ctrl+H",), "hide",
            "Hide people you do not care about"),
    Command("split_auto", "Split &Automatically…", "split_automatically", ("Ctrl+Shift+S",),
            "split", "Split a mixed-up person into groups", "Split…"),
    Command("split", "&New Person from Selected Faces", "split_selected_faces", ("Ctrl+N",),
            "new-person", "Make a new person of the selected faces", "New Person"),
    Command("move", "Mo&ve To…", "move_to_dialog", ("Ctrl+Shift+M",), "move-to",
            "Move the selected faces to another person"),
    Command("not_person", "Not &This Person", "not_this_person", (Key.Delete,),
            "not-person", "Take the selected faces out of this person for good",
            local=True),
    Command("not_face", "Not a &Face", "not_a_face", ("Shift+Del",), "not-face",
            "The selection is not a face: ignore it everywhere", local=True),
    Command("open_photo", "Show &Photo", "open_selected_photo", ("Return",), "photo",
            "Show the photo the face comes from", local=True),
    Command("people_tab", "&People", "show_people_tab", ("Ctrl+1",)),
    Command("map_tab", "&Map of All Faces", "show_map_tab", ("Ctrl+2",)),
    Command("show_hidden", "Show &Hidden People", "set_show_hidden", ("Ctrl+Shift+H",)),
    Command("regroup", "&Regroup Faces…", "show_cluster_controls", ("Ctrl+G",),
            "regroup", "Choose how strictly faces are grouped", "Regroup…"),
    Command("review", "&Is This Them?…", "review_suggestions", ("Ctrl+I",), "",
            "Faces that look like someone but were not grouped with them: yes or no"),
    Command("about", "&About faceorganizer", "about"),
)

MENUS = (
    ("&File", ("open", "@recent", "rescan", "cancel", None, "export", None, "quit")),
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


def build_actions(window: MainWindow) -> dict[str, QAction]:
    """One QAction per command, connected to the window's method of the same name."""
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
        action.triggered.connect(getattr(window, command.slot))
        actions[command.key] = action
    actions["show_hidden"].setCheckable(True)
    return actions


def build_menus(window: MainWindow) -> QMenu:
    """Menu bar, toolbar, the faces panel's buttons and the context menus; returns the
    Open Recent menu (filled when it opens)."""
    act = window.act
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
        window.faces.add_button(act[key])
    for key in PERSON_BUTTONS:
        window.faces.add_person_button(act[key])
    window.people.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    for key in PEOPLE_MENU:
        window.people.view.addAction(act[key])
    window.faces.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    for key in FACES_MENU:
        window.faces.view.addAction(act[key])
    return recent
