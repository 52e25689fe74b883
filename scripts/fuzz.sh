#!/bin/sh
# fuzz.sh — builds every libFuzzer target in tests/fuzz (clang
# -fsanitize=fuzzer,address,undefined, linked against the pure sources its
# "FUZZ_SOURCES:" line names, plus APR) and runs them for SECONDS in all,
# shared equally.  First it replays the committed seed corpus and the
# regression inputs (crashes found earlier), so a reintroduced bug fails
# even in a one-second run.  New interesting inputs go to a scratch corpus,
# crashes to $FX_FUZZ_DIR/artifacts; the committed corpus is never written.
#
#   sh scripts/fuzz.sh            # about a minute in all (the test command)
#   sh scripts/fuzz.sh 3600       # the long run
#   sh scripts/fuzz.sh 60 fuzz_sf # one target
#
# FX_FUZZ_OPTIONAL=1: exit 0 with a notice when clang's libFuzzer runtime is
# missing (scripts/test.sh sets it; scripts/deps.sh installs it).
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
total=${1:-60}
[ $# -gt 0 ] && shift
work=${FX_FUZZ_DIR:-/tmp/fx-fuzz}
cc=${FX_FUZZ_CC:-clang}
mkdir -p "$work/bin" "$work/artifacts"

skip() {
    echo "fuzz: skipped: $1" >&2
    if [ "${FX_FUZZ_OPTIONAL:-0}" = 1 ]; then exit 0; fi
    exit 1
}
command -v "$cc" >/dev/null 2>&1 || skip "$cc not installed (apt-get install clang libclang-rt-14-dev)"
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}\n' >"$work/probe.c"
"$cc" -fsanitize=fuzzer,address,undefined -o "$work/probe" "$work/probe.c" >/dev/null 2>&1 \
    || skip "$cc cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev)"

# apache headers too: some pure sources read httpd structures (no symbols)
apr_cflags="$(pkg-config --cflags apr-1 apr-util-1) -I$(apxs -q INCLUDEDIR)"
apr_libs=$(pkg-config --libs apr-1 apr-util-1)
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

if [ $# -gt 0 ]; then
    targets="$*"
else
    targets=$(cd "$here/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
fi

# Build all first: a target whose sources are missing (a feature not landed
# yet in this tree) is reported and skipped, not fatal.
built=""
for t in $targets; do
    src="$here/tests/fuzz/$t.c"
    deps=$(sed -n 's/.*FUZZ_SOURCES:\([^*]*\).*/\1/p' "$src" | head -1)
    extra=$(sed -n 's/.*FUZZ_LIBS:\([^*]*\).*/\1/p' "$src" | head -1)
    files=""
    missing=""
    for d in $deps; do
        [ -f "$here/$d" ] || missing="$missing $d"
        files="$files $here/$d"
    done
    if [ -n "$missing" ]; then
        echo "fuzz: $t: not built, missing$missing" >&2
        continue
    fi
    # shellcheck disable=SC2086
    if ! "$cc" $flags -I"$here/src" -I"$here/include" -I"$here/tests/fuzz" $apr_cflags \
        -o "$work/bin/$t" "$src" $files $apr_libs $extra 2>"$work/$t.build.log"; then
        cat "$work/$t.build.log" >&2
        echo "fuzz: $t: build failed" >&2
        exit 1
    fi
    built="$built $t"
done
n=$(echo $built | wc -w)
[ "$n" -gt 0 ] || skip "no target could be built"
per=$((total / n))
[ "$per" -ge 1 ] || per=1

status=0
for t in $built; do
    seeds="$here/tests/fuzz/corpus/$t"
    regress="$here/tests/fuzz/regress/$t"
    scratch="$work/corpus/$t"
    mkdir -p "$scratch" "$seeds"
    # 1. every committed input, once (no mutation): regressions stay fixed
    inputs=$(find "$seeds" "$regress" -type f 2>/dev/null | head -5000)
    if [ -n "$inputs" ]; then
        # shellcheck disable=SC2086
        if ! "$work/bin/$t" -runs=1 $inputs >"$work/$t.replay.log" 2>&1; then
            tail -40 "$work/$t.replay.log" >&2
            echo "fuzz: $t: a committed input fails" >&2
            status=1
            continue
        fi
    fi
    # 2. bounded mutation run
    if "$work/bin/$t" -max_total_time="$per" -timeout=10 -rss_limit_mb=1024 \
        -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/$t-" "$scratch" "$seeds" \
        >"$work/$t.log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
        echo "fuzz: $t: ok, ${execs:-?} inputs in ${per}s"
    else
        tail -60 "$work/$t.log" >&2
        echo "fuzz: $t: FAILED; reproducer in $work/artifacts/ (copy it to tests/fuzz/regress/$t/)" >&2
        status=1
    fi
done
exit $status
