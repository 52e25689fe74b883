#!/bin/sh
# build.sh — configures and builds mod_forbidden_explain.so in the source
# tree (or, with an argument, in a private copy of it at that directory, so
# several builds can run side by side).  Extra configure flags: FX_CONFIGURE.
set -e
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$src}
if [ "$dir" != "$src" ]; then
    mkdir -p "$dir"
    (cd "$src" && git ls-files -co --exclude-standard -z | xargs -0 tar cf -) | (cd "$dir" && tar xf -)
fi
cd "$dir"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
    autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ] || [ -n "$FX_CONFIGURE" ]; then
    ./configure -q $FX_CONFIGURE
fi
make -s mod_forbidden_explain.so unit
echo "built: $dir/mod_forbidden_explain.so"
