"""test_counters.py — the denial counters (issue 16, "Counters"): real 403s
of several kinds (Require ip, a RewriteRule [F], a filesystem permission)
counted exactly in shared memory across children and graceful restarts,
read through SetHandler forbidden-explain-metrics (Prometheus text, scraped
by a real Debian `prometheus` and checked by `promtool`), through
/server-status and ?auto (mod_status), and through SetHandler
forbidden-explain-status, rendered by a real headless `chromium` (the
chart's SVG counts are read back from its DOM, a screenshot is kept).

Under CI=true prometheus and chromium must be there (scripts/deps.sh
installs them); elsewhere their tests are skipped when the binary is
absent.  FX_ARTIFACTS_DIR=<dir> copies the status page's screenshot there
(FX_ARTIFACTS_DIR=1: to tests/artifacts/).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import pytest

import harness
from harness import decode

CI = os.environ.get("CI") == "true"

SITE_CONF = """
<Directory "{docroot}/ipdeny">
    Require ip 10.9.9.9
</Directory>
<Location /fx-metrics>
    SetHandler forbidden-explain-metrics
</Location>
<Location /fx-status>
    SetHandler forbidden-explain-status
</Location>
<Location /server-status>
    SetHandler server-status
</Location>
RewriteEngine On
RewriteRule ^/srvforbid - [F]
RewriteRule ^/h<i>"q\\.x - [F]
"""

# The hostile request: quotes, HTML and a newline in the path.
HOSTILE_TARGET = "/ipdeny/%22%3Cb%3Ehi%3C/b%3E%0Ax.txt"
HOSTILE_URI = '/ipdeny/"<b>hi</b>\nx.txt'
# The hostile rule: quote, backslash and HTML in a directive (a label).
HOSTILE_RULE = 'RewriteRule ^/h<i>"q\\.x - [F]'


# -- reading the exposition format ------------------------------------------

LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def _unescape(v):
    out, i = [], 0
    while i < len(v):
        c = v[i]
        if c == "\\" and i + 1 < len(v):
            n = v[i + 1]
            out.append({"n": "\n", "\\": "\\", '"': '"'}.get(n, "\\" + n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def parse_metrics(text):
    """{name: [(labels dict, value)]} of a text exposition (0.0.4)."""
    out = {}
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        if "{" in line:
            name, rest = line.split("{", 1)
            labels_text, _, value = rest.rpartition("} ")
            labels = {k: _unescape(v) for k, v in LABEL_RE.findall(labels_text)}
        else:
            name, value = line.split(" ", 1)
            labels = {}
        out.setdefault(name, []).append((labels, float(value)))
    return out


def metric(m, name, **want):
    """Sum of the samples of name whose labels include want."""
    return sum(v for labels, v in m.get(name, [])
               if all(labels.get(k) == x for k, x in want.items()))


def scrape(h):
    r = h.get("/fx-metrics")
    assert r.status == 200, r.raw[:500]
    assert r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    return r.body.decode("utf-8"), parse_metrics(r.body.decode("utf-8"))


def auto_lines(h):
    r = h.get("/server-status?auto")
    assert r.status == 200
    return dict(line.split(": ", 1) for line in r.body.decode().splitlines()
                if line.startswith("ForbiddenExplain"))


def entry_pids(h):
    pids = []
    for line in h.read_error_log().splitlines():
        if "[forbidden_explain:" in line and '{"status":403' in line:
            pids.append(int(re.search(r"\[pid (\d+)", line).group(1)))
    return pids


# -- the site ----------------------------------------------------------------

def make_site(mpm, extra="", name="cnt"):
    h = harness.Httpd(name=name, mpm=mpm, extra_modules=["status"])
    h.write("htdocs/ipdeny/x.txt", "x")
    h.write("htdocs/ok.txt", "ok")
    if harness.RUN_AS_ROOT:
        h.mkdir("htdocs/nosearch", 0o700)
        h.write("htdocs/nosearch/x.txt", "x")
    h.conf(SITE_CONF + extra)
    if mpm == "prefork":
        # several children from the start, so one can be kept busy
        h.conf("StartServers 3\nMinSpareServers 3\nMaxSpareServers 4")
    else:
        h.conf("StartServers 2")
    return h


# The clients' address (the server listens on 127.0.0.1, which its
# virtual host's name shows).
CLIENT = "127.0.0.7"


def fire(h, n_ip=5, n_rw=3, n_fs=2, n_ok=10):
    """The 403s (and allowed requests) every site gets; the counts sent."""
    for _ in range(n_ip):
        assert h.get("/ipdeny/x.txt", source=CLIENT).status == 403
    for _ in range(n_rw):
        assert h.get("/srvforbid").status == 403
    fs = n_fs if harness.RUN_AS_ROOT else 0
    for _ in range(fs):
        assert h.get("/nosearch/x.txt").status == 403
    for _ in range(n_ok):
        assert h.get("/ok.txt").status == 200
    return {"authz": n_ip, "rewrite": n_rw, "fs-permission": fs}


def conf_line(h, needle):
    return str(h.conf_line_of(needle))


def check_counts(h, want):
    text, m = scrape(h)
    authz = dict(reason="authz", module="mod_authz_core.c",
                 phase="access_checker_ex", rule="Require ip 10.9.9.9",
                 file=h.conf_file, line=conf_line(h, "Require ip 10.9.9.9"),
                 vhost="127.0.0.1:%d" % h.port)
    assert metric(m, "forbidden_explain_denials_total", **authz) == want["authz"], text
    rw = dict(reason="rewrite", module="mod_rewrite.c", phase="translate_name",
              rule="RewriteRule ^/srvforbid - [F]", file=h.conf_file,
              line=conf_line(h, "RewriteRule ^/srvforbid"))
    assert metric(m, "forbidden_explain_denials_total", **rw) == want["rewrite"], text
    for reason, n in want.items():
        assert metric(m, "forbidden_explain_reason_denials_total",
                      reason=reason) == n, (reason, text)
    total = sum(want.values())
    assert metric(m, "forbidden_explain_denials_total") == total, text
    assert metric(m, "forbidden_explain_vhost_denials_total",
                  vhost="127.0.0.1:%d" % h.port) == total
    assert metric(m, "forbidden_explain_module_denials_total",
                  module="mod_rewrite.c", phase="translate_name") == want["rewrite"]
    assert metric(m, "forbidden_explain_would_deny_total") == 0
    return text, m


# -- exact counts, across children and graceful restarts ---------------------

@pytest.mark.parametrize("mpm", ["prefork", "worker", "event"])
def test_counts_exact_across_children_and_graceful(mpm):
    h = make_site(mpm)
    try:
        h.start()
        want = fire(h)
        text, m = check_counts(h, want)
        start = metric(m, "forbidden_explain_start_time_seconds")
        assert start > 0

        # the filesystem 403 names its reason and phase (no rule: fs)
        if harness.RUN_AS_ROOT:
            assert metric(m, "forbidden_explain_module_denials_total",
                          module="core.c", phase="map_to_storage") == 2, text

        a = auto_lines(h)
        assert a["ForbiddenExplainDenials"] == str(sum(want.values()))
        assert a["ForbiddenExplainWouldDeny"] == "0"
        assert a["ForbiddenExplainDenials_authz"] == "5"
        assert a["ForbiddenExplainDenials_rewrite"] == "3"
        assert a["ForbiddenExplainSince"] == str(int(start))
        html = h.get("/server-status").body.decode()
        assert 'id="forbidden-explain"' in html
        assert "Require ip 10.9.9.9" in html
        assert "%s:%s" % (h.conf_file, conf_line(h, "Require ip 10.9.9.9")) in html

        # allowed requests (and reading the counters) add nothing
        for _ in range(20):
            assert h.get("/ok.txt").status == 200
            assert h.get("/nothing-here").status == 404
        h.get("/fx-status")
        h.get("/server-status?auto")
        assert scrape(h)[1] == m

        if mpm == "prefork":
            # one child kept busy by an unfinished request: the next 403s
            # are counted by another child, and both land in one table
            s = socket.create_connection(("127.0.0.1", h.port))
            s.sendall(b"GET /ipdeny/x.txt HTTP/1.1\r\nHost: x\r\n")
            time.sleep(0.3)
            for _ in range(3):
                assert h.get("/ipdeny/x.txt").status == 403
            s.sendall(b"Connection: close\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 403")
            s.close()
            want["authz"] += 4
            time.sleep(0.2)
            pids = entry_pids(h)
            assert len(set(pids[-4:])) >= 2, pids
            check_counts(h, want)

        # concurrent 403s (threads of several children): no update is lost
        def burst():
            for _ in range(20):
                assert h.get("/srvforbid").status == 403
        threads = [threading.Thread(target=burst) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        want["rewrite"] += 160
        time.sleep(0.3)
        check_counts(h, want)

        before_pids = set(entry_pids(h))
        h.graceful()
        time.sleep(0.3)
        check_counts(h, want)                       # kept
        for _ in range(2):
            assert h.get("/ipdeny/x.txt").status == 403
        want["authz"] += 2
        time.sleep(0.2)
        new_pids = set(entry_pids(h)[-2:])
        assert new_pids and not new_pids & before_pids   # new children
        text, m = check_counts(h, want)             # summed over both
        assert metric(m, "forbidden_explain_start_time_seconds") == start
        assert auto_lines(h)["ForbiddenExplainDenials_authz"] == str(want["authz"])
    finally:
        h.cleanup()


def test_bigger_table_on_graceful_keeps_counts():
    h = make_site("event", extra="ForbiddenExplainCounterRules 16")
    try:
        h.start()
        want = fire(h, n_ok=0)
        assert metric(scrape(h)[1], "forbidden_explain_rule_rows_max") == 16
        h.body = h.body.replace("ForbiddenExplainCounterRules 16",
                                "ForbiddenExplainCounterRules 64")
        with open(h.conf_file, "w") as f:
            f.write(h.render_conf())
        h.graceful()
        time.sleep(0.3)
        text, m = check_counts(h, want)
        assert metric(m, "forbidden_explain_rule_rows_max") == 64
        assert h.get("/srvforbid").status == 403
        want["rewrite"] += 1
        time.sleep(0.2)
        check_counts(h, want)
    finally:
        h.cleanup()


def test_counters_off_and_directive_checks():
    h = make_site("event", extra="ForbiddenExplainCounters Off")
    try:
        h.start()
        assert h.get("/ipdeny/x.txt").status == 403
        assert h.get("/fx-metrics").status == 503
        assert "ForbiddenExplain" not in h.get("/server-status?auto").body.decode()
    finally:
        h.cleanup()
    for bad in ("ForbiddenExplainCountClients maybe",
                "ForbiddenExplainCounterRules 3",
                "ForbiddenExplainMetricsRules x",
                "<VirtualHost 127.0.0.1:1>\nForbiddenExplainCountClients on\n</VirtualHost>"):
        h = harness.Httpd(name="cntbad")
        try:
            h.conf(bad)
            rc, out = h.configtest()
            assert rc != 0 and "ForbiddenExplain" in out, (bad, out)
        finally:
            h.cleanup()


# -- one shared event site for the readers -----------------------------------

@pytest.fixture(scope="module")
def site():
    h = make_site("event", extra="ForbiddenExplainMetricsRules 10")
    h.start()
    want = fire(h)
    assert h.get(HOSTILE_TARGET).status == 403
    want["authz"] += 1
    assert h.get("/h%3Ci%3E%22q.x").status == 403
    want["rewrite"] += 1
    time.sleep(0.2)
    yield h, want
    h.cleanup()


def test_methods_and_headers(site):
    h, _ = site
    for path in ("/fx-metrics", "/fx-status"):
        r = h.get(path, method="POST", body=b"x=1")
        assert r.status == 405, path
        assert "GET" in (r.header("Allow") or ""), r.headers
        r = h.get(path, method="HEAD")
        assert r.status == 200 and r.body == b"", path
        assert int(r.header("Content-Length")) > 100
        assert r.header("Cache-Control") == "no-store"
    r = h.get("/fx-status")
    assert r.header("Content-Type") == "text/html; charset=utf-8"
    assert "default-src 'none'" in r.header("Content-Security-Policy")


def test_hostile_values_escaped(site):
    h, want = site
    text, m = scrape(h)
    # in metrics: a rule with a quote, a backslash and HTML, by Prometheus'
    # escapes; no request data (paths, clients) becomes a label
    assert 'rule="RewriteRule ^/h<i>\\"q\\\\.x - [F]"' in text, text
    assert metric(m, "forbidden_explain_denials_total", rule=HOSTILE_RULE) == 1
    assert "hi</b>" not in text and "<b>" not in text
    page = h.get("/fx-status").body.decode("utf-8")
    assert "<b>hi</b>" not in page and "<i>" not in page
    assert "/ipdeny/&quot;&lt;b&gt;hi&lt;/b&gt;%0Ax.txt" in page, page
    assert "RewriteRule ^/h&lt;i&gt;&quot;q\\.x - [F]" in page
    assert "<script" not in page


def test_status_page_tables(site):
    h, want = site
    page = h.get("/fx-status").body.decode("utf-8")
    total = sum(want.values())
    assert 'id="totals" data-denied="%d" data-would="0"' % total in page
    # the top rule first, with file:line and a sample request_id
    rows = re.findall(r'<tr class="rule" data-denied="(\d+)"', page)
    assert rows[0] == str(want["authz"]), rows   # the hostile uri too
    at = "%s:%s" % (h.conf_file, conf_line(h, "Require ip 10.9.9.9"))
    assert at in page
    rids = [e["request_id"] for e in h.entries()]
    assert any(rid in page for rid in rids)
    # the last explanations: bounded, newest first, with their hints
    recent = re.findall(r'<tr class="recent">', page)
    assert len(recent) == min(20, total)
    last = page[page.index('<table id="recent">'):]
    assert last.index("RewriteRule ^/h&lt;i&gt;") < last.index("/ipdeny/&quot;")
    # client addresses are off by default: not even in the hints
    assert "add `Require ip [client]` to this section" in page
    assert CLIENT not in page
    assert not re.search(r"h:[0-9a-f]{16}", page)


def test_client_modes():
    for mode, shows in (("hashed", r"h:[0-9a-f]{16}"), ("on", r"127\.0\.0\.7")):
        h = make_site("event", extra="ForbiddenExplainCountClients " + mode,
                      name="cnt" + mode)
        try:
            h.start()
            fire(h, n_ip=2, n_rw=0, n_fs=0, n_ok=0)
            page = h.get("/fx-status").body.decode()
            clients = re.findall(r'<ul class="clients"><li data-count="(\d+)">'
                                 r'\d+ <code>([^<]*)</code>', page)
            assert len(clients) == 1, (mode, page)
            assert clients[0][0] == "2"
            assert re.fullmatch(shows, clients[0][1]), clients
            if mode == "hashed":
                # the hint names the client by its hash too
                assert CLIENT not in page
                assert "add `Require ip %s` to this section" % clients[0][1] in page
            else:
                assert "add `Require ip %s` to this section" % CLIENT in page
            # never a label
            for samples in scrape(h)[1].values():
                for labels, _ in samples:
                    assert clients[0][1] not in labels.values()
                    assert "client" not in labels
        finally:
            h.cleanup()


# -- a real Prometheus --------------------------------------------------------

def _need(binary):
    path = shutil.which(binary)
    if not path and not CI:
        pytest.skip("%s is not installed (scripts/deps.sh installs it)" % binary)
    assert path, "%s is required under CI (scripts/deps.sh)" % binary
    return path


def test_promtool_check_metrics(site):
    promtool = _need("promtool")
    h, _ = site
    text, _ = scrape(h)
    p = subprocess.run([promtool, "check", "metrics"], input=text,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(), \
        (p.returncode, p.stdout, p.stderr)


def _prom_query(port, q):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (
        port, urllib.parse.urlencode({"query": q}))
    with urllib.request.urlopen(url, timeout=5) as r:
        d = json.load(r)
    assert d["status"] == "success", d
    return d["data"]["result"]


def test_prometheus_scrapes_the_counts(site, tmp_path):
    prom = _need("prometheus")
    h, want = site
    port = harness.free_port()
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: fx\n    metrics_path: /fx-metrics\n"
        "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % h.port)
    log = open(tmp_path / "prometheus.log", "w")
    p = subprocess.Popen([prom, "--config.file=%s" % cfg,
                          "--storage.tsdb.path=%s" % (tmp_path / "data"),
                          "--web.listen-address=127.0.0.1:%d" % port,
                          "--log.level=warn"], stdout=log, stderr=log)
    try:
        deadline = time.time() + 45
        got = None
        while time.time() < deadline:
            try:
                up = _prom_query(port, 'up{job="fx"}')
                got = _prom_query(port, "forbidden_explain_reason_denials_total")
                if up and up[0]["value"][1] == "1" and got:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert got, open(tmp_path / "prometheus.log").read()[-2000:]
        by_reason = {r["metric"]["reason"]: int(r["value"][1]) for r in got}
        assert by_reason == {k: v for k, v in want.items() if v}, by_reason

        r = _prom_query(port, 'forbidden_explain_denials_total{rule="Require ip 10.9.9.9"}')
        assert len(r) == 1 and int(r[0]["value"][1]) == want["authz"]
        assert r[0]["metric"]["file"] == h.conf_file
        assert r[0]["metric"]["line"] == conf_line(h, "Require ip 10.9.9.9")
        # the hostile label value came through Prometheus' parser intact
        r = _prom_query(port, "forbidden_explain_denials_total{reason=\"rewrite\"}")
        rules = {x["metric"]["rule"]: int(x["value"][1]) for x in r}
        assert rules == {"RewriteRule ^/srvforbid - [F]": want["rewrite"] - 1,
                         HOSTILE_RULE: 1}, rules
        r = _prom_query(port, "sum(forbidden_explain_denials_total)")
        assert int(float(r[0]["value"][1])) == sum(want.values())
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
        log.close()


# -- a real browser -----------------------------------------------------------

def _chromium(binary, tmp_path, *args):
    prof = tempfile.mkdtemp(prefix="chr-", dir=str(tmp_path))
    p = subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-first-run", "--user-data-dir=" + prof,
                        "--window-size=1400,1600"] + list(args),
                       capture_output=True, timeout=90)
    return p


def test_status_page_in_chromium(site, tmp_path):
    chromium = _need("chromium")
    h, want = site
    url = "http://127.0.0.1:%d/fx-status" % h.port
    p = _chromium(chromium, tmp_path, "--dump-dom", url)
    dom = p.stdout.decode("utf-8")
    assert "<svg" in dom, p.stderr.decode()[-2000:]
    # the chart's bars, as the browser parsed them: per reason, the minute
    # counts add up to what was sent (all within the last hour)
    bars = re.findall(r'<rect class="bar" data-reason="([^"]+)" '
                      r'data-minute="(\d+)" data-count="(\d+)"', dom)
    per_reason = {}
    for reason, minute, count in bars:
        assert 0 <= int(minute) <= 59
        per_reason[reason] = per_reason.get(reason, 0) + int(count)
    assert per_reason == {k: v for k, v in want.items() if v}, (per_reason, dom[:3000])
    legend = dict(re.findall(r'<g class="legend" data-reason="([^"]+)" '
                             r'data-hour="(\d+)"', dom))
    assert {k: int(v) for k, v in legend.items()} == per_reason
    assert "&lt;b&gt;hi&lt;/b&gt;" in dom and "<b>hi</b>" not in dom

    shot = tmp_path / "forbidden-explain-status.png"
    p = _chromium(chromium, tmp_path, "--screenshot=%s" % shot,
                  "--hide-scrollbars", url)
    assert shot.exists(), p.stderr.decode()[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000
    dest = os.environ.get("FX_ARTIFACTS_DIR")
    if dest in ("1", "yes", "true"):
        dest = os.path.join(os.path.dirname(__file__), "artifacts")
    if dest:
        os.makedirs(dest, exist_ok=True)
        shutil.copy(str(shot), os.path.join(dest, shot.name))


def test_conf_example_protects_the_pages():
    """The shipped snippet, included as is: the machine itself reads the
    pages, another address is refused (and that 403 is counted too)."""
    example = os.path.join(os.path.dirname(__file__), "..", "conf-examples",
                           "counters", "forbidden_explain-counters.conf")
    h = harness.Httpd(name="cntex")
    try:
        h.conf("Include %s" % os.path.abspath(example))
        h.start()
        for path in ("/forbidden-explain/metrics", "/forbidden-explain/status"):
            assert h.get(path).status == 200, path
            assert h.get(path, source=CLIENT).status == 403, path
        text = h.get("/forbidden-explain/metrics").body.decode()
        m = parse_metrics(text)
        assert metric(m, "forbidden_explain_denials_total",
                      rule="Require ip 127.0.0.1 ::1") == 2, text
    finally:
        h.cleanup()


def test_redacted_secrets_stay_redacted():
    """The counters see the entry as the log does, after
    ForbiddenExplainRedact: a compared expr literal (redacted by default)
    is in neither the metrics nor the status page."""
    h = make_site("event", extra=(
        '<Directory "{docroot}/api">\n'
        "    Require expr \"%{{HTTP:X-Api-Key}} == 'k-7f3a9c'\"\n"
        "</Directory>"), name="cntsecret")
    try:
        h.mkdir("htdocs/api")
        h.start()
        assert h.get("/api/", headers={"X-Api-Key": "wrong"}).status == 403
        text, m = scrape(h)
        page = h.get("/fx-status").body.decode()
        for doc in (text, page, h.get("/server-status").body.decode()):
            assert "k-7f3a9c" not in doc
        assert metric(m, "forbidden_explain_denials_total",
                      rule="Require expr \"%{HTTP:X-Api-Key} == '[redacted]'\"") == 1, text
    finally:
        h.cleanup()


def test_child_killed_holding_the_lock():
    """A prefork child killed (SIGKILL) while it holds the counters' lock
    (gdb stops it inside the locked update, then kills it) blocks no one:
    the next child takes the lock over and counts."""
    gdb = shutil.which("gdb")
    if not gdb:
        pytest.skip("gdb is not installed (scripts/deps.sh installs it)")
    h = make_site("prefork")
    h.conf("StartServers 1\nMinSpareServers 1\nMaxSpareServers 1")
    try:
        h.start()
        assert h.get("/ipdeny/x.txt").status == 403
        time.sleep(1.5)        # the spare children beyond one have gone
        kids = subprocess.run(["pgrep", "-P", str(h.pid())], capture_output=True,
                              text=True).stdout.split()
        assert len(kids) == 1, kids
        g = subprocess.Popen([gdb, "-p", kids[0], "-batch", "-nx",
                              "-ex", "break fx_ct_add", "-ex", "continue",
                              "-ex", "info symbol $pc", "-ex", "kill"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        time.sleep(2)          # gdb attached, the breakpoint set
        t = threading.Thread(target=lambda: h.get("/ipdeny/x.txt", timeout=20))
        t.start()
        out = g.communicate(timeout=60)[0].decode(errors="replace")
        t.join(30)
        assert "fx_ct_add" in out, out
        time.sleep(0.3)
        # the victim's 403 was not counted (killed before the first
        # increment); the next ones are, by a new child, without waiting
        for _ in range(3):
            assert h.get("/ipdeny/x.txt", timeout=10).status == 403
        time.sleep(0.2)
        assert metric(scrape(h)[1], "forbidden_explain_reason_denials_total",
                      reason="authz") == 4
        assert kids[0] not in subprocess.run(
            ["pgrep", "-P", str(h.pid())], capture_output=True, text=True).stdout.split()
    finally:
        h.cleanup()
