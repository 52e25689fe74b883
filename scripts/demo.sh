#!/bin/sh
# demo.sh — on a fresh Debian 12 machine, as root: installs what is missing,
# builds the module and runs the demo (a throwaway httpd showing the
# explanations of real 403s), then stops it.
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
sh "$here/scripts/deps.sh"
sh "$here/scripts/build.sh" >/dev/null
FX_MODULE="$here/mod_forbidden_explain.so" /usr/bin/python3 "$here/scripts/demo.py"
