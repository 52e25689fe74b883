"""test_rewrite_protect.py — which deliberate protection a RewriteRule [F]
is, decided by the conditions that decided (held, not negated, specific),
with real mod_rewrite in .htaccess files (fixups, so a fix on a plain file
is verified by the replay):

  * hotlink: the refusal is a negated Referer allow-list (plus !^$ and
    conditions on the file); the fix allows exactly the referring site;
  * a query-string filter whose last condition exempts a referer (iThemes
    Security's shape) is a query-filter, not hotlink;
  * a Referer pattern naming sites (6G's referrer blacklist) is a
    referrer-blacklist, not hotlink;
  * a query filter (Joomla's, MediaWiki's images/.htaccess) gets no fix:
    exempting its URL would let every other refused query reach it."""
import pytest

import harness
from harness import decode, field

HOT = (
    "RewriteEngine On\n"
    "RewriteCond %{REQUEST_FILENAME} -f\n"
    "RewriteCond %{HTTP_REFERER} !^$\n"
    "RewriteCond %{HTTP_REFERER} !^https?://(www\\.)?good\\.example/ [NC]\n"
    "RewriteRule \\.(png|jpe?g)$ - [F,NC]\n"
)
# the classic same-host test: TestString joins the host and the Referer
HOSTREF = (
    "RewriteEngine On\n"
    "RewriteCond %{HTTP_REFERER} !^$\n"
    "RewriteCond %{HTTP_HOST}@@%{HTTP_REFERER} !^([^@]*)@@https?://\\1/.*\n"
    "RewriteRule \\.png$ - [F]\n"
)
# the brief's minimal form of iThemes Security's rule (htaccess:52-72)
QF = (
    "RewriteEngine On\n"
    "RewriteCond %{QUERY_STRING} etc/passwd [NC]\n"
    "RewriteCond %{HTTP_REFERER} !^http://maps\\.googleapis\\.com(.*)$\n"
    "RewriteRule ^(.*)$ - [F,L]\n"
)
# 6G's [REFERRERS]
BL = (
    "RewriteEngine On\n"
    "RewriteCond %{HTTP_REFERER} ([a-z0-9]{2000,}) [NC,OR]\n"
    "RewriteCond %{HTTP_REFERER} (semalt.com|todaperfeita) [NC]\n"
    "RewriteRule .* - [F]\n"
)
# Joomla's exploit filter (htaccess.txt:65-73), shortened
JQ = (
    "RewriteEngine On\n"
    "RewriteCond %{QUERY_STRING} base64_encode[^(]*\\([^)]*\\) [OR]\n"
    "RewriteCond %{QUERY_STRING} GLOBALS(=|\\[|\\%[0-9A-Z]{0,2}) [OR]\n"
    "RewriteCond %{QUERY_STRING} _REQUEST(=|\\[|\\%[0-9A-Z]{0,2})\n"
    "RewriteRule .* index.php [F]\n"
)
# MediaWiki's images/.htaccess (bug 28235)
MW = (
    "RewriteEngine On\n"
    "RewriteCond %{QUERY_STRING} \\.[^\\\\/:*?\\x22<>|%]+(#|\\?|$) [nocase]\n"
    "RewriteRule . - [forbidden]\n"
)
# a method block that exempts one referer: decided by the method
METHOD = (
    "RewriteEngine On\n"
    "RewriteCond %{REQUEST_METHOD} ^(TRACE|DELETE|TRACK) [NC]\n"
    "RewriteCond %{HTTP_REFERER} !^http://maps\\.googleapis\\.com(.*)$\n"
    "RewriteRule ^(.*)$ - [F,L]\n"
)
# 6G's [QUERY STRING] request-line test (as All in One WP Security writes it)
TR = (
    "RewriteEngine On\n"
    "RewriteCond %{THE_REQUEST} (\\?|\\*|%2a)+(%20+|\\s+|%20+\\s+|\\s+%20+|\\s+%20+\\s+)HTTP(:/|/) [NC]\n"
    "RewriteRule .* - [F]\n"
)
DIRS = {"hot": HOT, "hostref": HOSTREF, "qf": QF, "bl": BL, "jq": JQ,
        "mw": MW, "method": METHOD, "tr": TR}


def build(h):
    for d, text in DIRS.items():
        h.conf("<Directory {docroot}/%s>\n    AllowOverride FileInfo\n"
               "</Directory>" % d)
        h.write("htdocs/%s/.htaccess" % d, text)
        for f in ("cat.png", "x.txt", "index.php"):
            h.write("htdocs/%s/%s" % (d, f), "x")


@pytest.fixture(scope="module")
def site():
    h = harness.Httpd(name="rwprot")
    build(h)
    h.start()
    yield h
    h.cleanup()


def entry(h, uri, headers=None, method="GET"):
    r, e = harness.response_and_entry(
        h, lambda: h.request(uri, method=method, headers=headers or {}))
    assert r.status == 403 and e, (uri, r.status, e)
    return e


def line(d, text):
    """1-based line of text in the .htaccess of d."""
    return DIRS[d].split("\n").index(text) + 1


def test_hotlink_is_hotlink_and_its_fix_allows_that_site_only(site):
    e = entry(site, "/hot/cat.png", {"Referer": "http://evil.example/p"})
    assert field(e, "protection") == "hotlink", e
    hint = field(e, "hint")
    assert "evil.example is not among the sites allowed" in hint, hint
    assert e["hint_verified"] is True, e
    (op,) = e["fix"]
    assert decode(op["text"]).startswith(
        "RewriteCond %{HTTP_REFERER} !^https?://evil"), op
    b = harness.fixed_copy(site, e["fix"])
    try:
        ref = lambda u: {"Referer": u}
        assert b.get("/hot/cat.png", headers=ref("http://evil.example/p")).status == 200
        assert b.get("/hot/cat.png", headers=ref("http://other.example/")).status == 403
        assert b.get("/hot/cat.png").status == 200
        assert b.get("/hot/cat.png", headers=ref("https://good.example/")).status == 200
    finally:
        b.cleanup()


def test_same_host_referer_test_is_hotlink(site):
    e = entry(site, "/hostref/cat.png", {"Referer": "http://evil.example/p"})
    assert field(e, "protection") == "hotlink", e
    assert [c["result"] for c in e["conditions"]] == [True, True], e


def test_query_filter_with_referer_exemption_is_not_hotlink(site):
    for hdrs in ({}, {"Referer": "http://evil.example/p"}):
        e = entry(site, "/qf/x.txt?s=../../etc/passwd", hdrs)
        assert e["line"] == 4, e
        assert field(e, "protection") == "query-filter", (hdrs, e)
        hint = field(e, "hint")
        assert "hotlink" not in hint.lower() and "embed" not in hint, hint
        cond = "RewriteCond %{QUERY_STRING} etc/passwd [NC]"
        assert "`%s` (line %d)" % (cond, line("qf", cond)) in hint, hint
        assert "'s=../../etc/passwd'" in hint, hint
        assert "fix" not in e and e["hint_verified"] is False, e
        assert "administrator's call" in field(e, "hint_unverified"), e


def test_referrer_blacklist_is_not_hotlink(site):
    e = entry(site, "/bl/x.txt", {"Referer": "http://semalt.com/x"})
    assert field(e, "protection") == "referrer-blacklist", e
    hint = field(e, "hint")
    assert "not among the sites allowed" not in hint, hint
    cond = "RewriteCond %{HTTP_REFERER} (semalt.com|todaperfeita) [NC]"
    assert "`%s` (line %d)" % (cond, line("bl", cond)) in hint, hint
    assert "do not remove the rule" in hint, hint
    # no exemption of semalt.com: that would undo the entry naming it
    assert "fix" not in e and e["hint_verified"] is False, e


@pytest.mark.parametrize("uri,d,cond", [
    ("/jq/index.php?x=base64_encode(abc)", "jq",
     "RewriteCond %{QUERY_STRING} base64_encode[^(]*\\([^)]*\\) [OR]"),
    ("/jq/index.php?GLOBALS=1", "jq",
     "RewriteCond %{QUERY_STRING} GLOBALS(=|\\[|\\%[0-9A-Z]{0,2}) [OR]"),
    ("/mw/cat.png?f=x.php", "mw",
     "RewriteCond %{QUERY_STRING} \\.[^\\\\/:*?\\x22<>|%]+(#|\\?|$) [nocase]"),
])
def test_query_filter_gets_no_path_exemption(site, uri, d, cond):
    e = entry(site, uri)
    assert field(e, "protection") == "query-filter", e
    assert "fix" not in e and e["hint_verified"] is False, e
    hint = field(e, "hint")
    assert "REQUEST_URI" not in hint, hint
    assert "`%s` (line %d)" % (cond, line(d, cond)) in hint, hint
    assert [b.get("protection") for b in e["blockers"]] == ["query-filter"], e


def test_method_block_with_referer_exemption_is_not_hotlink(site):
    e = entry(site, "/method/x.txt", method="DELETE")
    assert "protection" not in e, e
    assert "hotlink" not in field(e, "hint").lower(), e
    # not a recognised protection: the usual exemption of this URL
    (op,) = e["fix"]
    assert decode(op["text"]) == "RewriteCond %{REQUEST_URI} !=/method/x.txt", op


def test_request_line_filter_gets_no_path_exemption(site):
    """A filter of %{THE_REQUEST} refuses what the request line holds (the
    query among it): exempting the URL would let every other request line
    it refuses reach the file."""
    e = entry(site, "/tr/x.txt?%20HTTP/1.1")
    assert field(e, "protection") == "query-filter", e
    assert "fix" not in e and e["hint_verified"] is False, e
    hint = field(e, "hint")
    assert "matched the request line" in hint and "REQUEST_URI" not in hint, hint
