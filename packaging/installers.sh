#!/usr/bin/env bash
# Linux installers from a one-folder bundle (made by packaging/build.sh):
#   OUT/faceorganizer-<version>-linux-<arch>.tar.gz   the bundle as it is
#   OUT/faceorganizer_<version>_<debarch>.deb         /opt/faceorganizer, /usr/bin/faceorganizer,
#                                                     a menu entry and its icon
# Usage: packaging/installers.sh [BUNDLE [OUT [all|deb|tar]]]
#        (defaults: dist/faceorganizer dist all)
# Needs dpkg-deb, readelf and dpkg (Debian/Ubuntu). DEB_MAINTAINER overrides the Maintainer.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=$(realpath "${1:-dist/faceorganizer}")
out=$(realpath -m "${2:-dist}")
what=${3:-all}
[ -x "$bundle/faceorganizer" ] || { echo "no bundle at $bundle" >&2; exit 1; }
mkdir -p "$out"
version=$("$bundle/faceorganizer" --version | awk '{print $2}')
debarch=$(dpkg --print-architecture)

# ---- .tar.gz
if [ "$what" != deb ]; then
  tarball="$out/faceorganizer-$version-linux-$(uname -m).tar.gz"
  tar -C "$(dirname "$bundle")" -czf "$tarball" "$(basename "$bundle")"
  echo "$tarball: $(du -h "$tarball" | cut -f1)"
fi
[ "$what" != tar ] || exit 0

# ---- .deb
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
  "$root/usr/share/icons/hicolor/scalable/apps" "$root/usr/share/doc/faceorganizer"
cp -a "$bundle" "$root/opt/faceorganizer"
ln -s ../../opt/faceorganizer/faceorganizer "$root/usr/bin/faceorganizer"
install -m 644 packaging/faceorganizer.desktop "$root/usr/share/applications/"
install -m 644 resources/icons/faceorganizer.svg "$root/usr/share/icons/hicolor/scalable/apps/"
if [ -f resources/icons/faceorganizer-256.png ]; then
  install -D -m 644 resources/icons/faceorganizer-256.png \
    "$root/usr/share/icons/hicolor/256x256/apps/faceorganizer.png"
fi
install -m 644 packaging/copyright "$root/usr/share/doc/faceorganizer/copyright"

# Depends: the package of every library the bundle links to but does not carry (the
# desktop stack: X11/xcb, xkbcommon, GL/EGL, fontconfig, D-Bus, glib, libstdc++), found
# the way dpkg-shlibdeps does it, plus the glibc the binaries were linked against.
elves=$(find "$root/opt/faceorganizer" -type f \( -name '*.so*' -o -perm -u+x \) \
  -exec sh -c 'head -c 4 "$1" | grep -q ELF && echo "$1"' _ {} \;)
carried=$(find "$root/opt/faceorganizer" -name '*.so*' -printf '%f\n' | sort -u)
needed=$(for f in $elves; do readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u)
packages=()
for soname in $(comm -23 <(echo "$needed") <(echo "$carried")); do
  path=$(/sbin/ldconfig -p | awk -v n="$soname" '$1 == n && /x86-64|AArch64/ && !p {p = $NF}
                                                 END {print p}')
  [ -n "$path" ] || { echo "no system library $soname (needed by the bundle)" >&2; exit 1; }
  pkg=$(dpkg -S "$(realpath "$path")" 2>/dev/null || dpkg -S "$path") \
    || { echo "no package owns $path" >&2; exit 1; }
  packages+=("${pkg%%:*}")
done
glibc=$(for f in $elves; do objdump -T "$f" 2>/dev/null; done \
  | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
depends=$(printf '%s\n' "${packages[@]}" | grep -vx 'libc6' | sort -u | paste -sd, | sed 's/,/, /g')
depends="libc6 (>= $glibc), $depends"

cat > "$root/DEBIAN/control" <<EOF
Package: faceorganizer
Version: $version
Architecture: $debarch
Maintainer: ${DEB_MAINTAINER:-faceorganizer developers <faceorganizer@localhost>}
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Section: graphics
Priority: optional
Description: group the faces in a photo folder by person, offline
 faceorganizer finds every face in a photo folder, groups the faces by person,
 lets you fix the groups and exports one folder per person. Everything runs on
 your computer: nothing is uploaded and nothing is downloaded at run time.
 .
 Run "faceorganizer" for the app or "faceorganizer --help" for the command line.
EOF
find "$root" -type d -exec chmod 755 {} +
deb="$out/faceorganizer_${version}_$debarch.deb"
# zstd: 17 s and 290 MB here, where xz (dpkg's default) took 10 min for 221 MB and gzip
# 3.5 min for 301 MB. Every dpkg on a system new enough for the bundle (glibc >= 2.35:
# Debian 12, Ubuntu 22.04) reads it.
dpkg-deb --root-owner-group -Zzstd --build "$root" "$deb" >/dev/null
echo "$deb: $(du -h "$deb" | cut -f1), installed $(sed -n 's/^Installed-Size: //p' "$root/DEBIAN/control") KiB"
echo "Depends: $depends"
