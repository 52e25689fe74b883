"""test_fxlog.py — tools/fx-log on logs a real httpd wrote: full entries,
compact repeats, a window summary, httpd's own (foreign) lines, a truncated
line, rotated and gzip-compressed files, ForbiddenExplainLog and stdin;
counts, filters and --summary asserted."""
import gzip
import json
import os
import subprocess
import time

import pytest

from harness import decode

FXLOG = os.path.join(os.path.dirname(__file__), "..", "tools", "fx-log")

SITE = """
<Directory "{docroot}/ipdeny">
    Require ip 10.9.9.9
</Directory>
RewriteEngine On
RewriteRule ^/srvforbid - [F]
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
ForbiddenExplainRepeatWindow 1
ForbiddenExplainLog logs/forbidden.json
"""

N_IP, N_RW = 7, 4


def fxlog(*args, stdin=None):
    p = subprocess.run(["/usr/bin/python3", FXLOG] + list(args), input=stdin,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def jlines(out):
    return [json.loads(l) for l in out.splitlines() if l.strip()]


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    from harness import Httpd
    h = Httpd(name="fxlog", extra_modules=["remoteip"])
    h.repeat = None                     # the module's default: compact
    try:
        h.conf(SITE)
        h.write("htdocs/ipdeny/x.txt", "x")
        h.write("htdocs/ipdeny/\u00e9.txt", "x")
        h.start()
        for _ in range(N_IP):
            assert h.get("/ipdeny/x.txt").status == 403
        for _ in range(N_RW):
            assert h.get("/srvforbid/y").status == 403
        assert h.get("/ipdeny/x.txt", headers={"X-Forwarded-For": "203.0.113.5"}).status == 403
        time.sleep(1.3)                 # the window (1 s) closes
        # the next 403 of the first cause writes its summary (or the
        # monitor already did) and is full again
        assert h.get("/ipdeny/%C3%A9.txt").status == 403
        entries = h.entries()
        h.stop()
        d = tmp_path_factory.mktemp("fxlog")
        with open(h.error_log, "rb") as f:
            text = f.read()
        with open(os.path.join(h.logs, "forbidden.json"), "rb") as f:
            own = f.read()
    finally:
        h.cleanup()
    lines = text.splitlines(keepends=True)
    # one cut line of the module's, as a full disk or a crash leaves it
    cut = next(l for l in lines if b"[forbidden_explain:" in l and b'"hint"' in l)
    lines.append(cut[:len(cut) // 2] + b"\n")
    lines.append(b"\xff\xfe not a log line at all\n")
    third = len(lines) // 3
    base = d / "error.log"
    with gzip.open(str(base) + ".2.gz", "wb") as f:
        f.writelines(lines[:third])
    with open(str(base) + ".1", "wb") as f:
        f.writelines(lines[third:2 * third])
    with open(base, "wb") as f:
        f.writelines(lines[2 * third:])
    with open(d / "whole.log", "wb") as f:
        f.writelines(lines)
    with open(d / "forbidden.json", "wb") as f:
        f.write(own)
    return {"dir": d, "entries": entries, "base": str(base)}


def kinds(items):
    return [i["_kind"] for i in items]


def test_counts_over_rotated_and_gz(logs):
    out, err = fxlog("--json", "--rotated", logs["base"])
    got = jlines(out)
    want = logs["entries"]
    assert len(got) == len(want)
    k = kinds(got)
    # 3 causes opened a window (ip, rewrite, ip via remoteip) + the ip cause again
    assert k.count("full") == 4, k
    assert k.count("repeat") == (N_IP - 1) + (N_RW - 1)
    assert k.count("summary") >= 1
    assert "1 truncated line(s)" in err
    foreign = int(err.split("skipped: ")[1].split(" foreign")[0])
    assert foreign >= 3         # httpd's own lines (AH01630, start-up) + the junk
    # the same as reading the whole log in one file
    out2, _ = fxlog("--json", str(logs["dir"] / "whole.log"))
    assert jlines(out2) == got
    # without --rotated only the newest part
    out3, _ = fxlog("--json", logs["base"])
    assert 0 < len(jlines(out3)) < len(got)


def test_decoding_and_forbidden_explain_log(logs):
    out, _ = fxlog("--json", "--uri", "*.txt", str(logs["dir"] / "whole.log"))
    got = jlines(out)
    assert any(e.get("uri") == "/ipdeny/\u00e9.txt" for e in got)
    # the error log's %HH and ForbiddenExplainLog's JSON read the same
    fel, _ = fxlog("--json", str(logs["dir"] / "forbidden.json"))
    fe = jlines(fel)
    assert [e["request_id"] for e in fe if e["_kind"] != "summary"] == \
        [e["request_id"] for e in logs["entries"] if "repeats" not in e]
    assert any(e.get("uri") == "/ipdeny/\u00e9.txt" for e in fe)
    # stdin
    with open(logs["dir"] / "forbidden.json", "rb") as f:
        out, _ = fxlog("--json", stdin=f.read())
    assert jlines(out) == fe


def test_filters(logs):
    whole = str(logs["dir"] / "whole.log")
    out, _ = fxlog("--json", "--reason", "rewrite", whole)
    got = jlines(out)
    assert len(got) == N_RW and {e["reason"] for e in got} == {"rewrite"}
    ip = next(e for e in logs["entries"] if e.get("directive") == "Require ip 10.9.9.9")
    rule = "%s:%d" % (os.path.basename(decode(ip["file"])), ip["line"])
    out, _ = fxlog("--json", "--rule", rule, whole)
    got = jlines(out)
    assert got and all(e["line"] == ip["line"] for e in got)
    assert kinds(got).count("repeat") == N_IP - 1
    out, _ = fxlog("--json", "--rule", rule.replace(":", ":9"), whole)
    assert jlines(out) == []
    out, _ = fxlog("--json", "--client", "203.0.113.0/24", whole)
    got = jlines(out)
    assert len(got) == 1 and got[0]["client_ip"] == "203.0.113.5"
    out, _ = fxlog("--json", "--uri", "/srvforbid/*", whole)
    assert len(jlines(out)) == N_RW
    out, _ = fxlog("--json", "--uri", "forbid", whole)
    assert len(jlines(out)) == N_RW
    out, _ = fxlog("--json", "--since", "2999-01-01", whole)
    assert jlines(out) == []
    out, _ = fxlog("--json", "--since", "1h", "--until", "2999-01-01 00:00", whole)
    assert len(jlines(out)) == len(logs["entries"])


def test_summary_and_blocks(logs):
    whole = str(logs["dir"] / "whole.log")
    out, _ = fxlog("--summary", whole)
    lines = out.splitlines()
    total = N_IP + N_RW + 2
    # fx-log groups by rule (reason, directive, file:line): the address
    # classes the module tells apart are one rule for a person
    assert lines[0] == "%d denials, 2 causes" % total, out
    # the flood's rule first, with the longest bar; repeats counted into it
    first = lines[1].split()
    assert first[0] == str(N_IP + 2) and first[1] == "#" * 40 and first[2] == "authz"
    assert "Require ip 10.9.9.9" in lines[2]
    assert any(l.split()[:2] == [str(N_RW), "#" * round(40 * N_RW / (N_IP + 2))]
               for l in lines[3:]), out
    out, _ = fxlog(whole)
    assert out.count("  repeat #") == (N_IP - 1) + (N_RW - 1)
    assert "hint:" in out and "rule:      Require ip 10.9.9.9" in out
    assert "repeats of" in out
