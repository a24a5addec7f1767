"""The message shown instead of Qt's abort when X11 libraries are missing, checked on
the dynamic loader's real output for Qt's xcb plugin."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from faceorganizer.ui.qt_check import (
    check_qt_platform,
    debian_package,
    missing_libraries,
    missing_message,
    will_use_xcb,
    xcb_plugin,
)

GONE = ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1")


def ldd_output() -> str:
    """ldd of the installed plugin, as a machine without three of its libraries
    prints it ("libxcb-cursor.so.0 => not found"); nothing gets uninstalled, and a
    machine that really lacks them already prints that."""
    plugin = xcb_plugin()
    if shutil.which("ldd") is None or plugin is None:
        pytest.skip("needs ldd and Qt's xcb plugin (Linux)")
    text = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
    for soname in GONE:
        text, replaced = re.subn(rf"{re.escape(soname)} => (\S+ \(0x[0-9a-f]+\)|not found)",
                                 f"{soname} => not found", text)  # fmt: skip
        assert replaced == 1, soname
    return text


def test_missing_libraries_are_named_with_their_debian_packages() -> None:
    output = ldd_output()
    assert missing_libraries(output) == list(GONE)
    message = missing_message(missing_libraries(output))
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1\n" in message
    assert message.count("\n\n") == 2  # one message: what is missing, then the command


def test_the_loader_error_qt_prints_is_understood_too() -> None:
    """QT_DEBUG_PLUGINS=1 shows the loader's own words for the first missing library."""
    qt_says = (
        "Cannot load library /venv/PySide6/Qt/plugins/platforms/libqxcb.so: "
        "(libxcb-cursor.so.0: cannot open shared object file: No such file or directory)"
    )
    assert missing_libraries(qt_says) == ["libxcb-cursor.so.0"]


def test_debian_package_names() -> None:
    """Checked against `dpkg -S` on Debian 12."""
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_package("libX11-xcb.so.1") == "libx11-xcb1"
    assert debian_package("libdbus-1.so.3") == "libdbus-1-3"
    assert debian_package("libEGL.so.1") == "libegl1"
    assert debian_package("libglib-2.0.so.0") == "libglib2.0-0"


def test_nothing_to_say_when_qt_can_start(monkeypatch: pytest.MonkeyPatch) -> None:
    ldd_output()  # skips where the check does not apply
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert check_qt_platform() is None  # this machine has them all
    assert not will_use_xcb({"QT_QPA_PLATFORM": "offscreen"})
    assert not will_use_xcb({"XDG_SESSION_TYPE": "wayland"})
    assert will_use_xcb({"QT_QPA_PLATFORM": "xcb", "XDG_SESSION_TYPE": "wayland"})
