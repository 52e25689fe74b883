"""test_output.py — what the module writes, read by the tools that read it.

* Entries keep what identifies them: the reported case (a 20-line
  `RewriteCond %{HTTP_USER_AGENT} (...|...) [NC,OR]` block list in front of
  `RewriteRule ^ - [F]`, in an included file with a long path) keeps file,
  directive, line and request_id whole in every document, the deciding
  condition in its list, and names every shortened key in "truncated".
* Standard JSON where httpd does not escape: ForbiddenExplainLog lines and
  problem+json bodies with hostile bytes in the URI and the User-Agent are
  read by jq and by Python's strict json with no decoding step, and give the
  exact text back (U+FFFD for invalid UTF-8, docs/wire.md); the error log
  keeps the %HH encoding, exact bytes included.
"""
import json
import os
import subprocess
import time
from urllib.parse import unquote_to_bytes

import pytest

import harness
from harness import decode, field
from sf8941 import parse_dictionary, plain

TRUSTED = {"Accept": "application/problem+json"}

# -- the reported case ----------------------------------------------------

N_CONDS = 20
HIT = 14                    # the condition the User-Agent matches (0-based)


def blocklist_words(i):
    return ["crawler%02d%s" % (i, c) for c in "abcdefghijklmnopqrstuvwxyz"]


def blocklist():
    lines = ["RewriteEngine On"]
    for i in range(N_CONDS):
        flags = "[NC,OR]" if i < N_CONDS - 1 else "[NC]"
        lines.append("RewriteCond %%{HTTP_USER_AGENT} (%s) %s"
                     % ("|".join(blocklist_words(i)), flags))
    lines.append("RewriteRule ^ - [F]")
    return "\n".join(lines) + "\n"


LONG_DIR = "conf/" + "/".join(["sites-available-for-the-blocklist-%d" % i
                               for i in range(4)])
UA = "Mozilla/5.0 (compatible; %s/2.1)" % blocklist_words(HIT)[7]


@pytest.fixture(scope="module")
def bl():
    h = harness.Httpd(name="blocklist")
    inc = os.path.join(h.root, LONG_DIR, "bot-blocklist.conf")
    os.makedirs(os.path.dirname(inc))
    with open(inc, "w") as f:
        f.write(blocklist())
    h.blocklist_file = inc
    h.conf("ForbiddenExplainRequestId On")
    h.conf("ForbiddenExplainHeaders On")
    h.conf("ForbiddenExplainLog logs/own.json")
    h.conf("Include %s" % inc)
    h.write("htdocs/x.html", "x")
    h.start()
    yield h
    h.cleanup()


def own_log_lines(h, n, timeout=5):
    path = os.path.join(h.logs, "own.json")
    deadline = time.time() + timeout
    lines = []
    while True:
        if os.path.exists(path):
            with open(path, "rb") as f:
                lines = f.read().splitlines()
            if len(lines) >= n:
                break
        if time.time() >= deadline:
            break
        time.sleep(0.1)
    return lines


def check_identity(doc, h, rid, decoded):
    """The pinned keys whole, whatever the document (decoded: its strings
    are already plain text)."""
    get = (lambda k: doc.get(k)) if decoded else (lambda k: field(doc, k))
    assert get("file") == h.blocklist_file
    assert get("directive") == "RewriteRule ^ - [F]"
    assert get("line") == N_CONDS + 2
    assert get("request_id") == rid
    assert get("client_ip") == "127.0.0.1"
    assert get("module") == "mod_rewrite.c"
    assert get("reason") == "rewrite"


def check_conditions(doc, decoded):
    """The deciding condition is kept; what was left out is counted and
    the list is named in truncated; every shortened key is in truncated."""
    conds = doc.get("conditions")
    trunc = doc.get("truncated", [])
    assert conds is not None, doc
    get = (lambda c, k: c[k]) if decoded else (lambda c, k: decode(c[k]))
    hit = [c for c in conds if c["result"] is True]
    assert len(hit) == 1, conds
    assert "crawler%02da" % HIT in get(hit[0], "directive")
    assert get(hit[0], "tested") == UA
    omitted = doc.get("conditions_omitted", 0)
    assert len(conds) + omitted == HIT + 1     # what mod_rewrite evaluated
    if omitted or any(not get(c, "directive").endswith(("[NC,OR]", "[NC]"))
                      for c in conds):
        assert "conditions" in trunc, doc


def test_blocklist_entry_keeps_what_identifies_it(bl):
    """The reported failure: file cut to 16 characters, directive cut,
    request_id cut (no longer the header's), conditions dropped without
    being listed in truncated.  Now: all whole, in all three documents."""
    r = bl.request("/x.html", headers={"User-Agent": UA})
    assert r.status == 403
    rid = r.header("Forbidden-Explain-Id")
    assert rid
    e = harness.one_entry(bl, "/x.html")
    line = [l for l in bl.read_error_log().splitlines()
            if "[forbidden_explain:" in l][-1]
    assert len(line) < 8192
    check_identity(e, bl, rid, decoded=False)
    check_conditions(e, decoded=False)
    assert field(e, "detail").startswith("This RewriteRule matched")
    assert "detail" not in e.get("truncated", [])

    # the header: an RFC 8941 Dictionary, its identifying members whole
    d = plain(parse_dictionary(r.header("Forbidden-Explain")))
    assert decode(d["at"]) == "%s:%d" % (bl.blocklist_file, N_CONDS + 2)
    assert decode(d["directive"]) == "RewriteRule ^ - [F]"
    assert d["id"] == rid

    own = json.loads(own_log_lines(bl, 1)[-1])
    check_identity(own, bl, rid, decoded=True)
    check_conditions(own, decoded=True)

    r = bl.request("/x.html", headers=dict(TRUSTED, **{"User-Agent": UA}))
    assert r.status == 403
    doc, rest = harness.strict_json(r.body.decode("utf-8"))
    assert rest == ""
    check_identity(doc, bl, r.header("Forbidden-Explain-Id"), decoded=True)
    check_conditions(doc, decoded=True)


def test_blocklist_small_budget_lists_every_cut(bl):
    """The own log's 4000-byte budget with 300-byte conditions: the list is
    shortened (its deciding item kept, the rest counted), never silently."""
    long_ua = UA + " " + "p" * 1500
    before = len(own_log_lines(bl, 0, timeout=0))
    r = bl.request("/x.html", headers={"User-Agent": long_ua})
    assert r.status == 403
    lines = own_log_lines(bl, before + 1)
    assert len(lines) == before + 1
    assert len(lines[-1]) <= 4000
    doc = json.loads(lines[-1])
    check_identity(doc, bl, r.header("Forbidden-Explain-Id"), decoded=True)
    conds = doc["conditions"]
    assert "conditions" in doc["truncated"]
    assert len(conds) + doc.get("conditions_omitted", 0) == HIT + 1
    assert [c for c in conds if c["result"] is True], conds


# -- hostile bytes, standard JSON ------------------------------------------

# (raw request target, User-Agent bytes)
HOSTILE = [
    (b"/deny/q%22uote%5Cback%5c%5C", b'ua "quoted" \\back\\'),
    (b"/deny/ctl%01%07%08%09%0a%0d%1b%7f", b"ua\ttab"),
    (b"/deny/bad%ff%fe%c3%28%e2%82%ed%a0%80%c0%af", b"ua \xff\xfe \xc3( \xe2\x82"),
    (b"/deny/caf%c3%a9-%e6%97%a5%e6%9c%ac-%f0%9f%98%80",
     "ua café 日本 😀".encode("utf-8")),
    (b"/deny/mix%22%5c%c3%a9%0a%ff%25%2541", "ua \"\\é\xff".encode("utf-8") + b"\xff"),
]


@pytest.fixture(scope="module")
def hs():
    h = harness.Httpd(name="outenc")
    h.conf("ForbiddenExplainHeaders On")
    h.conf("ForbiddenExplainLog logs/own.json")
    h.conf('<Directory "{docroot}/deny">\n'
           '    RewriteEngine On\n'
           '    RewriteCond %{{HTTP_USER_AGENT}} ^ua\n'
           '    RewriteRule ^ - [F]\n'
           '</Directory>')
    h.write("htdocs/deny/x", "x")
    h.start()
    yield h
    h.cleanup()


def jq(data, prog):
    """jq reads data (bytes) and prints the result of prog, raw."""
    out = subprocess.run(["jq", "-j", prog], input=data, capture_output=True,
                         check=True)
    return out.stdout


def expected_text(raw):
    """What a standard-JSON string holds for these bytes (docs/wire.md:
    U+FFFD for each maximal ill-formed subpart, as Python's "replace")."""
    return raw.decode("utf-8", "replace")


def test_own_log_and_problem_json_read_by_jq_and_strict_json(hs):
    before = len(own_log_lines(hs, 0, timeout=0))
    sent = []
    for target, ua in HOSTILE:
        r = hs.request(None, raw_target=target,
                       headers=dict(TRUSTED, **{"User-Agent": ua}))
        assert r.status == 403, (target, r.status)
        sent.append((unquote_to_bytes(target), ua, r))
    lines = own_log_lines(hs, before + len(sent))[before:]
    assert len(lines) == len(sent)

    for line, (uri, ua, resp) in zip(lines, sent):
        for data in (line, resp.body):
            # strict UTF-8, no raw control byte, one strict JSON object
            text = data.decode("utf-8")
            assert all(ord(c) >= 0x20 and c != "\x7f" for c in text)
            doc, rest = harness.strict_json(text)
            assert rest == ""
            assert doc["uri"] == expected_text(uri)
            tested = doc["conditions"][0]["tested"]
            assert tested == expected_text(ua)
            # jq, with no decoding step, gives the same text
            assert jq(data, ".uri") == expected_text(uri).encode("utf-8")
            assert jq(data, ".conditions[0].tested") == \
                expected_text(ua).encode("utf-8")
            assert jq(data, ".status") == b"403"
        # valid UTF-8 comes back exactly, invalid bytes as U+FFFD only
        if uri.decode("utf-8", "ignore").encode() == uri:
            assert "\ufffd" not in doc["uri"]
        else:
            assert "\ufffd" in doc["uri"]


def test_error_log_keeps_exact_bytes_in_hh(hs):
    """The error log's encoding is unchanged: printable ASCII, no
    backslash, and percent-decoding gives the exact bytes, invalid UTF-8
    included."""
    for target, ua in HOSTILE:
        r = hs.request(None, raw_target=target, headers={"User-Agent": ua})
        assert r.status == 403
    lines = [l for l in hs.read_error_log().splitlines()
             if "[forbidden_explain:" in l][-len(HOSTILE):]
    for line, (target, ua) in zip(lines, HOSTILE):
        obj, rest = harness.strict_json(line[line.index("{"):])
        assert all(0x20 <= ord(c) < 0x7f and c != "\\"
                   for c in line[line.index("{"):])
        assert unquote_to_bytes(obj["uri"]) == unquote_to_bytes(target)
        assert unquote_to_bytes(obj["conditions"][0]["tested"]) == ua
