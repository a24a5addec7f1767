"""Before Qt starts on Linux: are the system libraries of its X11 platform plugin there?

pip installs Qt itself but not the X11 libraries its xcb plugin links to. Without them
Qt aborts with "Could not load the Qt platform plugin xcb", which tells a user nothing
about what to install. ``ldd`` on the plugin lists every missing library at once, so
the app can name the Debian/Ubuntu packages in one message and exit cleanly instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Libraries whose Debian package name does not follow the soname (see debian_package)
PACKAGE_OF = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libGLdispatch.so.0": "libglvnd0",
}
# "libxcb-cursor.so.0 => not found" (ldd) or "libxcb-cursor.so.0: cannot open shared
# object file" (the dynamic loader, as QT_DEBUG_PLUGINS=1 shows it)
_MISSING = re.compile(
    r"(lib[\w.+-]+?\.so(?:\.\d+)*)(?:\s*=>\s*not found|: cannot open shared object file)"
)


def missing_libraries(loader_output: str) -> list[str]:
    """Sonames the loader could not find, each once, in the order it reported them."""
    found: list[str] = []
    for soname in _MISSING.findall(loader_output):
        if soname not in found:
            found.append(soname)
    return found


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package of a library: libxcb-cursor.so.0 -> libxcb-cursor0,
    libxkbcommon-x11.so.0 -> libxkbcommon-x11-0 (Debian's naming rule)."""
    if soname in PACKAGE_OF:
        return PACKAGE_OF[soname]
    name, _, version = soname.partition(".so")
    version = version.lstrip(".").split(".")[0]
    separator = "-" if name[-1:].isdigit() and version else ""
    return f"{name}{separator}{version}".lower()


def missing_message(sonames: list[str]) -> str:
    """One message: what is missing and the command that installs it."""
    packages = list(dict.fromkeys(debian_package(s) for s in sonames))
    return (
        "faceorganizer cannot open its window: Qt's X11 platform plugin (xcb) needs "
        f"system libraries that are missing: {', '.join(sonames)}.\n"
        "On Debian or Ubuntu install them with:\n\n"
        f"    sudo apt install {' '.join(packages)}\n\n"
        "(On other systems, install the packages that provide these libraries.)"
    )


def will_use_xcb(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether Qt is going to load the xcb plugin (not offscreen, not a Wayland session)."""
    if not sys.platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen == "xcb"
    return environ.get("XDG_SESSION_TYPE", "") != "wayland"


def xcb_plugin() -> Path | None:
    from PySide6.QtCore import QLibraryInfo  # QtCore needs no display libraries

    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    plugin = plugins / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def check_qt_platform() -> str | None:
    """The message to show instead of Qt's abort, or None when Qt can start (or when
    this cannot be told: no ldd, another platform)."""
    ldd = shutil.which("ldd")
    plugin = xcb_plugin() if will_use_xcb() else None
    if ldd is None or plugin is None:
        return None
    try:
        result = subprocess.run(
            [ldd, str(plugin)], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    missing = missing_libraries(result.stdout + result.stderr)
    return missing_message(missing) if missing else None
