#!/bin/sh
# test.sh — the whole test suite on a fresh Debian 12 machine, as root:
# installs what is missing, builds, runs the unit tests and the integration
# tests against real httpd processes.  CI runs exactly this (.ci/run).
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
sh "$here/scripts/deps.sh"
sh "$here/scripts/build.sh"
cd "$here"
make -s check PYTEST_ARGS="${PYTEST_ARGS:-}"
