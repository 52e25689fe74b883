#!/bin/sh
# apache-test-compare.sh — runs httpd's own perl test framework (Apache::Test,
# shipped by Debian's libapache2-mod-perl2; the tests are the httpd-tests
# repository, https://github.com/apache/httpd-tests) twice against the
# installed apache2: once stock, once with mod_forbidden_explain loaded, and
# compares the per-test results.  Any difference fails.
#
#   sh scripts/apache-test-compare.sh HTTPD_TESTS_DIR [BUILD_DIR] [t/... files]
#   (no files: t/modules/access.t authz_core.t alias.t dir.t autoindex.t
#    rewrite.t setenvif.t env.t headers.t and t/apache/*.t; "all" = whole suite)
#
# HTTPD_TESTS_DIR is a checkout of httpd-tests; it is copied twice under
# /tmp and never modified.  Needs: apt-get install libapache2-mod-perl2
# apache2-dev (apxs) and the module built (scripts/build.sh BUILD_DIR).
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
src=${1:?usage: apache-test-compare.sh HTTPD_TESTS_DIR [BUILD_DIR] [tests...]}
build=${2:-/tmp/fx-build-atest}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift
perl -MApache::Test -e1 2>/dev/null || { echo "apache-test-compare: Apache::Test missing (apt-get install libapache2-mod-perl2)" >&2; exit 1; }
sh "$here/scripts/build.sh" "$build" >/dev/null
module="$build/mod_forbidden_explain.so"
if [ $# -eq 0 ]; then
    set -- t/modules/access.t t/modules/authz_core.t t/modules/alias.t t/modules/dir.t \
        t/modules/autoindex.t t/modules/rewrite.t t/modules/setenvif.t t/modules/env.t \
        t/modules/headers.t t/apache
elif [ "$1" = all ]; then
    set --
fi
work=$(mktemp -d /tmp/fx-atest.XXXXXX)
chmod 755 "$work"

# The framework inherits LoadModule lines from a server configuration; its
# test modules need most of httpd's modules (mod_session, mod_proxy, ...).
# Debian enables few, so give it every packaged module (dependencies first,
# from the "# Depends:" lines of mods-available/*.load), with the event MPM
# and without mod_perl and ModSecurity, which would change what is tested.
base="$work/base.conf"
: >"$base"
loaded=" "
pending=$(cd /etc/apache2/mods-available && ls *.load | sed 's/\.load$//' \
    | grep -v -e '^mpm_' -e '^perl$' -e '^security2$' -e '^php')
echo "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so" >>"$base"
for pass in 1 2 3 4 5 6; do
    rest=""
    for m in $pending; do
        deps=$(sed -n 's/^# Depends: *//p' "/etc/apache2/mods-available/$m.load")
        ok=1
        for d in $deps; do
            case "$loaded" in *" $d "*) ;; *) ok=0 ;; esac
        done
        if [ $ok = 1 ]; then
            sed -n 's/^[[:space:]]*\(LoadModule .*\)/\1/p' \
                "/etc/apache2/mods-available/$m.load" >>"$base"
            loaded="$loaded$m "
        else
            rest="$rest $m"
        fi
    done
    pending=$rest
done
printf 'TypesConfig /etc/mime.types\n' >>"$base"
# The module run's base: the same, plus this module.  Apache::Test copies
# the LoadModule lines of -httpd_conf into t/conf/httpd.conf and lists
# loaded modules from them (t/modules/info.t compares that list with
# mod_info's), so the module must come in here, not through extra.conf.in.
base_module="$work/base-module.conf"
cp "$base" "$base_module"
printf 'LoadModule forbidden_explain_module %s\n' "$module" >>"$base_module"
run() {    # $1: stock|module, then the test files
    which=$1
    shift
    d="$work/$which"
    cp -a "$src" "$d"
    conf=$base
    [ "$which" = module ] && conf=$base_module
    # Apache::Test refuses to run as root: as root, the whole run (and the
    # copy it writes into) belongs to nobody
    as=""
    if [ "$(id -u)" = 0 ]; then
        chown -R nobody:nogroup "$d"
        as="runuser -u nobody --"
    fi
    (cd "$d" && $as perl Makefile.PL -apxs "$(command -v apxs)" >/dev/null 2>&1 &&
        $as t/TEST -apxs "$(command -v apxs)" -httpd /usr/sbin/apache2 -httpd_conf "$conf" -port select \
            -verbose=0 "$@" >"$work/$which.log" 2>&1) || true
    # "t/modules/access.t .. ok" / "Failed 3/12 subtests" / skips, per file
    grep -E '^t/.*\.t \.+|^Failed|^Result:|subtests' "$work/$which.log" \
        | sed 's/ [0-9]*ms\b.*//; s/wallclock.*//' >"$work/$which.summary" || true
    if [ "$which" = module ]; then
        grep -q "LoadModule forbidden_explain" "$d/t/conf/httpd.conf" 2>/dev/null \
            || { echo "apache-test-compare: module not loaded in the module run" >&2; exit 1; }
    elif grep -q "forbidden_explain" "$d/t/conf/httpd.conf" 2>/dev/null; then
        echo "apache-test-compare: module loaded in the stock run" >&2; exit 1
    fi
    # a run that tested nothing must not compare equal to another one
    grep -q '^Result: PASS\|^Result: FAIL' "$work/$which.summary" \
        || { tail -20 "$work/$which.log" >&2; echo "apache-test-compare: the $which run produced no result" >&2; exit 1; }
}
run stock "$@"
run module "$@"
n=$(grep -c '\[forbidden_explain:' "$work/module/t/logs/error_log" 2>/dev/null || true)
echo "apache-test-compare: the module explained ${n:-0} 403s during its run"
echo "== stock:";  cat "$work/stock.summary"
if diff -u "$work/stock.summary" "$work/module.summary"; then
    echo "apache-test-compare: same results with and without the module ($work)"
else
    echo "apache-test-compare: results differ (logs in $work)" >&2
    exit 1
fi
