"""test_whatif.py — the what-if simulator (SetHandler forbidden-explain-whatif,
docs/whatif.md) against real requests on real httpd.

  * every kind of 403 of one site (Require ip, Require not env from SetEnvIf
    on User-Agent, Require user under AuthType Basic, Order/Deny, RewriteRule
    [F] with a RewriteCond on Referer, a file of mode 0600, Options -Indexes,
    a client address behind mod_remoteip + X-Forwarded-For): the simulator's
    verdict, status, reason, module, phase, directive, file and line equal
    the entry of a real request from that client (127.0.0.x loopback
    aliases); allowed requests name the granting rule;
  * samples of the differential generators of test_rewrite_diff.py and
    test_authz_diff.py (their own functions, ~30 cases each): the same
    equality, case by case;
  * side effects: after a batch, the error log is byte for byte unchanged
    (also under a per-directory LogLevel), the access log has the one line
    of the POST, no CGI ran (a script that creates a file), a backend (a
    python http server) saw no connection while the probe named it;
  * bad input (400 with a message), untrusted clients (403), other methods
    (405), oversize bodies (413), batch lines with errors.

FX_WHATIF_DIFF=N runs N cases of each differential sample (default 30).
"""
import base64
import json
import os
import random
import socket
import subprocess
import threading
import time
import http.server

import pytest

import harness
from harness import decode

DIFF_N = int(os.environ.get("FX_WHATIF_DIFF", "30"))
WHATIF_CONF = """
<Location "/.fx-whatif">
    SetHandler forbidden-explain-whatif
    Require local
    ForbiddenExplainTrustedClients 127.0.0.1
</Location>
"""


def ask(h, body, ctype="application/json", source="127.0.0.1",
        method="POST", port=None):
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    keep = h.port
    if port:
        h.port = port
    try:
        r = h.request("/.fx-whatif", method=method, source=source, body=body,
                      headers={"Content-Type": ctype} if ctype else {})
    finally:
        h.port = keep
    return r


def probe(h, p):
    r = ask(h, p)
    assert r.status == 200, (r.status, r.body)
    obj, rest = harness.strict_json(r.body.decode())
    assert rest.strip() == ""
    return obj


def batch(h, probes):
    body = "".join(json.dumps(p) + "\n" for p in probes)
    r = ask(h, body, ctype="application/x-ndjson")
    assert r.status == 200, (r.status, r.body)
    lines = r.body.decode().splitlines()
    assert len(lines) == len(probes)
    return [harness.strict_json(l)[0] for l in lines]


KEYS = ("reason", "module", "phase", "directive", "file", "line")


def same_as_real(real_status, real_entry, ans, what):
    """The simulator's answer says what the real request did."""
    assert ans.get("status") == real_status, (what, real_status, ans)
    if real_status == 403:
        assert ans["verdict"] == "denied", (what, ans)
        sim = ans["entry"]
        for k in KEYS:
            want = real_entry.get(k)
            if isinstance(want, str):
                want = decode(want)
            assert sim.get(k) == want, (what, k, want, sim.get(k))
    elif real_status < 400:
        # httpd may send a 302 for what the phases decided (decided_status)
        d = ans.get("decided_status", real_status)
        want = "allowed" if d < 400 else "denied" if d < 500 else "error"
        assert ans["verdict"] == want, (what, ans)
    else:
        want = "denied" if real_status < 500 else "error"
        assert ans["verdict"] == want, (what, ans)


# -- the site with every kind --------------------------------------------------

SITE = """
SetEnvIf User-Agent "badbot" bad_bot
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
<Directory "{docroot}/ipdeny">
    Require ip 127.0.0.1
    LogLevel authz_core:debug
</Directory>
<Directory "{docroot}/bots">
    <RequireAll>
        Require all granted
        Require not env bad_bot
    </RequireAll>
</Directory>
<Directory "{docroot}/private">
    AuthType Basic
    AuthName fx
    AuthUserFile {root}/conf/htpasswd
    AuthzSendForbiddenOnFailure On
    Require user alice
</Directory>
<Directory "{docroot}/compat">
    Order Deny,Allow
    Deny from 127.0.0.2
</Directory>
<Directory "{docroot}/compat2">
    Order Allow,Deny
    Allow from 127.0.0.0/8
</Directory>
<Directory "{docroot}/remote">
    Require ip 203.0.113.0/24
</Directory>
RewriteEngine On
RewriteCond %{{HTTP_REFERER}} evil\\.example
RewriteRule ^/hot/ - [F]
<Directory "{docroot}/noindex">
    Options -Indexes
</Directory>
<Directory "{docroot}/idx">
    <Files "index.html">
        Require ip 127.0.0.1
    </Files>
</Directory>
ScriptAlias /cgi-bin/ "{root}/cgi-bin/"
<Directory "{root}/cgi-bin">
    Require all granted
</Directory>
<Directory "{docroot}/noexec">
    AddHandler cgi-script .cgi
    Options -ExecCGI
</Directory>
ProxyPass /app/ http://127.0.0.1:{backend}/
Listen 127.0.0.1:{port2}
<VirtualHost 127.0.0.1:{port2}>
    ServerName vh.example
    ServerAlias alias.example
    DocumentRoot "{docroot}"
    <Location /vhdeny>
        Require all denied
    </Location>
</VirtualHost>
<VirtualHost 127.0.0.1:{port2}>
    ServerName other.example
    DocumentRoot "{docroot}"
</VirtualHost>
"""


class Backend:
    """A tiny HTTP server that counts the connections it accepts."""

    def __init__(self):
        self.hits = 0
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"backend\n")

            def log_message(self, *a):
                pass
        self.srv = http.server.HTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.accepted = 0
        orig = self.srv.get_request

        def counting():
            got = orig()
            outer.accepted += 1
            return got
        self.srv.get_request = counting
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture(scope="module")
def site():
    be = Backend()
    h = harness.Httpd("whatif", extra_modules=["remoteip", "proxy",
                                               "proxy_http", "cgid"])
    h.port2 = harness.free_port()
    h.backend = be
    for d in ("ipdeny", "bots", "private", "compat", "compat2", "remote",
              "hot",
              "noexec", "vhdeny"):
        h.write("htdocs/%s/x.txt" % d, "x\n")
    h.write("htdocs/secret.txt", "secret\n", mode=0o600)
    h.write("htdocs/open.txt", "open\n")
    h.mkdir("htdocs/noindex")
    h.mkdir("htdocs/listed")
    h.write("htdocs/idx/index.html", "index\n")
    h.marker = os.path.join(h.mkdir("ran", 0o777), "cgi-ran")
    h.write("cgi-bin/touch.cgi", "#!/bin/sh\ntouch %s\necho "
            "'Content-Type: text/plain'\necho\necho ran\n" % h.marker,
            mode=0o755)
    h.write("htdocs/noexec/s.cgi", "#!/bin/sh\necho 'Content-Type: "
            "text/plain'\necho\necho ran\n", mode=0o755)
    h.conf(SITE.replace("{backend}", str(be.port))
           .replace("{port2}", str(h.port2)))
    h.conf(WHATIF_CONF)
    subprocess.run(["/usr/bin/htpasswd", "-b", "-c", "-B", "-C", "4",
                    os.path.join(h.conf_dir, "htpasswd"), "alice", "pw"],
                   check=True, capture_output=True)
    subprocess.run(["/usr/bin/htpasswd", "-b", "-B", "-C", "4",
                    os.path.join(h.conf_dir, "htpasswd"), "bob", "pw"],
                   check=True, capture_output=True)
    h.start()
    yield h
    h.cleanup()
    be.close()


def basic(user):
    return "Basic " + base64.b64encode(("%s:pw" % user).encode()).decode()


# (name, real request kwargs, probe): the real request and the probe ask
# the same thing
def kinds(h):
    return [
        ("require-ip", dict(path="/ipdeny/x.txt", source="127.0.0.2"),
         {"path": "/ipdeny/x.txt", "client_ip": "127.0.0.2"}),
        ("require-ip-ok", dict(path="/ipdeny/x.txt"),
         {"path": "/ipdeny/x.txt", "client_ip": "127.0.0.1"}),
        ("env-bot", dict(path="/bots/x.txt", headers={"User-Agent": "badbot/1"}),
         {"path": "/bots/x.txt", "client_ip": "127.0.0.1",
          "headers": {"User-Agent": "badbot/1"}}),
        ("env-ok", dict(path="/bots/x.txt", headers={"User-Agent": "Mozilla"}),
         {"path": "/bots/x.txt", "client_ip": "127.0.0.1",
          "headers": {"User-Agent": "Mozilla"}}),
        ("user-bob", dict(path="/private/x.txt",
                          headers={"Authorization": basic("bob")}),
         {"path": "/private/x.txt", "client_ip": "127.0.0.1", "user": "bob"}),
        ("user-alice", dict(path="/private/x.txt",
                            headers={"Authorization": basic("alice")}),
         {"path": "/private/x.txt", "client_ip": "127.0.0.1", "user": "alice"}),
        ("user-none", dict(path="/private/x.txt"),
         {"path": "/private/x.txt", "client_ip": "127.0.0.1"}),
        ("compat", dict(path="/compat/x.txt", source="127.0.0.2"),
         {"path": "/compat/x.txt", "client_ip": "127.0.0.2"}),
        ("rewrite-referer", dict(path="/hot/x.txt",
                                 headers={"Referer": "http://evil.example/"}),
         {"path": "/hot/x.txt", "client_ip": "127.0.0.1",
          "headers": {"Referer": "http://evil.example/"}}),
        ("rewrite-ok", dict(path="/hot/x.txt",
                            headers={"Referer": "http://good.example/"}),
         {"path": "/hot/x.txt", "client_ip": "127.0.0.1",
          "headers": {"Referer": "http://good.example/"}}),
        ("mode-0600", dict(path="/secret.txt"),
         {"path": "/secret.txt", "client_ip": "127.0.0.1"}),
        ("no-index", dict(path="/noindex/"),
         {"path": "/noindex/", "client_ip": "127.0.0.1"}),
        ("index-subrequest", dict(path="/idx/", source="127.0.0.2"),
         {"path": "/idx/", "client_ip": "127.0.0.2"}),
        ("index-ok", dict(path="/idx/"),
         {"path": "/idx/", "client_ip": "127.0.0.1"}),
        ("listed", dict(path="/listed/"),
         {"path": "/listed/", "client_ip": "127.0.0.1"}),
        ("exec-cgi-off", dict(path="/noexec/s.cgi"),
         {"path": "/noexec/s.cgi", "client_ip": "127.0.0.1"}),
        ("remoteip-xff", dict(path="/remote/x.txt",
                              headers={"X-Forwarded-For": "198.51.100.9"}),
         {"path": "/remote/x.txt", "client_ip": "198.51.100.9"}),
        ("remoteip-xff-ok", dict(path="/remote/x.txt",
                                 headers={"X-Forwarded-For": "203.0.113.7"}),
         {"path": "/remote/x.txt", "client_ip": "203.0.113.7"}),
        ("vhost-deny", dict(path="/vhdeny/x.txt", port=h.port2,
                            headers={"Host": "alias.example"}),
         {"path": "/vhdeny/x.txt", "client_ip": "127.0.0.1",
          "host": "alias.example", "port": h.port2}),
    ]


def real(h, path, source="127.0.0.1", headers=None, port=None):
    keep = h.port
    if port:
        h.port = port
    try:
        before = len(h.read_error_log())
        r = h.request(path, source=source, headers=headers or {})
        e = None
        if r.status == 403:
            deadline = time.time() + 3
            while e is None and time.time() < deadline:
                time.sleep(0.05)
                for line in h.read_error_log()[before:].splitlines():
                    m = harness.ENTRY_RE.search(line)
                    if m:
                        e = harness.strict_json(m.group(2))[0]
        return r.status, e
    finally:
        h.port = keep


def test_every_kind_matches_a_real_request(site):
    h = site
    for name, req, p in kinds(h):
        p.setdefault("host", "127.0.0.1")
        p.setdefault("port", h.port)
        status, e = real(h, req["path"], req.get("source", "127.0.0.1"),
                         req.get("headers"), req.get("port"))
        ans = probe(h, p)
        same_as_real(status, e, ans, name)
        if status == 403:
            assert ans["entry"]["reason"] == decode(e["reason"])
    # and the statuses are the interesting ones (the site works as meant)
    got = {name: probe(h, dict(p, host=p.get("host", "127.0.0.1"),
                               port=p.get("port", h.port)))["status"]
           for name, _, p in kinds(h)}
    assert got == {
        "require-ip": 403, "require-ip-ok": 200, "env-bot": 403, "env-ok": 200,
        "user-bob": 403, "user-alice": 200, "user-none": 401, "compat": 403,
        "rewrite-referer": 403, "rewrite-ok": 200, "mode-0600": 403,
        "no-index": 403, "listed": 200, "index-subrequest": 403,
        "index-ok": 200, "exec-cgi-off": 403,
        "remoteip-xff": 403, "remoteip-xff-ok": 200, "vhost-deny": 403}, got


def test_allowed_requests_name_the_granting_rule(site):
    h = site
    a = probe(h, {"path": "/ipdeny/x.txt", "client_ip": "127.0.0.1",
                  "host": "127.0.0.1", "port": h.port})
    g = a["granted_by"]
    assert g["directive"] == "Require ip 127.0.0.1"
    assert g["file"] == h.conf_file
    assert g["line"] == h.conf_line_of("    Require ip 127.0.0.1")
    assert g["section"].startswith('<Directory "%s/ipdeny">' % h.docroot)
    assert g["mechanism"] == "authz"
    # mod_dir's index sub-request evaluates the <Files> rule
    a = probe(h, {"path": "/idx/", "client_ip": "127.0.0.1",
                  "host": "127.0.0.1", "port": h.port})
    assert a["granted_by"]["directive"] == "Require ip 127.0.0.1", a
    assert a["granted_by"]["line"] == h.conf_line_of(
        "        Require ip 127.0.0.1"), a
    a = probe(h, {"path": "/private/x.txt", "client_ip": "127.0.0.1",
                  "user": "alice", "host": "127.0.0.1", "port": h.port})
    assert a["granted_by"]["directive"] == "Require user alice"
    a = probe(h, {"path": "/open.txt", "client_ip": "203.0.113.7",
                  "host": "127.0.0.1", "port": h.port})
    assert a["granted_by"]["directive"] == "Require all granted"
    assert a["granted_by"]["line"] == h.conf_line_of("    Require all granted")
    # Order/Allow/Deny in effect too: the line that let the client in
    a = probe(h, {"path": "/compat2/x.txt", "client_ip": "127.0.0.3",
                  "host": "127.0.0.1", "port": h.port})
    c = a["access_compat_granted_by"]
    assert c["directive"] == "Allow from 127.0.0.0/8", a
    assert c["line"] == h.conf_line_of("    Allow from 127.0.0.0/8"), a
    a = probe(h, {"path": "/compat/x.txt", "client_ip": "127.0.0.1",
                  "host": "127.0.0.1", "port": h.port})
    assert a["access_compat_granted_by"]["directive"] == "Order Deny,Allow", a
    a = probe(h, {"path": "/compat2/x.txt", "client_ip": "10.1.1.1",
                  "host": "127.0.0.1", "port": h.port})
    assert a["verdict"] == "denied" and a["entry"]["reason"] == "access-compat"
    # the vhost by alias, and its section
    a = probe(h, {"path": "/open.txt", "client_ip": "127.0.0.1",
                  "host": "vh.example", "port": h.port2})
    assert a["vhost"] == "vh.example:%d" % h.port2
    assert a["verdict"] == "allowed"


def test_proxy_and_cgi_have_no_side_effects(site):
    h = site
    be = h.backend
    with open(h.error_log, "rb") as f:
        err_before = f.read()
    access_before = len(h.access_lines())
    accepted = be.accepted
    probes = [dict(p, host=p.get("host", "127.0.0.1"),
                   port=p.get("port", h.port)) for _, _, p in kinds(h)]
    probes += [
        # core answers TRACE in map_to_storage by sending: dropped, not
        # written into this connection's answer
        {"method": "TRACE", "path": "/open.txt", "client_ip": "127.0.0.1",
         "host": "127.0.0.1", "port": h.port},
        {"path": "/app/x", "client_ip": "127.0.0.1", "host": "127.0.0.1",
         "port": h.port},
        {"path": "/cgi-bin/touch.cgi", "client_ip": "127.0.0.1",
         "host": "127.0.0.1", "port": h.port},
    ]
    answers = batch(h, probes)
    trace, proxied, cgi = answers[-3], answers[-2], answers[-1]
    assert trace["verdict"] == "allowed" and trace["status"] == 200, trace
    assert proxied["verdict"] == "allowed"
    assert proxied["backend"] == "http://127.0.0.1:%d/x" % be.port
    assert cgi["verdict"] == "allowed" and cgi["handler"] == "cgi-script"
    time.sleep(0.3)
    with open(h.error_log, "rb") as f:
        assert f.read() == err_before
    lines = h.access_lines()
    assert len(lines) == access_before + 1
    assert '"POST /.fx-whatif HTTP/1.1"' in lines[-1]
    assert not os.path.exists(h.marker)
    assert be.accepted == accepted
    # control: the per-directory LogLevel of /ipdeny does write for a real
    # request, so the silence above is the simulator's
    h.request("/ipdeny/x.txt", source="127.0.0.2")
    time.sleep(0.2)
    with open(h.error_log, "rb") as f:
        assert b"AH01626" in f.read()[len(err_before):]
    # the real requests do what the probes did not: they are the control
    assert h.request("/cgi-bin/touch.cgi").status == 200
    assert os.path.exists(h.marker)
    assert h.request("/app/x").status == 200
    assert be.accepted == accepted + 1
    os.unlink(h.marker)


def test_bad_input(site):
    h = site
    good = {"path": "/open.txt", "host": "127.0.0.1", "port": h.port,
            "client_ip": "127.0.0.1"}
    cases = [
        ('{"path": "/x"', "malformed JSON"),
        ('[1,2]', "must be a JSON object"),
        (dict(good, host="nowhere.example", port=h.port2),
         "unknown virtual host"),
        (dict(good, headers={"Referer": "a\r\nX-Evil: 1"}), "CR, LF or NUL"),
        (dict(good, headers={"Referer": "a\u0000b"}), "CR, LF or NUL"),
        (dict(good, user="bo\nb"), "CR, LF or NUL"),
        (dict(good, path="x.txt"), "must start with '/'"),
        (dict(good, path="/a b"), "percent-encode"),
        (dict(good, path="/a/../../etc/passwd"), "climbs above the root"),
        (dict(good, path="/%2e%2E/etc/passwd"), "climbs above the root"),
        (dict(good, path="/" + "a" * 9000), "longer than"),
        (dict(good, client_ip="somewhere"), "not a numeric"),
        (dict(good, port=70000), "\"port\""),
        (dict(good, nope=1), "unknown key"),
        (dict(good, headers={"Host": "x"}), "\"host\""),
        (dict(good, method="GE T"), "HTTP token"),
        (dict(good, headers={"X": 5}), "must be a string"),
    ]
    for body, needle in cases:
        r = ask(h, body)
        assert r.status == 400, (body, r.status, r.body)
        err = json.loads(r.body)["error"]
        assert needle in err, (body, err)
    # oversize: 413, nothing simulated
    r = ask(h, json.dumps(dict(good, query="q=" + "a" * 70000)))
    assert r.status == 413 and "larger than" in json.loads(r.body)["error"]
    r = ask(h, "".join(json.dumps(good) + "\n" for _ in range(1001)),
            ctype="application/x-ndjson")
    assert r.status == 413 and "at most 1000" in json.loads(r.body)["error"]
    # a batch: the bad line alone gets an error line
    r = ask(h, json.dumps(good) + "\n{bad\n" + json.dumps(dict(good, path="x"))
            + "\n" + json.dumps(good) + "\n", ctype="application/x-ndjson")
    lines = [json.loads(l) for l in r.body.decode().splitlines()]
    assert r.status == 200 and len(lines) == 4
    assert lines[0]["verdict"] == "allowed" and lines[3]["verdict"] == "allowed"
    assert "malformed JSON" in lines[1]["error"]
    assert "must start" in lines[2]["error"]
    # content type, method, trust
    assert ask(h, good, ctype="text/plain").status == 415
    assert ask(h, good, method="GET", ctype=None).status == 405
    r = ask(h, good, method="PUT")
    assert r.status == 405 and r.header("Allow") and "POST" in r.header("Allow")
    r = ask(h, good, source="127.0.0.2")    # Require local passes, trust not
    assert r.status == 403 and b"verdict" not in r.body


# -- samples of the differential generators --------------------------------------

def test_rewrite_differential_sample():
    import test_rewrite_diff as rd
    rnd = random.Random(rd.SEED)
    gen = rd.Gen(rnd)
    text, vh_opts, vh_rules, htaccess, cases = rd.build_round(rnd, gen, 0)
    h = rd.start_server(True, text + WHATIF_CONF, vh_opts, vh_rules, htaccess)
    try:
        order = list(cases)
        random.Random(5).shuffle(order)
        checked = n403 = 0
        for c in order:
            if checked >= DIFF_N and n403 >= DIFF_N // 2:
                break
            port = h.port2 if c["vhost"] else h.port
            target = c["path"] + ("?" + c["query"] if c["query"] else "")
            hdrs = {}
            if c["referer"]:
                hdrs["Referer"] = c["referer"]
            if c["agent"]:
                hdrs["User-Agent"] = c["agent"]
            status, e = real(h, target, headers=hdrs, port=port)
            if status != 403 and checked - n403 >= DIFF_N // 2:
                continue            # keep the sample rich in 403s
            p = {"path": c["path"], "host": "127.0.0.1", "port": port,
                 "client_ip": "127.0.0.1", "headers": hdrs}
            if c["query"]:
                p["query"] = c["query"]
            same_as_real(status, e, probe(h, p), c)
            checked += 1
            n403 += status == 403
        assert checked >= DIFF_N and n403 >= DIFF_N // 3, (checked, n403)
    finally:
        h.cleanup()


def test_authz_differential_sample():
    import test_authz_diff as ad
    rng = random.Random(ad.SEED)
    # enough trees for DIFF_N checked requests (~6 each; 12 at the default)
    cases = [ad.Case(rng, i) for i in range(max(12, DIFF_N // 5))]
    h = harness.Httpd("wi-azdiff")
    h.conf("ForbiddenExplainRedact expr-literals wire")
    ad.write_site(h, cases)
    h.conf(WHATIF_CONF)
    for who, flag in (("alice", "-c"), ("bob", None)):
        subprocess.run(["/usr/bin/htpasswd", "-b"] + ([flag] if flag else [])
                       + ["-B", "-C", "4", os.path.join(h.conf_dir, "htpasswd"),
                          who, "pw"], check=True, capture_output=True)
    h.start()
    try:
        checked = n403 = allowed = 0
        for c in cases:
            for req in c.requests:
                if req["user"] == "bad" or checked >= 3 * DIFF_N:
                    continue        # a wrong password is authentication
                uri = "/%s/x.txt" % c.name
                status, client = ad.send(h, uri, req)
                e = None
                if status == 403:
                    deadline = time.time() + 3
                    while e is None and time.time() < deadline:
                        time.sleep(0.03)
                        e = ad.entries(h).get(client)
                p = {"method": req["method"], "path": uri, "host": "127.0.0.1",
                     "port": h.port, "client_ip": req["source"], "headers": {}}
                if req["query"]:
                    p["query"] = req["query"]
                if req["e1"]:
                    p["headers"]["X-E1"] = "yes"
                if req["e2"]:
                    p["headers"]["X-E2"] = "yes"
                if req["user"]:
                    p["user"] = req["user"]
                ans = probe(h, p)
                same_as_real(status, e, ans, (c.name, req))
                if status == 200:
                    allowed += 1
                    assert ans["granted_by"]["directive"].startswith("Require"), ans
                checked += 1
                n403 += status == 403
        assert checked >= DIFF_N and n403 >= 5 and allowed >= 3, (
            checked, n403, allowed)
    finally:
        h.cleanup()


# -- the command-line client -------------------------------------------------------

def can_i(h, *args, env=None):
    tool = os.path.join(os.path.dirname(__file__), "..", "tools", "fx-can-i")
    e = dict(os.environ, FX_WHATIF_URL="http://127.0.0.1:%d/.fx-whatif" % h.port)
    e.update(env or {})
    p = subprocess.run(["/usr/bin/python3", tool] + list(args),
                       capture_output=True, text=True, env=e, timeout=60)
    return p.returncode, p.stdout + p.stderr


def test_fx_can_i(site, tmp_path):
    h = site
    base = "http://127.0.0.1:%d" % h.port
    rc, out = can_i(h, "--as", "127.0.0.2", "GET", base + "/ipdeny/x.txt")
    assert rc == 1, out
    line = h.conf_line_of("    Require ip 127.0.0.1")
    assert "DENIED 403" in out
    assert "rule:   Require ip 127.0.0.1 (%s:%d)" % (h.conf_file, line) in out
    assert "hint:" in out and "127.0.0.2" in out
    rc, out = can_i(h, "--as", "127.0.0.1", "GET", base + "/ipdeny/x.txt")
    assert rc == 0, out
    assert "ALLOWED 200" in out
    assert "granted by: Require ip 127.0.0.1 (%s:%d)" % (h.conf_file, line) in out
    rc, out = can_i(h, "--as", "127.0.0.1", "-H", "Referer: http://evil.example/",
                    "GET", base + "/hot/x.txt")
    assert rc == 1 and "RewriteRule ^/hot/ - [F]" in out, out
    rc, out = can_i(h, "--as", "127.0.0.1", "--user", "bob", "--json", "GET",
                    base + "/private/x.txt")
    assert rc == 1, out
    assert json.loads(out)["entry"]["directive"] == "Require user alice"
    rc, out = can_i(h, "--as", "nowhere", "GET", base + "/x")
    assert rc == 2 and "not a numeric" in out, out
    f = tmp_path / "probes.jsonl"
    f.write_text("\n".join(json.dumps(p) for p in [
        {"path": "/open.txt", "host": "127.0.0.1", "port": h.port,
         "client_ip": "127.0.0.1"},
        {"path": "/compat/x.txt", "host": "127.0.0.1", "port": h.port,
         "client_ip": "127.0.0.2"}]) + "\n")
    rc, out = can_i(h, "--batch", str(f))
    assert rc == 1, out
    assert "probe 1: ALLOWED 200" in out and "probe 2: DENIED 403" in out
    assert "Deny from 127.0.0.2" in out
    # the endpoint refuses: an error, not a verdict
    rc, out = can_i(h, "GET", base + "/open.txt",
                    env={"FX_WHATIF_URL": base + "/open.txt"})
    assert rc == 2, out


def test_rewritemap_prg_is_not_simulated():
    """A virtual host with a RewriteMap prg: is refused (the program would
    be written to); the main server without one is simulated."""
    h = harness.Httpd("wi-prg")
    port2 = harness.free_port()
    h.write("htdocs/x.txt", "x\n")
    h.conf(WHATIF_CONF)
    h.conf("""
Listen 127.0.0.1:%d
<VirtualHost 127.0.0.1:%d>
    ServerName prg.example
    DocumentRoot "{docroot}"
    RewriteEngine On
    RewriteMap echo "prg:/bin/cat"
    RewriteRule ^/m/(.*) ${{echo:$1}}
</VirtualHost>
""" % (port2, port2))
    h.start()
    try:
        a = probe(h, {"path": "/m/x.txt", "host": "prg.example", "port": port2,
                      "client_ip": "127.0.0.1"})
        assert a["verdict"] == "error", a
        assert "RewriteMap echo is a prg: map (%s:%d)" % (
            h.conf_file, h.conf_line_of("RewriteMap echo")) in a["error"], a
        a = probe(h, {"path": "/x.txt", "host": "127.0.0.1", "port": h.port,
                      "client_ip": "127.0.0.1"})
        assert a["verdict"] == "allowed", a
    finally:
        h.cleanup()


def test_modsecurity_rules_match_real_requests():
    """ModSecurity's phases 1 (post_read_request) and 2 (fixups) run for
    the probe: its denials equal real ones, and its "Access denied" lines
    go nowhere for the probe."""
    h = harness.Httpd("wi-waf", extra_modules=["unique_id", "security2"])
    h.conf("SecRuleEngine On")
    h.conf("SecTmpDir {root}/logs")
    h.conf("SecDataDir {root}/logs")
    h.conf("SecAuditEngine Off")
    h.body += ("SecRule ARGS:test \"@streq attack\" "
               "\"id:10001,phase:2,deny,status:403,msg:'test rule'\"\n"
               "SecRule REQUEST_HEADERS:X-Evil \"@streq 1\" "
               "\"id:10002,phase:1,deny,status:403,msg:'evil header'\"\n")
    h.conf(WHATIF_CONF)
    h.write("htdocs/app/page.html", "page")
    h.start()
    try:
        base = {"host": "127.0.0.1", "port": h.port, "client_ip": "127.0.0.1"}
        cases = [("/app/page.html?test=attack", {},
                  dict(base, path="/app/page.html", query="test=attack")),
                 ("/app/other", {"X-Evil": "1"},
                  dict(base, path="/app/other", headers={"X-Evil": "1"})),
                 ("/app/page.html?test=fine", {},
                  dict(base, path="/app/page.html", query="test=fine"))]
        for target, hdrs, p in cases:
            status, e = real(h, target, headers=hdrs)
            with open(h.error_log, "rb") as f:
                before = f.read()
            ans = probe(h, p)
            same_as_real(status, e, ans, target)
            if status == 403:
                assert ans["entry"]["waf_rule_id"] == decode(e["waf_rule_id"])
            with open(h.error_log, "rb") as f:
                assert f.read() == before
    finally:
        h.cleanup()


def test_internal_redirect_keeps_the_query_string():
    """mod_rewrite's redirect-handler hands the rewritten query on to the
    request it redirects to: a rule of the second pass that tests it sees
    it in the simulator too (FX_DIFF_SEED=2718 found this)."""
    h = harness.Httpd("wi-qsa")
    h.write("htdocs/q/a.txt", "a\n")
    h.write("htdocs/q/b.txt", "b\n")
    h.write("htdocs/q/.htaccess", "RewriteEngine On\n"
            "RewriteCond %{QUERY_STRING} ^x=1$\n"
            "RewriteRule ^a\\.txt$ b.txt [QSA,L]\n"
            "RewriteCond %{QUERY_STRING} ^x=1$\n"
            "RewriteRule ^b\\.txt$ - [F]\n")
    h.conf('<Directory "{docroot}/q">\n    AllowOverride FileInfo\n</Directory>\n')
    h.conf(WHATIF_CONF)
    h.start()
    try:
        status, e = real(h, "/q/a.txt?x=1")
        assert status == 403
        ans = probe(h, {"path": "/q/a.txt", "query": "x=1",
                        "client_ip": "127.0.0.1"})
        same_as_real(status, e, ans, "a.txt?x=1")
        assert ans["internal_redirect"] == "/q/b.txt"   # the second pass
        assert decode(ans["entry"]["directive"]) == "RewriteRule ^b\\.txt$ - [F]"
    finally:
        h.cleanup()
