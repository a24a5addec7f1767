#!/usr/bin/env bash
# One command for the Linux release: a clean venv under build/, the project installed into
# it (pip install .) with PyInstaller, then
#   dist/faceorganizer/                                   the one-folder bundle
#   dist/faceorganizer-<version>-linux-<arch>.tar.gz      that bundle as a tarball
#   dist/faceorganizer_<version>_<debarch>.deb            the Debian/Ubuntu package
# Usage: packaging/build.sh [--bundle-only]      (PYTHON=python3.11 to pick the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=build/venv

start=$(date +%s)
rm -rf build dist/faceorganizer  # build/lib too: setuptools would reuse stale files
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q . "pyinstaller>=6.10"
echo "venv ready after $(( $(date +%s) - start )) s"

"$VENV/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/faceorganizer.spec
# Symbol tables: 19 MB in libllvmlite (numba's compiler), 20 MB in the interpreter built
# here. Not the wheels' other libraries: those patched by auditwheel break when stripped
# (numpy's openblas: "ELF load command address/offset not page-aligned").
find dist/faceorganizer \( -name 'libllvmlite*.so*' -o -name 'libpython3*.so*' \
  -o -path '*/lib-dynload/*.so' \) -type f -exec strip --strip-unneeded {} +
echo "bundle ready after $(( $(date +%s) - start )) s: $(du -sh dist/faceorganizer | cut -f1)"

if [ "${1:-}" != "--bundle-only" ]; then
  bash packaging/installers.sh dist/faceorganizer dist
fi
echo "build.sh done in $(( $(date +%s) - start )) s"
