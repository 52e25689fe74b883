"""test_whatif_redirect.py — the what-if simulator answers the status httpd
sends when a RewriteRule [R] is overridden by a later rule (issue 15; the
rewrite differential found it with FX_DIFF_SEED=8080 FX_WHATIF_DIFF=80,
case /t23/a/b/y.txt).

mod_rewrite's [R] sets r->status to 302 as soon as its rule matches and
makes r->filename an absolute URL; without [L] the next rule still runs on
that URL, and when it turns it back into a local path the redirect branch
of the per-directory fixup is never reached: no Location is set, and (the
path being the one the pass started with) "initial URL equal rewritten URL
[IGNORING REWRITE]" returns OK with r->status still 302.  The default
handler then serves the file with that status.  An internal redirect
carries the status over (internal_internal_redirect copies r->status), and
a later pass that fails while carrying it is taken by ap_die for a
recursive error: httpd answers with the earlier pass's 302 and its canned
page.  Each case here is a real request and the simulator's answer for
it, on one server.

  FX_WHATIF_DIFF_ROUNDS=N  also run N whole rounds (540 cases each, ~5 s a
                           round) of the rewrite differential's generator
                           with seed FX_DIFF_SEED: every case, not the
                           403-rich sample of test_whatif.py, real request
                           vs simulator (status, verdict, entry, Location);
                           all mismatches are listed.  Off by default.
"""
import json
import os
import random

import pytest

import harness
from harness import decode

WHATIF_CONF = """
<Location "/.fx-whatif">
    SetHandler forbidden-explain-whatif
    Require local
    ForbiddenExplainTrustedClients 127.0.0.1
</Location>
"""

HTACCESS = {
    # the minimised case: [R], then a rule that maps the URL back to the
    # file the pass started with
    "same": "RewriteEngine On\n"
            "RewriteRule ^x\\.txt$ y.txt [R]\n"
            "RewriteRule . x.txt\n",
    # [R], then a rule to another file: the internal redirect carries 302
    "other": "RewriteEngine On\n"
             "RewriteRule ^x\\.txt$ z.txt [R]\n"
             "RewriteRule z\\.txt$ y.txt [L]\n",
    # as "other", the second pass denied by Require: httpd answers 302
    "denied": "RewriteEngine On\n"
              "RewriteRule ^x\\.txt$ z.txt [R]\n"
              "RewriteRule z\\.txt$ y.txt [L]\n"
              "<Files y.txt>\n    Require all denied\n</Files>\n",
    # as "other", the second pass answered by [F]: mod_rewrite resets
    # r->status before returning 403, so httpd answers 403
    "forbid": "RewriteEngine On\n"
              "RewriteRule ^x\\.txt$ z.txt [R]\n"
              "RewriteRule z\\.txt$ y.txt [L]\n"
              "RewriteRule ^y\\.txt$ - [F]\n",
}


@pytest.fixture(scope="module")
def site():
    h = harness.Httpd("wi-redir")
    for d, text in HTACCESS.items():
        h.write("htdocs/%s/x.txt" % d, "%s x\n" % d)
        h.write("htdocs/%s/y.txt" % d, "%s y\n" % d)
        h.write("htdocs/%s/.htaccess" % d, text)
    h.conf('<Directory "{docroot}">\n    AllowOverride FileInfo AuthConfig\n'
           '</Directory>\n')
    # internal_internal_redirect runs post_read_request again: SetEnvIf
    # sets flag anew for the second pass (FX_DIFF_SEED=99 found this)
    h.write("htdocs/env/x.txt", "env x\n")
    h.write("htdocs/env/y.txt", "env y\n")
    h.conf("SetEnvIf User-Agent zgrab flag=1\n"
           "RewriteEngine On\n"
           "RewriteCond %{{ENV:flag}} !=1\n"
           "RewriteRule ^/env/y\\.txt$ - [F]\n"
           '<Directory "{docroot}/env">\n    RewriteEngine On\n'
           "    RewriteRule ^x\\.txt$ y.txt\n</Directory>\n")
    # ap_die's custom response: a URL makes the 403 a 302 with Location,
    # a local page keeps the 403
    for d, doc in (("errurl", "http://errors.example/denied"),
                   ("errpage", "/page.html")):
        h.write("htdocs/%s/x.txt" % d, "%s x\n" % d)
        h.conf('<Directory "{docroot}/%s">\n    ErrorDocument 403 %s\n'
               '    Require all denied\n</Directory>\n' % (d, doc))
    h.write("htdocs/page.html", "sorry\n")
    # a server-context [R] whose URL no later rule matches: a real redirect
    h.conf("RewriteEngine On\n"
           "RewriteRule ^/plain/x\\.txt$ /plain/y.txt [R]\n"
           "RewriteRule ^/plain/(.*) /same/$1\n")
    h.conf(WHATIF_CONF)
    h.start()
    yield h
    h.cleanup()


def probe(h, path, headers=None):
    r = h.request("/.fx-whatif", method="POST",
                  body=json.dumps({"path": path, "host": "127.0.0.1",
                                   "port": h.port, "headers": headers or {},
                                   "client_ip": "127.0.0.1"}).encode(),
                  headers={"Content-Type": "application/json"})
    assert r.status == 200, (r.status, r.body)
    obj, rest = harness.strict_json(r.body.decode())
    assert rest.strip() == ""
    return obj


def notes(ans):
    return " | ".join(ans.get("notes", []))


def test_redirect_overridden_in_the_same_pass(site):
    h = site
    r = h.request("/same/x.txt")
    # httpd: 302, no Location, the file as the body
    assert r.status == 302 and r.header("Location") is None, r.raw[:300]
    assert r.body == b"same x\n"
    a = probe(h, "/same/x.txt")
    assert a["status"] == 302 and a["verdict"] == "allowed", a
    assert a["location"] is None, a
    assert "decided_status" not in a and "internal_redirect" not in a, a
    assert a["filename"].endswith("/same/x.txt"), a
    assert a["granted_by"]["directive"] == "Require all granted", a
    assert "left status 302" in notes(a), a
    assert "without a Location header" in notes(a), a


def test_redirect_status_carried_by_the_internal_redirect(site):
    h = site
    r = h.request("/other/x.txt")
    assert r.status == 302 and r.header("Location") is None, r.raw[:300]
    assert r.body == b"other y\n"
    a = probe(h, "/other/x.txt")
    assert a["status"] == 302 and a["verdict"] == "allowed", a
    assert a["location"] is None, a
    assert a["internal_redirect"] == "/other/y.txt", a
    assert "carried over by the internal redirect" in notes(a), a


def test_denied_pass_answered_with_the_carried_302(site):
    h = site
    before = len(h.entries_for("/denied/x.txt"))
    r = h.request("/denied/x.txt")
    assert r.status == 302 and r.header("Location") is None, r.raw[:300]
    assert b"302 Found" in r.body and b"denied y" not in r.body
    real = h.entries_for("/denied/x.txt")[before:]
    a = probe(h, "/denied/x.txt")
    # what the client gets, and that nothing is served
    assert a["status"] == 302 and a["decided_status"] == 403, a
    assert a["verdict"] == "denied" and a["location"] is None, a
    assert "recursive error" in notes(a), a
    # the entry is the one the real request logged
    assert len(real) == 1, real
    for k in ("reason", "module", "directive", "file", "line"):
        want = real[0].get(k)
        assert a["entry"].get(k) == (decode(want) if isinstance(want, str)
                                     else want), (k, real[0], a["entry"])
    assert a["entry"]["directive"] == "Require all denied"


def test_rewrite_forbidden_in_the_second_pass_is_a_403(site):
    h = site
    r = h.request("/forbid/x.txt")
    assert r.status == 403, r.raw[:300]
    a = probe(h, "/forbid/x.txt")
    assert a["status"] == 403 and a["verdict"] == "denied", a
    assert "decided_status" not in a, a
    assert a["entry"]["directive"] == "RewriteRule ^y\\.txt$ - [F]", a


def test_a_redirect_no_later_rule_overrides_keeps_its_location(site):
    h = site
    r = h.request("/plain/x.txt")
    loc = "http://127.0.0.1:%d/plain/y.txt" % h.port
    assert r.status == 302 and r.header("Location") == loc, r.raw[:300]
    a = probe(h, "/plain/x.txt")
    assert a["status"] == 302 and a["location"] == loc, a
    assert "left status" not in notes(a), a


def test_second_pass_sees_setenvif_again(site):
    h = site
    for agent, status in (("zgrab/0.1", 200), ("Mozilla/5.0", 403)):
        r = h.request("/env/x.txt", headers={"User-Agent": agent})
        assert r.status == status, (agent, r.raw[:300])
        assert status != 200 or r.body == b"env y\n"
        a = probe(h, "/env/x.txt", {"User-Agent": agent})
        assert a["status"] == status, (agent, a)
        assert a["internal_redirect"] == "/env/y.txt", a
    assert a["entry"]["directive"] == "RewriteRule ^/env/y\\.txt$ - [F]", a


@pytest.mark.skipif(not os.environ.get("FX_WHATIF_DIFF_ROUNDS"),
                    reason="FX_WHATIF_DIFF_ROUNDS not set")
def test_rewrite_differential_full_rounds():
    import test_rewrite_diff as rd
    import test_whatif as tw
    rounds = int(os.environ["FX_WHATIF_DIFF_ROUNDS"])
    rnd = random.Random(rd.SEED)
    gen = rd.Gen(rnd)
    bad, total = [], 0
    for rno in range(rounds):
        text, vh_opts, vh_rules, htaccess, cases = rd.build_round(
            rnd, gen, rno * rd.TREES_PER_ROUND)
        h = rd.start_server(True, text + WHATIF_CONF, vh_opts, vh_rules,
                            htaccess)
        try:
            for c in cases:
                port = h.port2 if c["vhost"] else h.port
                target = c["path"] + ("?" + c["query"] if c["query"] else "")
                hdrs = {}
                if c["referer"]:
                    hdrs["Referer"] = c["referer"]
                if c["agent"]:
                    hdrs["User-Agent"] = c["agent"]
                status, e = tw.real(h, target, headers=hdrs, port=port)
                loc = None
                if 300 <= status < 400:
                    keep, h.port = h.port, port
                    try:
                        loc = h.request(target, headers=hdrs).header("Location")
                    finally:
                        h.port = keep
                p = {"path": c["path"], "host": "127.0.0.1", "port": port,
                     "client_ip": "127.0.0.1", "headers": hdrs}
                if c["query"]:
                    p["query"] = c["query"]
                ans = tw.probe(h, p)
                total += 1
                try:
                    tw.same_as_real(status, e, ans, c)
                    if 300 <= status < 400:
                        assert ans.get("location") == loc, (loc, ans)
                except AssertionError as ex:
                    bad.append((rno, c["path"], c["query"], c["referer"],
                                c["agent"], c["vhost"], status, loc,
                                str(ex)[:400]))
        finally:
            h.cleanup()
    assert not bad, (rd.SEED, total, bad)


def test_error_document_url_turns_the_403_into_a_302(site):
    h = site
    r = h.request("/errurl/x.txt")
    assert r.status == 302, r.raw[:300]
    assert r.header("Location") == "http://errors.example/denied"
    a = probe(h, "/errurl/x.txt")
    assert a["status"] == 302 and a["decided_status"] == 403, a
    assert a["verdict"] == "denied", a
    assert a["location"] == "http://errors.example/denied", a
    assert a["entry"]["directive"] == "Require all denied", a
    assert "ErrorDocument" in notes(a), a
    # a local ErrorDocument is served with the 403
    r = h.request("/errpage/x.txt")
    assert r.status == 403 and r.body == b"sorry\n", r.raw[:300]
    a = probe(h, "/errpage/x.txt")
    assert a["status"] == 403 and "decided_status" not in a, a
    assert "location" not in a, a


def test_fx_can_i_says_what_was_decided(site):
    import subprocess
    h = site
    tool = os.path.join(os.path.dirname(__file__), "..", "tools", "fx-can-i")
    env = dict(os.environ,
               FX_WHATIF_URL="http://127.0.0.1:%d/.fx-whatif" % h.port)
    base = "http://127.0.0.1:%d" % h.port
    for path, rc, head in (("/denied/x.txt", 1, "DENIED 302 (decided 403)"),
                           ("/errurl/x.txt", 1, "DENIED 302 (decided 403)"),
                           ("/same/x.txt", 0, "ALLOWED 302")):
        p = subprocess.run(["/usr/bin/python3", tool, "--as", "127.0.0.1",
                            "GET", base + path], capture_output=True,
                           text=True, env=env, timeout=60)
        assert p.returncode == rc, (path, p.stdout, p.stderr)
        assert p.stdout.splitlines()[0] == head, (path, p.stdout)
        if path == "/errurl/x.txt":
            assert "redirects to: http://errors.example/denied" in p.stdout
