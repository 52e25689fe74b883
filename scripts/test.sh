#!/bin/sh
# test.sh — the whole test suite on a fresh Debian 12 machine, as root:
# installs what is missing, builds, runs the unit tests and the integration
# tests against real httpd processes.  CI runs exactly this (.ci/run).
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
sh "$here/scripts/deps.sh"
sh "$here/scripts/build.sh"
cd "$here"
# About a minute of fuzzing over every libFuzzer target (seeds and crash
# regressions replayed first); a notice, not a failure, where clang's
# libFuzzer runtime is missing.  Longer runs: docs/robustness.md.
# Before the suite, so that pytest's summary is the run's last line.
FX_FUZZ_OPTIONAL=1 sh "$here/scripts/fuzz.sh" "${FX_FUZZ_SECONDS:-60}"
make -s check PYTEST_ARGS="${PYTEST_ARGS:-}"
