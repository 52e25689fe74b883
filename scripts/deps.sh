#!/bin/sh
# deps.sh — installs, on Debian 12 as root, every package the build, the
# demo and the tests need (only what is missing; apt-get is idempotent).
set -e
PKGS="apache2 apache2-dev libapr1-dev libaprutil1-dev libpcre2-dev
      autoconf automake libtool pkg-config make gcc
      python3 python3-pytest curl openssl acl wrk valgrind gdb clang
      libclang-rt-14-dev libapache2-mod-security2 modsecurity-crs
      apache2-utils libaprutil1-dbd-sqlite3 slapd jq
      debhelper dpkg-dev fakeroot lintian rpm rsyslog
      prometheus chromium"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The packaged site must not hold port 80 or run during tests.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet apache2 2>/dev/null; then
    systemctl stop apache2 || true
fi
