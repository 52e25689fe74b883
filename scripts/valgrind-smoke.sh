#!/bin/sh
# valgrind-smoke.sh — runs httpd -X (one process, so every request runs
# under the tool) with the module under valgrind memcheck, sends the smoke
# requests of the foundation suite (every kind of 403, allowed requests,
# hostile URIs), stops it cleanly, and fails when
# valgrind reports any error or definitely-lost block with a frame in the
# module.  Errors without a module frame (httpd, APR, libc) are listed for
# information only.
#
#   sh scripts/valgrind-smoke.sh [BUILD_DIR]
#   FX_MODULE=/path/mod_forbidden_explain.so sh scripts/valgrind-smoke.sh
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null 2>&1 || { echo "valgrind-smoke: valgrind not installed (scripts/deps.sh)" >&2; exit 1; }
if [ -z "$FX_MODULE" ]; then
    build=${1:-/tmp/fx-build-valgrind}
    sh "$here/scripts/build.sh" "$build" >/dev/null
    FX_MODULE="$build/mod_forbidden_explain.so"
fi
export FX_MODULE
out=$(mktemp -d /tmp/fx-valgrind.XXXXXX)
cd "$here/tests"
/usr/bin/python3 - "$out" <<'PY'
import os, re, signal, subprocess, sys, time
sys.path.insert(0, ".")
import harness
import test_foundation as tf
import test_robustness as tr

out = sys.argv[1]
log = os.path.join(out, "memcheck.log")
h = harness.Httpd(name="valgrind", mpm="prefork")
tf.build_site(h)
# The robustness site on top: hostile file names, Basic auth, permission
# analysis, and the trusted-client header and problem+json when built in.
h.conf("ForbiddenExplainHeaders On\nForbiddenExplainTrustedClients 127.0.0.1")
wire = h.configtest()[0] == 0
h.body = h.body.rsplit("ForbiddenExplainHeaders On", 1)[0]
tr.build_site(h, headers=wire)
rc, msg = h.configtest()          # writes the configuration file
if rc != 0:
    sys.exit("valgrind-smoke: bad configuration: " + msg)
cmd = ["valgrind", "--tool=memcheck", "--leak-check=full",
       "--show-leak-kinds=definite", "--errors-for-leak-kinds=definite",
       "--keep-debuginfo=yes",     # httpd unloads modules before exit
       "--num-callers=40", "--track-origins=yes",
       "--log-file=" + log, harness.APACHE, "-X", "-f", h.conf_file]
p = subprocess.Popen(cmd, env=harness.httpd_env(h.env))
try:
    h._wait_up(timeout=120)
    h.started = True
    statuses = {}
    # Twice: the second round runs with every lazily built structure warm.
    # (No graceful restart here: -X has no parent to restart it.)
    for rnd in range(2):
        for uri in sorted(tf.EXPECTED) + ["/ok.txt", "/satany/x.txt", "/errdoc", "/nope"]:
            statuses[uri] = h.get(uri, timeout=60).status
        for t in tf.HOSTILE:
            h.request(None, raw_target=t, timeout=60)
        for kind, target, _, hdrs, user in tr.KINDS[::3]:
            hdrs = dict(hdrs)
            if user is not None:
                hdrs["Authorization"] = tr.basic(user)
            hdrs["Accept"] = "application/problem+json"
            h.request(None, raw_target=target, headers=hdrs, timeout=60)
    bad = {u: s for u, s in statuses.items() if u in tf.EXPECTED and s != 403}
    if bad:
        sys.exit("valgrind-smoke: unexpected statuses %r" % bad)
    n = len(h.entries())
    print("valgrind-smoke: %d requests, %d entries, trusted headers %s" % (
        2 * (len(tf.EXPECTED) + 4 + len(tf.HOSTILE) + len(tr.KINDS[::3])), n,
        "on" if wire else "not built"))
finally:
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    h.started = False
    h.cleanup()

# valgrind's records: blocks separated by blank "==pid== " lines.
text = open(log, errors="replace").read()
records, cur = [], []
for line in text.splitlines():
    body = re.sub(r"^==\d+== ?", "", line)
    if body.strip() == "":
        if cur:
            records.append(cur)
        cur = []
    else:
        cur.append(body)
if cur:
    records.append(cur)
kinds = re.compile(r"^(Invalid (read|write|free)|Conditional jump|Use of uninitialised|"
                   r"Syscall param|Mismatched free|Source and destination overlap|"
                   r"Argument .* of function|\S.* definitely lost)")
ours = re.compile(r"mod_forbidden_explain|\bfx_[a-z_]+ \(|/src/fx_")
mine, other = [], []
for rec in records:
    if not kinds.search(rec[0]):
        continue
    (mine if any(ours.search(l) for l in rec) else other).append(rec)
summary = [l for l in text.splitlines() if "ERROR SUMMARY" in l or "definitely lost:" in l]
print("\n".join(summary))
if other:
    print("valgrind-smoke: %d report(s) outside the module (information only):" % len(other))
    for rec in other[:5]:
        print("  " + rec[0])
if mine:
    print("valgrind-smoke: %d report(s) in module code:" % len(mine))
    for rec in mine:
        print("\n".join("  " + l for l in rec))
    print("full log: " + log)
    sys.exit(1)
print("valgrind-smoke: no error in module code (log: %s)" % log)
PY
