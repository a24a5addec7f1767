#!/usr/bin/env bash
# The one test command (README and CI run exactly this): makes .venv, installs the app
# with its test tools, checks lint/format, runs the whole suite on the real models and
# the real photos in ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."

# A real window for the launch test needs Xvfb and Qt's xcb libraries (Debian names).
need=(xvfb xauth libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
      libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libegl1 libgl1
      libfontconfig1 libdbus-1-3)
missing=()
for pkg in "${need[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if ((${#missing[@]})) && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports  # the layer contracts in pyproject.toml
status=0
.venv/bin/python -m pytest -q -m "not packaging" "$@" || status=$?
if [ "$status" = 5 ]; then echo "no tests were collected" >&2; exit 1; fi
exit "$status"
