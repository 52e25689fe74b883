#!/bin/sh
# build-deb.sh — builds the Debian package libapache2-mod-forbidden-explain
# with `dpkg-buildpackage -us -uc -b` in a private copy of the source tree
# (nothing is written into the work tree), then checks it with lintian.
# The .deb, .changes and .buildinfo land in OUTDIR (default /tmp/fx-deb).
#
#   sh scripts/build-deb.sh [OUTDIR]
#   FX_LINTIAN=0 sh scripts/build-deb.sh     # without lintian
#
# Needs: dpkg-dev, debhelper, apache2-dev (dh_apache2) and the module's
# build dependencies (scripts/deps.sh installs them); lintian for the check.
# lintian fails the script on any error or warning tag; the tags the
# package keeps are listed, with reasons, in debian/README.source.
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/fx-deb}
version=$(sed -n 's/^AC_INIT(\[mod_forbidden_explain\], *\[\([^]]*\)\].*/\1/p' "$here/configure.ac")
[ -n "$version" ] || { echo "build-deb: no version in configure.ac" >&2; exit 1; }
work=$(mktemp -d /tmp/fx-debbuild.XXXXXX)
trap 'rm -rf "$work"' EXIT
tree="$work/libapache2-mod-forbidden-explain-$version"
mkdir -p "$tree" "$out"

# Only source files: what git tracks (and new files not ignored), or the
# whole directory when it is an unpacked `make dist` tarball without git.
if git -C "$here" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$here" && git ls-files -co --exclude-standard -z | xargs -0 tar cf - 2>/dev/null) \
        | (cd "$tree" && tar xf -)
else
    (cd "$here" && tar cf - .) | (cd "$tree" && tar xf -)
fi

cd "$tree"
dpkg-checkbuilddeps
if ! dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1; then
    tail -60 "$work/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed" >&2
    exit 1
fi
cd "$work"
changes=$(ls libapache2-mod-forbidden-explain_*.changes)
for f in $changes $(ls *.deb *.buildinfo); do
    cp "$f" "$out/"
done
deb=$(ls "$out"/libapache2-mod-forbidden-explain_"$version"-*.deb | tail -1)
if [ "${FX_LINTIAN:-1}" != 0 ]; then
    if command -v lintian >/dev/null 2>&1; then
        # errors and warnings fail; info and pedantic tags are printed
        lintian --fail-on error,warning --display-info "$out/$changes"
        echo "build-deb: lintian: no error or warning"
    else
        echo "build-deb: lintian not installed: not checked" >&2
    fi
fi
echo "built: $deb"
