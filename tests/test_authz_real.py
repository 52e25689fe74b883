"""test_authz_real.py — Require trees from real rule sets (issue 12): the
small Bad Bot Blocker-shaped tree of the issue, and the Apache Ultimate Bad
Bot Blocker itself (tests/data/third_party/bad-bot-blocker, used as shipped:
Include'd in a <Directory>, as its README says).

Each entry must name the rule whose effect denied (not the alternatives
that merely did not grant), list every responsible rule, say which
BrowserMatchNoCase / SetEnvIfNoCase line set the variable from which header
value, and count exactly the provider calls httpd logged (AH01626)."""
import os
import re
import shutil

import pytest

import harness

DATA = os.path.join(os.path.dirname(__file__), "data", "third_party",
                    "bad-bot-blocker")
BLOCKER_FILES = ["globalblacklist", "blacklist-user-agents",
                 "whitelist-domains", "bad-referrer-words", "blacklist-ips",
                 "whitelist-ips"]

SMALL = '''
BrowserMatchNoCase "zgrab" bad_bot
<Directory "{docroot}/small">
  <RequireAny>
    <RequireAll>
      Require all granted
      Require not env bad_bot
    </RequireAll>
    <RequireAny>
      Require env good_bot
      Require ip 66.249.64.0/19
    </RequireAny>
  </RequireAny>
</Directory>
<Directory "{docroot}/bb">
    Include custom.d/globalblacklist.conf
</Directory>
LogLevel authz_core:debug
'''

ZGRAB = {"User-Agent": "zgrab/0.x"}
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) "
                         "Gecko/20100101 Firefox/120.0"}
SPAM = {"User-Agent": BROWSER["User-Agent"],
        "Referer": "http://www.esopini.com/page"}

REQUESTS = [("/small/x.txt", ZGRAB), ("/small/x.txt", BROWSER),
            ("/bb/x.txt", ZGRAB), ("/bb/x.txt", BROWSER), ("/bb/x.txt", SPAM)]


def build(with_module):
    h = harness.Httpd("azreal", with_module=with_module)
    os.makedirs(os.path.join(h.root, "custom.d"))
    for f in BLOCKER_FILES:
        shutil.copy(os.path.join(DATA, f + ".conf"),
                    os.path.join(h.root, "custom.d", f + ".conf"))
    h.conf(SMALL)
    for d in ("small", "bb"):
        h.mkdir("htdocs/" + d)
        h.write("htdocs/%s/x.txt" % d, "x\n")
    return h.start()


@pytest.fixture(scope="module")
def srv():
    h = build(True)
    yield h
    h.cleanup()


d = harness.field


def blocker_line(needle):
    with open(os.path.join(DATA, "globalblacklist.conf")) as f:
        for i, line in enumerate(f, 1):
            if needle in line:
                return i
    raise AssertionError(needle)


def leaf_calls(log_text):
    """httpd's own count: AH01626 lines of Require leaves."""
    return len(re.findall(r"AH01626: authorization result of Require ", log_text))


def send(h, uri, headers):
    before = len(h.read_error_log())
    r, e = harness.response_and_entry(h, lambda: h.get(uri, headers=headers))
    return r, e, h.read_error_log()[before:]


def test_issue_tree_names_the_refusing_rule(srv):
    r, e, log = send(srv, "/small/x.txt", ZGRAB)
    assert r.status == 403
    l_any = srv.conf_line_of('<Directory "%s/small">' % srv.docroot) + 1
    assert d(e, "decided_by") == "rule"
    assert d(e, "directive") == "Require not env bad_bot"
    assert d(e, "file") == srv.conf_file and e["line"] == l_any + 3
    assert d(e, "section") == (
        '<Directory "%s/small"> (%s:%d) > <RequireAny> (:%d) > <RequireAll> '
        '(:%d)' % (srv.docroot, srv.conf_file, l_any - 1, l_any, l_any + 1))
    # every responsible rule, with its effect
    assert [(d(x, "directive"), x["line"], d(x, "effect"))
            for x in e["responsible"]] == [
        ("Require not env bad_bot", l_any + 3, "denied"),
        ("Require env good_bot", l_any + 6, "denied"),
        ("Require ip 66.249.64.0/19", l_any + 7, "denied")]
    # the alternatives are said to have not granted, not to have decided
    assert "did not grant either: `Require env good_bot`" in d(e, "detail")
    # where bad_bot came from: the BrowserMatchNoCase line, the header value
    src = e["env_source"]
    assert len(src) == 1
    assert d(src[0], "var") == "bad_bot"
    assert d(src[0], "directive") == 'BrowserMatchNoCase "zgrab" bad_bot'
    assert d(src[0], "file") == srv.conf_file
    assert src[0]["line"] == srv.conf_line_of('BrowserMatchNoCase "zgrab"')
    assert d(src[0], "attribute") == "User-Agent"
    assert d(src[0], "value") == "zgrab/0.x" and src[0]["matched"] is True
    assert e["trail_calls"] == leaf_calls(log) == 4
    # the trail says what httpd's AH01626 lines say, in order
    ours = [(d(t, "directive"), d(t, "effect") or d(t, "result"))
            for t in e["trail"]]
    theirs = re.findall(r"AH01626: authorization result of (Require [^:]*): "
                        r"(\w+)", log)
    assert ours == theirs


def test_issue_tree_browser_allowed(srv):
    r, e, _ = send(srv, "/small/x.txt", BROWSER)
    assert r.status == 200 and e is None


def test_blocker_bad_bot(srv):
    r, e, log = send(srv, "/bb/x.txt", ZGRAB)
    assert r.status == 403
    gbl = os.path.join(srv.root, "custom.d", "globalblacklist.conf")
    assert d(e, "directive") == "Require not env bad_bot"
    assert d(e, "file") == gbl
    assert e["line"] == blocker_line("Require not env bad_bot")
    assert d(e, "decided_by") == "rule"
    # no cap drops calls: every one httpd made is counted
    calls = leaf_calls(log)
    assert calls > 150
    assert e["trail_calls"] == calls
    assert len(e["trail"]) + e["trail_omitted"] == calls
    assert e["responsible_count"] == calls - 1   # all but "all granted"
    src = e["env_source"][0]
    assert d(src, "file") == gbl
    assert src["line"] == blocker_line('BrowserMatchNoCase "(?:\\b)zgrab(?:\\b)"')
    assert d(src, "value") == "zgrab/0.x"
    assert "bad_bot was set by `BrowserMatchNoCase" in d(e, "env_origin")


def test_blocker_spam_referrer(srv):
    r, e, log = send(srv, "/bb/x.txt", SPAM)
    assert r.status == 403
    assert d(e, "directive") == "Require not env spam_ref"
    assert e["line"] == blocker_line("Require not env spam_ref")
    src = e["env_source"][0]
    assert d(src, "attribute") == "Referer"
    assert d(src, "value") == SPAM["Referer"]
    assert src["line"] == blocker_line(r"Referer ~*esopini\.com spam_ref")
    assert e["trail_calls"] == leaf_calls(log)


def test_blocker_browser_allowed(srv):
    r, e, _ = send(srv, "/bb/x.txt", BROWSER)
    assert r.status == 200 and e is None


def test_statuses_identical_without_module(srv):
    stock = build(False)
    try:
        for uri, hdrs in REQUESTS:
            assert stock.get(uri, headers=hdrs).status == \
                srv.get(uri, headers=hdrs).status, (uri, hdrs)
    finally:
        stock.cleanup()
