#!/bin/sh
# asan-test.sh — builds the module with --enable-sanitizers (ASan + UBSan) in
# a private copy and runs the integration suite against it, every apache2
# started with the ASan runtime preloaded (the apache2 binary itself is not
# instrumented) and every sanitizer report written to a file of its own.
# Fails when the suite fails or when any report file exists.
#
#   sh scripts/asan-test.sh [BUILD_DIR] [pytest args...]
#   FX_MPM=prefork sh scripts/asan-test.sh
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-/tmp/fx-build-asan}
[ $# -gt 0 ] && shift

FX_CONFIGURE="--enable-sanitizers" sh "$here/scripts/build.sh" "$build"

# The module was linked by apxs' compiler (gcc): preload that compiler's
# runtime, the one the module's DT_NEEDED names.
apxs=$(cd "$build" && sed -n 's/^APXS = //p' Makefile | head -1)
cc=$(${apxs:-apxs} -q CC 2>/dev/null || true)
runtime=$(${cc:-gcc} -print-file-name=libasan.so)
case "$runtime" in
    /*) ;;
    *) echo "asan-test: no libasan.so for ${cc:-gcc}" >&2; exit 1 ;;
esac

# The module must really be instrumented: it then needs the ASan runtime,
# and apache2 refuses to load it unless that runtime is preloaded (so a
# passing suite also proves every server ran with it).
if ! ldd "$build/mod_forbidden_explain.so" | grep -q 'libasan'; then
    echo "asan-test: $build/mod_forbidden_explain.so is not built with ASan" >&2
    exit 1
fi

reports=$(mktemp -d /tmp/fx-asan-reports.XXXXXX)
chmod 777 "$reports"  # children run as www-data
FX_HTTPD_ENV="LD_PRELOAD=$runtime"
# Leak checking is off: the `-k start` process exits right after forking the
# daemon without destroying its pools, and httpd unloads every module before
# a child exits, so LeakSanitizer reports httpd's, OpenSSL's and PCRE's
# one-time allocations under "<unknown module>" and cannot attribute any to
# this module.  Per-request and per-restart growth is measured instead by
# scripts/valgrind-smoke.sh (module frames) and the RSS test in bench/.
FX_HTTPD_ENV="$FX_HTTPD_ENV ASAN_OPTIONS=log_path=$reports/asan:detect_leaks=0:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
FX_HTTPD_ENV="$FX_HTTPD_ENV UBSAN_OPTIONS=log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
export FX_HTTPD_ENV

status=0
cd "$here"
[ $# -eq 0 ] && set -- tests
FX_MODULE="$build/mod_forbidden_explain.so" FX_SANITIZED=1 \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" || status=$?

n=$(find "$reports" -type f | wc -l)
if [ "$n" -gt 0 ]; then
    echo "asan-test: $n sanitizer report(s) in $reports:" >&2
    for f in "$reports"/*; do
        echo "---- $f" >&2
        head -60 "$f" >&2
    done
    [ "$status" -eq 0 ] && status=1
else
    echo "asan-test: no sanitizer reports (suite exit $status)"
    rm -rf "$reports"
fi
exit $status
