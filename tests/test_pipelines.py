"""test_pipelines.py — a real log shipper reads the entries (issue 18).

rsyslog (Debian's rsyslogd, started by the test: -n, its own -f
configuration and -i pid file, a work directory of its own, imfile only: no
system socket, no port) runs the configurations shipped in
conf-examples/pipelines/ — unchanged but for the input and output paths —
on what a real httpd wrote:

  * rsyslog-forbidden-explain.conf reads ForbiddenExplainLog;
  * rsyslog-error-log.conf reads the entries out of httpd's error log.

Every output line must carry the whole entry intact under
"forbidden_explain" (equal, key by key and value by value, to the entry as
a strict JSON parser reads it from the source line: this holds whether
string values use the %HH encoding or plain RFC 8259 escapes), the ECS
fields must hold the entry's values, and the ASCII-safe values (status,
reason, module, uri /deny/x.txt, the rule) are checked literally.
"""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

import harness
from harness import KINDS_CONF, decode, strict_json

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PIPES = os.path.join(SRC, "conf-examples", "pipelines")
RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"

pytestmark = pytest.mark.skipif(not os.access(RSYSLOGD, os.X_OK),
                                reason="rsyslog not installed (scripts/deps.sh)")

# (raw request target, the uri the entry must name once decoded)
REQUESTS = [
    ("/deny/x.txt", "/deny/x.txt"),
    ("/compat/x.txt", "/compat/x.txt"),
    ("/srvforbid", "/srvforbid"),
    ("/noindex/", "/noindex/"),
    # quotes, backslashes, UTF-8 and control characters in the URI
    ("/deny/q%22b%5Cs%20sp", '/deny/q"b\\s sp'),
    ("/deny/%E2%82%AC-%C3%A9", "/deny/\u20ac-\u00e9"),
    ("/deny/ctl%01%07%1b%7f", "/deny/ctl\x01\x07\x1b\x7f"),
]


class Rsyslog:
    """One rsyslogd of the test's own, running the shipped file."""

    def __init__(self, work, shipped, subs):
        self.work = work
        os.makedirs(os.path.join(work, "state"), exist_ok=True)
        with open(os.path.join(PIPES, shipped)) as f:
            text = f.read()
        for old, new in subs.items():
            assert old in text, (shipped, old)
            text = text.replace(old, new)
        self.snippet = os.path.join(work, shipped)
        with open(self.snippet, "w") as f:
            f.write(text)
        self.conf = os.path.join(work, "rsyslog.conf")
        self.internal = os.path.join(work, "rsyslogd.log")
        with open(self.conf, "w") as f:
            f.write('global(workDirectory="%s")\n' % os.path.join(work, "state")
                    # rsyslogd's own messages, for the failure report
                    + 'syslog.* action(type="omfile" file="%s")\n' % self.internal
                    + 'include(file="%s")\n' % self.snippet)
        self.pid_file = os.path.join(work, "rsyslogd.pid")
        self.proc = None

    def check(self):
        p = subprocess.run([RSYSLOGD, "-N1", "-f", self.conf],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        return p.stdout + p.stderr

    def start(self):
        self.out = open(os.path.join(self.work, "rsyslogd.stderr"), "w")
        self.proc = subprocess.Popen(
            [RSYSLOGD, "-n", "-f", self.conf, "-i", self.pid_file],
            stdout=self.out, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.out.close()
        self.proc = None

    def diagnostics(self):
        out = []
        for p in (self.internal, os.path.join(self.work, "rsyslogd.stderr")):
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out.append(f.read()[-2000:])
        return "\n".join(out)


def wait_lines(path, n, rs, timeout=20):
    deadline = time.time() + timeout
    while True:
        lines = []
        if os.path.exists(path):
            with open(path, "rb") as f:
                lines = [l for l in f.read().split(b"\n") if l]
        if len(lines) >= n or time.time() > deadline:
            assert len(lines) == n, (len(lines), n, lines[-3:], rs.diagnostics())
            return [json.loads(l) for l in lines]
        assert rs.proc.poll() is None, rs.diagnostics()
        time.sleep(0.1)


@pytest.fixture
def site(make_httpd):
    h = make_httpd(name="pipes")
    h.conf(KINDS_CONF)
    h.conf("ForbiddenExplainLog {root}/logs/forbidden_explain.json")
    for d in ("deny", "compat", "noindex", "nosym", "ht"):
        h.mkdir("htdocs/" + d)
    h.write("htdocs/deny/x.txt", "x")
    h.write("htdocs/compat/x.txt", "x")
    h.write("htdocs/ok.txt", "ok")
    h.start()
    return h


def send_all(h):
    for target, _ in REQUESTS:
        assert h.request(None, raw_target=target).status == 403, target
    # a Referer that httpd appends to its error-log line (", referer: ..."),
    # with the characters that could end a JSON object early
    assert h.get("/deny/x.txt", headers={"Referer": 'http://r.test/}"x\\{'}).status == 403
    assert h.get("/ok.txt").status == 200      # allowed: no entry anywhere


def ecs_agrees(o, e):
    """The ECS fields hold the entry's values."""
    fx = o["forbidden_explain"]
    assert fx == e, (fx, e)
    assert o["http"]["response"]["status_code"] == 403
    assert o["event"]["reason"] == e["reason"]
    assert o["event"]["outcome"] == "failure"
    assert o["http"]["request"]["method"] == e["method"] == "GET"
    assert o["url"]["path"] == e["uri"]
    assert o["client"]["ip"] == e["client_ip"] == "127.0.0.1"
    assert o.get("rule", {}).get("name") == e.get("directive")
    assert o.get("error", {}).get("code") == e.get("ah")
    assert o.get("file", {}).get("path") == e.get("path")
    assert o.get("message") == e.get("detail")
    assert o["@timestamp"][:2] == "20"


def check_all(outs, entries):
    assert len(outs) == len(entries) == len(REQUESTS) + 1
    for o, e in zip(outs, entries):
        ecs_agrees(o, e)
    got = [decode(o["url"]["path"]) for o in outs]
    assert got == [u for _, u in REQUESTS] + ["/deny/x.txt"]
    first = outs[0]
    assert (first["event"]["reason"], first["forbidden_explain"]["module"]) == (
        "authz", "mod_authz_core.c")
    assert first["url"]["path"] == "/deny/x.txt"
    assert decode(first["rule"]["name"]) == "Require all denied"
    assert [o["event"]["reason"] for o in outs[:4]] == [
        "authz", "access-compat", "rewrite", "no-index"]


def test_rsyslog_reads_forbidden_explain_log(site, tmp_path):
    src = os.path.join(site.logs, "forbidden_explain.json")
    out = str(tmp_path / "ecs.json")
    rs = Rsyslog(str(tmp_path), "rsyslog-forbidden-explain.conf", {
        "/var/log/apache2/forbidden_explain.json": src,
        "/var/log/forbidden_explain.ecs.json": out,
        "/var/log/forbidden_explain.unparsed.log": str(tmp_path / "unparsed.log")})
    rs.check()
    rs.start()
    try:
        send_all(site)
        with open(src, "rb") as f:
            raw = [l for l in f.read().split(b"\n") if l]
        entries = []
        for line in raw:
            e, rest = strict_json(line.decode("utf-8"))
            assert rest == ""
            entries.append(e)
        outs = wait_lines(out, len(raw), rs)
    finally:
        rs.stop()
    check_all(outs, entries)
    assert not os.path.exists(str(tmp_path / "unparsed.log"))


def test_rsyslog_reads_entries_from_the_error_log(site, tmp_path):
    out = str(tmp_path / "ecs.json")
    rs = Rsyslog(str(tmp_path), "rsyslog-error-log.conf", {
        "/var/log/apache2/error.log": site.error_log,
        "/var/log/forbidden_explain.ecs.json": out,
        "/var/log/forbidden_explain.unparsed.log": str(tmp_path / "unparsed.log")})
    rs.check()
    rs.start()
    try:
        send_all(site)
        entries = site.entries()
        outs = wait_lines(out, len(entries), rs)
    finally:
        rs.stop()
    check_all(outs, entries)
    assert all(o["log"]["level"] == "warn" for o in outs)
    # the line with the referer really had the suffix after the object
    assert ", referer: http://r.test/}" in site.read_error_log()
    assert not os.path.exists(str(tmp_path / "unparsed.log"))


def _plain(v):
    """An entry with every %HH-encoded string decoded: what the entry says
    once ForbiddenExplainLog writes RFC 8259 strings (UTF-8, \\" \\\\ \\uXXXX)."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return decode(v) if isinstance(v, str) else v


def test_rsyslog_keeps_rfc8259_strings_intact(site, tmp_path):
    """The same pipeline on the real entries written with plain JSON string
    escapes: quotes, backslashes, UTF-8 and control characters arrive
    intact (rsyslog's JSON parser and serializer, not the module's %HH
    encoding, carry them)."""
    send_all(site)
    time.sleep(0.2)
    with open(os.path.join(site.logs, "forbidden_explain.json"), "rb") as f:
        entries = [_plain(strict_json(l.decode())[0]) for l in f.read().split(b"\n") if l]
    assert '/deny/q"b\\s sp' in [e["uri"] for e in entries]
    src = str(tmp_path / "plain.json")
    with open(src, "w", encoding="utf-8") as f:
        for e in entries:
            f.write(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n")
    out = str(tmp_path / "ecs.json")
    rs = Rsyslog(str(tmp_path), "rsyslog-forbidden-explain.conf", {
        "/var/log/apache2/forbidden_explain.json": src,
        "/var/log/forbidden_explain.ecs.json": out,
        "/var/log/forbidden_explain.unparsed.log": str(tmp_path / "unparsed.log")})
    rs.start()
    try:
        outs = wait_lines(out, len(entries), rs)
    finally:
        rs.stop()
    for o, e in zip(outs, entries):
        ecs_agrees(o, e)
    assert [o["url"]["path"] for o in outs] == [u for _, u in REQUESTS] + ["/deny/x.txt"]
