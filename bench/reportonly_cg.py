#!/usr/bin/python3
"""reportonly_cg.py — instructions per request of report-only candidates
(README, "Report-only rules"): httpd -X under callgrind, prefork, serving
20 and then 120 requests; the difference / 100 is one request's cost.
Run from the source tree as root: /usr/bin/python3 bench/reportonly_cg.py
(FX_MODULE selects the module; a few minutes)."""
import os
import signal
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests"))
import harness  # noqa: E402
SITE = '''
BrowserMatchNoCase "zgrab" bad_bot
<Location "/admin">
%s
</Location>
<Location "/bb">
%s
</Location>
'''
CAND_ADMIN = "<ForbiddenExplainReportOnly>\nRequire ip 10.1.2.0/24 127.0.0.2\n</ForbiddenExplainReportOnly>"
CAND_BB = "<ForbiddenExplainReportOnly>\n<RequireAll>\nRequire all granted\nRequire not env bad_bot\n</RequireAll>\n</ForbiddenExplainReportOnly>"
def cg(with_cand, path, count, source="127.0.0.1", headers=None):
    h = harness.Httpd(name="rocg", mpm="prefork")
    h.conf(SITE % ((CAND_ADMIN, CAND_BB) if with_cand else ("", "")))
    for d in ("admin", "bb", "plain"):
        h.mkdir("htdocs/" + d); h.write("htdocs/%s/x.txt" % d, "x\n")
    with open(h.conf_file, "w") as f:
        f.write(h.render_conf())
    out_dir = h.mkdir("callgrind", mode=0o777)
    out = os.path.join(out_dir, "callgrind.out")
    h.write("callgrind/callgrind.out", "", mode=0o666, owner=(harness.SERVER_USER, harness.SERVER_USER))
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, harness.APACHE, "-X", "-f", h.conf_file],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        h.started = True
        h._wait_up(timeout=120)
        for _ in range(count):
            r = h.get(path, timeout=30, source=source, headers=headers)
            assert r.status == 200, r.status
    finally:
        subprocess.run([harness.APACHE, "-f", h.conf_file, "-k", "stop"], capture_output=True)
        try: p.wait(timeout=120)
        except subprocess.TimeoutExpired: p.send_signal(signal.SIGKILL); p.wait()
        h.started = False
    total = None
    with open(out) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split()[1])
    h.cleanup()
    return total
def per(with_cand, path, **kw):
    a = cg(with_cand, path, 20, **kw); b = cg(with_cand, path, 120, **kw)
    return (b - a) / 100.0
rows = [("uncovered /plain, no candidate anywhere", False, "/plain/x.txt", {}),
        ("uncovered /plain, candidates elsewhere", True, "/plain/x.txt", {}),
        ("/admin without candidate", False, "/admin/x.txt", {"source": "127.0.0.2"}),
        ("/admin candidate grants (1 ip call)", True, "/admin/x.txt", {"source": "127.0.0.2"}),
        ("/admin candidate would deny (entry written)", True, "/admin/x.txt", {}),
        ("/bb without candidate (browser)", False, "/bb/x.txt", {"headers": {"User-Agent": "Mozilla"}}),
        ("/bb RequireAll candidate grants (2 calls)", True, "/bb/x.txt", {"headers": {"User-Agent": "Mozilla"}}),
        ]
for name, wc, path, kw in rows:
    print("%-48s %10.0f instructions/request" % (name, per(wc, path, **kw)), flush=True)
